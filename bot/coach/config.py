"""The schema of `prompts/checklist/*.yaml` and the code that reads the files.

Every file is parsed into pydantic models with `extra="forbid"`, so a misspelt key is
an error, and each rule declares its `kind` from a closed set (Vale-style). Any problem
becomes a `ChecklistError` whose message starts with the file's name.
"""

from __future__ import annotations

import re
import string
from importlib.abc import Traversable
from typing import Annotated, Any, Generic, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.coach.review import ITEM_IDS, PLATFORMS

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

RULES_FILE = "rules.yaml"
PLATFORMS_FILE = "platforms.yaml"
LANGUAGE_FILE = "language.yaml"


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


Terms = PerLanguage[list[str]]


class RuleBase(Strict):
    """What every rule has: its weight in the score and the article it comes from."""

    weight: int = Field(ge=1, le=10)
    source: str = Field(pattern=r"^(ING|VAL)(\+(ING|VAL))?$")


class EvidenceRuleSpec(RuleBase):
    """Concrete evidence of work: groups of signals; pass needs several groups."""

    kind: Literal["evidence"]
    groups: dict[str, Terms] = Field(min_length=1)
    vague: Terms
    pass_groups: int = Field(ge=1)
    pass_hits: int = Field(ge=1)
    alone: dict[str, int] = Field(default_factory=dict)  # group -> distinct hits that pass

    @field_validator("alone")
    @classmethod
    def _alone_names_groups(cls, alone: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        unknown = set(alone) - set(info.data.get("groups", {}))
        if unknown:
            raise ValueError(f"names no group: {sorted(unknown)}")
        return alone


class AcronymSpec(Strict):
    """Acronym density thresholds (acronyms per word)."""

    min_count: int = Field(ge=1)
    warn_ratio: float = Field(gt=0, le=1)
    fail_ratio: float = Field(gt=0, le=1)


class JargonSpec(Strict):
    """Buzzwords a non-specialist stumbles on."""

    terms: Terms
    warn_count: int = Field(ge=1)
    fail_count: int = Field(ge=1)


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


class InvitationRuleSpec(RuleBase):
    """A question to the reader or an explicit invitation to reply."""

    kind: Literal["invitation"]
    invitations: Terms
    addressed: Terms


class TopicsRuleSpec(RuleBase):
    """Overlap between the draft and the user's declared topics."""

    kind: Literal["topics"]
    ignore_words: list[str]
    stem_max: int = Field(ge=3)
    substring_min: int = Field(ge=3)
    pass_mentions: int = Field(ge=1)


class BaitRuleSpec(RuleBase):
    """Engagement bait fails; off-brand chatter with nothing professional warns."""

    kind: Literal["bait"]
    bait: Terms
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
    specific: Terms
    max_words: int = Field(ge=1)


RuleSpec = Annotated[
    EvidenceRuleSpec
    | ReadabilityRuleSpec
    | SignalsRuleSpec
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


class Scoring(Strict):
    """How the 0-100 score and the top fixes are made."""

    credit: Credit
    top_fixes: int = Field(ge=1, le=len(ITEM_IDS))


class RulesFile(Strict):
    """rules.yaml."""

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
    function_words: Terms


class QuoteStyle(Strict):
    """How the user's words are quoted in a reason."""

    open: str
    close: str
    ellipsis: str
    separator: str
    more: str  # after the last quoted item when some were left out; takes {count}
    max_chars: int = Field(ge=8)
    max_items: int = Field(ge=1)

    @field_validator("more")
    @classmethod
    def _more_takes_count(cls, more: str) -> str:
        if placeholders(more) - {"count"}:
            raise ValueError("takes only the {count} placeholder")
        return more


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
    index_names: dict[Literal["gulpease", "flesch"], str]
    items: dict[str, ItemTexts]

    @field_validator("items")
    @classmethod
    def _every_item_once(cls, items: dict[str, Any]) -> dict[str, Any]:
        if sorted(items) != sorted(ITEM_IDS):
            raise ValueError(f"items must be exactly {list(ITEM_IDS)}")
        return items


# libyaml's parser when PyYAML was built with it (its wheels are): ~20x faster at start.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses a key given twice (YAML would keep the last silently)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
# Word lists hold words like "on", "no" and "yes", which YAML 1.1 would turn into
# booleans: only true/false are booleans here.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _describe(error: ValidationError, limit: int = 3) -> str:
    problems = []
    for detail in error.errors()[:limit]:
        location = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        problems.append(f"{location}: {detail['msg']}")
    more = len(error.errors()) - limit
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def read_model(directory: Traversable, name: str, model: type[ModelT]) -> ModelT:
    """Parse one YAML file into its model, or raise ChecklistError naming the file."""
    source = directory / name
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ChecklistError(f"{name}: cannot be read ({error})") from error
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ChecklistError(f"{name}: invalid YAML: {error}") from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ChecklistError(f"{name}: {_describe(error)}") from error


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a text uses; raises ValueError for anything but plain names."""
    names = set()
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be a plain {{name}}")
        names.add(field)
    return frozenset(names)
