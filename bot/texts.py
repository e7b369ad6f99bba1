"""Loads and validates the user-facing texts in `prompts/texts/` and renders them.

Every text a user reads lives in `prompts/texts/<lang>.yaml`. The structure of
those files is declared here with pydantic models (`extra="forbid"`), so a
missing or unknown key stops start-up naming the file; placeholders must match
between the languages. Handlers refer to texts by dotted id
(`texts.render(lang, "start.welcome", name=...)`).
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.settings import LANGUAGES, Language


class TextsError(Exception):
    """A texts file is missing, malformed or inconsistent; the message names the file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandTexts(_Section):
    """Descriptions shown in Telegram's command menu."""

    start: str
    help: str
    language: str
    review: str
    profile: str
    settings: str
    posted: str
    stats: str
    history: str
    privacy: str
    pause: str
    resume: str
    leaderboard: str
    optout: str
    optin: str
    groupsettings: str
    theme: str
    cancel: str


class AboutTexts(_Section):
    """What the empty chat shows before /start (Telegram's limits: 512 and 120 characters)."""

    description: str = Field(min_length=1, max_length=512)
    short_description: str = Field(min_length=1, max_length=120)


class CancelTexts(_Section):
    """/cancel: what was left, per dialogue."""

    onboarding: str
    settings: str
    revise: str
    results: str
    link: str
    nothing: str


class StartTexts(_Section):
    """The /start command."""

    welcome: str
    welcome_back: str


class HelpTexts(_Section):
    """The /help command."""

    body: str


class LanguageTexts(_Section):
    """The /language command and its buttons."""

    prompt: str
    changed: str
    button_it: str
    button_en: str


class ReviewTexts(_Section):
    """The review of a draft in chat and its buttons."""

    header: str
    version: str
    changed: str
    change: str
    failing: str
    warnings: str
    item: str
    item_detail: str
    suggestion: str
    passed: str
    passed_none: str
    passed_details: str
    skipped: str
    top_fixes: str
    fix: str
    no_fixes: str
    button_details: str
    button_hide: str
    button_revise: str
    button_posted: str
    ask_text: str
    rejected_empty: str
    rejected_too_long: str
    rejected_too_fast: str
    revise_prompt: str
    not_yours: str


class ItemTexts(_Section):
    """Short titles of the checklist items (ids from design/checklist.md)."""

    visibility: str
    clarity: str
    audience: str
    point_of_view: str
    interaction: str
    personal_voice: str
    reputation_focus: str
    relationships_not_likes: str
    spam_hygiene: str
    platform_fit: str
    hook: str


class StatusTexts(_Section):
    """Markers of an item's status."""

    pass_: str = Field(alias="pass")
    warn: str
    fail: str
    skip: str


class PlatformTexts(_Section):
    """Names of the platforms."""

    linkedin: str
    x: str
    instagram: str
    facebook: str
    threads: str


class LanguageNameTexts(_Section):
    """Names of the languages a draft can be in."""

    it: str
    en: str


class OnboardingTexts(_Section):
    """The first conversation that fills the profile."""

    intro: str
    resume: str
    done: str


class ProfileTexts(_Section):
    """Profile questions, their errors, /profile and /settings."""

    ask_language: str
    ask_role: str
    ask_topics: str
    topics_understood: str
    topic_line: str
    topic_own_words: str
    ask_audience: str
    ask_platforms: str
    ask_main_platform: str
    ask_goal: str
    ask_timezone: str
    ask_nudge_days: str
    ask_nudge_time: str
    invalid_empty: str
    invalid_role_too_long: str
    invalid_topics_too_many: str
    invalid_goal_not_number: str
    invalid_goal_out_of_range: str
    invalid_time_invalid: str
    invalid_zone_unknown: str
    invalid_location_unknown: str
    invalid_use_buttons: str
    invalid_stale: str
    nothing_to_skip: str
    button_done: str
    button_skip: str
    title: str
    line: str
    not_set: str
    goal_value: str
    nudges_value: str
    main_value: str
    field_language: str
    field_role: str
    field_topics: str
    field_audience: str
    field_platforms: str
    field_main_platform: str
    field_goal: str
    field_timezone: str
    field_nudge_days: str
    field_nudge_time: str
    settings_prompt: str
    settings_saved: str
    location_hint: str
    button_location: str
    zone_set: str
    zone_kept: str
    after_draft: str


class AudienceTexts(_Section):
    """Names of the audiences a user can speak to."""

    clients: str
    colleagues: str
    recruiters: str
    companies: str
    public_admin: str
    other: str


class WeekdayTexts(_Section):
    """Short weekday names, Monday first."""

    mon: str
    tue: str
    wed: str
    thu: str
    fri: str
    sat: str
    sun: str


class PostTexts(_Section):
    """Recording a published post and its link."""

    recorded: str
    recorded_with_score: str
    already: str
    ask_platform: str
    link_saved: str
    link_skipped: str


