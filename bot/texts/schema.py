"""The shape of `prompts/texts/<lang>.yaml`: one pydantic model per section (`extra="forbid"`),
so a missing or unknown key stops start-up naming the file, and the plural forms a text may
have (`Plural`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, model_validator


class TextsError(Exception):
    """A texts file is missing, malformed or inconsistent; the message names the file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Plural(_Section):
    """A text with a form per count, as CLDR's plural rules choose it for the language.

    In YAML: `plural:` names the placeholder that holds the count, `one:` and `other:` are
    CLDR's categories (Italian and English have just these), and `"=N":` keys give the form
    for an exact count ("=0": "no drafts yet", "=2": "the two fixes"). A form may itself
    have forms for a second count ("{pace} drafts a minute … the next {seconds} seconds").
    """

    plural: str
    one: Template | None = None
    other: Template
    exact: dict[int, Template] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _exact_counts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = {key: value for key, value in data.items() if not str(key).startswith("=")}
        exact = {key[1:]: value for key, value in data.items() if str(key).startswith("=")}
        if exact:
            fields["exact"] = exact
        return fields

    def forms(self) -> tuple[Template, ...]:
        """Every form, for checking placeholders."""
        return (self.other, *([self.one] if self.one is not None else []), *self.exact.values())

    def form(self, lang: str, values: Mapping[str, object]) -> str:
        """The form for the counts among these values, in this language."""
        chosen = self.other
        try:
            number: int | None = int(str(values.get(self.plural)))
        except ValueError:
            number = None
        if number is not None and number in self.exact:
            chosen = self.exact[number]
        elif (
            number is not None and self.one is not None and _plural_category(lang, number) == "one"
        ):
            chosen = self.one
        return chosen.form(lang, values) if isinstance(chosen, Plural) else chosen


def _plural_category(lang: str, number: int) -> str:
    return str(Locale.parse(lang).plural_form(number))


# A text as the files give it: a plain template, or a form per count.
Template = str | Plural
Plural.model_rebuild()


class CommandTexts(_Section):
    """Descriptions shown in Telegram's command menu."""

    start: Template
    help: Template
    language: Template
    review: Template
    profile: Template
    settings: Template
    posted: Template
    stats: Template
    history: Template
    privacy: Template
    pause: Template
    resume: Template
    leaderboard: Template
    optout: Template
    optin: Template
    groupsettings: Template
    theme: Template
    cancel: Template


class AboutTexts(_Section):
    """What the empty chat shows before /start (Telegram's limits: 512 and 120 characters)."""

    description: str = Field(min_length=1, max_length=512)
    short_description: str = Field(min_length=1, max_length=120)


class CancelTexts(_Section):
    """/cancel: what was left, per dialogue."""

    onboarding: Template
    settings: Template
    revise: Template
    results: Template
    link: Template
    nothing: Template


class StartTexts(_Section):
    """The /start command."""

    welcome: Template
    welcome_back: Template


class HelpTexts(_Section):
    """The /help command."""

    body: Template


class LanguageTexts(_Section):
    """The /language command and its buttons."""

    prompt: Template
    changed: Template
    button_it: Template
    button_en: Template


class ReviewTexts(_Section):
    """The review of a draft in chat and its buttons."""

    header: Template
    version: Template
    changed: Template
    change: Template
    failing: Template
    warnings: Template
    item: Template
    item_detail: Template
    suggestion: Template
    passed: Template
    passed_none: Template
    passed_details: Template
    skipped: Template
    top_fixes: Template
    fix: Template
    no_fixes: Template
    button_details: Template
    button_hide: Template
    button_revise: Template
    button_posted: Template
    ask_text: Template
    rejected_empty: Template
    rejected_too_long: Template
    rejected_too_fast: Template
    revise_prompt: Template
    not_yours: Template
    gone: Template


class ItemTexts(_Section):
    """Short titles of the checklist items (ids from design/checklist.md)."""

    visibility: Template
    clarity: Template
    audience: Template
    point_of_view: Template
    interaction: Template
    personal_voice: Template
    reputation_focus: Template
    relationships_not_likes: Template
    spam_hygiene: Template
    platform_fit: Template
    hook: Template


class SourceTexts(_Section):
    """Where an item's advice comes from, in words (design/checklist.md's ING and VAL)."""

    ing: Template
    val: Template
    both: Template


class StatusTexts(_Section):
    """Markers of an item's status."""

    pass_: str = Field(alias="pass")
    warn: Template
    fail: Template
    skip: Template


