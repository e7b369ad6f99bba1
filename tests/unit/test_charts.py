"""The progress picture: a phone-sized PNG for any history, from none to twelve full weeks."""

from __future__ import annotations

import io
import struct
import threading
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib import image

from bot.stats.chart import (
    HEIGHT_PX,
    WIDTH_PX,
    ChartLabels,
    WeekPoint,
    chart_weeks,
    progress_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ChartLabels(
    title="I tuoi progressi", posts="Post a settimana", score="Punteggio", goal="Obiettivo"
)
MONDAY = date(2026, 1, 5)


def week(number: int, posts: int, score: float | None = None) -> WeekPoint:
    """The week `number` weeks after 5 January 2026."""
    return WeekPoint(week_start=MONDAY + timedelta(weeks=number), posts=posts, average_score=score)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (the IHDR chunk comes first)."""
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def assert_phone_sized_png(png: bytes) -> None:
    """A PNG that opens, about 1000 px wide and not much taller than wide."""
    width, height = png_size(png)
    assert 900 <= width <= 1200
    assert 500 <= height <= 1200
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (height, width)


TWELVE_FULL_WEEKS = [week(n, posts=n % 5 + 1, score=40 + 5 * n) for n in range(12)]


@pytest.mark.parametrize(
    "points",
    [
        pytest.param([], id="no weeks"),
        pytest.param([week(n, 0) for n in range(12)], id="all zero"),
        pytest.param([week(n, n % 3, None) for n in range(12)], id="no scores"),
        pytest.param([week(0, 2, 70), week(1, 0), week(2, 3, 100)], id="some scores"),
        pytest.param(TWELVE_FULL_WEEKS, id="twelve full weeks"),
        pytest.param([week(0, 1, 0.0)], id="one week"),
    ],
)
def test_chart_is_a_phone_sized_png(points: list[WeekPoint]) -> None:
    assert_phone_sized_png(progress_chart(points, goal=3, labels=LABELS))


def test_chart_is_exactly_the_planned_size() -> None:
    assert png_size(progress_chart(TWELVE_FULL_WEEKS, 3, LABELS)) == (WIDTH_PX, HEIGHT_PX)


@pytest.mark.parametrize("goal", [0, -1, 1, 50])
def test_any_goal_is_drawn_or_left_out(goal: int) -> None:
    assert_phone_sized_png(progress_chart(TWELVE_FULL_WEEKS, goal, LABELS))


def test_labels_with_emoji_dollars_and_underscores_do_not_break_the_chart() -> None:
    odd = ChartLabels(title="📈 Progressi $x^2$ {", posts="_post", score="$", goal="🎯")
    assert_phone_sized_png(progress_chart(TWELVE_FULL_WEEKS, 3, odd))


def test_same_data_gives_the_same_bytes() -> None:
    assert progress_chart(TWELVE_FULL_WEEKS, 3, LABELS) == progress_chart(
        TWELVE_FULL_WEEKS, 3, LABELS
    )


def test_charts_render_safely_from_several_threads() -> None:
    results: list[bytes] = []

    def render() -> None:
        results.append(progress_chart(TWELVE_FULL_WEEKS, 3, LABELS))

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3
    assert len(set(results)) == 1


# Which weeks the chart shows.


def test_only_the_last_twelve_weeks_are_shown() -> None:
    weeks = chart_weeks([week(n, 1) for n in range(20)])
    assert len(weeks) == 12
    assert weeks[0].week_start == MONDAY + timedelta(weeks=8)
    assert weeks[-1].week_start == MONDAY + timedelta(weeks=19)


def test_weeks_come_oldest_first_whatever_the_input_order() -> None:
    weeks = chart_weeks([week(2, 3), week(0, 1), week(1, 2)])
    assert [w.posts for w in weeks] == [1, 2, 3]


def test_missing_weeks_between_points_count_as_zero_without_a_score() -> None:
    weeks = chart_weeks([week(0, 2, 80), week(3, 1, 60)])
    assert [(w.posts, w.average_score) for w in weeks] == [
        (2, 80),
        (0, None),
        (0, None),
        (1, 60),
    ]


def test_no_weeks_are_invented_before_the_first_point() -> None:
    assert [w.week_start for w in chart_weeks([week(5, 1)])] == [MONDAY + timedelta(weeks=5)]


def test_a_point_dated_inside_a_week_counts_for_that_week() -> None:
    wednesday = WeekPoint(MONDAY + timedelta(days=2), posts=2, average_score=50)
    weeks = chart_weeks([week(0, 1, 70), wednesday, week(1, 1)])
    assert [(w.posts, w.average_score) for w in weeks] == [(3, 60), (1, None)]


def test_no_points_give_no_weeks() -> None:
    assert chart_weeks([]) == []


@pytest.mark.parametrize(
    ("posts", "score"), [(-1, None), (1, -0.1), (1, 100.5), (1, float("nan"))]
)
def test_impossible_weeks_are_refused(posts: int, score: float | None) -> None:
    with pytest.raises(ValueError, match=r"posts|average_score"):
        WeekPoint(week_start=MONDAY, posts=posts, average_score=score)


def test_posts_and_score_have_a_panel_each_so_their_marks_never_meet() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from bot.stats.chart import _draw, chart_weeks

    figure = Figure(figsize=(WIDTH_PX / 100, HEIGHT_PX / 100), dpi=100)
    canvas = FigureCanvasAgg(figure)
    _draw(figure, chart_weeks(TWELVE_FULL_WEEKS), 2, LABELS)
    canvas.draw()
    posts_axes, score_axes = figure.axes
    # One scale per panel: the goal of 2 posts is not drawn at the height of a score of 80.
    assert posts_axes.bbox.y0 > score_axes.bbox.y1
    assert [np.asarray(line.get_ydata())[0] for line in posts_axes.get_lines()] == [2]
    assert score_axes.get_ylim() == (0, 100)
    [score_line] = score_axes.get_lines()
    scores = [p.average_score for p in TWELVE_FULL_WEEKS]
    assert np.asarray(score_line.get_ydata()).tolist() == scores
    # The count on each bar stays inside the posts panel.
    renderer = canvas.get_renderer()
    for label in posts_axes.texts:
        assert label.get_window_extent(renderer).y0 >= posts_axes.bbox.y0
    figure.clear()
