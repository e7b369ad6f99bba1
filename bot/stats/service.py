"""The user's statistics: weekly posts against the goal, the streak, scores, items, platforms.

Weeks are local: they start on Monday at 00:00 in the user's time zone, so a post at 00:30
on a Monday in Rome counts for the new week even though it is still Sunday in UTC. All
counting happens in the database (one grouped query per figure); this module only turns
week boundaries into instants and the totals into values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.localtime.schedule import load_zone, week_start
from bot.profiles.service import DEFAULT_GOAL, DEFAULT_ZONE
from storage.queries import PlatformTotals, WeekTotals
from storage.uow import UnitOfWorkFactory

POINT_WEEKS = 12
TREND_WEEKS = 4
FAILING_DAYS = 90
FAILING_TOP = 3
# A streak is counted back to the first post, but never past ten years: the bound keeps
# the per-week query small whatever a bad clock once stored.
MAX_STREAK_WEEKS = 520


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: its local Monday, the posts, the mean review score."""

    week_start: date
    posts: int
    average_score: float | None


@dataclass(frozen=True)
class ScoreTrend:
    """Mean review score of the last four weeks (this one included) against the four before."""

    recent: float
    previous: float

    @property
    def delta(self) -> float:
        """How much the mean moved (positive is better)."""
        return self.recent - self.previous


@dataclass(frozen=True)
class FailingItem:
    """A checklist item and how often it failed in the period."""

    item_id: str
    failures: int


@dataclass(frozen=True)
class PlatformResults:
    """What the user's posts on one platform brought, as they reported it."""

    platform: str
    posts: int
    answered: int
    reactions: int
    comments: int
    contacts: int
    opportunities: int


@dataclass(frozen=True)
class Stats:
    """Everything /stats shows."""

    week_posts: int
    goal: int
    streak: int
    weekly_points: tuple[WeekPoint, ...]
    trend: ScoreTrend | None
    failing_items: tuple[FailingItem, ...]
    platforms: tuple[PlatformResults, ...]
    # Whether any draft was reviewed in the weeks of the chart: without one, "nothing
    # missed" would be praise for nothing.
    reviewed: bool = True

    @property
    def has_chart(self) -> bool:
        """Whether the 12 weeks hold anything to draw: a post or a reviewed draft."""
        return any(p.posts or p.average_score is not None for p in self.weekly_points)

    @property
    def goal_met(self) -> bool:
        """Whether this week's posts already reach the weekly goal."""
        return self.week_posts >= self.goal


def week_starts(now: datetime, zone: str, weeks: int) -> list[datetime]:
    """The UTC instants of the last `weeks` local Mondays at 00:00, oldest first, now's last."""
    starts = [week_start(now, zone)]
    while len(starts) < weeks:
        # Stepping back from just before a Monday keeps local midnight across DST changes,
        # where "seven days of 24 hours earlier" would land on 23:00 or 01:00.
        starts.append(week_start(starts[-1] - timedelta(seconds=1), zone))
    starts.reverse()
    return starts


def _streak(posts: list[int], goal: int) -> int:
    """Complete weeks in a row that met the goal, ending last week, plus this one if met."""
    *complete, current = posts
    streak = 0
    for count in reversed(complete):
        if count < goal:
            break
        streak += 1
    return streak + (1 if current >= goal else 0)


def _mean(weeks: list[WeekTotals]) -> float | None:
    reviews = sum(week.count for week in weeks)
    return sum(week.total for week in weeks) / reviews if reviews else None


def _trend(scores: list[WeekTotals]) -> ScoreTrend | None:
    recent = _mean(scores[-TREND_WEEKS:])
    previous = _mean(scores[-2 * TREND_WEEKS : -TREND_WEEKS])
    if recent is None or previous is None:
        return None
    return ScoreTrend(recent, previous)


def _platform(totals: PlatformTotals) -> PlatformResults:
    return PlatformResults(
        totals.platform,
        totals.posts,
        totals.answered,
        totals.reactions,
        totals.comments,
        totals.contacts,
        totals.opportunities,
    )


class StatsService:
    """Computes a user's statistics at a given instant, in their time zone."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def stats(
        self,
        user_id: int,
        *,
        now: datetime,
        zone: str = DEFAULT_ZONE,
        goal: int = DEFAULT_GOAL,
    ) -> Stats:
        """The user's statistics as of `now` (aware); ValueError for an unknown zone."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        tz = load_zone(zone)
        # A goal of zero would make every week, back to the epoch, part of the streak.
        goal = max(1, goal)
        async with self._uow() as uow:
            queries = uow.stats
            first_post = await queries.first_post_at(user_id)
            weeks = POINT_WEEKS
            if first_post is not None and first_post <= now:
                span = (now - first_post).days // 7 + 2
                weeks = min(max(weeks, span), MAX_STREAK_WEEKS)
            starts = week_starts(now, zone, weeks)
            posts = await queries.posts_per_week(user_id, starts, now)
            point_starts = starts[-POINT_WEEKS:]
            scores = await queries.scores_per_week(user_id, point_starts, now)
            failing = await queries.failing_items(
                user_id, now - timedelta(days=FAILING_DAYS), now, FAILING_TOP
            )
            platforms = await queries.platform_totals(user_id, now)
        points = tuple(
            WeekPoint(
                start.astimezone(tz).date(),
                count,
                week.total / week.count if week.count else None,
            )
            for start, count, week in zip(point_starts, posts[-POINT_WEEKS:], scores, strict=True)
        )
        return Stats(
            week_posts=posts[-1],
            goal=goal,
            streak=_streak(posts, goal),
            weekly_points=points,
            trend=_trend(scores),
            failing_items=tuple(FailingItem(item, count) for item, count in failing),
            platforms=tuple(_platform(totals) for totals in platforms),
            reviewed=bool(failing) or any(week.count for week in scores),
        )
