"""The schema of `prompts/checklist/*.yaml` and the code that reads the files.

Every file is parsed into pydantic models with `extra="forbid"`, so a misspelt key is
an error, and each rule declares its `kind` from a closed set (Vale-style). Any problem
becomes a `ChecklistError` whose message starts with the file's name.
"""

from __future__ import annotations

import re
from importlib.abc import Traversable
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot import yamlfiles
from bot.coach.review import ITEM_IDS, PLATFORMS
from bot.yamlfiles import ModelT, placeholders

T = TypeVar("T")

RULES_FILE = "rules.yaml"
PLATFORMS_FILE = "platforms.yaml"
LANGUAGE_FILE = "language.yaml"
THESAURUS_FILE = "thesaurus.yaml"


class ChecklistError(Exception):
    """A prompts/checklist file is missing or wrong; the message names the file."""


class Strict(BaseModel):
    """Unknown keys are errors; loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PerLanguage(Strict, Generic[T]):
    """One value for each language the engine knows."""

    it: T
    en: T

    def get(self, language: str) -> T:
        """The value for a language code ("it" or "en")."""
        return self.en if language == "en" else self.it


class PatternTerm(Strict):
    """A regular expression in a word list, with the texts it must and must not match."""

    pattern: str = Field(alias="re", min_length=1)
    examples: list[str] = Field(min_length=1)
    counterexamples: list[str] = Field(default_factory=list)


Term = str | PatternTerm
Terms = PerLanguage[list[Term]]
Words = PerLanguage[list[str]]


class Units(PerLanguage[list[str]]):
    """Units of measure as written after a number ("m²", "kWh", "%"): not word lists."""


class RuleBase(Strict):
    """What every rule has: its weight in the score and the article it comes from."""

    weight: int = Field(ge=1, le=10)
    source: str = Field(pattern=r"^(ING|VAL)(\+(ING|VAL))?$")


class EvidencePoints(Strict):
    """What each kind of evidence of work is worth."""

    figure: float = Field(ge=0)
    action: float = Field(ge=0)
    specific: float = Field(ge=0)
    generic: float = Field(ge=0)
    result: float = Field(ge=0)
    named: float = Field(ge=0)


class EvidenceRuleSpec(RuleBase):
    """Visibility: figures that measure work, things done, work words, results."""

    kind: Literal["evidence"]
    pass_points: float = Field(gt=0)
    # Enough specific work passes without a deed or a figure (a detailed job offer).
    pass_points_alone: float = Field(gt=0)
    points: EvidencePoints
    # Units that measure work by themselves (m², kWh, MPa), and units that do so only
    # in a sentence that shows work (days, %, €: a marathon has them too).
    measures: Units
    work_counts: Units  # nouns of work: "3 revisioni", "12 new flats" count on their own
    counts: Units
    thin_points: float = Field(gt=0)  # below this, a mention of work is no evidence at all
    actions: Terms
    specific: Terms
    generic: Terms
    results: Terms
    vague: Terms


class AcronymSpec(Strict):
    """Acronym density thresholds (acronyms per word)."""

    min_count: int = Field(ge=1)
    warn_ratio: float = Field(gt=0, le=1)
    fail_ratio: float = Field(gt=0, le=1)


class JargonSpec(Strict):
    """Buzzwords a non-specialist stumbles on, and words rare in general language."""

    terms: Terms
    warn_count: int = Field(ge=1)
    fail_count: int = Field(ge=1)
    rare_min_count: int = Field(ge=1)
    rare_warn_share: float = Field(gt=0, le=1)
    rare_fail_share: float = Field(gt=0, le=1)


class ReadabilityRuleSpec(RuleBase):
    """Readability index, sentence length, acronyms and jargon."""

    kind: Literal["readability"]
    index: PerLanguage[Literal["gulpease", "flesch"]]
    pass_min: PerLanguage[float]
    warn_min: PerLanguage[float]
    min_words: int = Field(ge=1)
    long_sentence_words: PerLanguage[int]
    acronyms: AcronymSpec
    jargon: JargonSpec


class SignalGroup(Strict):
    """Words worth `points` each time they occur (negative points count against)."""

    points: int
    terms: Terms


class SignalsRuleSpec(RuleBase):
    """Add up the points of the signal groups found; compare with two thresholds."""

    kind: Literal["signals"]
    groups: dict[str, SignalGroup] = Field(min_length=1)
    pass_points: int = Field(ge=1)
    warn_points: int = Field(ge=1)


class StanceRuleSpec(RuleBase):
    """Point of view: the author's own stance, from markers and sentence structure."""

    kind: Literal["stance"]
    groups: dict[str, SignalGroup] = Field(min_length=1)
    pass_points: int = Field(ge=1)
    weak_points: int = Field(ge=1)
    # Without a stance, a post with this many words of statements only reports: it has
    # something to take a position on. Shorter ones have nothing to say.
    report_words: int = Field(ge=1)


