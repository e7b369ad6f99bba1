"""/language: switch between Italian and English with buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.settings import LANGUAGES, Language
from bot.transport.replies import require_callback, require_message

CALLBACK_PATTERN = r"^language\.set:(it|en)$"


def language_keyboard(context: CoachContext) -> InlineKeyboardMarkup:
    """One button per supported language."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.render(f"language.button_{lang}"), callback_data=f"language.set:{lang}"
                )
                for lang in LANGUAGES
            ]
        ]
    )


async def choose_language(update: Update, context: CoachContext) -> None:
    """Ask which language the user wants."""
    await require_message(update).reply_text(
        context.render("language.prompt"), reply_markup=language_keyboard(context)
    )


async def set_language(update: Update, context: CoachContext) -> None:
    """Store the chosen language and confirm in it."""
    query = require_callback(update)
    match = context.match
    chosen: Language = "en" if match and match.group(1) == "en" else "it"
    account = await context.services.accounts.set_language(query.from_user.id, chosen)
    context.account = account or context.account
    await query.answer()
    await query.edit_message_text(context.texts.render(chosen, "language.changed"))
