"""One class per rule kind: each turns a draft's `Context` into a `Finding`.

A rule never writes user text: it names an outcome (a *case*) and the values the case's
texts may use. `CASES` declares, per kind, the cases and the placeholders each provides;
the loader checks the texts of it.yaml and en.yaml against it.

What every rule can rely on (bot.coach.tokens): the draft's words with lemmas and
rarity, which words are inside someone else's quotation, which are negated, and which
sentence each belongs to; the figures that measure work (bot.coach.facts).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
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
    StanceRuleSpec,
    Term,
    Terms,
    TopicsRuleSpec,
    VoiceRuleSpec,
)
from bot.coach.draft import HASHTAG_RE, LETTER_RE, WORD_RE, Draft
from bot.coach.facts import Figure, FigureFinder
from bot.coach.lexicon import Lexicon, Window, compile_prefix, unique
from bot.coach.morphology import first_person_plural, first_person_singular
from bot.coach.readability import flesch, gulpease, italian_counts
from bot.coach.review import LANGUAGES, Status
from bot.coach.thesaurus import Thesaurus
from bot.coach.tokens import Negation, Tokens, tokenize
from bot.coach.vocabulary import Vocabulary

SpecT = TypeVar("SpecT", bound=RuleBase)
ItemT = TypeVar("ItemT")

# Worse first: when a rule has several problems, the worst one is reported.
SEVERITY: dict[Status, int] = {"fail": 2, "warn": 1, "pass": 0, "skip": -1}

ACRONYM_RE = re.compile(r"(?<![\w.])[A-Z][A-Z0-9&]*[A-Z][A-Z0-9]*s?(?![\w])")
ACRONYM_MAX_CHARS = 6  # longer all-caps words are shouting, not acronyms
FIRST_SENTENCE_RE = re.compile(r"^.*?[.!?…](?=[\s\"'”»)\]]|$)")
LEADING_SYMBOLS_RE = re.compile(r"^[\W_]+")
DATE_SEPARATORS_RE = re.compile(r"[\s,;:|/·•—–\-.()\[\]]+")
CONDITIONAL_ENDINGS = ("rei", "resti", "rebbe", "remmo", "reste", "rebbero")
# Before a bare verb, these make it a plan or a wish, not a deed ("to measure").
ENGLISH_BEFORE_BASE = frozenset(
    {"to", "will", "would", "can", "could", "should", "must", "might", "may", "ll", "d"}
)
SHORT_SHOUT_ZIPF = 5.0  # "PER", "LA", "NOT" (6-7) are shouted; "CD", "ISO" (3-4) are not
AUDIENCE_SHOWN = 2  # groups of readers named in a suggestion
RARE_MIN_LETTERS = 5  # shorter rare words are mostly names, typos and abbreviations
NAMED_MAX_ZIPF = 3.5  # a capitalised word this rare is a name: a town, a client, a product


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
class Resources:
    """What rules share: the vocabulary, the thesaurus and how words are read."""

    vocabulary: Vocabulary
    thesaurus: Thesaurus
    negation: dict[str, Negation]
    rare_zipf: PerLanguage[float]
    common_zipf: PerLanguage[float]
    dates: dict[str, Lexicon]  # dates, times and years, per language
    figures: dict[str, FigureFinder]  # numbers with units, per language


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at for one review."""

    draft: Draft
    tokens: Tokens  # the body's words
    language: str
    platform: PlatformSpec
    length: int  # as the platform counts it
    topics: tuple[str, ...]
    figures: tuple[Figure, ...]  # numbers with units, dates left out
    work_figures: tuple[Figure, ...]  # the figures that measure work
    dates: tuple[tuple[int, int], ...]  # spans of dates and times in the body
    resources: Resources
    work_shown: bool = False  # visibility passes: the post has facts to take a stance on
    visibility: Finding | None = None  # the evidence rule's finding, once it has run

    @cached_property
    def questions(self) -> frozenset[int]:
        """The sentences that ask something, in the author's own words."""
        tokens = self.tokens
        asked: set[int] = set()
        text = tokens.text
        for position in (match.start() for match in re.finditer(r"\?", text)):
            if tokens.in_quote(position):
                continue
            word = tokens.position(position) - 1
            if word >= 0:
                asked.add(tokens.sentence[word])
        return frozenset(asked)

    @cached_property
    def tags(self) -> Tokens | None:
        """The words of the hashtags ("#efficienzaenergetica", "#like4like"); None if none."""
        if not self.draft.hashtags:
            return None
        text = " ".join(tag[1:] for tag in self.draft.hashtags)
        resources = self.resources
        return tokenize(
            text, self.language, resources.vocabulary, resources.negation[self.language]
        )

    @cached_property
    def statements(self) -> frozenset[int]:
        """The sentences that state something (not questions)."""
        return frozenset(set(self.tokens.sentence) - self.questions)

    def own_words(self) -> int:
        """How many words the author wrote in statements, quotations left out."""
        statements = self.statements
        return sum(
            1
            for quoted, sentence in zip(self.tokens.quoted, self.tokens.sentence, strict=True)
            if not quoted and sentence in statements
        )


