"""The progress picture: posts per week against the weekly goal, and the checklist score,
in two panels over the same weeks.

Drawn headless with matplotlib's object-oriented API: each call builds its own `Figure` on
an Agg canvas and drops it, so there is no pyplot, no global figure registry and no display.
Every text on the picture comes from the caller (prompts/), which keeps this module free of
user-visible strings. The PNG is 1000×1000 px with large type, to be read on a phone.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WEEKS = 12
WIDTH_PX, HEIGHT_PX, DPI = 1000, 1000, 100

# Okabe-Ito colours: told apart by colour-blind readers too.
_BAR_COLOUR = "#0072B2"
_GOAL_COLOUR = "#D55E00"
_SCORE_COLOUR = "#009E73"
_TITLE_SIZE, _LABEL_SIZE, _TICK_SIZE = 22, 16, 14
# Fixed margins (fractions of the figure) fitted to the fixed size and type above, with room
# for the goal's name right of the bars and the slanted dates under them. A layout engine
# would find the same ones at about half again the render time.
_MARGINS = {"left": 0.08, "right": 0.85, "top": 0.9, "bottom": 0.1}
_PANEL_GAP = 0.28
_SCORE_TICKS = range(0, 101, 20)

# matplotlib promises no thread safety; renders are short, so one at a time.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: its first day, posts reported, average checklist score."""

    week_start: date
    posts: int
    average_score: float | None

    def __post_init__(self) -> None:
        if self.posts < 0:
            raise ValueError(f"posts cannot be negative: {self.posts}")
        score = self.average_score
        if score is not None and not (math.isfinite(score) and 0 <= score <= 100):
            raise ValueError(f"average_score must be within 0 and 100: {score}")


@dataclass(frozen=True)
class ChartLabels:
    """The texts on the chart, in the user's language; dates use `week_format` (strftime)."""

    title: str
    posts: str
    score: str
    goal: str
    week_format: str = "%d/%m"


def chart_weeks(points: Sequence[WeekPoint], count: int = WEEKS) -> list[WeekPoint]:
    """The last `count` weeks up to the latest point, oldest first, missing weeks as zero."""
    if not points:
        return []
    last = max(point.week_start for point in points)
    first = max(last - timedelta(weeks=count - 1), min(point.week_start for point in points))
    slots = (last - first).days // 7 + 1
    posts = [0] * slots
    scores: list[list[float]] = [[] for _ in range(slots)]
    for point in points:
        offset = (point.week_start - first).days
        if offset < 0:
            continue
        # A point dated inside a week (not on its first day) still counts for that week.
        slot = offset // 7
        posts[slot] += point.posts
        if point.average_score is not None:
            scores[slot].append(point.average_score)
    return [
        WeekPoint(
            week_start=first + timedelta(weeks=slot),
            posts=posts[slot],
            average_score=sum(scores[slot]) / len(scores[slot]) if scores[slot] else None,
        )
        for slot in range(slots)
    ]


def progress_chart(points: Sequence[WeekPoint], goal: int, labels: ChartLabels) -> bytes:
    """A PNG of the last 12 weeks: posts as bars with the goal dashed, and below them the
    score as a line."""
    weeks = chart_weeks(points)
    with _render_lock:
        return _render(weeks, max(goal, 0), labels)


def _render(weeks: list[WeekPoint], goal: int, labels: ChartLabels) -> bytes:
    """Draw the chart on a fresh Agg figure and return the PNG bytes."""
    # Imported here: matplotlib costs a few hundred ms and tens of MB, and only the progress
    # command needs it. The Agg canvas is bound to this figure alone; no global backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    try:
        _draw(figure, weeks, goal, labels)
        buffer = io.BytesIO()
        # No "Software" chunk naming the matplotlib version: the same data, the same bytes.
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        # Axes and figure refer to each other; clearing breaks the cycle now, not at next GC.
        figure.clear()


def _draw(figure: Figure, weeks: list[WeekPoint], goal: int, labels: ChartLabels) -> None:
    """Two panels on one week axis: posts per week with the goal above, the mean score
    below. Two scales on one panel put the goal of 2 posts at the height of a score of 80,
    and labels on the bars on top of the score's dots."""
    from matplotlib.ticker import MaxNLocator

    figure.subplots_adjust(**_MARGINS, hspace=_PANEL_GAP)
    posts_axes, score_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    positions = list(range(len(weeks)))
    counts = [week.posts for week in weeks]

    bars = posts_axes.bar(positions, counts, width=0.6, color=_BAR_COLOUR, zorder=2)
    posts_axes.bar_label(
        bars, labels=[str(count) if count else "" for count in counts], fontsize=_TICK_SIZE
    )
    if goal > 0:
        posts_axes.axhline(goal, color=_GOAL_COLOUR, linestyle="--", linewidth=2.5, zorder=3)
        # The goal is named at the line's end, outside the bars, instead of in a legend.
        posts_axes.annotate(
            f"{_drawable(labels.goal)} {goal}",
            xy=(1, goal),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            color=_GOAL_COLOUR,
            fontsize=_LABEL_SIZE,
            annotation_clip=False,
        )
    # Head room above the tallest bar or the goal for the count printed on top.
    posts_axes.set_ylim(0, max([*counts, goal, 1]) * 1.3)
    posts_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    posts_axes.set_title(
        _drawable(labels.posts), fontsize=_LABEL_SIZE, color=_BAR_COLOUR, loc="left"
    )

    # A week without reviewed drafts has no score: NaN leaves a gap instead of a fake zero.
    scores = [math.nan if week.average_score is None else week.average_score for week in weeks]
    score_axes.plot(
        positions,
        scores,
        color=_SCORE_COLOUR,
        linewidth=2.5,
        marker="o",
        markersize=9,
        clip_on=False,  # a score of 100 sits on the frame; keep its marker whole
    )
    score_axes.set_ylim(0, 100)
    score_axes.set_yticks(_SCORE_TICKS)
    score_axes.set_title(
        _drawable(labels.score), fontsize=_LABEL_SIZE, color=_SCORE_COLOUR, loc="left"
    )

    score_axes.set_xlim(-0.6, max(len(weeks), 1) - 0.4)
    score_axes.set_xticks(
        positions, [week.week_start.strftime(labels.week_format) for week in weeks]
    )
    # Twelve dates side by side stay readable on a phone only at an angle.
    score_axes.tick_params(axis="x", labelrotation=45)
    for axes in (posts_axes, score_axes):
        axes.tick_params(labelsize=_TICK_SIZE)
        axes.spines["top"].set_visible(False)
        axes.spines["right"].set_visible(False)
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
    figure.suptitle(_drawable(labels.title), fontsize=_TITLE_SIZE)


def _drawable(text: str) -> str:
    """The text as the chart font can show it: no mathtext, no glyphs the font lacks."""
    glyphs = _font_glyphs()
    shown = "".join(char for char in " ".join(text.split()) if ord(char) in glyphs)
    # "$" would start mathtext, and a bad formula would fail the whole render.
    return " ".join(shown.split()).replace("$", r"\$")


@cache
def _font_glyphs() -> frozenset[int]:
    """Code points of the default font (DejaVu Sans): emoji in a label would be boxes."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties())
    return frozenset(FT2Font(path).get_charmap())
