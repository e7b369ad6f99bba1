"""The checklist: load and cross-check prompts/checklist, then review drafts with it.

`load_checklist` does all the slow work once (YAML, validation, regex compilation,
the language model); `Checklist.review` only scans the draft.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

from bot.coach.config import (
    LANGUAGE_FILE,
    PLATFORMS_FILE,
    RULES_FILE,
    THESAURUS_FILE,
    ChecklistError,
    EvidenceRuleSpec,
    LanguageFile,
    NumberStyle,
    PatternTerm,
    PerLanguage,
    PlatformsFile,
    PlatformSpec,
    QuoteStyle,
    RulesFile,
    Scoring,
    Strict,
    TextsFile,
    ThesaurusFile,
    Units,
    read_model,
)
from bot.coach.draft import Analyzer, Draft, WeightedCounter
from bot.coach.facts import FigureFinder
from bot.coach.language import LanguageDetector
from bot.coach.lexicon import Lexicon, check_plain, pattern_problems
from bot.coach.review import ITEM_IDS, LANGUAGES, PLATFORMS, ItemResult, Review, Status
from bot.coach.rules import (
    RULE_CLASSES,
    Context,
    EvidenceRule,
    Finding,
    Quote,
    Resources,
    Rule,
    Value,
    build_rule,
)
from bot.coach.thesaurus import Thesaurus, TopicExpansion
from bot.coach.tokens import Negation, tokenize
from bot.coach.vocabulary import Vocabulary, vocabulary
from bot.yamlfiles import placeholders

FLAGGED: tuple[Status, ...] = ("fail", "warn")


def default_directory() -> Traversable:
    """prompts/checklist as shipped with the package."""
    return files("prompts") / "checklist"


@dataclass(frozen=True)
class _Texts:
    """One language's texts, ready to render."""

    quote: QuoteStyle
    numbers: NumberStyle
    index_names: Mapping[str, str]
    titles: Mapping[str, str]
    cases: Mapping[tuple[str, str], tuple[str, str]]  # (item, case) -> (reason, suggestion)


def _check_terms(name: str, where: str, terms: Iterable[object]) -> None:
    """Every entry is a plain word or phrase, or a pattern that matches its examples."""
    for term in terms:
        if isinstance(term, PatternTerm):
            try:
                problems = pattern_problems(term)
            except re.error as error:
                raise ChecklistError(
                    f"{name}: {where}: bad pattern {term.pattern!r} ({error})"
                ) from error
            if problems:
                raise ChecklistError(
                    f"{name}: {where}: pattern {term.pattern!r} {'; '.join(problems)}"
                )
        elif isinstance(term, str):
            try:
                check_plain(term)
            except ValueError as error:
                raise ChecklistError(f"{name}: {where}: {error}") from error


def _check_patterns(rules: RulesFile, thesaurus: ThesaurusFile) -> None:
    """Check each entry on its own, so an error names the item and the list."""
    for item_id, spec in rules.items.items():
        for field_name, value in spec:
            for language, terms in _term_lists(value):
                _check_terms(RULES_FILE, f"items.{item_id}.{field_name}.{language}", terms)
    for language in LANGUAGES:
        _check_terms(RULES_FILE, f"analysis.dates.{language}", rules.analysis.dates.get(language))
    for concept_id, concept in thesaurus.concepts.items():
        for field_name, value in concept:
            for language, terms in _term_lists(value):
                _check_terms(
                    THESAURUS_FILE, f"concepts.{concept_id}.{field_name}.{language}", terms
                )


def _build_rules(rules: RulesFile, resources: Resources) -> dict[str, Rule[Any]]:
    built = {}
    for item_id in ITEM_IDS:
        try:
            built[item_id] = build_rule(rules.items[item_id], resources)
        except (re.error, ValueError) as error:
            raise ChecklistError(f"{RULES_FILE}: items.{item_id}: {error}") from error
    return built


