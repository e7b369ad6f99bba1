"""What a nudge says: which idea comes next and in which tone. Pure, no I/O."""

from __future__ import annotations

from typing import Literal

# The ideas, drawn from the articles' advice; their texts live in prompts/texts.
IDEAS: tuple[str, ...] = (
    "show_result",
    "explain_simply",
    "opinion_news",
    "team_member",
    "ask_audience",
    "comment_three",
    "update_profile",
    "review_results",
)

Tone = Literal["welcome", "light", "encourage", "steady"]


def choose_idea(last: str | None, turn: int) -> str:
    """The next idea: rotates through all of them, never the same twice in a row."""
    candidates = [idea for idea in IDEAS if idea != last]
    return candidates[turn % len(candidates)]


def choose_tone(week_posts: int, last_week_posts: int, goal: int) -> Tone:
    """Lighter when this week's goal is met, encouraging when last week's was missed."""
    if week_posts >= goal:
        return "light"
    if last_week_posts < goal:
        return "encourage"
    return "steady"
