"""/stats: progress against the goal, the streak, the score trend, results, and a chart."""

from __future__ import annotations

from telegram import InputFile, Update

from bot.context import CoachContext
from bot.stats.view import draw_chart, render_stats
from bot.transport.replies import reply_in_parts, require_message, require_user


async def show_stats(update: Update, context: CoachContext) -> None:
    """Send the numbers as text and the last 12 weeks as a picture."""
    message = require_message(update)
    services = context.services
    profile = await services.profiles.view(require_user(update).id)
    stats = await services.stats.stats(
        require_user(update).id, now=services.clock(), zone=profile.zone, goal=profile.goal
    )
    await reply_in_parts(message, render_stats(context.texts, context.lang, stats))
    if not stats.has_chart:
        return  # an empty chart says nothing the text did not
    png = await draw_chart(context, message.chat_id, context.lang, stats)
    await message.reply_photo(
        InputFile(png, filename=context.texts.plain(context.lang, "stats.chart_file")),
        caption=context.render("stats.caption"),
    )