class FirstPersonVerbs(Strict):
    """Italian verbs in the first person without a pronoun ("Seguo", "Ho chiuso")."""

    singular: list[str]  # irregular forms: ho, so, faccio, vado...
    plural: list[str]  # abbiamo, siamo...
    # A regular form counts after these words or at a sentence's start: "Seguo", "Oggi
    # compio", "lo dico". After an article it is a noun: "il cappotto", "un arrivo".
    after: list[str]


class VoiceRuleSpec(RuleBase):
    """Personal voice: first person, anecdotes, the team; quotations left out."""

    kind: Literal["voice"]
    groups: dict[str, SignalGroup] = Field(min_length=1)
    verbs: dict[str, FirstPersonVerbs]  # language -> verbs (languages without: none)
    singular_points: int
    plural_points: int
    # Groups that only show a company's "we": alone they warn, however many.
    corporate_groups: list[str] = Field(default_factory=list)
    pass_points: int = Field(ge=1)
    warn_points: int = Field(ge=1)


class InvitationRuleSpec(RuleBase):
    """A question to the reader or an explicit invitation to reply."""

    kind: Literal["invitation"]
    invitations: Terms
    addressed: Terms


class TopicsRuleSpec(RuleBase):
    """Overlap between the draft and the user's declared topics (with the thesaurus)."""

    kind: Literal["topics"]
    ignore_words: list[str]
    pass_mentions: int = Field(ge=1)
    short_post_words: int = Field(ge=1)
    opening_sentences: int = Field(ge=1)


class BaitRuleSpec(RuleBase):
    """Engagement bait in the author's voice fails; off-brand chatter warns."""

    kind: Literal["bait"]
    bait: Terms
    critique: Terms  # words that turn a bait phrase into its criticism ("basta con")
    off_brand: Terms
    professional: Terms
    off_brand_min: int = Field(ge=1)


class CountLimits(Strict):
    """Warn from `warn_count` occurrences, fail from `fail_count`."""

    warn_count: int = Field(ge=1)
    fail_count: int = Field(ge=1)


class CapsSpec(Strict):
    """Shouting: all-caps words of at least `min_letters` letters."""

    min_letters: int = Field(ge=2)
    warn_count: int = Field(ge=1)
    warn_share: float = Field(gt=0, le=1)
    fail_count: int = Field(ge=1)
    fail_share: float = Field(gt=0, le=1)


class PunctuationSpec(CountLimits):
    """Runs of repeated punctuation such as `!!!` or `?!?!`."""

    pattern: str


class SpamRuleSpec(RuleBase):
    """Bot-like traits; the hashtag norm per platform lives in platforms.yaml."""

    kind: Literal["spam"]
    hashtag_fail_factor: float = Field(gt=1)
    caps: CapsSpec
    emoji: CountLimits
    punctuation: PunctuationSpec
    links: CountLimits
    link_only_max_words: int = Field(ge=0)


class PlatformRuleSpec(RuleBase):
    """Hard limits of the chosen platform, read from platforms.yaml."""

    kind: Literal["platform"]


class HookRuleSpec(RuleBase):
    """The first sentence: no greeting or filler, before the fold, specific."""

    kind: Literal["hook"]
    greetings: Terms
    fillers: Terms
    cliches: Terms
    # Word lists that make an opening specific: a take, a named thing, the reader...
    # (several lists, so the stance lists of point_of_view can be shared by anchor).
    specific: list[Terms] = Field(min_length=1)
    dull: list[Terms] = Field(default_factory=list)  # lines anyone could post: never specific
    max_words: int = Field(ge=1)


RuleSpec = Annotated[
    EvidenceRuleSpec
    | ReadabilityRuleSpec
    | SignalsRuleSpec
    | StanceRuleSpec
    | VoiceRuleSpec
    | InvitationRuleSpec
    | TopicsRuleSpec
    | BaitRuleSpec
    | SpamRuleSpec
    | PlatformRuleSpec
    | HookRuleSpec,
    Field(discriminator="kind"),
]


class Credit(Strict):
    """Share of an item's weight earned by each status (skip is left out of the score)."""

    pass_: float = Field(alias="pass", ge=0, le=1)
    warn: float = Field(ge=0, le=1)
    fail: float = Field(ge=0, le=1)


class Cap(Strict):
    """The most a draft can score while an item has one of these outcomes."""

    item: str
    cases: list[str] = Field(default_factory=list)  # any of these cases...
    statuses: list[Literal["warn", "fail"]] = Field(default_factory=list)  # ...or statuses
    max: int = Field(ge=0, le=100)

    @field_validator("item")
    @classmethod
    def _known_item(cls, item: str) -> str:
        if item not in ITEM_IDS:
            raise ValueError(f"unknown item {item!r}")
        return item


class JointCap(Strict):
    """The most a draft can score while all of these items are flagged (warn or fail),
    and those of `failed` fail."""

    flagged: list[str] = Field(min_length=1)
    failed: list[str] = Field(default_factory=list)
    max: int = Field(ge=0, le=100)

    @field_validator("flagged", "failed")
    @classmethod
    def _known_items(cls, flagged: list[str]) -> list[str]:
        unknown = [item for item in flagged if item not in ITEM_IDS]
        if unknown:
            raise ValueError(f"unknown items {unknown}")
        return flagged


class Scoring(Strict):
    """How the 0-100 score and the top fixes are made."""

    credit: Credit
    caps: list[Cap] = Field(default_factory=list)
    joint_caps: list[JointCap] = Field(default_factory=list)
    top_fixes: int = Field(ge=1, le=len(ITEM_IDS))
    # "item.case": how much more a problem weighs than its item's weight says, when the
    # top fixes are ordered (a jargon wall, bait, a post too long to publish).
    impact: dict[str, float] = Field(default_factory=dict)

    @field_validator("impact")
    @classmethod
    def _known_cases(cls, impact: dict[str, float]) -> dict[str, float]:
        unknown = [key for key in impact if key.partition(".")[0] not in ITEM_IDS]
        if unknown or any(value <= 0 for value in impact.values()):
            raise ValueError(f"keys must be item.case with a positive value; bad: {unknown}")
        return impact


class NegationSpec(Strict):
    """Negators, and how far a negation reaches."""

    window: int = Field(ge=1, le=10)
    negators: Words
    breakers: Words


class AnalysisSpec(Strict):
    """How a draft's words are read before any rule runs."""

    negation: NegationSpec
    # Rarer than this in general language (wordfreq's Zipf scale): a client may not know it.
    rare_zipf: PerLanguage[float]
    # As common as this: a word in capitals is shouting, not an acronym ("PER", "SUBITO").
    common_zipf: PerLanguage[float]
    # A one-word term of the thesaurus this common ("strada", "window") is not evidence of
    # specific work by itself; rarer ones ("solaio", "inverter") and phrases are.
    technical_zipf: PerLanguage[float]
    dates: Terms  # dates, times and years: numbers that measure no work


class RulesFile(Strict):
    """rules.yaml."""

    analysis: AnalysisSpec
    scoring: Scoring
    items: dict[str, RuleSpec]

    @field_validator("items")
    @classmethod
    def _every_item_once(cls, items: dict[str, Any]) -> dict[str, Any]:
        missing = [item for item in ITEM_IDS if item not in items]
        unknown = [item for item in items if item not in ITEM_IDS]
        if missing or unknown:
            raise ValueError(
                f"items must be exactly {list(ITEM_IDS)}; missing {missing}, unknown {unknown}"
            )
        return items


class Concept(Strict):
    """A subject of the professions: what it is called and the words that mean it."""

    names: Terms  # how users declare it as a topic
    terms: Terms  # words a post on it uses
    audience: Words = Field(default_factory=lambda: PerLanguage[list[str]](it=[], en=[]))