def _term_lists(value: object) -> list[tuple[str, list[object]]]:
    """The per-language word lists inside a spec field, however deep (groups, jargon)."""
    found: list[tuple[str, list[object]]] = []
    if isinstance(value, PerLanguage) and not isinstance(value, Units):
        for language in LANGUAGES:
            terms = value.get(language)
            if isinstance(terms, list) and all(
                isinstance(term, str | PatternTerm) for term in terms
            ):
                found.append((language, terms))
    elif isinstance(value, dict):
        for inner in value.values():
            found.extend(_term_lists(inner))
    elif isinstance(value, list):
        for inner in value:
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


def _check_scoring(rules: RulesFile) -> None:
    """Caps and impacts name cases the item's rule really has."""
    scoring = rules.scoring
    named = [
        (f"caps[{index}]", cap.item, case)
        for index, cap in enumerate(scoring.caps)
        for case in cap.cases
    ]
    named += [
        (f"impact.{key}", key.partition(".")[0], key.partition(".")[2]) for key in scoring.impact
    ]
    for where, item_id, case in named:
        cases = RULE_CLASSES[rules.items[item_id].kind].CASES
        if case not in cases:
            raise ChecklistError(
                f"{RULES_FILE}: scoring.{where}: {item_id} has no case {case!r}; "
                f"its cases are {sorted(cases)}"
            )


def _placeholders(name: str, where: str, text: str) -> frozenset[str]:
    try:
        return placeholders(text)
    except ValueError as error:
        raise ChecklistError(f"{name}: {where}: {error}") from error


def _compile_texts(catalog: TextsFile) -> _Texts:
    return _Texts(
        quote=catalog.quote,
        numbers=catalog.numbers,
        index_names={str(name): text for name, text in catalog.index_names.items()},
        titles={item_id: item.title for item_id, item in catalog.items.items()},
        cases={
            (item_id, case): (texts.reason, texts.suggestion)
            for item_id, item in catalog.items.items()
            for case, texts in item.cases.items()
        },
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


PAIRS = {"«": "»", "“": "”", "„": "“", "‘": "’", '"': '"'}
INNER = {"«": ("“", "”"), "“": ("‘", "’")}  # nested quotations, by the outer mark


def _balance(text: str, style: QuoteStyle) -> str:
    """The user's quotation marks inside our own: paired ones nested, stray ones dropped."""
    inner_open, inner_close = INNER.get(style.open, ("‘", "’"))
    out: list[str] = []
    stack: list[int] = []  # positions in `out` of marks still open
    for char in text:
        if stack and char == PAIRS[out[stack[-1]]]:
            out[stack.pop()] = inner_open
            out.append(inner_close)
        elif char in PAIRS:
            stack.append(len(out))
            out.append(char)
        elif char in "»”":
            out.append("")  # a closing mark that closes nothing
        else:
            out.append(char)  # ’ with nothing open is an apostrophe
    for position in stack:  # opened and never closed (or cut by the ellipsis)
        out[position] = ""
    return "".join(out)


def _quote(text: str, style: QuoteStyle) -> str:
    text = _one_line(text)
    # A quoted quotation is quoted once: «Metti like se…», not ««Metti like se…»».
    while len(text) >= 2 and text[0] in PAIRS and text[-1] == PAIRS[text[0]]:
        text = text[1:-1].strip()
    if len(text) > style.max_chars:
        cut = text[: style.max_chars - 1]
        # Cut at a word boundary when one is near, so the quote does not end mid-word.
        space = cut.rfind(" ")
        if space >= style.max_chars // 2:
            cut = cut[:space]
        text = cut.rstrip(" ,;:.") + style.ellipsis
    return f"{style.open}{_balance(text, style)}{style.close}"


def format_number(number: int, style: NumberStyle) -> str:
    """An integer as the reader writes it: 63.206 in Italian, 63,206 in English."""
    if abs(number) < style.group_from:
        return str(number)
    return f"{number:,}".replace(",", style.thousands)


def _render_value(value: Value, texts: _Texts) -> str:
    if isinstance(value, Quote):
        return _quote(value, texts.quote)
    if isinstance(value, tuple):
        style = texts.quote
        shown = style.separator.join(_quote(item, style) for item in value[: style.max_items])
        left_out = len(value) - style.max_items
        if left_out <= 0:
            return shown
        return shown + (style.more_one if left_out == 1 else style.more).format(count=left_out)
    if isinstance(value, str):
        return _one_line(texts.index_names.get(value, value))
    return format_number(value, texts.numbers)


class Checklist:
    """The eleven-item checklist, compiled from prompts/checklist."""

    def __init__(
        self,
        rules: RulesFile,
        platforms: PlatformsFile,
        language: LanguageFile,
        texts: Mapping[str, TextsFile],
        thesaurus: ThesaurusFile,
        model_cache: Path | None = None,
    ) -> None:
        _check_patterns(rules, thesaurus)
        _check_texts(rules, texts)
        _check_scoring(rules)
        words = vocabulary(LANGUAGES, model_cache)
        negation_spec = rules.analysis.negation
        negation = {
            lang: Negation(
                negators=frozenset(negation_spec.negators.get(lang)),
                window=negation_spec.window,
                breakers=frozenset(negation_spec.breakers.get(lang)),
            )
            for lang in LANGUAGES
        }
        visibility = rules.items["visibility"]
        if not isinstance(visibility, EvidenceRuleSpec):
            raise ChecklistError(f"{RULES_FILE}: items.visibility must be of kind 'evidence'")
        self._resources = Resources(
            vocabulary=words,
            thesaurus=Thesaurus(
                thesaurus,
                words,
                negation,
                {lang: rules.analysis.technical_zipf.get(lang) for lang in LANGUAGES},
            ),
            negation=negation,
            rare_zipf=rules.analysis.rare_zipf,
            common_zipf=rules.analysis.common_zipf,
            dates={
                lang: Lexicon(rules.analysis.dates.get(lang), lang, words) for lang in LANGUAGES
            },
            figures={
                lang: FigureFinder(
                    visibility.measures.get(lang),
                    visibility.work_counts.get(lang),
                    visibility.counts.get(lang),
                )
                for lang in LANGUAGES
            },
        )
        self._rules = _build_rules(rules, self._resources)
        evidence = self._rules["visibility"]
        assert isinstance(evidence, EvidenceRule)  # checked by _build_rules
        self._evidence = evidence
        self._weights = {item_id: rules.items[item_id].weight for item_id in ITEM_IDS}
        self._sources = {item_id: rules.items[item_id].source for item_id in ITEM_IDS}
        self._scoring: Scoring = rules.scoring
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
        """Load the language model and the word data now: the first review is then as fast
        as the others."""
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

    @property
    def vocabulary(self) -> Vocabulary:
        """The lemmas and word frequencies the rules read."""
        return self._resources.vocabulary

    def expand_topics(self, topics: Sequence[str], language: str) -> tuple[TopicExpansion, ...]:
        """How declared topics are understood: their concepts and some words, in `language`."""
        return self._resources.thesaurus.expand(topics, self._reply_language(language))

    def context(
        self,
        text: str,
        *,
        platform: str = "linkedin",
        draft_language: str | None = None,
        topics: Sequence[str] = (),
    ) -> Context:
        """The draft read once: what every rule looks at."""
        spec = self._platform(platform)
        draft = self._analyzer.analyse(text)
        language = (
            draft_language if draft_language in LANGUAGES else self._detector.detect(draft.body)
        )
        resources = self._resources
        tokens = tokenize(draft.body, language, resources.vocabulary, resources.negation[language])
        dates = tuple((hit.start, hit.end) for hit in resources.dates[language].hits(tokens))
        context = Context(
            draft=draft,
            tokens=tokens,
            language=language,
            platform=spec,
            length=self._length(draft, platform),
            topics=tuple(topics),
            figures=tuple(resources.figures[language].find(tokens, dates)),
            work_figures=(),
            dates=dates,
            resources=resources,
        )
        context = replace(context, work_figures=self._evidence.figures_of_work(context))
        visibility = self._evidence.check(context)
        return replace(context, work_shown=visibility.status == "pass", visibility=visibility)

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
        context = self.context(
            text, platform=platform, draft_language=draft_language, topics=topics
        )
        texts = self._texts[self._reply_language(reply_language)]
        findings = {
            item_id: self._rules[item_id].check(context)
            if item_id != "visibility" or context.visibility is None
            else context.visibility
            for item_id in ITEM_IDS
        }
        items = tuple(self._render(item_id, findings[item_id], texts) for item_id in ITEM_IDS)
        outcomes = {
            item_id: (finding.status, finding.case) for item_id, finding in findings.items()
        }
        return Review(
            language=context.language,
            platform=platform,
            score=self._score(outcomes),
            items=items,
            top_fixes=self._fixes(outcomes),
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

    def _score(self, outcomes: Mapping[str, tuple[Status, str]]) -> int:
        """Weighted credit of the items, then the caps of rules.yaml (see its comment)."""
        counted = [item_id for item_id, (status, _) in outcomes.items() if status != "skip"]
        total = sum(self._weights[item_id] for item_id in counted)
        if total == 0:
            return 0
        earned = sum(
            self._weights[item_id] * self._credit[outcomes[item_id][0]] for item_id in counted
        )
        score = max(0, min(100, round(100 * earned / total)))
        for cap in self._scoring.caps:
            status, case = outcomes[cap.item]
            if case in cap.cases or status in cap.statuses:
                score = min(score, cap.max)
        for joint in self._scoring.joint_caps:
            if all(outcomes[item_id][0] in FLAGGED for item_id in joint.flagged) and all(
                outcomes[item_id][0] == "fail" for item_id in joint.failed
            ):
                score = min(score, joint.max)
        return score

    def _fixes(self, outcomes: Mapping[str, tuple[Status, str]]) -> tuple[str, ...]:
        """The flagged items whose fix would help this draft most, best first.

        First what the score would gain if the item passed (a fix that lifts a cap gains
        most); then the credit the item loses, times the impact of its case (a cap can
        hide a problem's weight: a jargon wall still comes before a mild hook)."""
        score = self._score(outcomes)
        ranked: list[tuple[int, float, int, str]] = []
        for order, item_id in enumerate(ITEM_IDS):
            status, case = outcomes[item_id]
            if status not in FLAGGED:
                continue
            gained = self._score({**outcomes, item_id: ("pass", "pass")}) - score
            impact = self._scoring.impact.get(f"{item_id}.{case}", 1.0)
            lost = self._weights[item_id] * (1 - self._credit[status]) * impact
            ranked.append((-gained, -lost, order, item_id))
        ranked.sort()
        return tuple(item_id for *_, item_id in ranked[: self._top_fixes])


def _read_all(directory: Traversable, model_cache: Path | None = None) -> Checklist:
    rules = read_model(directory, RULES_FILE, RulesFile)
    thesaurus = read_model(directory, THESAURUS_FILE, ThesaurusFile)
    platforms = read_model(directory, PLATFORMS_FILE, PlatformsFile)
    language = read_model(directory, LANGUAGE_FILE, LanguageFile)
    texts: dict[str, TextsFile] = {}
    for code in LANGUAGES:
        catalog = read_model(directory, f"{code}.yaml", TextsFile)
        if catalog.language != code:
            raise ChecklistError(f"{code}.yaml: language is {catalog.language!r}, not {code!r}")
        texts[code] = catalog
    return Checklist(rules, platforms, language, texts, thesaurus, model_cache)


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
