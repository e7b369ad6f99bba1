"""Groups and channels in chat: joining, /groupsettings for admins, challenges and the
verdicts in the thread, /leaderboard, /optout, and channel tips."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from telegram import (
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.coach import Review
from bot.context import CoachContext
from bot.groups.service import (
    CHANNEL,
    MAX_THEME_CHARS,
    REVIEW_MODES,
    TIME_CHOICES,
    TIP_DAY,
    TIP_TIME,
    GroupView,
    LeaderboardRow,
)
from bot.handlers.accounts import person_of
from bot.handlers.profile import WEEKDAY_KEYS
from bot.localtime.zones import COMMON_ZONES, zone_city
from bot.profiles.service import DEFAULT_ZONE
from bot.reviews.service import DraftRejectedError
from bot.reviews.view import render_review, reply_rejection, review_keyboard
from bot.settings import LANGUAGES
from bot.texts.catalog import Texts
from bot.transport import metrics
from bot.transport.replies import edit_in_place, require_callback, require_message, require_user

SET_PATTERN = r"^group\.set:(language|mode|challenge|day|time|zone):([\w/:\-]{1,40})$"
CHANNEL_PATTERN = r"^channel\.tip:(-\d{1,16}):(on|off)$"
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
PRESENT = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
MAX_CHANNELS_CHECKED = 20


def is_group(chat: Chat | None) -> bool:
    """Whether the chat is a group or a supergroup."""
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def is_admin(
    context: CoachContext, chat_id: int, user: User | None, message: Message | None
) -> bool:
    """Whether the sender administers the chat: asked to Telegram every time.

    A message an anonymous admin sends on behalf of the group carries the group
    itself as sender_chat; that counts as an admin.
    """
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat_id
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user.id)
    except TelegramError:
        return False
    return member.status in ADMIN_STATUSES


async def _group(context: CoachContext, chat: Chat) -> GroupView:
    groups = context.services.groups
    group = await groups.get(chat.id)
    if group is None:
        # Added before we were listening: adopt the group with defaults.
        await groups.joined(chat.id, chat.type, chat.title or "", context.lang)
        group = await groups.get(chat.id)
    assert group is not None
    return group


# ------------------------------------------------------------------- joining and leaving


async def track_membership(update: Update, context: CoachContext) -> None:
    """The bot was added to or removed from a group or channel."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    chat = change.chat
    groups = context.services.groups
    status = change.new_chat_member.status
    if chat.type == ChatType.CHANNEL:
        if status != ChatMemberStatus.ADMINISTRATOR:
            await groups.left(chat.id)
            return
        if await groups.joined(chat.id, CHANNEL, chat.title or "", context.lang):
            await _tell_channel_admin(context, change)
        return
    if status not in PRESENT:
        await groups.left(chat.id)
        return
    if change.old_chat_member.status in PRESENT:
        return  # promoted or demoted: still here
    fresh = await groups.joined(chat.id, chat.type, chat.title or "", context.lang)
    if fresh:
        group = await _group(context, chat)
        try:
            await context.bot.send_message(
                chat.id, context.texts.render(group.language, "groups.intro")
            )
        except Forbidden:
            await groups.left(chat.id)


async def _tell_channel_admin(context: CoachContext, change: ChatMemberUpdated) -> None:
    """One line, in private, to whoever made the bot a channel's admin: where the tip is."""
    admin = change.from_user
    if admin.is_bot:
        return
    lang = context.texts.language_of(context.lang, admin.language_code)
    text = context.texts.render(
        lang, "groups.channel_added", title=change.chat.title or "", when=tip_time(context, lang)
    )
    # Only someone who has started the bot can be written to; anyone else finds /channels.
    with contextlib.suppress(Forbidden, BadRequest):
        await context.bot.send_message(admin.id, text)


def tip_time(context: CoachContext, lang: str, zone: str = DEFAULT_ZONE) -> str:
    """When channel tips go out, with the zone: "martedì alle 10:00 (ora di Roma)"."""
    texts = context.texts
    return texts.plain(
        lang,
        "groups.tip_time",
        day=texts.raw(lang, f"days.{WEEKDAY_KEYS[TIP_DAY]}"),
        time=TIP_TIME.strftime(texts.raw(lang, "nudges.time_format")),
        zone=zone_city(zone, lang),
    )


# ------------------------------------------------------------------- settings


