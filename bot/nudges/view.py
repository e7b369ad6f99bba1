"""What a nudge looks like in chat: its text, personalised, its buttons, and the Monday
review's text. The words come from prompts/texts; nothing is sent here."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.nudges.service import Delivery
from bot.stats import Stats
from bot.stats.view import render_stats
from bot.texts.catalog import Texts


def render_idea(
    texts: Texts, lang: str, idea: str, *, topic: str | None, audience: str, platform: str
) -> str:
    """An idea for a post, about the topic; without one, its wording for any work."""
    text_id = f"nudges.idea_{idea}"
    if topic is None and f"{text_id}_any" in texts.ids():
        text_id += "_any"
    return texts.render(lang, text_id, topic=topic or "", audience=audience, platform=platform)


def compose(texts: Texts, delivery: Delivery) -> tuple[str, InlineKeyboardMarkup]:
    """The nudge's text, personalised, and its buttons."""
    lang = texts.language_of(delivery.language, delivery.telegram_language)
    topic = delivery.topics[(delivery.send_id) % len(delivery.topics)] if delivery.topics else None
    audience = (
        texts.raw(lang, f"audiences.{delivery.audience[0]}").lower()
        if delivery.audience
        else texts.raw(lang, "nudges.audience_fallback")
    )
    lines = [texts.render(lang, f"nudges.intro_{delivery.tone}")]
    lines.append(
        render_idea(
            texts,
            lang,
            delivery.idea or "show_result",
            topic=topic,
            audience=audience,
            platform=texts.raw(lang, f"platforms.{delivery.platform or 'linkedin'}"),
        )
    )
    if delivery.late:
        lines.append(texts.render(lang, "nudges.late_note"))
    send_id = delivery.send_id

    def button(text_id: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(texts.raw(lang, f"nudges.{text_id}"), callback_data=data)

    keyboard = InlineKeyboardMarkup(
        [
            [button("button_write", f"nudge.write:{send_id}")],
            [
                button("button_snooze_1h", f"nudge.snooze:{send_id}:1h"),
                button("button_snooze_3h", f"nudge.snooze:{send_id}:3h"),
                button("button_snooze_tomorrow", f"nudge.snooze:{send_id}:tomorrow"),
            ],
            [
                button("button_skip", f"nudge.skip:{send_id}"),
                button("button_pause", f"nudge.pause:{send_id}"),
            ],
        ]
    )
    return "\n\n".join(lines), keyboard


def weekly_text(texts: Texts, lang: str, stats: Stats, goal: int) -> str:
    """The Monday review: whether last week met the goal, then the user's stats."""
    last_week = stats.weekly_points[-2].posts if len(stats.weekly_points) > 1 else 0
    verdict = "weekly.met" if last_week >= goal else "weekly.missed"
    return "\n".join(
        [
            texts.render(lang, "weekly.title"),
            texts.render(lang, verdict, posts=last_week, goal=goal),
            "",
            render_stats(texts, lang, stats),
        ]
    )
