"""The checklist: load and cross-check prompts/checklist, then review drafts with it.

`load_checklist` does all the slow work once (YAML, validation, regex compilation,
the language model); `Checklist.review` only scans the draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

from bot.coach.config import (
    LANGUAGE_FILE,
    PLATFORMS_FILE,
    RULES_FILE,
    ChecklistError,
    LanguageFile,
    PerLanguage,
    PlatformsFile,
    PlatformSpec,
    QuoteStyle,
    RulesFile,
    Strict,
    TextsFile,
    placeholders,
    read_model,
)
from bot.coach.draft import Analyzer, Draft, WeightedCounter
from bot.coach.language import LanguageDetector
from bot.coach.lexicon import RAW_PREFIX, tokenize
from bot.coach.review import ITEM_IDS, LANGUAGES, PLATFORMS, ItemResult, Review, Status
from bot.coach.rules import RULE_CLASSES, Context, Finding, Quote, Rule, Value, build_rule

FLAGGED: tuple[Status, ...] = ("fail", "warn")


def default_directory() -> Traversable:
    """prompts/checklist as shipped with the package."""
    return files("prompts") / "checklist"


@dataclass(frozen=True)
class _Texts:
    """One language's texts, ready to render."""

    quote: QuoteStyle
    index_names: Mapping[str, str]
    titles: Mapping[str, str]
    citations: Mapping[str, str]
    cases: Mapping[tuple[str, str], tuple[str, str]]  # (item, case) -> (reason, suggestion)


def _check_patterns(rules: RulesFile) -> None:
    """Compile each `re:` entry on its own, so an error names the item and the entry."""
    for item_id, spec in rules.items.items():
        for name, value in spec:
            for language, terms in _term_lists(value):
                for term in terms:
                    if not term.startswith(RAW_PREFIX):
                        continue
                    try:
                        re.compile(term[len(RAW_PREFIX) :])
                    except re.error as error:
                        raise ChecklistError(
                            f"{RULES_FILE}: items.{item_id}.{name}.{language}: bad pattern "
                            f"{term!r} ({error})"
                        ) from error


def _build_rules(rules: RulesFile) -> dict[str, Rule[Any]]:
    built = {}
    for item_id in ITEM_IDS:
        try:
            built[item_id] = build_rule(rules.items[item_id])
        except (re.error, ValueError) as error:
            raise ChecklistError(f"{RULES_FILE}: items.{item_id}: {error}") from error
    return built


def _term_lists(value: object) -> list[tuple[str, list[str]]]:
    """The per-language word lists inside a spec field, however deep (groups, jargon)."""
    found: list[tuple[str, list[str]]] = []
    if isinstance(value, PerLanguage):
        for language in LANGUAGES:
            terms = value.get(language)
            if isinstance(terms, list) and all(isinstance(term, str) for term in terms):
                found.append((language, terms))
    elif isinstance(value, dict):
        for inner in value.values():
            found.extend(_term_lists(inner))
    elif isinstance(value, Strict):
        for _, inner in value:
            found.extend(_term_lists(inner))
    return found


def _check_texts(rules: RulesFile, texts: Mapping[str, TextsFile]) -> None:
    """Every case of every rule has texts, using only the placeholders it provides,
    and the same ones in every language."""
    reference_language = LANGUAGES[0]
    for language in LANGUAGES:
        name = f"{language}.yaml"
        catalog = texts[language]
        for item_id, spec in rules.items.items():
            item = catalog.items[item_id]
            cases = RULE_CLASSES[spec.kind].CASES
            missing = sorted(set(cases) - set(item.cases))
            unknown = sorted(set(item.cases) - set(cases))
            if missing or unknown:
                raise ChecklistError(
                    f"{name}: items.{item_id}.cases must be {sorted(cases)} for kind "
                    f"{spec.kind!r}; missing {missing}, unknown {unknown}"
                )
            for label, text in (("title", item.title), ("citation", item.citation)):
                if _placeholders(name, f"items.{item_id}.{label}", text):
                    raise ChecklistError(f"{name}: items.{item_id}.{label} takes no placeholders")
            for case, provided in cases.items():
                for part in ("reason", "suggestion"):
                    where = f"items.{item_id}.cases.{case}.{part}"
                    template = getattr(item.cases[case], part)
                    if "\n" in template or "\r" in template:
                        raise ChecklistError(f"{name}: {where} must be one line")
                    used = _placeholders(name, where, template)
                    if not used <= provided:
                        raise ChecklistError(
                            f"{name}: {where} uses {sorted(used - provided)}, but the rule "
                            f"provides only {sorted(provided)}"
                        )
                    other = getattr(texts[reference_language].items[item_id].cases[case], part)
                    expected = placeholders(other)
                    if language != reference_language and used != expected:
                        raise ChecklistError(
                            f"{name}: {where} uses {sorted(used)} but {reference_language}.yaml "
                            f"uses {sorted(expected)}: placeholders must match in every language"
                        )