def _settings_text(texts: Texts, group: GroupView) -> str:
    lang = group.language
    day = texts.raw(lang, f"days.{WEEKDAY_KEYS[group.challenge_day]}")
    challenge = (
        texts.plain(lang, "groups.challenge_on", day=day, time=group.challenge_time)
        if group.challenge_enabled
        else texts.raw(lang, "groups.challenge_off")
    )
    return "\n".join(
        [
            texts.render(lang, "groups.settings_title", title=group.title),
            texts.render(
                lang,
                "groups.settings_body",
                language=texts.raw(lang, f"language.button_{lang}"),
                mode=texts.raw(lang, f"groups.mode_{group.review_mode}"),
                challenge=challenge,
                zone=group.timezone,
                theme=group.challenge_theme or texts.raw(lang, "groups.no_theme"),
            ),
        ]
    )


def _settings_keyboard(texts: Texts, group: GroupView) -> InlineKeyboardMarkup:
    lang = group.language

    def button(label: str, field: str, value: str, chosen: bool = False) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            texts.plain(lang, "groups.button_chosen", label=label) if chosen else label,
            callback_data=f"group.set:{field}:{value}",
        )

    rows = [
        [
            button(texts.raw(lang, f"language.button_{code}"), "language", code, code == lang)
            for code in LANGUAGES
        ],
        [
            button(
                texts.raw(lang, f"groups.button_mode_{mode}"),
                "mode",
                mode,
                mode == group.review_mode,
            )
            for mode in REVIEW_MODES
        ],
        [
            button(
                texts.raw(
                    lang,
                    "groups.button_challenge_off"
                    if group.challenge_enabled
                    else "groups.button_challenge_on",
                ),
                "challenge",
                "off" if group.challenge_enabled else "on",
            )
        ],
        [
            button(
                texts.raw(lang, f"weekdays.{key}"), "day", str(index), index == group.challenge_day
            )
            for index, key in enumerate(WEEKDAY_KEYS)
        ],
        [button(value, "time", value, value == group.challenge_time) for value in TIME_CHOICES],
        [
            button(zone_city(zone, group.language), "zone", zone, zone == group.timezone)
            for zone in COMMON_ZONES[:4]
        ],
    ]
    return InlineKeyboardMarkup(rows)


async def _admin_command(
    update: Update, context: CoachContext
) -> tuple[Message, GroupView] | None:
    """The message and its group when an admin sent it in a group; else say why not."""
    message = require_message(update)
    if not is_group(message.chat):
        await message.reply_text(context.render("groups.group_only"))
        return None
    group = await _group(context, message.chat)
    if not await is_admin(context, message.chat_id, update.effective_user, message):
        await message.reply_text(context.texts.render(group.language, "groups.not_admin"))
        return None
    return message, group


async def group_settings(update: Update, context: CoachContext) -> None:
    """/groupsettings: admins see and change the group's settings; others are told why not."""
    allowed = await _admin_command(update, context)
    if allowed is None:
        return
    message, group = allowed
    await message.reply_text(
        _settings_text(context.texts, group), reply_markup=_settings_keyboard(context.texts, group)
    )


async def change_setting(update: Update, context: CoachContext) -> None:
    """A settings button: checked against the presser's admin rights every time."""
    query = require_callback(update)
    message = query.message
    if message is None or not is_group(message.chat) or context.match is None:
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    chat_id = message.chat.id
    if not await is_admin(context, chat_id, query.from_user, None):
        current = await _group(context, message.chat)
        await query.answer(
            context.texts.render(current.language, "groups.not_admin"), show_alert=True
        )
        return
    group = await context.services.groups.change(chat_id, context.match[1], context.match[2])
    if group is None:
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    await query.answer()
    await edit_in_place(
        query, _settings_text(context.texts, group), _settings_keyboard(context.texts, group)
    )


async def set_theme(update: Update, context: CoachContext) -> None:
    """/theme TEXT: the admins' theme for the weekly challenge (empty clears it)."""
    allowed = await _admin_command(update, context)
    if allowed is None:
        return
    message, group = allowed
    theme = " ".join(context.args or [])
    if len(theme) > MAX_THEME_CHARS:
        await message.reply_text(
            context.texts.render(
                group.language, "groups.theme_too_long", length=len(theme), max=MAX_THEME_CHARS
            )
        )
        return
    changed = await context.services.groups.change(message.chat_id, "theme", theme)
    if changed is None:
        return
    if changed.challenge_theme:
        await message.reply_text(
            context.texts.render(group.language, "groups.theme_set", theme=changed.challenge_theme)
        )
    else:
        await message.reply_text(context.texts.render(group.language, "groups.theme_cleared"))


# ------------------------------------------------------------------- reviews in the thread