class PlatformTexts(_Section):
    """Names of the platforms."""

    linkedin: Template
    x: Template
    instagram: Template
    facebook: Template
    threads: Template


class LanguageNameTexts(_Section):
    """Names of the languages a draft can be in."""

    it: Template
    en: Template


class OnboardingTexts(_Section):
    """The first conversation that fills the profile."""

    intro: Template
    resume: Template
    done: Template


class ProfileTexts(_Section):
    """Profile questions, their errors, /profile and /settings."""

    ask_language: Template
    ask_role: Template
    ask_topics: Template
    topics_understood: Template
    topic_line: Template
    topic_own_words: Template
    ask_audience: Template
    ask_platforms: Template
    ask_main_platform: Template
    ask_goal: Template
    ask_timezone: Template
    ask_nudge_days: Template
    ask_nudge_time: Template
    invalid_empty: Template
    invalid_role_too_long: Template
    invalid_topics_too_many: Template
    invalid_goal_not_number: Template
    invalid_goal_out_of_range: Template
    invalid_time_invalid: Template
    invalid_zone_unknown: Template
    invalid_location_unknown: Template
    invalid_use_buttons: Template
    invalid_stale: Template
    nothing_to_skip: Template
    button_done: Template
    button_skip: Template
    button_chosen: Template
    title: Template
    line: Template
    not_set: Template
    goal_value: Template
    goal_default: Template
    quiet_value: Template
    paused_value: Template
    paused_until_value: Template
    active_value: Template
    nudges_value: Template
    main_value: Template
    field_language: Template
    field_role: Template
    field_topics: Template
    field_audience: Template
    field_platforms: Template
    field_main_platform: Template
    field_goal: Template
    field_timezone: Template
    field_nudge_days: Template
    field_nudge_time: Template
    field_quiet: Template
    field_reminders: Template
    settings_prompt: Template
    settings_saved: Template
    location_hint: Template
    button_location: Template
    zone_set: Template
    zone_kept: Template
    after_draft: Template


class AudienceTexts(_Section):
    """Names of the audiences a user can speak to."""

    clients: Template
    colleagues: Template
    recruiters: Template
    companies: Template
    public_admin: Template
    other: Template


class WeekdayTexts(_Section):
    """Short weekday names, Monday first."""

    mon: Template
    tue: Template
    wed: Template
    thu: Template
    fri: Template
    sat: Template
    sun: Template


class DayTexts(_Section):
    """Weekday names written out, Monday first ("ogni lunedì alle 9:00")."""

    mon: Template
    tue: Template
    wed: Template
    thu: Template
    fri: Template
    sat: Template
    sun: Template


class PostTexts(_Section):
    """Recording a published post and its link."""

    recorded: Template
    recorded_with_score: Template
    already: Template
    ask_platform: Template
    link_saved: Template
    link_skipped: Template


class ResultsTexts(_Section):
    """The question, two days later, about how a post went."""

    ask_reactions: Template
    ask_comments: Template
    ask_contacts: Template
    ask_opportunity: Template
    button_yes: Template
    button_no: Template
    button_skip: Template
    thanks: Template
    skipped: Template
    invalid_not_number: Template
    invalid_too_big: Template
    invalid_not_yes_no: Template
    not_yours: Template
    date_format: Template


class StatsTexts(_Section):
    """/stats and its chart."""

    title: Template
    week_met: Template
    week_short: Template
    streak: Template
    streak_none: Template
    trend_up: Template
    trend_down: Template
    trend_none: Template
    failing_title: Template
    failing_item: Template
    failing_none: Template
    failing_no_drafts: Template
    platforms_title: Template
    platform_line: Template
    platforms_none: Template
    chart_title: Template
    chart_posts: Template
    chart_score: Template
    chart_goal: Template
    caption: Template
    chart_file: Template


class HistoryTexts(_Section):
    """/history: the drafts, paged."""

    title: Template
    entry: Template
    entry_posted: Template
    no_score: Template
    empty: Template
    button_open: Template
    button_newer: Template
    button_older: Template
    not_found: Template
    date_format: Template


class PrivacyTexts(_Section):
    """/privacy, /export and /delete."""

    body: Template
    export_caption: Template
    export_file: Template
    delete_confirm: Template
    button_confirm: Template
    button_cancel: Template
    deleted: Template
    cancelled: Template