def _placeholders(name: str, where: str, text: str) -> frozenset[str]:
    try:
        return placeholders(text)
    except ValueError as error:
        raise ChecklistError(f"{name}: {where}: {error}") from error


def _compile_texts(catalog: TextsFile) -> _Texts:
    return _Texts(
        quote=catalog.quote,
        index_names={str(name): text for name, text in catalog.index_names.items()},
        titles={item_id: item.title for item_id, item in catalog.items.items()},
        citations={item_id: item.citation for item_id, item in catalog.items.items()},
        cases={
            (item_id, case): (texts.reason, texts.suggestion)
            for item_id, item in catalog.items.items()
            for case, texts in item.cases.items()
        },
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str, style: QuoteStyle) -> str:
    text = _one_line(text)
    if len(text) > style.max_chars:
        cut = text[: style.max_chars - 1]
        # Cut at a word boundary when one is near, so the quote does not end mid-word.
        space = cut.rfind(" ")
        if space >= style.max_chars // 2:
            cut = cut[:space]
        text = cut.rstrip(" ,;:.") + style.ellipsis
    return f"{style.open}{text}{style.close}"


def _render_value(value: Value, texts: _Texts) -> str:
    if isinstance(value, Quote):
        return _quote(value, texts.quote)
    if isinstance(value, tuple):
        style = texts.quote
        shown = style.separator.join(_quote(item, style) for item in value[: style.max_items])
        left_out = len(value) - style.max_items
        return shown + style.more.format(count=left_out) if left_out > 0 else shown
    if isinstance(value, str):
        return _one_line(texts.index_names.get(value, value))
    return str(value)


