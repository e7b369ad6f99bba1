"""How the statistics look: the text of /stats (and of the Monday review) and its chart."""

from __future__ import annotations

import asyncio
import contextlib

from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.context import CoachContext
from bot.stats.chart import ChartLabels, WeekPoint, progress_chart
from bot.stats.service import Stats
from bot.texts.catalog import Texts


def render_stats(texts: Texts, lang: str, stats: Stats) -> str:
    """The text of /stats."""
    lines = [texts.render(lang, "stats.title")]
    week_id = "stats.week_met" if stats.goal_met else "stats.week_short"
    lines.append(texts.render(lang, week_id, posts=stats.week_posts, goal=stats.goal))
    if stats.streak:
        lines.append(texts.render(lang, "stats.streak", weeks=stats.streak))
    else:
        lines.append(texts.render(lang, "stats.streak_none"))
    if stats.trend is None:
        lines.append(texts.render(lang, "stats.trend_none"))
    else:
        trend_id = "stats.trend_up" if stats.trend.delta >= 0 else "stats.trend_down"
        lines.append(
            texts.render(
                lang,
                trend_id,
                recent=round(stats.trend.recent),
                previous=round(stats.trend.previous),
            )
        )
    lines += ["", texts.render(lang, "stats.failing_title")]
    if stats.failing_items:
        lines += [
            texts.render(
                lang,
                "stats.failing_item",
                item=texts.raw(lang, f"items.{item.item_id}"),
                count=item.failures,
            )
            for item in stats.failing_items
        ]
    elif stats.reviewed:
        lines.append(texts.render(lang, "stats.failing_none"))
    else:
        lines.append(texts.render(lang, "stats.failing_no_drafts"))
    lines += ["", texts.render(lang, "stats.platforms_title")]
    if stats.platforms:
        lines += [
            texts.render(
                lang,
                "stats.platform_line",
                platform=texts.raw(lang, f"platforms.{p.platform}"),
                posts=p.posts,
                answered=p.answered,
                reactions=p.reactions,
                comments=p.comments,
                contacts=p.contacts,
                opportunities=p.opportunities,
            )
            for p in stats.platforms
        ]
    else:
        lines.append(texts.render(lang, "stats.platforms_none"))
    return "\n".join(lines)


async def draw_chart(context: CoachContext, chat_id: int, lang: str, stats: Stats) -> bytes:
    """The chart, drawn off the event loop (a few hundred milliseconds) while the chat
    shows "sending a photo…"."""
    # Only a nicety: the chart does not depend on it (the photo itself reports any trouble).
    with contextlib.suppress(TelegramError):
        await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    return await asyncio.to_thread(chart_png, context.texts, lang, stats)


def chart_png(texts: Texts, lang: str, stats: Stats) -> bytes:
    """The chart of the last 12 weeks."""
    labels = ChartLabels(
        title=texts.raw(lang, "stats.chart_title"),
        posts=texts.raw(lang, "stats.chart_posts"),
        score=texts.raw(lang, "stats.chart_score"),
        goal=texts.raw(lang, "stats.chart_goal"),
    )
    points = [WeekPoint(p.week_start, p.posts, p.average_score) for p in stats.weekly_points]
    return progress_chart(points, stats.goal, labels)