def _per_language(terms: Terms, build: Callable[[list[Term], str], ItemT]) -> dict[str, ItemT]:
    return {language: build(terms.get(language), language) for language in LANGUAGES}


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

    def __init__(self, spec: SpecT, resources: Resources) -> None:
        self.spec = spec
        self.resources = resources

    def lexicons(self, terms: Terms) -> dict[str, Lexicon]:
        """One compiled word list per language."""
        vocabulary = self.resources.vocabulary
        return _per_language(terms, lambda words, language: Lexicon(words, language, vocabulary))

    @abstractmethod
    def check(self, context: Context) -> Finding:
        """Judge the draft."""


def work_sentences(context: Context, lexicons: Sequence[dict[str, Lexicon]]) -> set[int]:
    """The sentences that show work: a work word, not negated, or a thesaurus term."""
    tokens, language = context.tokens, context.language
    shown: set[int] = set()
    for lexicon in chain(
        (group[language] for group in lexicons),
        (context.resources.thesaurus.terms(language),),
    ):
        for hit in lexicon.select(tokens, affirmed=True):
            if hit.first < len(tokens):
                shown.add(tokens.sentence[hit.first])
    return shown


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def _opens_sentence(tokens: Tokens, position: int) -> bool:
    return (
        position >= len(tokens)
        or position == 0
        or tokens.sentence[position - 1] != tokens.sentence[position]
    )


def rare_words(context: Context) -> list[str]:
    """Lower-case words rare in general language: jargon to a client, detail to a coach."""
    tokens = context.tokens
    resources = context.resources
    limit = resources.rare_zipf.get(context.language)
    others = [language for language in LANGUAGES if language != context.language]
    text = tokens.text
    return [
        text[start:end]
        for (start, end), key, zipf in zip(tokens.spans, tokens.keys, tokens.zipf, strict=True)
        if zipf < limit
        and len(key) >= RARE_MIN_LETTERS
        and text[start].islower()
        # A loanword is no jargon: "deadline" is rare in Italian, not in English.
        and all(
            resources.vocabulary.zipf(key, other) < resources.rare_zipf.get(other)
            for other in others
        )
    ]


class EvidenceRule(Rule[EvidenceRuleSpec]):
    """Visibility: figures that measure work, things done, specific work, results."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "thin": frozenset({"found", "count"}),
        "vague": frozenset({"found"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: EvidenceRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._actions = self.lexicons(spec.actions)
        self._specific = self.lexicons(spec.specific)
        self._generic = self.lexicons(spec.generic)
        self._results = self.lexicons(spec.results)
        self._vague = self.lexicons(spec.vague)

    def figures_of_work(self, context: Context) -> tuple[Figure, ...]:
        """The figures that measure work: technical units, or any unit in a work sentence."""
        working = work_sentences(context, (self._actions, self._specific, self._generic))
        return tuple(
            figure
            for figure in context.figures
            if figure.sentence in context.statements
            and (figure.measure or figure.sentence in working)
        )

    def check(self, context: Context) -> Finding:
        """Pass on enough evidence with something done or measured; vague news warns."""
        spec, tokens, language = self.spec, context.tokens, context.language
        points = spec.points
        # Statements only: "does anyone know a structural engineer?" shows no work of yours.
        statements = context.statements
        figures = unique(figure.text for figure in context.work_figures)

        def found(lexicons: dict[str, Lexicon]) -> tuple[str, ...]:
            return unique(lexicons[language].find(tokens, affirmed=True, sentences=statements))

        actions = self._done(context)
        results = found(self._results)
        specific = unique(
            chain(
                found(self._specific),
                context.resources.thesaurus.terms(language).find(
                    tokens, affirmed=True, sentences=statements
                ),
            )
        )
        generic = found(self._generic)
        named = self.named(tokens)
        total = (
            points.figure * len(figures)
            + points.action * min(len(actions), 3)
            + points.result * len(results)
            + points.specific * min(len(specific), 4)
            + points.generic * min(len(generic), 2)
            + points.named * min(len(named), 2)
        )
        shown = _drop_contained(unique(chain(figures, results, actions, specific, generic)))
        done = bool(figures or results or actions)
        vague = found(self._vague)
        # An announcement passes only with something done or achieved in it.
        enough = (total >= spec.pass_points and done) or total >= spec.pass_points_alone
        if enough and (not vague or actions or results):
            return Finding("pass", "pass", {"found": shown, "count": len(shown)})
        if vague and not (figures or results or specific):
            return Finding("warn", "vague", {"found": vague})
        if total >= spec.thin_points and shown:
            return Finding("warn", "thin", {"found": shown, "count": len(shown)})
        return Finding("fail", "fail")

    def _done(self, context: Context) -> tuple[str, ...]:
        """Things done, in statements, not negated; an imperative opening is no deed
        ("Check this out", "Scopri di più")."""
        tokens = context.tokens
        done = []
        for hit in self._actions[context.language].select(
            tokens, affirmed=True, sentences=context.statements
        ):
            position = hit.first
            if position >= len(tokens) or self._not_done(tokens, position):
                continue
            done.append(tokens.text[hit.start : hit.end])
        return unique(done)

    def _not_done(self, tokens: Tokens, position: int) -> bool:
        """An order, a wish or a plan: "Check this out", "rifarei", "da controllare",
        "to measure"."""
        key, lemma = tokens.keys[position], tokens.lemmas[position]
        if _opens_sentence(tokens, position) and self._imperative(tokens, position):
            return True
        if tokens.language == "it":
            return key == lemma or key.endswith(CONDITIONAL_ENDINGS)
        previous = tokens.keys[position - 1] if position > 0 else ""
        return key == lemma and previous in ENGLISH_BEFORE_BASE

    @staticmethod
    def _imperative(tokens: Tokens, position: int) -> bool:
        key, lemma = tokens.keys[position], tokens.lemmas[position]
        if tokens.language == "en":
            return key == lemma  # "Check", "Fix": the bare verb opening a sentence
        return key != lemma and key.endswith(("a", "i", "ate", "ete", "ite"))

    @staticmethod
    def named(tokens: Tokens, window: Window | None = None) -> list[str]:
        """Capitalised rare words inside a sentence: a town, a client, a product."""
        named = []
        for position, ((start, end), zipf) in enumerate(
            zip(tokens.spans, tokens.zipf, strict=True)
        ):
            if window is not None and not (window[0] <= start and end <= window[1]):
                continue
            word = tokens.text[start:end]
            if not word[0].isupper() or word.isupper() or zipf >= NAMED_MAX_ZIPF:
                continue
            if position == 0 or tokens.sentence[position - 1] != tokens.sentence[position]:
                continue
            named.append(word)
        return named


class ReadabilityRule(Rule[ReadabilityRuleSpec]):
    """Clarity: Gulpease or Flesch, the longest sentence, acronyms, jargon, rare words."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"index_name", "score"}),
        "short": frozenset({"words"}),
        "hard_to_read": frozenset({"index_name", "score"}),
        "acronyms": frozenset({"found", "count"}),
        "jargon": frozenset({"found", "count"}),
        "rare_words": frozenset({"found", "count"}),
        "long_sentence": frozenset({"words", "sentence"}),
    }

    def __init__(self, spec: ReadabilityRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._jargon = self.lexicons(spec.jargon.terms)

    def _index(self, draft: Draft, language: str) -> tuple[str, int]:
        name = self.spec.index.get(language)
        sentences = max(len(draft.sentences), 1)
        if name == "gulpease":
            words, letters = italian_counts(draft.words)
            score = gulpease(sentences, words, letters)
        else:
            score = flesch(sentences, draft.words)
        return name, round(score)

    def acronyms(self, context: Context) -> list[str]:
        """Capitals that stand for something: not shouted words ("PER", "SUBITO")."""
        vocabulary, language = self.resources.vocabulary, context.language
        common = self.resources.common_zipf.get(language)
        return [
            word
            for word in ACRONYM_RE.findall(context.draft.body)
            if len(word) <= ACRONYM_MAX_CHARS and vocabulary.zipf(word.lower(), language) < common
        ]

    def check(self, context: Context) -> Finding:
        """The worst of the signals; the index only counts on texts long enough."""
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
        acronyms = self.acronyms(context)
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
        findings.append(self._jargon_finding(context))
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

    def _jargon_finding(self, context: Context) -> Finding:
        """Buzzwords by count; words rare in general language by their share of the text."""
        spec = self.spec.jargon
        buzzwords = self._jargon[context.language].find(context.tokens)
        rare = rare_words(context)
        words = max(context.draft.word_count, 1)
        status: Status = "pass"
        if len(buzzwords) >= spec.fail_count:
            status = "fail"
        elif len(buzzwords) >= spec.warn_count:
            status = "warn"
        rare_status: Status = "pass"
        if len(rare) >= spec.rare_min_count:
            share = (len(rare) + len(buzzwords)) / words
            if share >= spec.rare_fail_share:
                rare_status = "fail"
            elif share >= spec.rare_warn_share:
                rare_status = "warn"
        if SEVERITY[rare_status] > SEVERITY[status]:
            found = unique(chain(rare, buzzwords))
            return Finding(rare_status, "rare_words", {"found": found, "count": len(found)})
        found = unique(buzzwords)
        return Finding(status, "jargon", {"found": found, "count": len(found)})


def _points(
    groups: Sequence[tuple[int, dict[str, Lexicon]]], context: Context
) -> tuple[int, list[str]]:
    """Points of the signal groups in the author's own words, and what was found."""
    points = 0
    found: list[str] = []
    for group_points, lexicons in groups:
        hits = lexicons[context.language].find(context.tokens, own=True)
        points += group_points * len(hits)
        if group_points > 0:
            found.extend(hits)
    return points, found


def _topic_and_audience(context: Context) -> dict[str, Value] | None:
    """The user's first topic and who reads about it (thesaurus.yaml), for advice that
    names them; None without topics or without a known audience."""
    topics = [topic.strip() for topic in context.topics if topic.strip()]
    if not topics:
        return None
    audience = context.resources.thesaurus.audience(topics, context.language)
    if not audience:
        return None
    return {"topic": Quote(topics[0]), "audience": ", ".join(audience[:AUDIENCE_SHOWN])}


class SignalsRule(Rule[SignalsRuleSpec]):
    """Audience: points for each signal in the author's own words."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "warn": frozenset({"found", "count"}),
        "fail": frozenset(),
        "fail_topic": frozenset({"topic", "audience"}),
    }

    def __init__(self, spec: SignalsRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._groups = [
            (group.points, self.lexicons(group.terms)) for group in spec.groups.values()
        ]

    def check(self, context: Context) -> Finding:
        """Sum the points; positive signals are quoted back. A capitalised word inside a
        sentence is a name ("Ufficio Tecnico", "Keswick Electrical"), not a reader."""
        tokens, language = context.tokens, context.language
        points = 0
        found: list[str] = []
        for group_points, lexicons in self._groups:
            for hit in lexicons[language].select(tokens, own=True):
                word = tokens.text[hit.start : hit.end]
                if (
                    word[:1].isupper()
                    and not _opens_sentence(tokens, hit.first)
                    and not word.isupper()
                ):
                    continue
                points += group_points
                found.append(word)
        quoted = _drop_contained(unique(found))
        if points >= self.spec.pass_points:
            return Finding("pass", "pass", {"found": quoted, "count": len(quoted)})
        if points >= self.spec.warn_points:
            return Finding("warn", "warn", {"found": quoted, "count": len(quoted)})
        advice = _topic_and_audience(context)
        if advice is not None:
            return Finding("fail", "fail_topic", advice)
        return Finding("fail", "fail")


class StanceRule(Rule[StanceRuleSpec]):
    """Point of view: a stance in the author's own words, from markers and structure.

    Opinion markers, evaluations, contrast (X, non Y; not X but Y), "dipende da",
    "il problema è", norms (bisogna, should), comparisons, lessons and irony all count;
    words inside quotations do not. Without a stance, a post that has something to
    say only reports (warn); one with nothing to say fails.
    """

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "weak": frozenset({"found", "count"}),
        "report": frozenset(),
        "report_fact": frozenset({"fact"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: StanceRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._groups = [
            (group.points, self.lexicons(group.terms)) for group in spec.groups.values()
        ]

    def check(self, context: Context) -> Finding:
        """Pass on a stance; warn on a hint of one or on a plain report; else fail."""
        points, found = _points(self._groups, context)
        quoted = _drop_contained(unique(found))
        if points >= self.spec.pass_points:
            return Finding("pass", "pass", {"found": quoted, "count": len(quoted)})
        if points >= self.spec.weak_points and quoted:
            return Finding("warn", "weak", {"found": quoted, "count": len(quoted)})
        if points >= 0 and self._has_content(context):
            if context.work_figures:
                return Finding(
                    "warn", "report_fact", {"fact": Quote(context.work_figures[0].text)}
                )
            return Finding("warn", "report")
        return Finding("fail", "fail")

    def _has_content(self, context: Context) -> bool:
        """Facts to take a stance on: work shown, in enough words of the author's own."""
        return context.work_shown and context.own_words() >= self.spec.report_words


class VoiceRule(Rule[VoiceRuleSpec]):
    """Personal voice: first person (with or without a pronoun), anecdotes, the team."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found", "count"}),
        "warn": frozenset({"found", "count"}),
        "fail": frozenset(),
    }

    def __init__(self, spec: VoiceRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._groups = [
            (group.points, self.lexicons(group.terms))
            for name, group in spec.groups.items()
            if name not in spec.corporate_groups
        ]
        self._corporate = [
            (group.points, self.lexicons(group.terms))
            for name, group in spec.groups.items()
            if name in spec.corporate_groups
        ]
        self._verbs = {
            language: (frozenset(verbs.singular), frozenset(verbs.plural), frozenset(verbs.after))
            for language, verbs in spec.verbs.items()
        }

    def _verb_points(self, context: Context) -> tuple[int, int, list[str]]:
        """Points of first-person verbs: singular, then plural, and the verbs found."""
        verbs = self._verbs.get(context.language)
        if verbs is None:
            return 0, 0, []
        singular, plural, after = verbs
        tokens = context.tokens
        points = plural_points = 0
        found: list[str] = []
        for position, (key, lemma) in enumerate(zip(tokens.keys, tokens.lemmas, strict=True)):
            if tokens.quoted[position]:
                continue
            start, end = tokens.spans[position]
            irregular = key in singular
            if not irregular and not (
                _opens_sentence(tokens, position) or tokens.keys[position - 1] in after
            ):
                continue
            if first_person_singular(key, lemma, singular):
                points += self.spec.singular_points
                found.append(tokens.text[start:end])
            elif first_person_plural(key, lemma, plural):
                plural_points += self.spec.plural_points
                found.append(tokens.text[start:end])
        return points, plural_points, found

    def check(self, context: Context) -> Finding:
        """Sum the points of pronouns, verbs and stories; quotations left out. A company's
        "we" alone warns: there is a logo, not a face."""
        points, found = _points(self._groups, context)
        corporate, corporate_found = _points(self._corporate, context)
        verb_points, plural_verbs, verbs = self._verb_points(context)
        quoted = _drop_contained(unique(chain(found, verbs, corporate_found)))
        personal = points + verb_points
        total = personal + corporate + plural_verbs
        if personal > 0 and total >= self.spec.pass_points:
            return Finding("pass", "pass", {"found": quoted, "count": len(quoted)})
        if total >= self.spec.warn_points:
            return Finding("warn", "warn", {"found": quoted, "count": len(quoted)})
        return Finding("fail", "fail")


class InvitationRule(Rule[InvitationRuleSpec]):
    """Interaction: a question past the opening, or an explicit invitation to reply."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"found"}),
        "rhetorical": frozenset({"found"}),
        "fail": frozenset(),
        "fail_topic": frozenset({"topic", "audience"}),
    }

    def __init__(self, spec: InvitationRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._invitations = self.lexicons(spec.invitations)
        self._addressed = self.lexicons(spec.addressed)

    def _sentence(self, tokens: Tokens, index: int) -> str:
        positions = [
            position for position, sentence in enumerate(tokens.sentence) if sentence == index
        ]
        start = tokens.spans[positions[0]][0]
        end = tokens.spans[positions[-1]][1]
        question = tokens.text.find("?", end)
        return tokens.text[start : question + 1 if question != -1 else end]

    def check(self, context: Context) -> Finding:
        """An opening question counts only when it is put to the reader."""
        tokens, language = context.tokens, context.language
        invitations = self._invitations[language].find(tokens, own=True)
        if invitations:
            return Finding("pass", "pass", {"found": unique(invitations)})
        questions = sorted(context.questions)
        if not questions:
            advice = _topic_and_audience(context)
            if advice is not None:
                return Finding("fail", "fail_topic", advice)
            return Finding("fail", "fail")
        last = Quote(self._sentence(tokens, questions[-1]))
        first_sentence = tokens.sentence[0] if tokens.keys else 0
        opening_addressed = any(
            tokens.sentence[hit.first] == first_sentence
            for hit in self._addressed[language].select(tokens, own=True)
            if hit.first < len(tokens)
        )
        if questions[-1] > first_sentence or opening_addressed:
            return Finding("pass", "pass", {"found": (last,)})
        return Finding("warn", "rhetorical", {"found": (last,)})


class TopicsRule(Rule[TopicsRuleSpec]):
    """Reputation focus: how often the draft speaks of a declared topic, by meaning."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "skip": frozenset(),
        "pass": frozenset({"topic", "found", "count"}),
        "warn": frozenset({"topic", "found", "count"}),
        "fail": frozenset({"topics"}),
    }

    def __init__(self, spec: TopicsRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._ignore = tuple(word.casefold() for word in spec.ignore_words)

    def check(self, context: Context) -> Finding:
        """Skip without topics; pass on repeated mentions of one topic's concepts."""
        topics = [topic.strip() for topic in context.topics if topic.strip()]
        if not topics:
            return Finding("skip", "skip")
        thesaurus = self.resources.thesaurus
        tag_tokens = context.tags
        # Mentions add up over all topics; the reason names the topic mentioned most.
        matched: dict[int, str] = {}
        mentions = 0
        tagged = False
        best_topic, best_count = topics[0], 0
        for topic in topics:
            lexicon = thesaurus.topic_lexicon(topic, context.language, self._ignore)
            if lexicon is None:
                continue
            hits = lexicon.select(context.tokens)
            for hit in hits:
                matched[hit.start] = context.tokens.text[hit.start : hit.end]
            # The topic in the user's own words says it twice: "impianti HVAC".
            literal = thesaurus.literal_lexicon(topic, context.language)
            hits += literal.select(context.tokens) if literal is not None else []
            if tag_tokens is not None and lexicon.select(tag_tokens):
                tagged = True
            if len(hits) > best_count:
                best_topic, best_count = topic, len(hits)
            mentions = max(mentions, len(hits))
        found = [matched[start] for start in sorted(matched)]
        values: dict[str, Value] = {
            "topic": Quote(best_topic),
            "found": unique(found),
            "count": len(found),
        }
        enough = max(len(found), mentions) >= self.spec.pass_mentions
        tokens = context.tokens
        early = any(tokens.sentence_at(start) < self.spec.opening_sentences for start in matched)
        focused = bool(found) and (early or context.draft.word_count <= self.spec.short_post_words)
        if (tagged and found) or enough or focused:
            return Finding("pass", "pass", values)
        if found or tagged:
            return Finding("warn", "warn", values)
        return Finding("fail", "fail", {"topics": tuple(topics)})


class BaitRule(Rule[BaitRuleSpec]):
    """Relationships, not likes: bait in the author's voice, or nothing professional."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset(),
        "bait": frozenset({"found"}),
        "off_brand": frozenset({"found"}),
    }

    def __init__(self, spec: BaitRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._bait = self.lexicons(spec.bait)
        self._critique = self.lexicons(spec.critique)
        self._off_brand = self.lexicons(spec.off_brand)
        self._professional = self.lexicons(spec.professional)

    def _bait_found(self, context: Context) -> list[str]:
        tokens, language = context.tokens, context.language
        # "No giveaway, no «comment YES»": a negated bait phrase is its refusal.
        hits = self._bait[language].select(tokens, own=True, affirmed=True)
        if not hits:
            return []
        # "Basta con i post «metti like se»": a bait phrase named to criticise it.
        critiques = self._critique[language].select(tokens, own=True)
        kept = []
        for hit in hits:
            sentence = tokens.sentence[hit.first] if hit.first < len(tokens) else -1
            criticised = any(
                critique.start < hit.start
                and critique.first < len(tokens)
                and tokens.sentence[critique.first] == sentence
                for critique in critiques
            )
            if not criticised:
                kept.append(tokens.text[hit.start : hit.end])
        return kept

    def check(self, context: Context) -> Finding:
        """Bait is looked for in hashtags too (#like4like)."""
        language = context.language
        bait = self._bait_found(context)
        tags = context.tags
        if tags is not None:
            bait += self._bait[language].find(tags)
        if bait:
            return Finding("fail", "bait", {"found": unique(bait)})
        tokens = context.tokens
        off_brand = self._off_brand[language].find(tokens, affirmed=True)
        if tags is not None:
            off_brand += self._off_brand[language].find(tags)
        if len(off_brand) >= self.spec.off_brand_min and not self._professional_found(context):
            return Finding("warn", "off_brand", {"found": unique(off_brand)})
        return Finding("pass", "pass")

    def _professional_found(self, context: Context) -> bool:
        tokens, language = context.tokens, context.language
        return bool(
            context.work_figures
            or self._professional[language].select(tokens, affirmed=True)
            or self.resources.thesaurus.terms(language).select(tokens, affirmed=True)
        )


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

    def __init__(self, spec: SpamRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._punctuation = re.compile(spec.punctuation.pattern)

    @staticmethod
    def _level(count: int, warn: float, fail: float) -> Status:
        return "fail" if count >= fail else "warn" if count >= warn else "pass"

    def _caps(self, context: Context) -> Finding:
        """Words in capitals that are not acronyms: long ones, and common short words
        ("NOT", "PER", "LA")."""
        spec, tokens = self.spec.caps, context.tokens
        language = context.language
        common = self.resources.common_zipf.get(language)
        words = [
            (tokens.text[start:end], zipf)
            for (start, end), zipf, quoted in zip(
                tokens.spans, tokens.zipf, tokens.quoted, strict=True
            )
            if not quoted
        ]
        long_words = [word for word, _ in words if len(word) >= spec.min_letters]
        # A short word must be very common to be shouted: "CD", "ISO", "API" are acronyms.
        shouted = [
            word
            for word, zipf in words
            if word.isupper()
            and len(word) >= 2
            and zipf >= (common if len(word) >= spec.min_letters else SHORT_SHOUT_ZIPF)
        ]
        share = len(shouted) / max(len(long_words), 1)
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
        findings.append(self._caps(context))
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
class Opening:
    """The opening line as words: a window of some text's tokens, and its dates."""

    tokens: Tokens
    window: Window
    dates: tuple[tuple[int, int], ...]

    @property
    def text(self) -> str:
        """The characters of the opening."""
        return self.tokens.text[self.window[0] : self.window[1]]


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
    """The hook: greeting or filler, past the fold, a date stamp, cliché, specific."""

    CASES: ClassVar[dict[str, frozenset[str]]] = {
        "pass": frozenset({"hook"}),
        "empty": frozenset(),
        "greeting": frozenset({"hook"}),
        "filler": frozenset({"hook"}),
        "after_fold": frozenset({"chars", "fold", "platform"}),
        "date": frozenset({"hook"}),
        "date_fact": frozenset({"hook", "fact"}),
        "cliche": frozenset({"found"}),
        "too_long": frozenset({"words", "hook"}),
        "generic": frozenset({"hook"}),
        "generic_fact": frozenset({"hook", "fact"}),
    }

    def __init__(self, spec: HookRuleSpec, resources: Resources) -> None:
        super().__init__(spec, resources)
        self._greetings = _per_language(spec.greetings, lambda terms, _: compile_prefix(terms))
        self._fillers = _per_language(spec.fillers, lambda terms, _: compile_prefix(terms))
        self._cliches = self.lexicons(spec.cliches)
        self._specific = [self.lexicons(terms) for terms in spec.specific]
        self._dull = [self.lexicons(terms) for terms in spec.dull]

    def _fact_after(self, context: Context, hook: Hook) -> Quote | None:
        """A figure of work the reader meets only after the first line."""
        for figure in context.work_figures:
            if figure.text not in hook.line:
                return Quote(figure.text)
        return None

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
        view = self._opening(context, hook.visible(fold))
        fact = self._fact_after(context, hook)
        if view.dates and self._only_dates(view.text, view.dates, view.window[0]):
            if fact is not None:
                return Finding("warn", "date_fact", {**quoted, "fact": fact})
            return Finding("warn", "date", quoted)
        cliches = self._cliches[language].find(view.tokens, within=view.window)
        if cliches:
            return Finding("warn", "cliche", {"found": unique(cliches)})
        if self._specific_opening(context, view):
            return Finding("pass", "pass", quoted)
        words = len(WORD_RE.findall(hook.sentence))
        if words > self.spec.max_words:
            return Finding("warn", "too_long", {"words": words, "hook": Quote(hook.sentence)})
        if fact is not None:
            return Finding("warn", "generic_fact", {**quoted, "fact": fact})
        return Finding("warn", "generic", quoted)

    def _opening(self, context: Context, visible: str) -> Opening:
        """What the reader sees first, as words: hashtags are labels, not what it says.

        When the body starts with it, the body's own words are used (their matches are
        shared with the other rules); otherwise the line is read on its own."""
        body = context.tokens
        start = body.text.find(visible) if "#" not in visible else -1
        if start != -1 and visible.strip():
            window = (start, start + len(visible))
            dates = tuple(span for span in context.dates if window[0] <= span[0] < window[1])
            return Opening(body, window, dates)
        resources, language = self.resources, context.language
        tokens = tokenize(
            HASHTAG_RE.sub(_blank, visible),
            language,
            resources.vocabulary,
            resources.negation[language],
        )
        dates = tuple((hit.start, hit.end) for hit in resources.dates[language].hits(tokens))
        return Opening(tokens, (0, len(tokens.text)), dates)

    def _specific_opening(self, context: Context, view: Opening) -> bool:
        """A question, a figure, a take, a named or technical thing: not a line anyone
        could post."""
        language, tokens, window = context.language, view.tokens, view.window
        if any(lexicons[language].search(tokens, within=window) for lexicons in self._dull):
            return False
        if "?" in view.text or self._has_figure(context, view):
            return True
        if any(
            lexicons[language].search(tokens, own=True, within=window)
            for lexicons in self._specific
        ):
            return True
        technical = context.resources.thesaurus.terms(language).find(tokens, within=window)
        # A technical term names the work ("Formwork going up"); a shouted word does not.
        if any(not term.isupper() or len(term) <= ACRONYM_MAX_CHARS for term in technical):
            return True
        return bool(EvidenceRule.named(tokens, window))

    def _has_figure(self, context: Context, view: Opening) -> bool:
        """A number that is neither a date nor a count of anything ("12 mesi" is not)."""
        finder = context.resources.figures[context.language]
        work = {figure.text for figure in context.work_figures}
        counts = [
            figure
            for figure in finder.find(view.tokens, view.dates)
            if view.window[0] <= figure.start < view.window[1]
            and not figure.measure
            and figure.text not in work
        ]
        if counts:
            return False  # "12 months. 52 weeks. 365 days": a countdown, not a fact
        start = view.window[0]
        return any(
            not any(low <= start + match.start() < high for low, high in view.dates)
            for match in re.finditer(r"\d+(?:[.,]\d+)*", view.text)
        )

    @staticmethod
    def _only_dates(text: str, dates: Sequence[tuple[int, int]], offset: int = 0) -> bool:
        """A line that is a date stamp: dates, separators and at most a place name."""
        rest = list(text)
        for start, end in dates:
            rest[start - offset : end - offset] = [" "] * (end - start)
        words = [word for word in DATE_SEPARATORS_RE.split("".join(rest)) if word]
        return len(words) <= 2 and not any("?" in word for word in words)


RULE_CLASSES: dict[str, type[Rule[Any]]] = {
    "evidence": EvidenceRule,
    "readability": ReadabilityRule,
    "signals": SignalsRule,
    "stance": StanceRule,
    "voice": VoiceRule,
    "invitation": InvitationRule,
    "topics": TopicsRule,
    "bait": BaitRule,
    "spam": SpamRule,
    "platform": PlatformRule,
    "hook": HookRule,
}


def build_rule(spec: RuleBase, resources: Resources) -> Rule[Any]:
    """The rule object for a spec, chosen by its `kind`."""
    kind = getattr(spec, "kind", None)
    if not isinstance(kind, str) or kind not in RULE_CLASSES:
        raise ValueError(f"unknown rule kind {kind!r}")
    return RULE_CLASSES[kind](spec, resources)


__all__ = [
    "RULE_CLASSES",
    "Context",
    "Finding",
    "PerLanguage",
    "Quote",
    "Resources",
    "Rule",
    "build_rule",
]
