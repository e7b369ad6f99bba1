"""/privacy, /export and /delete: what is kept, a copy of it, and erasing it."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.context import CoachContext
from bot.transport.replies import require_callback, require_message, require_user

DELETE_PATTERN = r"^privacy\.delete:(yes|no)$"


async def show_privacy(update: Update, context: CoachContext) -> None:
    """What postcoach stores and why."""
    text = context.render("privacy.body")
    if context.services.rewrites is not None:
        text += "\n\n" + context.render("rewrite.privacy_note")
    await require_message(update).reply_text(text)


async def export_data(update: Update, context: CoachContext) -> None:
    """Send everything stored about the user as a JSON file."""
    user_id = require_user(update).id
    data = await context.services.privacy.export(user_id)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await require_message(update).reply_document(
        InputFile(
            payload,
            filename=context.texts.plain(context.lang, "privacy.export_file", user_id=user_id),
        ),
        caption=context.render("privacy.export_caption"),
    )


async def ask_delete(update: Update, context: CoachContext) -> None:
    """Ask for confirmation before erasing anything."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.texts.raw(context.lang, "privacy.button_confirm"),
                    callback_data="privacy.delete:yes",
                ),
                InlineKeyboardButton(
                    context.texts.raw(context.lang, "privacy.button_cancel"),
                    callback_data="privacy.delete:no",
                ),
            ]
        ]
    )
    await require_message(update).reply_text(
        context.render("privacy.delete_confirm"), reply_markup=keyboard
    )


async def confirm_delete(update: Update, context: CoachContext) -> None:
    """Erase every row about the user who pressed, or leave everything as it is."""
    query = require_callback(update)
    await query.answer()
    if context.match is None or context.match.group(1) != "yes":
        await query.edit_message_text(context.render("privacy.cancelled"))
        return
    # The texts are chosen before the language setting disappears with the data.
    goodbye = context.render("privacy.deleted")
    await context.services.privacy.delete(query.from_user.id)
    await query.edit_message_text(goodbye)