class NudgeTexts(_Section):
    """Reminders: the ideas, their tone, their buttons, /pause, /resume and /quiet."""

    intro_welcome: Template
    intro_light: Template
    intro_encourage: Template
    intro_steady: Template
    late_note: Template
    idea_show_result: Template
    idea_explain_simply: Template
    idea_opinion_news: Template
    idea_team_member: Template
    idea_ask_audience: Template
    idea_comment_three: Template
    idea_update_profile: Template
    idea_review_results: Template
    idea_show_result_any: Template
    idea_explain_simply_any: Template
    idea_opinion_news_any: Template
    idea_ask_audience_any: Template
    audience_fallback: Template
    button_write: Template
    button_snooze_1h: Template
    button_snooze_3h: Template
    button_snooze_tomorrow: Template
    button_skip: Template
    button_pause: Template
    write_prompt: Template
    snoozed: Template
    skipped: Template
    paused: Template
    paused_until: Template
    resumed: Template
    nothing_scheduled: Template
    pause_usage: Template
    pause_not_a_date: Template
    pause_no_such_day: Template
    pause_in_the_past: Template
    pause_too_far: Template
    quiet_usage: Template
    quiet_not_a_range: Template
    quiet_not_a_time: Template
    quiet_same_time: Template
    quiet_set: Template
    when_format: Template
    time_format: Template
    date_format: Template


class WeeklyTexts(_Section):
    """The Monday review of the week before."""

    title: Template
    met: Template
    missed: Template
    caption: Template
    chart_file: Template


class GroupTexts(_Section):
    """Groups and channels: joining, settings, challenges, verdicts, leaderboard, recap."""

    intro: Template
    not_admin: Template
    settings_title: Template
    settings_body: Template
    mode_short: Template
    mode_full: Template
    challenge_on: Template
    challenge_off: Template
    no_theme: Template
    button_mode_short: Template
    button_mode_full: Template
    button_challenge_on: Template
    button_challenge_off: Template
    button_chosen: Template
    theme_set: Template
    theme_cleared: Template
    theme_too_long: Template
    group_only: Template
    challenge: Template
    challenge_theme: Template
    verdict: Template
    verdict_clean: Template
    author_nobody: Template
    credited_to_nobody_bot: Template
    credited_to_nobody_channel: Template
    credited_to_nobody_forwarded: Template
    button_full_review: Template
    deep_link_not_yours: Template
    deep_link_gone: Template
    leaderboard_title: Template
    leaderboard_row: Template
    leaderboard_row_no_revisions: Template
    leaderboard_asked: Template
    leaderboard_empty: Template
    opted_out: Template
    opted_in: Template
    recap: Template
    recap_missing: Template
    recap_best: Template
    recap_empty: Template
    channels_none: Template
    channels_title: Template
    channel_added: Template
    channel_not_admin: Template
    tip_time: Template
    channel_on: Template
    channel_off: Template
    channel_saved: Template


class TipTexts(_Section):
    """The weekly tips posted in channels, in rotation."""

    title: Template
    tip_0: Template
    tip_1: Template
    tip_2: Template
    tip_3: Template
    tip_4: Template
    tip_5: Template
    tip_6: Template
    tip_7: Template


class FallbackTexts(_Section):
    """Replies to messages the bot does not handle."""

    unknown_command: Template
    unsupported: Template


class ErrorTexts(_Section):
    """What the user and the operator see when something breaks."""

    generic: Template
    admin_report: Template
    stale_button: Template


class CliTexts(_Section):
    """Messages of the `postcoach` command line (plain text, no HTML)."""

    no_token: Template
    token_rejected: Template
    review_file: Template
    review_header: Template
    review_item: Template
    review_suggestion: Template
    review_top_fixes: Template
    empty_file: Template
    binary_file: Template
    too_long_file: Template
    unreadable_file: Template
    missing_file: Template
    directory_file: Template
    denied_file: Template
    health_ok_webhook: Template
    health_ok_polling: Template
    health_unreachable: Template
    health_failing: Template
    health_no_heartbeat: Template
    health_never_beat: Template
    health_stale: Template


class RewriteTexts(_Section):
    """Rewrites by a language model (only when the operator configured one)."""

    button: Template
    working: Template
    title: Template
    scores: Template
    lower: Template
    facts: Template
    facts_none: Template
    body: Template
    still_failing: Template
    truncated: Template
    footer: Template
    error_timeout: Template
    error_server: Template
    error_malformed: Template
    limit: Template
    help_note: Template
    privacy_note: Template


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
    sources: SourceTexts
    statuses: StatusTexts
    platforms: PlatformTexts
    languages: LanguageNameTexts
    onboarding: OnboardingTexts
    profile: ProfileTexts
    audiences: AudienceTexts
    weekdays: WeekdayTexts
    days: DayTexts
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