def _verdict(texts: Texts, lang: str, name: str, review: Review) -> str:
    if not review.top_fixes:
        return texts.render(lang, "groups.verdict_clean", name=name, score=review.score)
    first = review.top_fixes[0]
    suggestion = next((i.suggestion for i in review.items if i.id == first), "")
    return texts.render(
        lang,
        "groups.verdict",
        name=name,
        score=review.score,
        item=texts.raw(lang, f"items.{first}"),
        suggestion=suggestion,
    )


@dataclass(frozen=True)
class Credit:
    """Whose draft a group review is: a member's, or nobody's and why."""

    author: User | None
    nobody: str | None = None  # "bot", "channel" or "forwarded" when there is no author


def credit_of(replied: Message) -> Credit:
    """The author of a message someone replied /review to: a member, or nobody for a
    bot's, a channel's (or an anonymous admin's) and a forwarded message."""
    if replied.forward_origin is not None:
        return Credit(None, "forwarded")
    if replied.sender_chat is not None or replied.from_user is None:
        return Credit(None, "channel")
    if replied.from_user.is_bot:
        return Credit(None, "bot")
    return Credit(replied.from_user)


async def review_in_group(
    update: Update, context: CoachContext, text: str, credit: Credit | None = None
) -> None:
    """Review a draft in the thread: a short verdict naming its author (or the full
    review). The draft counts for its author; who asked is counted apart."""
    message = require_message(update)
    asker = require_user(update)
    credit = credit or Credit(asker)
    group = await _group(context, message.chat)
    lang = group.language
    if credit.author is None:
        await _review_for_nobody(message, context, lang, text, credit.nobody or "channel")
        return
    author = credit.author
    for_someone_else = author.id != asker.id
    if for_someone_else:
        await context.services.accounts.ensure(person_of(author))
    try:
        stored = await context.services.reviews.review_draft(
            author.id,
            message.chat_id,
            text,
            reply_language=lang,
            # The author may be revising something else in private: not this.
            revision_pending=not for_someone_else,
        )
    except DraftRejectedError as rejected:
        await reply_rejection(message, context.texts, lang, rejected)
        return
    metrics.count_review()
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    challenge_id = await context.services.groups.challenge_for(message.chat_id, reply_to)
    await context.services.groups.record_submission(
        message.chat_id,
        author.id,
        author.full_name,
        stored.review_id,
        stored.review.score,
        challenge_id,
        requested_by=(asker.id, asker.full_name) if for_someone_else else None,
    )
    if group.review_mode == "full" and not for_someone_else:
        await message.reply_text(
            render_review(context.texts, lang, stored),
            reply_markup=review_keyboard(context.texts, lang, stored, private=False),
        )
        return
    # The full review goes through a deep link: we never write first to someone in private.
    link = f"https://t.me/{context.bot.username}?start=r{stored.review_id}"
    await message.reply_text(
        _verdict(context.texts, lang, author.full_name, stored.review),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.texts.raw(lang, "groups.button_full_review"), url=link
                    )
                ]
            ]
        ),
    )


async def _review_for_nobody(
    message: Message, context: CoachContext, lang: str, text: str, why: str
) -> None:
    """A verdict on a bot's, a channel's or a forwarded message: nothing stored, no one
    credited, and the thread is told so."""
    try:
        review = context.services.reviews.preview(text, reply_language=lang)
    except DraftRejectedError as rejected:
        await reply_rejection(message, context.texts, lang, rejected)
        return
    metrics.count_review()
    name = context.texts.raw(lang, "groups.author_nobody")
    await message.reply_text(
        _verdict(context.texts, lang, name, review)
        + "\n"
        + context.texts.render(lang, f"groups.credited_to_nobody_{why}")
    )


async def answer_challenge(update: Update, context: CoachContext) -> None:
    """A reply to one of our challenge messages is an entry: review it."""
    message = require_message(update)
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    if not await context.services.groups.is_challenge_message(message.chat_id, replied.message_id):
        return
    await review_in_group(update, context, message.text or "")


async def open_full_review(
    context: CoachContext, chat_id: int, user_id: int, review_id: int
) -> None:
    """The deep link from a group verdict, opened in private: the full review, if it is theirs."""
    stored = await context.services.reviews.reopen(review_id, user_id, reply_language=context.lang)
    if stored is None:
        reason = await context.services.reviews.why_refused(review_id, user_id)
        await context.bot.send_message(chat_id, context.render(f"groups.deep_link_{reason}"))
        return
    await context.bot.send_message(
        chat_id,
        render_review(context.texts, context.lang, stored),
        reply_markup=review_keyboard(
            context.texts, context.lang, stored, rewrite=context.services.rewrites is not None
        ),
    )