class ThesaurusFile(Strict):
    """thesaurus.yaml: concepts of the fields our users work in, in both languages."""

    concepts: dict[str, Concept] = Field(min_length=1)

    @field_validator("concepts")
    @classmethod
    def _ids_are_names(cls, concepts: dict[str, Any]) -> dict[str, Any]:
        bad = [key for key in concepts if not re.fullmatch(r"[a-z][a-z0-9_]*", key)]
        if bad:
            raise ValueError(f"concept ids must be lower-case names: {bad}")
        return concepts


class HashtagCap(Strict):
    """The most hashtags (tags) a platform takes, and how bad it is to exceed it."""

    limit: int = Field(ge=0)
    status: Literal["warn", "fail"]


class PlatformSpec(Strict):
    """One platform's limits."""

    name: str
    max_chars: int = Field(ge=1)
    counting: Literal["chars", "weighted"] = "chars"
    fold_chars: int | None = Field(default=None, ge=1)
    hashtag_norm: int = Field(ge=0)
    hashtag_cap: HashtagCap | None = None


class WeightedCounting(Strict):
    """twitter-text's weights, for platforms with `counting: weighted`."""

    url_chars: int = Field(ge=1)
    emoji_chars: int = Field(ge=1)
    default_chars: int = Field(ge=1)
    light_ranges: list[tuple[int, int]]


class LinkSpec(Strict):
    """What counts as a link without a scheme (example.com)."""

    bare_domain_tlds: list[str]


class PlatformsFile(Strict):
    """platforms.yaml."""

    links: LinkSpec
    weighted: WeightedCounting
    platforms: dict[str, PlatformSpec]

    @field_validator("platforms")
    @classmethod
    def _every_platform_once(cls, platforms: dict[str, Any]) -> dict[str, Any]:
        if sorted(platforms) != sorted(PLATFORMS):
            raise ValueError(f"platforms must be exactly {list(PLATFORMS)}")
        return platforms


class LanguageFile(Strict):
    """language.yaml: how a draft's language is told."""

    default: Literal["it", "en"]
    model_min_letters: int = Field(ge=0)
    model_min_confidence: float = Field(ge=0, le=1)
    model_max_chars: int = Field(ge=1)
    function_words: Words


class QuoteStyle(Strict):
    """How the user's words are quoted in a reason."""

    open: str
    close: str
    ellipsis: str
    separator: str
    more: str  # after the last quoted item when some were left out; takes {count}
    more_one: str  # the same when exactly one was left out ("e un altro", not "e altri 1")
    max_chars: int = Field(ge=8)
    max_items: int = Field(ge=1)

    @field_validator("more", "more_one")
    @classmethod
    def _more_takes_count(cls, more: str) -> str:
        if placeholders(more) - {"count"}:
            raise ValueError("takes only the {count} placeholder")
        return more


class NumberStyle(Strict):
    """How numbers are written for the reader (63.206 in Italian, 63,206 in English)."""

    thousands: str = Field(max_length=1)
    decimal: str = Field(min_length=1, max_length=1)
    group_from: int = Field(ge=1000)  # smaller numbers are written without separators


class CaseTexts(Strict):
    """The reason and the suggestion shown for one outcome of a rule."""

    reason: str = Field(min_length=1)
    suggestion: str = Field(min_length=1)


class ItemTexts(Strict):
    """An item's title, its citation and the texts of each outcome."""

    title: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    cases: dict[str, CaseTexts]


class TextsFile(Strict):
    """it.yaml / en.yaml: every text a user reads about the checklist, in one language."""

    language: Literal["it", "en"]
    quote: QuoteStyle
    numbers: NumberStyle
    index_names: dict[Literal["gulpease", "flesch"], str]
    items: dict[str, ItemTexts]

    @field_validator("items")
    @classmethod
    def _every_item_once(cls, items: dict[str, Any]) -> dict[str, Any]:
        if sorted(items) != sorted(ITEM_IDS):
            raise ValueError(f"items must be exactly {list(ITEM_IDS)}")
        return items


def read_model(directory: Traversable, name: str, model: type[ModelT]) -> ModelT:
    """Parse one YAML file into its model, or raise ChecklistError naming the file."""
    return yamlfiles.read_model(directory / name, model, ChecklistError, name=name)
