"""Read-only queries that aggregate in the database: statistics, draft history, a user's data.

Repositories load and stage rows for use cases that change them; the classes here only read,
and hand back small frozen values (counts, sums, summaries), so a service never loops over
rows to total them. They never commit, and never write.

`user_scope` decides, from the table metadata alone, which rows are "about a user"; privacy
export and erasure both use it, so a table added later by another feature is covered the day
its model lands in `storage.models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    ForeignKey,
    MetaData,
    Table,
    Text,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Draft, DraftReview, Post, PostResult, ReviewItem, User
from storage.queries.groups import GroupActivityQueries as GroupActivityQueries
from storage.queries.groups import RevisionQueries as RevisionQueries

# Foreign keys with these actions only detach a row from its parent: the row is not "about"
# the parent's owner, so erasure clears the reference instead of deleting the row.
_DETACHING_ACTIONS = frozenset({"SET NULL", "SET DEFAULT"})


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


@dataclass(frozen=True)
class DraftSummary:
    """One draft for a history list, with its latest review and whether it was posted."""

    draft_id: int
    version: int
    head: str
    created_at: datetime
    review_id: int | None
    score: int | None
    platform: str | None
    posted: bool


@dataclass(frozen=True)
class ScopedTable:
    """A table and the condition that selects the rows about one user in it."""

    table: Table
    where: ColumnElement[bool]


@dataclass(frozen=True)
class ScopedReference:
    """A nullable foreign key whose value points at a row about the user."""

    table: Table
    column: Column[Any]
    where: ColumnElement[bool]


@dataclass(frozen=True)
class UserScope:
    """Every row about one user: tables parents first, and references to clear on erasure."""

    tables: tuple[ScopedTable, ...]
    references: tuple[ScopedReference, ...]


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


class HistoryQueries:
    """The user's drafts, newest first, one page at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_drafts(self, user_id: int) -> int:
        """How many drafts the user has."""
        statement = select(func.count(Draft.id)).where(Draft.user_id == user_id)
        return (await self._session.execute(statement)).scalar_one()

    async def list_drafts(
        self, user_id: int, *, offset: int, limit: int, head_chars: int
    ) -> list[DraftSummary]:
        """A page of drafts with their latest review and whether a post came from them."""
        latest_review = (
            select(func.max(DraftReview.id))
            .where(DraftReview.draft_id == Draft.id)
            .correlate(Draft)
            .scalar_subquery()
        )
        # Filtering on the user as well lets the (user_id, posted_at) index serve the lookup.
        posted = exists().where(Post.user_id == user_id, Post.draft_id == Draft.id)
        statement = (
            select(
                Draft.id,
                Draft.version,
                # Only the head travels: a history line shows the first line, never the text.
                func.substr(Draft.text, 1, head_chars, type_=Text),
                Draft.created_at,
                DraftReview.id,
                DraftReview.score,
                DraftReview.platform,
                posted,
            )
            .select_from(Draft)
            .outerjoin(DraftReview, DraftReview.id == latest_review)
            .where(Draft.user_id == user_id)
            .order_by(Draft.created_at.desc(), Draft.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = await self._session.execute(statement)
        return [
            DraftSummary(
                draft_id, version, head or "", created_at, review_id, score, platform, bool(sent)
            )
            for draft_id, version, head, created_at, review_id, score, platform, sent in rows
        ]

    async def latest_review_id(self, user_id: int, draft_id: int) -> int | None:
        """The newest review of the draft, only if the draft belongs to the user."""
        statement = (
            select(DraftReview.id)
            .join(Draft, Draft.id == DraftReview.draft_id)
            .where(Draft.id == draft_id, Draft.user_id == user_id)
            .order_by(DraftReview.id.desc())
            .limit(1)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()


def _detaches(foreign_key: ForeignKey) -> bool:
    return (foreign_key.ondelete or "").upper() in _DETACHING_ACTIONS


def _refers_to_user(column: Column[Any], users: Table) -> bool:
    return column.name == "user_id" or any(
        foreign_key.column.table is users for foreign_key in column.foreign_keys
    )


def user_scope(user_id: int, metadata: MetaData = Base.metadata) -> UserScope:
    """The rows about a user, in every table of the metadata.

    The rule: a row is about the user when it is the user's `users` row, when one of its
    columns is named `user_id` or references `users.id` and holds the user's id, or when a
    foreign key that is not SET NULL/SET DEFAULT points at a row about the user (what
    ON DELETE CASCADE would remove, so `review_items` follow their review). A nullable
    SET NULL key pointing at such a row is a reference to clear, not a row to remove.
    """
    users = metadata.tables[User.__tablename__]
    wheres: dict[str, ColumnElement[bool]] = {}
    tables: list[ScopedTable] = []
    # Parents come first, so a parent's condition exists when its children need it.
    for table in metadata.sorted_tables:
        clauses: list[ColumnElement[bool]] = []
        if table is users:
            clauses.append(users.c.id == user_id)
        clauses.extend(
            column == user_id for column in table.columns if _refers_to_user(column, users)
        )
        for foreign_key in table.foreign_keys:
            parent = foreign_key.column.table
            parent_where = wheres.get(parent.name)
            # Keys to users are covered above; a self-reference would follow a chain of
            # rows that belong to whoever wrote them.
            if parent is users or parent is table or parent_where is None:
                continue
            if not _detaches(foreign_key):
                owned = select(foreign_key.column).where(parent_where).correlate(None)
                clauses.append(foreign_key.parent.in_(owned))
        if clauses:
            where = or_(*clauses)
            wheres[table.name] = where
            tables.append(ScopedTable(table, where))
    references = [
        ScopedReference(
            table,
            foreign_key.parent,
            # No correlation: the parent may be the very table being updated (drafts.parent_id).
            foreign_key.parent.in_(
                select(foreign_key.column)
                .where(wheres[foreign_key.column.table.name])
                .correlate(None)
            ),
        )
        for table in metadata.sorted_tables
        for foreign_key in table.foreign_keys
        if _detaches(foreign_key) and foreign_key.column.table.name in wheres
    ]
    return UserScope(tuple(tables), tuple(references))


class UserDataQueries:
    """The rows of a user scope, as plain column-name dictionaries."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rows(self, scoped: ScopedTable) -> list[dict[str, Any]]:
        """Every row of the table about the user, in primary-key order."""
        statement = select(scoped.table).where(scoped.where)
        statement = statement.order_by(*scoped.table.primary_key.columns)
        result = await self._session.execute(statement)
        return [dict(row) for row in result.mappings()]