class ResultsTexts(_Section):
    """The question, two days later, about how a post went."""

    ask_reactions: str
    ask_comments: str
    ask_contacts: str
    ask_opportunity: str
    button_yes: str
    button_no: str
    button_skip: str
    thanks: str
    skipped: str
    invalid_not_number: str
    invalid_too_big: str
    invalid_not_yes_no: str
    not_yours: str
    date_format: str


class StatsTexts(_Section):
    """/stats and its chart."""

    title: str
    week_met: str
    week_short: str
    streak: str
    streak_none: str
    trend_up: str
    trend_down: str
    trend_none: str
    failing_title: str
    failing_item: str
    failing_none: str
    platforms_title: str
    platform_line: str
    platforms_none: str
    chart_title: str
    chart_posts: str
    chart_score: str
    chart_goal: str
    caption: str


class HistoryTexts(_Section):
    """/history: the drafts, paged."""

    title: str
    entry: str
    entry_posted: str
    no_score: str
    empty: str
    button_open: str
    button_newer: str
    button_older: str
    not_found: str
    date_format: str


class PrivacyTexts(_Section):
    """/privacy, /export and /delete."""

    body: str
    export_caption: str
    delete_confirm: str
    button_confirm: str
    button_cancel: str
    deleted: str
    cancelled: str


class NudgeTexts(_Section):
    """Reminders: the ideas, their tone, their buttons, /pause, /resume and /quiet."""

    intro_light: str
    intro_encourage: str
    intro_steady: str
    late_note: str
    idea_show_result: str
    idea_explain_simply: str
    idea_opinion_news: str
    idea_team_member: str
    idea_ask_audience: str
    idea_comment_three: str
    idea_update_profile: str
    idea_review_results: str
    topic_fallback: str
    audience_fallback: str
    button_write: str
    button_snooze_1h: str
    button_snooze_3h: str
    button_snooze_tomorrow: str
    button_skip: str
    button_pause: str
    write_prompt: str
    snoozed: str
    skipped: str
    paused: str
    paused_until: str
    resumed: str
    nothing_scheduled: str
    pause_usage: str
    pause_not_a_date: str
    pause_no_such_day: str
    pause_in_the_past: str
    pause_too_far: str
    quiet_usage: str
    quiet_not_a_range: str
    quiet_not_a_time: str
    quiet_same_time: str
    quiet_set: str
    when_format: str
    date_format: str


class WeeklyTexts(_Section):
    """The Monday review of the week before."""

    title: str
    met: str
    missed: str
    caption: str


class GroupTexts(_Section):
    """Groups and channels: joining, settings, challenges, verdicts, leaderboard, recap."""

    intro: str
    not_admin: str
    settings_title: str
    settings_body: str
    mode_short: str
    mode_full: str
    challenge_on: str
    challenge_off: str
    no_theme: str
    button_mode_short: str
    button_mode_full: str
    button_challenge_on: str
    button_challenge_off: str
    theme_set: str
    theme_cleared: str
    theme_too_long: str
    group_only: str
    challenge: str
    challenge_theme: str
    verdict: str
    verdict_clean: str
    author_nobody: str
    credited_to_nobody_bot: str
    credited_to_nobody_channel: str
    credited_to_nobody_forwarded: str
    button_full_review: str
    deep_link_not_yours: str
    leaderboard_title: str
    leaderboard_row: str
    leaderboard_row_no_revisions: str
    leaderboard_asked: str
    leaderboard_empty: str
    opted_out: str
    opted_in: str
    recap: str
    recap_missing: str
    recap_best: str
    recap_empty: str
    channels_none: str
    channels_title: str
    channel_on: str
    channel_off: str
    channel_saved: str


class TipTexts(_Section):
    """The weekly tips posted in channels, in rotation."""

    title: str
    tip_0: str
    tip_1: str
    tip_2: str
    tip_3: str
    tip_4: str
    tip_5: str
    tip_6: str
    tip_7: str


class FallbackTexts(_Section):
    """Replies to messages the bot does not handle."""

    unsupported: str


class ErrorTexts(_Section):
    """What the user and the operator see when something breaks."""

    generic: str
    admin_report: str
    stale_button: str


class CliTexts(_Section):
    """Messages of the `postcoach` command line (plain text, no HTML)."""

    no_token: str
    token_rejected: str
    review_file: str
    review_header: str
    review_item: str
    review_suggestion: str
    review_top_fixes: str
    empty_file: str
    binary_file: str
    too_long_file: str
    unreadable_file: str
    missing_file: str
    directory_file: str
    denied_file: str
    health_ok_webhook: str
    health_ok_polling: str
    health_unreachable: str
    health_failing: str
    health_no_heartbeat: str
    health_never_beat: str
    health_stale: str


