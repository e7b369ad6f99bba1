"""Statistics on a real database: local weeks, the goal and streak, scores, items, platforms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.stats import FailingItem, PlatformResults, Stats, StatsService, WeekPoint
from storage.database import create_session_factory
from storage.models import Base, Draft, DraftReview, Post, PostResult, ReviewItem, User
from storage.uow import unit_of_work_factory

ROME = "Europe/Rome"
ANNA = 1
LUCA = 2
# Wednesday 18 March 2026, noon in Rome; this week began on Monday 16 March.
NOW = datetime(2026, 3, 18, 11, 0, tzinfo=UTC)


def at(day: date, hour: int = 12, minute: int = 0, zone: str = ROME) -> datetime:
    """A local wall-clock time as an aware UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(
        UTC
    )


def weeks_ago(weeks: int, weekday: int = 2) -> date:
    """A local day `weeks` weeks before this one (0 = Monday 16 March 2026)."""
    return date(2026, 3, 16) - timedelta(weeks=weeks) + timedelta(days=weekday)


def post(user_id: int, when: datetime, platform: str = "linkedin") -> Post:
    return Post(user_id=user_id, platform=platform, posted_at=when)


def review(user_id: int, when: datetime, score: int, fails: tuple[str, ...] = ()) -> DraftReview:
    draft = Draft(user_id=user_id, chat_id=user_id, text="Draft", language="it", created_at=when)
    return DraftReview(
        draft=draft,
        user_id=user_id,
        platform="linkedin",
        language="it",
        score=score,
        created_at=when,
        items=[
            ReviewItem(item_id=item, position=index, status="fail")
            for index, item in enumerate(fails)
        ],
    )


async def store(engine: AsyncEngine, *rows: Base) -> None:
    async with create_session_factory(engine)() as session:
        session.add_all([User(id=ANNA, first_name="Anna"), User(id=LUCA, first_name="Luca")])
        # Posts have no relationship to users, so the flush order must come from us.
        await session.flush()
        session.add_all(rows)
        await session.commit()


async def stats_of(
    engine: AsyncEngine, user_id: int = ANNA, *, goal: int = 2, zone: str = ROME
) -> Stats:
    service = StatsService(unit_of_work_factory(create_session_factory(engine)))
    return await service.stats(user_id, now=NOW, zone=zone, goal=goal)


async def test_week_posts_start_at_local_monday_midnight(engine: AsyncEngine) -> None:
    await store(
        engine,
        post(ANNA, at(date(2026, 3, 15), 23, 30)),  # Sunday night in Rome: last week
        post(ANNA, at(date(2026, 3, 16), 0, 30)),  # still Sunday in UTC, Monday in Rome
    )

    stats = await stats_of(engine)

    assert stats.week_posts == 1


async def test_week_posts_follow_the_users_time_zone(engine: AsyncEngine) -> None:
    # Monday 16 March 02:00 in Rome is still Sunday evening in New York.
    await store(engine, post(ANNA, at(date(2026, 3, 16), 2, 0)))

    assert (await stats_of(engine, zone=ROME)).week_posts == 1
    assert (await stats_of(engine, zone="America/New_York")).week_posts == 0


async def test_posts_after_now_are_not_counted(engine: AsyncEngine) -> None:
    await store(
        engine, post(ANNA, NOW - timedelta(minutes=1)), post(ANNA, NOW + timedelta(hours=1))
    )

    assert (await stats_of(engine)).week_posts == 1


async def test_goal_is_met_once_week_posts_reach_it(engine: AsyncEngine) -> None:
    await store(engine, post(ANNA, at(weeks_ago(0, 0))), post(ANNA, at(weeks_ago(0, 1))))

    stats = await stats_of(engine, goal=2)

    assert stats.goal == 2
    assert stats.goal_met


async def test_streak_counts_complete_weeks_ending_last_week(engine: AsyncEngine) -> None:
    await store(
        engine,
        *(post(ANNA, at(weeks_ago(weeks, day))) for weeks in (1, 2, 3) for day in (0, 3)),
    )

    stats = await stats_of(engine, goal=2)

    assert stats.streak == 3
    assert not stats.goal_met


async def test_streak_includes_this_week_once_its_goal_is_met(engine: AsyncEngine) -> None:
    await store(
        engine,
        *(post(ANNA, at(weeks_ago(weeks, day))) for weeks in (0, 1, 2) for day in (0, 1)),
    )

    assert (await stats_of(engine, goal=2)).streak == 3


async def test_streak_stops_at_the_first_week_below_goal(engine: AsyncEngine) -> None:
    await store(
        engine,
        post(ANNA, at(weeks_ago(1, 0))),
        post(ANNA, at(weeks_ago(1, 4))),
        post(ANNA, at(weeks_ago(2, 0))),  # one post only: the streak ends here
        post(ANNA, at(weeks_ago(3, 0))),
        post(ANNA, at(weeks_ago(3, 4))),
    )

    assert (await stats_of(engine, goal=2)).streak == 1


async def test_streak_is_zero_when_last_week_missed_and_this_week_not_met(
    engine: AsyncEngine,
) -> None:
    await store(engine, post(ANNA, at(weeks_ago(0, 0))), post(ANNA, at(weeks_ago(2, 0))))

    assert (await stats_of(engine, goal=1)).streak == 1
    assert (await stats_of(engine, goal=2)).streak == 0