# ------------------------------------------------------------------- leaderboard


async def leaderboard(update: Update, context: CoachContext) -> None:
    """/leaderboard: this month's submissions and improvement per member."""
    message = require_message(update)
    if not is_group(message.chat):
        await message.reply_text(context.render("groups.group_only"))
        return
    group = await _group(context, message.chat)
    lang = group.language
    rows = await context.services.groups.leaderboard(message.chat_id)
    if not rows:
        await message.reply_text(context.texts.render(lang, "groups.leaderboard_empty"))
        return
    lines = [context.texts.render(lang, "groups.leaderboard_title")]
    lines += [
        _leaderboard_line(context.texts, lang, rank, row)
        for rank, row in enumerate(rows[:20], start=1)
    ]
    await message.reply_text("\n".join(lines))


def _leaderboard_line(texts: Texts, lang: str, rank: int, row: LeaderboardRow) -> str:
    """A member's month: drafts, improvement across revisions, reviews asked for others."""
    if row.improvement is None:
        line = texts.render(
            lang,
            "groups.leaderboard_row_no_revisions",
            rank=rank,
            name=row.name,
            count=row.submissions,
        )
    else:
        line = texts.render(
            lang,
            "groups.leaderboard_row",
            rank=rank,
            name=row.name,
            count=row.submissions,
            delta=f"{row.improvement:+d}",
        )
    if row.asked_for_others:
        line += texts.render(lang, "groups.leaderboard_asked", count=row.asked_for_others)
    return line


async def _opt(update: Update, context: CoachContext, opted_out: bool) -> None:
    message = require_message(update)
    user = require_user(update)
    if not is_group(message.chat):
        await message.reply_text(context.render("groups.group_only"))
        return
    group = await _group(context, message.chat)
    await context.services.groups.set_opted_out(
        message.chat_id, user.id, user.full_name, opted_out
    )
    text_id = "groups.opted_out" if opted_out else "groups.opted_in"
    await message.reply_text(context.texts.render(group.language, text_id, name=user.full_name))


async def opt_out(update: Update, context: CoachContext) -> None:
    """/optout: leave this group's leaderboard."""
    await _opt(update, context, True)


async def opt_in(update: Update, context: CoachContext) -> None:
    """/optin: come back to this group's leaderboard."""
    await _opt(update, context, False)


# ------------------------------------------------------------------- channels


async def _administered_channels(context: CoachContext, user_id: int) -> list[GroupView]:
    channels = await context.services.groups.channels()
    mine = []
    for channel in channels[:MAX_CHANNELS_CHECKED]:
        if await is_admin(context, channel.chat_id, User(user_id, "", False), None):
            mine.append(channel)
    return mine


def _channels_keyboard(texts: Texts, lang: str, channels: list[GroupView]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.plain(
                        lang,
                        "groups.channel_on" if channel.tip_enabled else "groups.channel_off",
                        title=channel.title,
                    ),
                    callback_data=(
                        f"channel.tip:{channel.chat_id}:{'off' if channel.tip_enabled else 'on'}"
                    ),
                )
            ]
            for channel in channels
        ]
    )


async def show_channels(update: Update, context: CoachContext) -> None:
    """/channels (private): the channels the user administers, with the weekly tip switch."""
    message = require_message(update)
    channels = await _administered_channels(context, require_user(update).id)
    if not channels:
        await message.reply_text(context.render("groups.channels_none"))
        return
    await message.reply_text(
        context.render(
            "groups.channels_title", when=tip_time(context, context.lang, channels[0].timezone)
        ),
        reply_markup=_channels_keyboard(context.texts, context.lang, channels),
    )


async def toggle_tip(update: Update, context: CoachContext) -> None:
    """Switch a channel's weekly tip; the presser must administer the channel right now."""
    query = require_callback(update)
    assert context.match is not None
    chat_id = int(context.match[1])
    groups = context.services.groups
    channel = await groups.get(chat_id)
    # A group's id in a channel button is stale (or forged): nothing changes on it.
    if channel is None or channel.type != CHANNEL or not channel.is_active:
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    if not await is_admin(context, chat_id, query.from_user, None):
        await query.answer(context.render("groups.channel_not_admin"), show_alert=True)
        return
    if await groups.change(chat_id, "tip", context.match[2]) is None:
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    await query.answer(context.render("groups.channel_saved"))
    channels = await _administered_channels(context, query.from_user.id)
    await query.edit_message_reply_markup(
        _channels_keyboard(context.texts, context.lang, channels)
    )
