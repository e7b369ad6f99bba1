"""One class per rule kind: each turns a `Draft` into a `Finding` (status, case, values).

A rule never writes user text: it names an outcome (a *case*) and the values the case's
texts may use. `CASES` declares, per kind, the cases and the placeholders each provides;
the loader checks the texts of it.yaml and en.yaml against it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, ClassVar, Generic, TypeVar

from bot.coach.config import (
    BaitRuleSpec,
    EvidenceRuleSpec,
    HookRuleSpec,
    InvitationRuleSpec,
    PerLanguage,
    PlatformRuleSpec,
    PlatformSpec,
    ReadabilityRuleSpec,
    RuleBase,
    SignalsRuleSpec,
    SpamRuleSpec,
    Terms,
    TopicsRuleSpec,
)
from bot.coach.draft import HASHTAG_RE, LETTER_RE, WORD_RE, Draft
from bot.coach.lexicon import Lexicon, compile_prefix, unique
from bot.coach.readability import flesch, gulpease, italian_counts
from bot.coach.review import LANGUAGES, Status

SpecT = TypeVar("SpecT", bound=RuleBase)
ItemT = TypeVar("ItemT")

# Worse first: when a rule has several problems, the worst one is reported.
SEVERITY: dict[Status, int] = {"fail": 2, "warn": 1, "pass": 0, "skip": -1}

ACRONYM_RE = re.compile(r"(?<![\w.])[A-Z][A-Z0-9&]*[A-Z][A-Z0-9]*s?(?![\w])")
ACRONYM_MAX_CHARS = 6  # longer all-caps words are shouting, not acronyms
FIRST_SENTENCE_RE = re.compile(r"^.*?[.!?…](?=[\s\"'”»)\]]|$)")
LEADING_SYMBOLS_RE = re.compile(r"^[\W_]+")
DIGIT_RE = re.compile(r"\d")


class Quote(str):
    """A piece of the user's text: rendered between the language's quote marks."""

    __slots__ = ()


Value = int | str | tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """What a rule found: a status, the case whose texts explain it, their values."""

    status: Status
    case: str
    values: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at for one review."""

    draft: Draft
    language: str
    platform: PlatformSpec
    length: int  # as the platform counts it
    topics: tuple[str, ...]


def _per_language(terms: Terms, build: Callable[[list[str]], ItemT]) -> dict[str, ItemT]:
    return {language: build(terms.get(language)) for language in LANGUAGES}


def _lexicons(terms: Terms) -> dict[str, Lexicon]:
    return _per_language(terms, Lexicon)


def _worst(findings: Sequence[Finding]) -> Finding | None:
    """The most severe finding; on a tie, the first (rules list them by priority)."""
    flagged = [finding for finding in findings if finding.status in ("warn", "fail")]
    if not flagged:
        return None
    return max(flagged, key=lambda finding: SEVERITY[finding.status])


def _drop_contained(found: tuple[str, ...]) -> tuple[str, ...]:
    """Leave out a match that is part of a longer one ("ho" beside "ho consegnato")."""
    folded = [item.casefold() for item in found]
    return tuple(
        item
        for item, key in zip(found, folded, strict=True)
        if not any(key != other and key in other for other in folded)
    )


class Rule(ABC, Generic[SpecT]):
    """A compiled rule of one kind."""

    CASES: ClassVar[dict[str, frozenset[str]]]

    def __init__(self, spec: SpecT) -> None:
        self.spec = spec

    @abstractmethod
    def check(self, context: Context) -> Finding:
        """Judge the draft."""