async def test_streak_reaches_back_beyond_the_twelve_chart_weeks(engine: AsyncEngine) -> None:
    await store(engine, *(post(ANNA, at(weeks_ago(weeks))) for weeks in range(1, 31)))

    assert (await stats_of(engine, goal=1)).streak == 30


async def test_weekly_points_are_twelve_local_mondays_oldest_first(engine: AsyncEngine) -> None:
    await store(engine, post(ANNA, at(weeks_ago(11))), post(ANNA, at(weeks_ago(0))))

    points = (await stats_of(engine)).weekly_points

    assert [point.week_start for point in points] == [weeks_ago(n, 0) for n in range(11, -1, -1)]
    assert [point.posts for point in points] == [1] + [0] * 10 + [1]


async def test_weekly_points_keep_local_mondays_across_daylight_saving(
    engine: AsyncEngine,
) -> None:
    # Rome moves to summer time on Sunday 29 March 2026.
    service = StatsService(unit_of_work_factory(create_session_factory(engine)))
    stats = await service.stats(ANNA, now=datetime(2026, 4, 1, 10, tzinfo=UTC), zone=ROME, goal=1)

    starts = [point.week_start for point in stats.weekly_points]
    assert starts[-2:] == [date(2026, 3, 23), date(2026, 3, 30)]
    assert all(start.weekday() == 0 for start in starts)


async def test_weekly_average_score_is_the_mean_of_that_weeks_reviews(
    engine: AsyncEngine,
) -> None:
    await store(
        engine,
        review(ANNA, at(weeks_ago(1, 0)), 60),
        review(ANNA, at(weeks_ago(1, 2)), 71),
        review(LUCA, at(weeks_ago(1, 2)), 10),
    )

    points = (await stats_of(engine)).weekly_points

    assert points[-2].average_score == pytest.approx(65.5)
    assert points[-1].average_score is None


async def test_trend_compares_last_four_weeks_with_the_four_before(engine: AsyncEngine) -> None:
    await store(
        engine,
        review(ANNA, at(weeks_ago(0)), 80),
        review(ANNA, at(weeks_ago(3)), 70),
        review(ANNA, at(weeks_ago(4)), 50),
        review(ANNA, at(weeks_ago(7)), 60),
        review(ANNA, at(weeks_ago(8)), 10),  # older than both windows
    )

    trend = (await stats_of(engine)).trend

    assert trend is not None
    assert (trend.recent, trend.previous, trend.delta) == pytest.approx((75.0, 55.0, 20.0))


async def test_trend_is_none_without_reviews_in_both_windows(engine: AsyncEngine) -> None:
    await store(engine, review(ANNA, at(weeks_ago(0)), 80), review(ANNA, at(weeks_ago(1)), 70))

    assert (await stats_of(engine)).trend is None


async def test_failing_items_are_the_three_most_failed_in_ninety_days(
    engine: AsyncEngine,
) -> None:
    recent = at(weeks_ago(1))
    await store(
        engine,
        review(ANNA, recent, 40, ("hook", "clarity", "audience", "interaction")),
        review(ANNA, recent, 45, ("hook", "clarity", "audience")),
        review(ANNA, recent, 50, ("hook", "clarity")),
        review(ANNA, NOW - timedelta(days=91), 30, ("audience", "audience_old")),
        review(LUCA, recent, 30, ("interaction", "interaction_x")),
    )

    failing = (await stats_of(engine)).failing_items

    assert failing == (
        FailingItem("clarity", 3),
        FailingItem("hook", 3),
        FailingItem("audience", 2),
    )


async def test_failing_items_ignore_warnings_and_passes(engine: AsyncEngine) -> None:
    draft_review = review(ANNA, at(weeks_ago(0)), 70)
    draft_review.items = [
        ReviewItem(item_id="hook", position=0, status="warn"),
        ReviewItem(item_id="clarity", position=1, status="pass"),
        ReviewItem(item_id="audience", position=2, status="skip"),
    ]
    await store(engine, draft_review)

    assert (await stats_of(engine)).failing_items == ()


async def test_platform_results_total_the_answers_per_platform(engine: AsyncEngine) -> None:
    answered = post(ANNA, at(weeks_ago(1)))
    answered.result = PostResult(
        user_id=ANNA, reactions=10, comments=2, contacts=1, opportunity=True
    )
    partial = post(ANNA, at(weeks_ago(2)))
    partial.result = PostResult(user_id=ANNA, reactions=5, opportunity=False)
    await store(
        engine,
        answered,
        partial,
        post(ANNA, at(weeks_ago(3))),
        post(ANNA, at(weeks_ago(3)), platform="x"),
        post(LUCA, at(weeks_ago(3)), platform="facebook"),
    )

    platforms = (await stats_of(engine)).platforms

    assert platforms == (
        PlatformResults("linkedin", 3, 2, 15, 2, 1, 1),
        PlatformResults("x", 1, 0, 0, 0, 0, 0),
    )


async def test_stats_of_a_user_without_data_are_empty(engine: AsyncEngine) -> None:
    stats = await stats_of(engine)

    assert (stats.week_posts, stats.streak, stats.trend) == (0, 0, None)
    assert len(stats.weekly_points) == 12
    assert all(point == WeekPoint(point.week_start, 0, None) for point in stats.weekly_points)
    assert (stats.failing_items, stats.platforms) == ((), ())


async def test_unknown_time_zone_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await stats_of(engine, zone="Mars/Olympus")