class RewriteTexts(_Section):
    """Rewrites by a language model (only when the operator configured one)."""

    button: str
    working: str
    title: str
    scores: str
    lower: str
    facts: str
    facts_none: str
    body: str
    still_failing: str
    truncated: str
    footer: str
    error_timeout: str
    error_server: str
    error_malformed: str
    limit: str
    help_note: str
    privacy_note: str


class TextCatalog(_Section):
    """One language's complete set of texts."""

    commands: CommandTexts
    about: AboutTexts
    cancel: CancelTexts
    start: StartTexts
    help: HelpTexts
    language: LanguageTexts
    review: ReviewTexts
    items: ItemTexts
    statuses: StatusTexts
    platforms: PlatformTexts
    languages: LanguageNameTexts
    onboarding: OnboardingTexts
    profile: ProfileTexts
    audiences: AudienceTexts
    weekdays: WeekdayTexts
    posts: PostTexts
    results: ResultsTexts
    stats: StatsTexts
    history: HistoryTexts
    privacy: PrivacyTexts
    nudges: NudgeTexts
    weekly: WeeklyTexts
    groups: GroupTexts
    tips: TipTexts
    fallback: FallbackTexts
    errors: ErrorTexts
    cli: CliTexts
    rewrite: RewriteTexts


def _flatten(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    fields = type(model).model_fields
    for name, value in model:
        key = f"{prefix}{fields[name].alias or name}"
        if isinstance(value, BaseModel):
            yield from _flatten(value, key + ".")
        else:
            yield key, value


def placeholders(template: str, *, source: str = "") -> frozenset[str]:
    """The `{names}` a template expects; a malformed template raises TextsError."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TextsError(f"{source}: {exc}") from None
    names = set()
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec:
            raise TextsError(f"{source}: placeholder {{{field}}} must be a plain name")
        names.add(field)
    return frozenset(names)


class Texts:
    """All languages' texts, validated; renders a text id in a language."""

    def __init__(self, catalogs: Mapping[Language, Mapping[str, str]], default: Language) -> None:
        self._catalogs = catalogs
        self.default: Language = default

    def raw(self, lang: str, text_id: str) -> str:
        """The template of a text id in a language (the default language if unknown)."""
        catalog = self._catalogs.get(lang) or self._catalogs[self.default]  # type: ignore[call-overload]
        try:
            return catalog[text_id]
        except KeyError:
            raise KeyError(f"unknown text id {text_id!r}") from None

    def render(self, lang: str, text_id: str, **values: object) -> str:
        """The text for Telegram's HTML mode; every value is HTML-escaped."""
        escaped = {name: html.escape(str(value), quote=False) for name, value in values.items()}
        return self.raw(lang, text_id).format(**escaped)

    def plain(self, lang: str, text_id: str, **values: object) -> str:
        """The text with values inserted as they are, for the console."""
        return self.raw(lang, text_id).format(**{k: str(v) for k, v in values.items()})

    def ids(self) -> frozenset[str]:
        """Every text id."""
        return frozenset(self._catalogs[self.default])

    def language_of(self, *candidates: str | None) -> Language:
        """The first candidate that is a supported language code, else the default."""
        for candidate in candidates:
            if candidate:
                code = candidate.split("-")[0].split("_")[0].lower()
                if code in LANGUAGES:
                    return code
        return self.default


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_yaml(text: str) -> Any:
    """yaml.safe_load, with libyaml's parser when PyYAML has it (~20x faster at start)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def read_yaml_model(path: Path, model: type[ModelT], error: type[Exception]) -> ModelT:
    """A YAML file of prompts/ parsed into its model; any problem raises `error` with one
    line naming the file and the first wrong key."""
    try:
        raw: Any = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        kind = {"missing": "missing key", "extra_forbidden": "unknown key"}.get(
            first["type"], str(first["msg"])
        )
        raise error(f"{path}: {kind}: {where}") from None


def _read(path: Path) -> dict[str, str]:
    catalog = read_yaml_model(path, TextCatalog, TextsError)
    flat = dict(_flatten(catalog))
    for text_id, template in flat.items():
        placeholders(template, source=f"{path}: {text_id}")
    return flat


def texts_directory() -> Path:
    """Where the shipped texts live."""
    return Path(str(files("prompts").joinpath("texts")))


def load_texts(default: Language = "it", directory: Path | None = None) -> Texts:
    """Load every language's texts and check they agree; raise TextsError naming the file."""
    directory = directory or texts_directory()
    catalogs: dict[Language, dict[str, str]] = {
        lang: _read(directory / f"{lang}.yaml") for lang in LANGUAGES
    }
    reference_lang = LANGUAGES[0]
    reference = catalogs[reference_lang]
    for lang, catalog in catalogs.items():
        for text_id, template in catalog.items():
            expected = placeholders(reference[text_id])
            found = placeholders(template)
            if found != expected:
                raise TextsError(
                    f"{directory / f'{lang}.yaml'}: {text_id}: placeholders {sorted(found)} "
                    f"differ from {sorted(expected)} in {reference_lang}.yaml"
                )
    return Texts(catalogs, default)
