"""Small helpers for reading updates and sending replies within Telegram's limits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest

from bot.transport.sending import unread_answers

MESSAGE_LIMIT = 4096


class MissingPartError(Exception):
    """The update lacks a part the handler's filters promised."""


def require_message(update: Update) -> Message:
    """The message of an update whose filters guarantee one."""
    if update.effective_message is None:
        raise MissingPartError("update has no message")
    return update.effective_message


def require_user(update: Update) -> User:
    """The user of an update whose filters guarantee one."""
    if update.effective_user is None:
        raise MissingPartError("update has no user")
    return update.effective_user


def require_callback(update: Update) -> CallbackQuery:
    """The callback query of a callback update."""
    if update.callback_query is None:
        raise MissingPartError("update has no callback query")
    return update.callback_query


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into parts of at most `limit` characters, at line breaks when possible.

    Texts keep every HTML tag within one line, so a cut at a line break never
    splits a tag pair; a single over-long line is cut at a space.
    """
    parts: list[str] = []
    current = ""
    for line in _lines_within(text, limit):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current)
        current = line
    if current.strip():
        parts.append(current)
    return parts or [text[:limit]]


def _lines_within(text: str, limit: int) -> Iterator[str]:
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            # Never cut inside an HTML entity such as &amp;.
            amp = line.rfind("&", max(0, cut - 8), cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp or cut
            yield line[:cut]
            line = line[cut:].lstrip(" ")
        yield line


async def reply_in_parts(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Reply with text split to Telegram's limit; buttons go on the last part.

    Telegram's answers are not read, so PTB does not build them (bot/transport/sending.py).
    """
    parts = split_message(text)
    with unread_answers():
        for index, part in enumerate(parts):
            markup = reply_markup if index == len(parts) - 1 else None
            await message.reply_text(part, reply_markup=markup)


async def close_keyboard(message: MaybeInaccessibleMessage | None) -> None:
    """Remove the buttons under an answered question so they cannot be pressed again."""
    if isinstance(message, Message):
        # Already gone (deleted, or pressed twice): nothing left to close.
        with contextlib.suppress(BadRequest):
            await message.edit_reply_markup(None)


async def edit_in_place(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons; a double tap changes nothing."""
    try:
        await query.edit_message_text(text, reply_markup=reply_markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise
