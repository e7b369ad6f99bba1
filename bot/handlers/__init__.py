"""Handler registration: every handler, in one ordered list. Order matters!"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.handlers import (
    accounts,
    dialogue,
    errors,
    fallback,
    groups,
    history,
    language,
    nudges,
    posts,
    privacy,
    profile,
    review,
    rewrite,
    start,
    stats,
)

# Group -1 runs before everything else for every update: it loads the sender's
# account so that later handlers answer in the right language.
ACCOUNT_GROUP = -1
# Group 0 holds the handlers that answer; the first match wins.
MAIN_GROUP = 0
MEMBERSHIP_GROUP = 1
GROUP_MEMBERSHIP_GROUP = 2


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to the application, in order."""
    application.add_handler(TypeHandler(Update, accounts.load_account), group=ACCOUNT_GROUP)
    # Its own group: a block or unblock must be seen whatever else handles the update.
    application.add_handler(
        ChatMemberHandler(nudges.track_private_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        group=MEMBERSHIP_GROUP,
    )
    application.add_handler(
        ChatMemberHandler(groups.track_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        group=GROUP_MEMBERSHIP_GROUP,
    )
    handlers = [
        CommandHandler("start", start.start),
        CommandHandler("help", start.show_help),
        CommandHandler("language", language.choose_language),
        CommandHandler("review", review.review_command),
        CommandHandler("profile", profile.show_profile, filters.ChatType.PRIVATE),
        CommandHandler("settings", profile.show_settings, filters.ChatType.PRIVATE),
        CommandHandler("skip", dialogue.skip, filters.ChatType.PRIVATE),
        CommandHandler("cancel", dialogue.cancel, filters.ChatType.PRIVATE),
        CommandHandler("posted", posts.posted_command, filters.ChatType.PRIVATE),
        CommandHandler("stats", stats.show_stats, filters.ChatType.PRIVATE),
        CommandHandler("history", history.show_history, filters.ChatType.PRIVATE),
        CommandHandler("privacy", privacy.show_privacy, filters.ChatType.PRIVATE),
        CommandHandler("export", privacy.export_data, filters.ChatType.PRIVATE),
        CommandHandler("delete", privacy.ask_delete, filters.ChatType.PRIVATE),
        CommandHandler("pause", nudges.pause_command, filters.ChatType.PRIVATE),
        CommandHandler("resume", nudges.resume_command, filters.ChatType.PRIVATE),
        CommandHandler("quiet", nudges.quiet_command, filters.ChatType.PRIVATE),
        CommandHandler("groupsettings", groups.group_settings),
        CommandHandler("theme", groups.set_theme),
        CommandHandler("leaderboard", groups.leaderboard),
        CommandHandler("optout", groups.opt_out),
        CommandHandler("optin", groups.opt_in),
        CommandHandler("channels", groups.show_channels, filters.ChatType.PRIVATE),
        CallbackQueryHandler(groups.change_setting, pattern=groups.SET_PATTERN),
        CallbackQueryHandler(groups.toggle_tip, pattern=groups.CHANNEL_PATTERN),
        # In a group (privacy mode on) we only see replies to our messages: a reply to a
        # challenge is an entry.
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.GROUPS
            & filters.REPLY
            & filters.TEXT
            & ~filters.COMMAND,
            groups.answer_challenge,
        ),
        CallbackQueryHandler(nudges.write_now, pattern=nudges.WRITE_PATTERN),
        CallbackQueryHandler(nudges.snooze, pattern=nudges.SNOOZE_PATTERN),
        CallbackQueryHandler(nudges.skip, pattern=nudges.SKIP_PATTERN),
        CallbackQueryHandler(nudges.pause_button, pattern=nudges.PAUSE_PATTERN),
        CallbackQueryHandler(history.turn_page, pattern=history.PAGE_PATTERN),
        CallbackQueryHandler(history.open_draft, pattern=history.OPEN_PATTERN),
        CallbackQueryHandler(privacy.confirm_delete, pattern=privacy.DELETE_PATTERN),
        CallbackQueryHandler(profile.choose, pattern=profile.SET_PATTERN),
        CallbackQueryHandler(profile.toggle, pattern=profile.TOGGLE_PATTERN),
        CallbackQueryHandler(profile.finish_choices, pattern=profile.DONE_PATTERN),
        CallbackQueryHandler(profile.skip_button, pattern=profile.SKIP_PATTERN),
        CallbackQueryHandler(profile.edit_field, pattern=profile.EDIT_PATTERN),
        CallbackQueryHandler(language.set_language, pattern=language.CALLBACK_PATTERN),
        CallbackQueryHandler(review.recheck_platform, pattern=review.PLATFORM_PATTERN),
        CallbackQueryHandler(review.toggle_details, pattern=review.DETAILS_PATTERN),
        CallbackQueryHandler(review.start_revision, pattern=review.REVISE_PATTERN),
        CallbackQueryHandler(rewrite.suggest_rewrite, pattern=rewrite.REWRITE_PATTERN),
        CallbackQueryHandler(posts.record_from_review, pattern=posts.FROM_REVIEW_PATTERN),
        CallbackQueryHandler(posts.posted_platform, pattern=posts.PLATFORM_PATTERN),
        CallbackQueryHandler(posts.answer_result_button, pattern=posts.RESULT_PATTERN),
        # After every command: in a private chat, plain text answers the open
        # question, or else it is a draft.
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.TEXT
            & ~filters.COMMAND,
            dialogue.route_text,
        ),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.LOCATION,
            dialogue.route_location,
        ),
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.PHOTO
            & filters.CAPTION,
            review.review_caption,
        ),
        # Last: buttons nobody recognised, commands nobody knows (in private: in a group
        # they may be another bot's), and private messages nobody handled.
        CallbackQueryHandler(fallback.answer_stale_button),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.COMMAND,
            fallback.reply_unknown_command,
        ),
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE, fallback.reply_unsupported
        ),
    ]
    application.add_handlers(handlers, group=MAIN_GROUP)
    application.add_error_handler(errors.report_error)
