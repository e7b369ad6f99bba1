"""What the groups' scheduled posts say: last week's recap, the weekly challenge and the
channel tip."""

from __future__ import annotations

from bot.groups.service import TIP_COUNT, DueChallenge, DueTip, Recap
from bot.nudges.view import render_idea
from bot.texts.catalog import Texts


def recap_text(texts: Texts, lang: str, recap: Recap) -> str:
    """How the past week went: who took part, what was missed most, who improved most."""
    if not recap.submissions:
        return texts.render(lang, "groups.recap_empty")
    lines = [
        texts.render(lang, "groups.recap", people=recap.participants, count=recap.submissions)
    ]
    if recap.missing:
        items = ", ".join(texts.raw(lang, f"items.{item}") for item in recap.missing)
        lines.append(texts.render(lang, "groups.recap_missing", items=items))
    if recap.best_name:
        lines.append(
            texts.render(
                lang, "groups.recap_best", name=recap.best_name, delta=f"+{recap.best_delta}"
            )
        )
    return "\n".join(lines)


def challenge_text(texts: Texts, due: DueChallenge) -> str:
    """The week's challenge: an idea for a post, on the admins' theme if they set one."""
    lang = due.language
    idea = render_idea(
        texts,
        lang,
        due.idea,
        topic=due.theme or None,
        audience=texts.raw(lang, "nudges.audience_fallback"),
        platform=texts.raw(lang, "platforms.linkedin"),
    )
    text = texts.raw(lang, "groups.challenge").format(idea=idea)
    if due.theme:
        text += "\n" + texts.render(lang, "groups.challenge_theme", theme=due.theme)
    return text


def tip_text(texts: Texts, tip: DueTip) -> str:
    """A channel's weekly tip, the next one in turn."""
    return "\n".join(
        [
            texts.render(tip.language, "tips.title"),
            texts.render(tip.language, f"tips.tip_{tip.turn % TIP_COUNT}"),
        ]
    )