class EvidenceRule(Rule[EvidenceRuleSpec]):
    """Visibility: figures, things done, work words, before/after, counted by group."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "warn": frozenset({"found", "count"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: EvidenceRuleSpec) -> None:
        super().__init__(spec)
        self._groups = [_lexicons(terms) for terms in spec.groups.values()]
        self._alone = [spec.alone.get(name) for name in spec.groups]
        self._vague = _lexicons(spec.vague)

    def check(self, context: Context) -> Finding:
        """Pass with enough hits across enough groups; warn on any hit or a vague mention."""
        # Statements only: "does anyone know a structural engineer?" shows no work of yours.
        body = context.draft.statements
        hits = [group[context.language].find(body) for group in self._groups]
        found = unique(chain.from_iterable(hits))
        groups_hit = sum(1 for group_hits in hits if group_hits)
        total = sum(len(group_hits) for group_hits in hits)
        alone = any(
            needed is not None and len(unique(group_hits)) >= needed
            for needed, group_hits in zip(self._alone, hits, strict=True)
        )
        if alone or (groups_hit >= self.spec.pass_groups and total >= self.spec.pass_hits):
            return Finding("pass", "pass", {"found": found, "count": len(found)})
        found = unique(chain(found, self._vague[context.language].find(body)))
        if found:
            return Finding("warn", "warn", {"found": found, "count": len(found)})
        return Finding("fail", "fail")


class ReadabilityRule(Rule[ReadabilityRuleSpec]):
    """Clarity: Gulpease or Flesch, the longest sentence, acronyms, jargon."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"index_name", "score"}),
        "short": frozenset({"words"}),
        "hard_to_read": frozenset({"index_name", "score"}),
        "acronyms": frozenset({"found", "count"}),
        "jargon": frozenset({"found", "count"}),
        "long_sentence": frozenset({"words", "sentence"}),
    }

    def __init__(self, spec: ReadabilityRuleSpec) -> None:
        super().__init__(spec)
        self._jargon = _lexicons(spec.jargon.terms)

    def _index(self, draft: Draft, language: str) -> tuple[str, int]:
        name = self.spec.index.get(language)
        sentences = max(len(draft.sentences), 1)
        if name == "gulpease":
            words, letters = italian_counts(draft.words)
            score = gulpease(sentences, words, letters)
        else:
            score = flesch(sentences, draft.words)
        return name, round(score)

    def check(self, context: Context) -> Finding:
        """The worst of the four signals; the index only counts on texts long enough."""
        spec, draft, language = self.spec, context.draft, context.language
        name, score = self._index(draft, language)
        findings: list[Finding] = []
        if draft.word_count >= spec.min_words:
            status: Status = (
                "fail"
                if score < spec.warn_min.get(language)
                else "warn"
                if score < spec.pass_min.get(language)
                else "pass"
            )
            findings.append(Finding(status, "hard_to_read", {"index_name": name, "score": score}))
        acronyms = [
            word for word in ACRONYM_RE.findall(draft.body) if len(word) <= ACRONYM_MAX_CHARS
        ]
        if len(acronyms) >= spec.acronyms.min_count and draft.word_count:
            ratio = len(acronyms) / draft.word_count
            status = (
                "fail"
                if ratio >= spec.acronyms.fail_ratio
                else "warn"
                if ratio >= spec.acronyms.warn_ratio
                else "pass"
            )
            values: dict[str, Value] = {"found": unique(acronyms), "count": len(acronyms)}
            findings.append(Finding(status, "acronyms", values))
        jargon = self._jargon[language].find(draft.body)
        if len(jargon) >= spec.jargon.warn_count:
            status = "fail" if len(jargon) >= spec.jargon.fail_count else "warn"
            findings.append(
                Finding(status, "jargon", {"found": unique(jargon), "count": len(jargon)})
            )
        if draft.sentences:
            length, longest = max(
                (len(WORD_RE.findall(sentence)), sentence) for sentence in draft.sentences
            )
            if length > spec.long_sentence_words.get(language):
                values = {"words": length, "sentence": Quote(longest)}
                findings.append(Finding("warn", "long_sentence", values))
        worst = _worst(findings)
        if worst is not None:
            return worst
        if draft.word_count < spec.min_words:
            return Finding("pass", "short", {"words": draft.word_count})
        return Finding("pass", "pass", {"index_name": name, "score": score})


