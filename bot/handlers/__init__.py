"""Handler registration: every handler, in one ordered list. Order matters!"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.handlers import accounts, errors, fallback, language, review, start

# Group -1 runs before everything else for every update: it loads the sender's
# account so that later handlers answer in the right language.
ACCOUNT_GROUP = -1
# Group 0 holds the handlers that answer; the first match wins.
MAIN_GROUP = 0


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to the application, in order."""
    application.add_handler(TypeHandler(Update, accounts.load_account), group=ACCOUNT_GROUP)
    handlers = [
        CommandHandler("start", start.start),
        CommandHandler("help", start.show_help),
        CommandHandler("language", language.choose_language),
        CommandHandler("review", review.review_command),
        CallbackQueryHandler(language.set_language, pattern=language.CALLBACK_PATTERN),
        CallbackQueryHandler(review.recheck_platform, pattern=review.PLATFORM_PATTERN),
        CallbackQueryHandler(review.toggle_details, pattern=review.DETAILS_PATTERN),
        CallbackQueryHandler(review.start_revision, pattern=review.REVISE_PATTERN),
        CallbackQueryHandler(review.record_post, pattern=review.POSTED_PATTERN),
        # After every command: in a private chat, plain text is a draft.
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.TEXT
            & ~filters.COMMAND,
            review.review_text,
        ),
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.PHOTO
            & filters.CAPTION,
            review.review_caption,
        ),
        # Last: buttons nobody recognised, and private messages nobody handled.
        CallbackQueryHandler(fallback.answer_stale_button),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE, fallback.reply_unsupported
        ),
    ]
    application.add_handlers(handlers, group=MAIN_GROUP)
    application.add_error_handler(errors.report_error)
