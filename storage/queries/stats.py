"""Statistics in the database: per-week counts and per-item, per-platform totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DraftReview, Post, PostResult, ReviewItem


@dataclass(frozen=True)
class WeekTotals:
    """How many rows fell in one week, and the sum of their values (0 when none)."""

    count: int
    total: int


@dataclass(frozen=True)
class PlatformTotals:
    """The posts on one platform and what the user told us about how they went."""

    platform: str
    posts: int
    answered: int
    reactions: int
    comments: int
    contacts: int
    opportunities: int


def _week_index(column: Any, starts: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the week an instant falls in (starts ascending; -1 before the first)."""
    # Newest start first: CASE takes the first match, which is the week the instant is in.
    whens = [(column >= start, index) for index, start in reversed(list(enumerate(starts)))]
    return case(*whens, else_=-1)


class StatsQueries:
    """Per-week counts and per-item, per-platform totals for one user's statistics."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_post_at(self, user_id: int) -> datetime | None:
        """When the user's oldest recorded post was published."""
        statement = select(func.min(Post.posted_at)).where(Post.user_id == user_id)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def posts_per_week(
        self, user_id: int, starts: Sequence[datetime], until: datetime
    ) -> list[int]:
        """Posts in each week: [starts[i], starts[i+1]), the last one up to `until` included."""
        if not starts:
            return []
        week = _week_index(Post.posted_at, starts).label("week")
        # Grouping by the CASE through a subquery: PostgreSQL cannot match a GROUP BY
        # expression whose bound parameters are numbered apart from the SELECT's.
        inner = (
            select(week)
            .where(Post.user_id == user_id, Post.posted_at >= starts[0], Post.posted_at <= until)
            .subquery()
        )
        statement = select(inner.c.week, func.count()).group_by(inner.c.week)
        counts = [0] * len(starts)
        for index, count in await self._session.execute(statement):
            counts[index] += count
        return counts

    async def scores_per_week(
        self, user_id: int, starts: Sequence[datetime], until: datetime
    ) -> list[WeekTotals]:
        """Reviews made in each week and the sum of their scores (weeks as in posts_per_week)."""
        if not starts:
            return []
        inner = (
            select(
                _week_index(DraftReview.created_at, starts).label("week"),
                DraftReview.score.label("score"),
            )
            .where(
                DraftReview.user_id == user_id,
                DraftReview.created_at >= starts[0],
                DraftReview.created_at <= until,
            )
            .subquery()
        )
        statement = select(
            inner.c.week, func.count(), func.coalesce(func.sum(inner.c.score), 0)
        ).group_by(inner.c.week)
        totals = {
            index: WeekTotals(count, int(total))
            for index, count, total in (await self._session.execute(statement))
        }
        return [totals.get(index, WeekTotals(0, 0)) for index in range(len(starts))]

    async def failing_items(
        self, user_id: int, since: datetime, until: datetime, limit: int
    ) -> list[tuple[str, int]]:
        """The checklist items that failed most in the user's reviews, with their counts."""
        failures = func.count(ReviewItem.id).label("failures")
        statement = (
            select(ReviewItem.item_id, failures)
            .join(DraftReview, DraftReview.id == ReviewItem.review_id)
            .where(
                DraftReview.user_id == user_id,
                DraftReview.created_at >= since,
                DraftReview.created_at <= until,
                ReviewItem.status == "fail",
            )
            .group_by(ReviewItem.item_id)
            .order_by(failures.desc(), ReviewItem.item_id)
            .limit(limit)
        )
        return [(item, count) for item, count in (await self._session.execute(statement))]

    async def platform_totals(self, user_id: int, until: datetime) -> list[PlatformTotals]:
        """Per platform the user posted on: posts, answered results and their sums."""
        posts = func.count(Post.id).label("posts")
        statement = (
            select(
                Post.platform,
                posts,
                func.count(PostResult.post_id),
                func.coalesce(func.sum(PostResult.reactions), 0),
                func.coalesce(func.sum(PostResult.comments), 0),
                func.coalesce(func.sum(PostResult.contacts), 0),
                func.count(case((PostResult.opportunity.is_(True), 1))),
            )
            .outerjoin(PostResult, PostResult.post_id == Post.id)
            .where(Post.user_id == user_id, Post.posted_at <= until)
            .group_by(Post.platform)
            .order_by(posts.desc(), Post.platform)
        )
        rows = await self._session.execute(statement)
        return [
            PlatformTotals(
                platform,
                count,
                answered,
                int(reactions or 0),
                int(comments or 0),
                int(contacts or 0),
                chances,
            )
            for platform, count, answered, reactions, comments, contacts, chances in rows
        ]