class SignalsRule(Rule[SignalsRuleSpec]):
    """Audience, point of view, personal voice: points for each signal found."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "warn": frozenset({"found", "count"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: SignalsRuleSpec) -> None:
        super().__init__(spec)
        self._groups = [(group.points, _lexicons(group.terms)) for group in spec.groups.values()]

    def check(self, context: Context) -> Finding:
        """Sum the points; positive signals are quoted back."""
        points = 0
        found: list[str] = []
        for group_points, lexicons in self._groups:
            hits = lexicons[context.language].find(context.draft.body)
            points += group_points * len(hits)
            if group_points > 0:
                found.extend(hits)
        quoted = _drop_contained(unique(found))
        if points >= self.spec.pass_points:
            return Finding("pass", "pass", {"found": quoted, "count": len(quoted)})
        if points >= self.spec.warn_points:
            return Finding("warn", "warn", {"found": quoted, "count": len(quoted)})
        return Finding("fail", "fail")


class InvitationRule(Rule[InvitationRuleSpec]):
    """Interaction: a question past the opening, or an explicit invitation to reply."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found"}),
        "rhetorical": frozenset({"found"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: InvitationRuleSpec) -> None:
        super().__init__(spec)
        self._invitations = _lexicons(spec.invitations)
        self._addressed = _lexicons(spec.addressed)

    def check(self, context: Context) -> Finding:
        """An opening question counts only when it is put to the reader."""
        sentences = context.draft.sentences
        invitations = self._invitations[context.language].find(context.draft.body)
        if invitations:
            return Finding("pass", "pass", {"found": unique(invitations)})
        questions = [index for index, sentence in enumerate(sentences) if "?" in sentence]
        if not questions:
            return Finding("fail", "fail")
        last = Quote(sentences[questions[-1]])
        if questions[-1] > 0 or self._addressed[context.language].search(sentences[0]):
            return Finding("pass", "pass", {"found": (last,)})
        return Finding("warn", "rhetorical", {"found": (last,)})


def _stem(word: str, stem_max: int) -> str:
    # Words lose their ending (ponti ~ ponte, progettazione ~ progetto); short ones stay whole.
    return word[: min(len(word) - 1, stem_max)] if len(word) >= 5 else word


class TopicsRule(Rule[TopicsRuleSpec]):
    """Reputation focus: how often the draft touches a declared topic."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "skip": frozenset(),
        "pass": frozenset({"topic", "found", "count"}),
        "warn": frozenset({"topic", "found", "count"}),
        "fail": frozenset({"topics"}),
    }

    def __init__(self, spec: TopicsRuleSpec) -> None:
        super().__init__(spec)
        self._ignore = frozenset(word.casefold() for word in spec.ignore_words)

    def _stems(self, topic: str) -> list[str]:
        words = [word.casefold() for word in WORD_RE.findall(topic.replace("’", "'"))]
        return [
            _stem(word, self.spec.stem_max)
            for word in words
            if word not in self._ignore and len(word) >= 2
        ]

    def _matches(self, token: str, stem: str) -> bool:
        if token.startswith(stem):
            return len(stem) >= 4 or token == stem
        return len(stem) >= self.spec.substring_min and stem in token

    def _hits(self, folded: list[str], stems: list[str]) -> set[int]:
        # The C-level startswith/`in` tests first; the exact rule only on candidates.
        prefixes = tuple(stems)
        joined = " ".join(folded)
        inner = [stem for stem in stems if len(stem) >= self.spec.substring_min and stem in joined]
        inside = re.compile("|".join(map(re.escape, inner))).search if inner else None
        return {
            index
            for index, key in enumerate(folded)
            if (key.startswith(prefixes) or (inside is not None and inside(key)))
            and any(self._matches(key, stem) for stem in stems)
        }

    def check(self, context: Context) -> Finding:
        """Skip without topics; pass on repeated mentions of one topic's words."""
        topics = [topic.strip() for topic in context.topics if topic.strip()]
        if not topics:
            return Finding("skip", "skip")
        # Hashtags are words here too ("#efficienzaenergetica" holds both topic words).
        tokens = WORD_RE.findall(context.draft.text)
        folded = [token.casefold() for token in tokens]
        tags = [tag[1:].casefold() for tag in HASHTAG_RE.findall(context.draft.text)]
        # Mentions add up over all topics; the reason names the topic mentioned most.
        matched: set[int] = set()
        tagged = False
        best_topic, best_count = topics[0], 0
        for topic in topics:
            stems = self._stems(topic)
            if not stems:
                continue
            hits = self._hits(folded, stems)
            # A hashtag holding the whole topic (#efficienzaenergetica) declares it.
            tagged = tagged or any(all(self._matches(tag, stem) for stem in stems) for tag in tags)
            matched |= hits
            if len(hits) > best_count:
                best_topic, best_count = topic, len(hits)
        found = [tokens[index] for index in sorted(matched)]
        values: dict[str, Value] = {
            "topic": Quote(best_topic),
            "found": unique(found),
            "count": len(found),
        }
        if tagged or len(found) >= self.spec.pass_mentions:
            return Finding("pass", "pass", values)
        if found:
            return Finding("warn", "warn", values)
        return Finding("fail", "fail", {"topics": tuple(topics)})


class BaitRule(Rule[BaitRuleSpec]):
    """Relationships, not likes: engagement bait, or off-brand chatter."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset(),
        "bait": frozenset({"found"}),
        "off_brand": frozenset({"found"}),
    }

    def __init__(self, spec: BaitRuleSpec) -> None:
        super().__init__(spec)
        self._bait = _lexicons(spec.bait)
        self._off_brand = _lexicons(spec.off_brand)
        self._professional = _lexicons(spec.professional)

    def check(self, context: Context) -> Finding:
        """Bait is looked for in hashtags too (#like4like)."""
        language, draft = context.language, context.draft
        bait = self._bait[language].find(draft.text)
        if bait:
            return Finding("fail", "bait", {"found": unique(bait)})
        off_brand = self._off_brand[language].find(draft.text)
        if len(off_brand) >= self.spec.off_brand_min and not self._professional[language].search(
            draft.body
        ):
            return Finding("warn", "off_brand", {"found": unique(off_brand)})
        return Finding("pass", "pass")


class SpamRule(Rule[SpamRuleSpec]):
    """Spam hygiene: bare links, many links, hashtag floods, shouting, emoji, !!!."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset(),
        "link_only": frozenset({"words"}),
        "links": frozenset({"count"}),
        "hashtags": frozenset({"count", "limit"}),
        "caps": frozenset({"found", "count"}),
        "emoji": frozenset({"count"}),
        "punctuation": frozenset({"found", "count"}),
    }

    def __init__(self, spec: SpamRuleSpec) -> None:
        super().__init__(spec)
        self._punctuation = re.compile(spec.punctuation.pattern)

    @staticmethod
    def _level(count: int, warn: float, fail: float) -> Status:
        return "fail" if count >= fail else "warn" if count >= warn else "pass"

    def _caps(self, draft: Draft) -> Finding:
        spec = self.spec.caps
        long_words = [word for word in draft.words if len(word) >= spec.min_letters]
        shouted = [word for word in long_words if word.isupper()]
        share = len(shouted) / len(long_words) if long_words else 0.0
        status: Status = "pass"
        if len(shouted) >= spec.fail_count and share >= spec.fail_share:
            status = "fail"
        elif len(shouted) >= spec.warn_count and share >= spec.warn_share:
            status = "warn"
        return Finding(status, "caps", {"found": unique(shouted), "count": len(shouted)})

    def check(self, context: Context) -> Finding:
        """Every trait is measured; the worst one is reported."""
        spec, draft = self.spec, context.draft
        findings: list[Finding] = []
        if draft.urls and draft.word_count <= spec.link_only_max_words * len(draft.urls):
            findings.append(Finding("fail", "link_only", {"words": draft.word_count}))
        links = len(draft.urls)
        findings.append(
            Finding(
                self._level(links, spec.links.warn_count, spec.links.fail_count),
                "links",
                {"count": links},
            )
        )
        norm = context.platform.hashtag_norm
        tags = len(draft.hashtags)
        tag_status: Status = (
            "fail" if tags > norm * spec.hashtag_fail_factor else "warn" if tags > norm else "pass"
        )
        findings.append(Finding(tag_status, "hashtags", {"count": tags, "limit": norm}))
        findings.append(self._caps(draft))
        findings.append(
            Finding(
                self._level(draft.emoji_count, spec.emoji.warn_count, spec.emoji.fail_count),
                "emoji",
                {"count": draft.emoji_count},
            )
        )
        runs = [match.group(0) for match in self._punctuation.finditer(draft.text)]
        findings.append(
            Finding(
                self._level(len(runs), spec.punctuation.warn_count, spec.punctuation.fail_count),
                "punctuation",
                {"found": unique(runs), "count": len(runs)},
            )
        )
        return _worst(findings) or Finding("pass", "pass")


class PlatformRule(Rule[PlatformRuleSpec]):
    """Platform fit: the hard length limit and the hashtag cap."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"length", "limit", "platform"}),
        "too_long": frozenset({"length", "limit", "platform"}),
        "hashtag_cap": frozenset({"count", "limit", "platform"}),
    }

    def check(self, context: Context) -> Finding:
        """Length first: a post over the limit cannot be published at all."""
        platform = context.platform
        if context.length > platform.max_chars:
            values: dict[str, Value] = {
                "length": context.length,
                "limit": platform.max_chars,
                "platform": platform.name,
            }
            return Finding("fail", "too_long", values)
        cap = platform.hashtag_cap
        tags = len(context.draft.hashtags)
        if cap is not None and tags > cap.limit:
            values = {"count": tags, "limit": cap.limit, "platform": platform.name}
            return Finding(cap.status, "hashtag_cap", values)
        values = {"length": context.length, "limit": platform.max_chars, "platform": platform.name}
        return Finding("pass", "pass", values)


@dataclass(frozen=True)
class Hook:
    """The first line that has words, its first sentence, and where they sit."""

    line: str
    sentence: str
    start: int  # characters from the start of the draft to the start of the line
    end: int  # characters from the start of the draft to the end of the sentence

    def visible(self, fold: int | None) -> str:
        """The part of the first line a reader sees before the platform's fold."""
        return self.line if fold is None else self.line[: max(fold - self.start, 0)]


def find_hook(draft: Draft) -> Hook | None:
    """The opening a reader sees first; None when the draft has no words.

    The sentence ends at the first . ! ? … or at an emoji that follows some words:
    posts often use emoji as full stops.
    """
    position = 0
    for line in draft.text.splitlines(keepends=True):
        start = position
        position += len(line)
        stripped = line.strip()
        if not stripped or not LETTER_RE.search(HASHTAG_RE.sub("", stripped)):
            continue
        if stripped.startswith(("http://", "https://", "www.")) and " " not in stripped:
            continue
        offset = start + (len(line) - len(line.lstrip()))
        match = FIRST_SENTENCE_RE.match(stripped)
        sentence = match.group(0) if match else stripped
        for emoji_start, _ in draft.emoji:
            cut = emoji_start - offset
            if 0 < cut < len(sentence) and LETTER_RE.search(sentence[:cut]):
                sentence = sentence[:cut].rstrip()
                break
        return Hook(line=stripped, sentence=sentence, start=offset, end=offset + len(sentence))
    return None


class HookRule(Rule[HookRuleSpec]):
    """The hook: greeting or filler, past the fold, cliché, specific, or generic."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"hook"}),
        "empty": frozenset(),
        "greeting": frozenset({"hook"}),
        "filler": frozenset({"hook"}),
        "after_fold": frozenset({"chars", "fold", "platform"}),
        "cliche": frozenset({"found"}),
        "too_long": frozenset({"words", "hook"}),
        "generic": frozenset({"hook"}),
    }

    def __init__(self, spec: HookRuleSpec) -> None:
        super().__init__(spec)
        self._greetings = _per_language(spec.greetings, compile_prefix)
        self._fillers = _per_language(spec.fillers, compile_prefix)
        self._cliches = _lexicons(spec.cliches)
        self._specific = _lexicons(spec.specific)

    def check(self, context: Context) -> Finding:
        """Checked in order of harm: a greeting or filler wastes the one line that counts."""
        hook = find_hook(context.draft)
        if hook is None:
            return Finding("fail", "empty")
        language = context.language
        opening = LEADING_SYMBOLS_RE.sub("", hook.sentence)
        quoted: dict[str, Value] = {"hook": Quote(hook.sentence)}
        greetings, fillers = self._greetings[language], self._fillers[language]
        if greetings is not None and greetings.match(opening):
            return Finding("fail", "greeting", quoted)
        if fillers is not None and fillers.match(opening):
            return Finding("fail", "filler", quoted)
        fold = context.platform.fold_chars
        if fold is not None and hook.end > fold:
            values: dict[str, Value] = {
                "chars": hook.end,
                "fold": fold,
                "platform": context.platform.name,
            }
            return Finding("fail", "after_fold", values)
        # What counts is what the reader sees before the fold, not just the first sentence.
        visible = hook.visible(fold)
        cliches = self._cliches[language].find(visible)
        if cliches:
            return Finding("warn", "cliche", {"found": unique(cliches)})
        if "?" in visible or DIGIT_RE.search(visible) or self._specific[language].search(visible):
            return Finding("pass", "pass", quoted)
        words = len(WORD_RE.findall(hook.sentence))
        if words > self.spec.max_words:
            return Finding("warn", "too_long", {"words": words, "hook": Quote(hook.sentence)})
        return Finding("warn", "generic", quoted)


RULE_CLASSES: dict[str, type[Rule[Any]]] = {
    "evidence": EvidenceRule,
    "readability": ReadabilityRule,
    "signals": SignalsRule,
    "invitation": InvitationRule,
    "topics": TopicsRule,
    "bait": BaitRule,
    "spam": SpamRule,
    "platform": PlatformRule,
    "hook": HookRule,
}


def build_rule(spec: RuleBase) -> Rule[Any]:
    """The rule object for a spec, chosen by its `kind`."""
    kind = getattr(spec, "kind", None)
    if not isinstance(kind, str) or kind not in RULE_CLASSES:
        raise ValueError(f"unknown rule kind {kind!r}")
    return RULE_CLASSES[kind](spec)


__all__ = ["RULE_CLASSES", "Context", "Finding", "PerLanguage", "Quote", "Rule", "build_rule"]