class Checklist:
    """The eleven-item checklist, compiled from prompts/checklist."""

    def __init__(
        self,
        rules: RulesFile,
        platforms: PlatformsFile,
        language: LanguageFile,
        texts: Mapping[str, TextsFile],
        model_cache: Path | None = None,
    ) -> None:
        _check_patterns(rules)
        _check_texts(rules, texts)
        self._rules = _build_rules(rules)
        self._weights = {item_id: rules.items[item_id].weight for item_id in ITEM_IDS}
        self._sources = {item_id: rules.items[item_id].source for item_id in ITEM_IDS}
        credit = rules.scoring.credit
        self._credit: dict[Status, float] = {
            "pass": credit.pass_,
            "warn": credit.warn,
            "fail": credit.fail,
        }
        self._top_fixes = rules.scoring.top_fixes
        self._platforms = platforms.platforms
        weighted = platforms.weighted
        self._weighted = WeightedCounter(
            url_chars=weighted.url_chars,
            emoji_chars=weighted.emoji_chars,
            default_chars=weighted.default_chars,
            light_ranges=weighted.light_ranges,
        )
        self._analyzer = Analyzer(platforms.links.bare_domain_tlds)
        self._texts = {language: _compile_texts(texts[language]) for language in LANGUAGES}
        function_words = {
            lang: frozenset(word.casefold() for word in language.function_words.get(lang))
            for lang in LANGUAGES
        }
        ordered = (language.default, *[lang for lang in LANGUAGES if lang != language.default])
        self._detector = LanguageDetector(
            ordered,
            function_words,
            model_min_letters=language.model_min_letters,
            model_min_confidence=language.model_min_confidence,
            model_max_chars=language.model_max_chars,
            model_cache=model_cache,
        )

    def warm_up(self) -> None:
        """Load the language model now, so the first review is as fast as the others."""
        self._detector.warm_up()
        self.review("Warm up.")

    def detect_language(self, text: str) -> str:
        """The language of a draft: "it" or "en"."""
        return self._detector.detect(self._analyzer.analyse(text).body)

    def length(self, text: str, platform: str) -> int:
        """The draft's length as the platform counts it."""
        self._platform(platform)
        return self._length(self._analyzer.analyse(text), platform)

    def item_title(self, item_id: str, language: str) -> str:
        """The short name of an item, in the reply language."""
        return self._texts[self._reply_language(language)].titles[item_id]

    def item_citation(self, item_id: str, language: str) -> str:
        """Where the advice of an item comes from (article tag and section)."""
        return self._texts[self._reply_language(language)].citations[item_id]

    def platform_name(self, platform: str) -> str:
        """The display name of a platform id ("x" -> "X")."""
        return self._platform(platform).name

    def max_chars(self, platform: str) -> int:
        """The platform's hard limit on a post's length."""
        return self._platform(platform).max_chars

    def _platform(self, platform: str) -> PlatformSpec:
        try:
            return self._platforms[platform]
        except KeyError:
            raise ValueError(
                f"unknown platform {platform!r}; expected one of {PLATFORMS}"
            ) from None

    @staticmethod
    def _reply_language(language: str) -> str:
        # Anything but Italian gets English: the bot speaks two languages.
        return language if language in LANGUAGES else "en"

    def _length(self, draft: Draft, platform: str) -> int:
        if self._platforms[platform].counting == "chars":
            return len(draft.text)
        return self._weighted.length(draft)

    def review(
        self,
        text: str,
        *,
        platform: str = "linkedin",
        reply_language: str = "it",
        draft_language: str | None = None,
        topics: Sequence[str] = (),
    ) -> Review:
        """Review a draft for a platform; texts in `reply_language`, rules in the draft's."""
        spec = self._platform(platform)
        # Word lists share one tokenisation per text within a review, never across reviews.
        tokenize.cache_clear()
        draft = self._analyzer.analyse(text)
        language = (
            draft_language if draft_language in LANGUAGES else self._detector.detect(draft.body)
        )
        context = Context(
            draft=draft,
            language=language,
            platform=spec,
            length=self._length(draft, platform),
            topics=tuple(topics),
        )
        texts = self._texts[self._reply_language(reply_language)]
        items = tuple(
            self._render(item_id, self._rules[item_id].check(context), texts)
            for item_id in ITEM_IDS
        )
        return Review(
            language=language,
            platform=platform,
            score=self._score(items),
            items=items,
            top_fixes=self._fixes(items),
        )

    def _render(self, item_id: str, finding: Finding, texts: _Texts) -> ItemResult:
        reason, suggestion = texts.cases[(item_id, finding.case)]
        # Templates are checked to be one line at load and every value is one line.
        values = {name: _render_value(value, texts) for name, value in finding.values.items()}
        return ItemResult(
            id=item_id,
            status=finding.status,
            reason=reason.format_map(values),
            suggestion=suggestion.format_map(values),
            source=self._sources[item_id],
        )

    def _score(self, items: Sequence[ItemResult]) -> int:
        counted = [item for item in items if item.status != "skip"]
        total = sum(self._weights[item.id] for item in counted)
        if total == 0:
            return 0
        earned = sum(self._weights[item.id] * self._credit[item.status] for item in counted)
        return max(0, min(100, round(100 * earned / total)))

    def _fixes(self, items: Sequence[ItemResult]) -> tuple[str, ...]:
        flagged = [item for item in items if item.status in FLAGGED]
        # Fails before warnings, heavier items first; ITEM_IDS order breaks ties (stable sort).
        flagged.sort(key=lambda item: (FLAGGED.index(item.status), -self._weights[item.id]))
        return tuple(item.id for item in flagged[: self._top_fixes])


def _read_all(directory: Traversable, model_cache: Path | None = None) -> Checklist:
    rules = read_model(directory, RULES_FILE, RulesFile)
    platforms = read_model(directory, PLATFORMS_FILE, PlatformsFile)
    language = read_model(directory, LANGUAGE_FILE, LanguageFile)
    texts: dict[str, TextsFile] = {}
    for code in LANGUAGES:
        catalog = read_model(directory, f"{code}.yaml", TextsFile)
        if catalog.language != code:
            raise ChecklistError(f"{code}.yaml: language is {catalog.language!r}, not {code!r}")
        texts[code] = catalog
    return Checklist(rules, platforms, language, texts, model_cache)


def load_checklist(directory: Path | None = None, *, model_cache: Path | None = None) -> Checklist:
    """Read and validate prompts/checklist (or `directory`); raises ChecklistError.

    `model_cache`: a folder where the language model is kept ready to map (see
    bot/coach/language.py); None loads it from py3langid's package every time.
    """
    checklist = _read_all(directory if directory is not None else default_directory(), model_cache)
    checklist.warm_up()
    return checklist


@cache
def _default_checklist() -> Checklist:
    # The module-level helpers share one packaged checklist; the model loads on first use.
    return _read_all(default_directory())


def detect_language(text: str) -> str:
    """The language of a draft, "it" or "en", using the packaged settings."""
    return _default_checklist().detect_language(text)


def weighted_length(text: str, platform: str) -> int:
    """The draft's length as the platform counts it (X: a link is 23, an emoji 2)."""
    return _default_checklist().length(text, platform)
