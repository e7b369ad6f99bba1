"""Nudge schedules and their sends: the claim queries, the ledger, the lease. Never commits.

The dispatch's policy (claimed with a lease, sent, confirmed under the unique key
(schedule, due instant)) is the service's (bot/nudges/service.py); these are its statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, union_all, update
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import NudgeSchedule, NudgeSend, Post, Profile, User
from storage.repositories.sends import LeaseStatements

if TYPE_CHECKING:
    from storage.uow import UnitOfWork


@dataclass(frozen=True)
class DueSchedule:
    """A schedule the claim took (locked on PostgreSQL until commit), with its user."""

    schedule: NudgeSchedule
    user: User


@dataclass(frozen=True)
class AbandonedSend:
    """A send claimed and never confirmed within its lease, with its schedule and user."""

    send: NudgeSend
    schedule: NudgeSchedule
    user: User


@dataclass(frozen=True)
class NewSend:
    """One occurrence to record in the ledger under (schedule, due instant)."""

    schedule_id: int
    user_id: int
    kind: str
    due_at: datetime
    status: str
    idea: str | None
    claimed_at: datetime
    late: bool


@dataclass(frozen=True)
class NudgeProfile:
    """What composing a nudge reads of the user's profile."""

    timezone: str | None
    weekly_goal: int | None
    topics: tuple[str, ...]
    audience: tuple[str, ...]
    main_platform: str | None


def due_schedules(now: datetime, limit: int, skip_locked: bool) -> Select[NudgeSchedule, User]:
    """Up to `limit` claimable schedules, the earliest due first, with their users.

    A schedule is due by its rule, by a snooze, or because its pause ended; it is
    ranked by the earliest of those instants that has come. Each of the three is read
    from its own index in that order, eligible rows only, at most `limit` of each, so
    a backlog of thousands costs what a batch costs: the first `limit` of the merge
    are among those 3 * `limit`. On PostgreSQL each read locks what it takes (SKIP
    LOCKED), so a concurrent claim reads past this one's rows instead of stopping at
    them; the few read here but not claimed are free again at commit.
    """
    active = (User.is_active.is_(True), NudgeSchedule.paused.is_(False))
    pause_over = or_(NudgeSchedule.paused_until.is_(None), NudgeSchedule.paused_until <= now)

    def earliest(
        column: InstrumentedAttribute[datetime | None], *eligible: ColumnElement[bool]
    ) -> Select[int, datetime]:
        statement = (
            select(NudgeSchedule.id, column.label("due"))
            .join(User, User.id == NudgeSchedule.user_id)
            .where(column <= now, *eligible)
            .order_by(column)
            .limit(limit)
        )
        if skip_locked:
            statement = statement.with_for_update(skip_locked=True, of=NudgeSchedule)
        # A subquery: SQLite takes no ORDER BY or LIMIT on a member of a UNION.
        source = statement.subquery()
        return select(source.c.id, source.c.due)

    sources = union_all(
        earliest(NudgeSchedule.next_due_at, *active, pause_over),
        earliest(NudgeSchedule.snooze_due_at, *active, pause_over),
        earliest(NudgeSchedule.paused_until, *active),
    ).subquery()
    due = func.min(sources.c.due).label("due")
    first = (
        select(sources.c.id, due).group_by(sources.c.id).order_by(due).limit(limit)
    ).subquery()
    statement = (
        select(NudgeSchedule, User)
        .join(first, first.c.id == NudgeSchedule.id)
        .join(User, User.id == NudgeSchedule.user_id)
        .order_by(first.c.due)
    )
    if skip_locked:
        # Locked already; locking again reads the row as it is now, not at the snapshot.
        statement = statement.with_for_update(skip_locked=True, of=NudgeSchedule)
    return statement


class NudgeRepository(LeaseStatements):
    """Nudge schedules, their sends (the ledger) and the reads composing a nudge needs."""

    def __init__(self, uow: UnitOfWork) -> None:
        # The unit of work, not only its session: claims need its dialect's helpers
        # (skip_locked, insert_once), written once there for every claim.
        super().__init__(uow, NudgeSend)
        self._uow = uow

    # ---------------------------------------------------------------- schedules

    async def list_schedules(self, user_id: int) -> list[NudgeSchedule]:
        """The user's schedules (their reminder and their Monday review)."""
        statement = select(NudgeSchedule).where(NudgeSchedule.user_id == user_id)
        return list((await self._session.execute(statement)).scalars())

    async def get_schedule(self, user_id: int, kind: str) -> NudgeSchedule | None:
        """The user's schedule of this kind, if they have one."""
        statement = select(NudgeSchedule).where(
            NudgeSchedule.user_id == user_id, NudgeSchedule.kind == kind
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def get_schedule_by_id(self, schedule_id: int) -> NudgeSchedule | None:
        """A schedule by id."""
        return await self._session.get(NudgeSchedule, schedule_id)

    def add_schedule(self, schedule: NudgeSchedule) -> None:
        """Stage a new schedule."""
        self._session.add(schedule)

    # ---------------------------------------------------------------- sends

    async def get_send(self, send_id: int) -> NudgeSend | None:
        """A send by id."""
        return await self._session.get(NudgeSend, send_id)

    async def list_due(self, now: datetime, limit: int) -> list[DueSchedule]:
        """Up to `limit` schedules due at `now`, earliest first, locked where the database can."""
        statement = due_schedules(now, limit, self._uow.skip_locked)
        return [
            DueSchedule(schedule, user)
            for schedule, user in (await self._session.execute(statement)).all()
        ]

    async def add_sends(self, sends: Sequence[NewSend]) -> dict[tuple[int, datetime], int]:
        """Record occurrences in one statement, skipping those already recorded; the ids of
        the new ones by (schedule id, due instant in UTC)."""
        if not sends:
            return {}
        values: list[dict[str, Any]] = [
            {
                "schedule_id": send.schedule_id,
                "user_id": send.user_id,
                "kind": send.kind,
                "due_at": send.due_at,
                "status": send.status,
                "idea": send.idea,
                "claimed_at": send.claimed_at,
                "late": send.late,
            }
            for send in sends
        ]
        statement = self._uow.insert_once(NudgeSend, values, ("schedule_id", "due_at"))
        rows = await self._session.execute(
            statement.returning(NudgeSend.id, NudgeSend.schedule_id, NudgeSend.due_at)
        )
        return {(schedule_id, due.astimezone(UTC)): send_id for send_id, schedule_id, due in rows}

    async def list_abandoned(self, claimed_before: datetime, limit: int) -> list[AbandonedSend]:
        """Up to `limit` sends still claimed since before `claimed_before` (lease over)."""
        statement = (
            select(NudgeSend, NudgeSchedule, User)
            .join(NudgeSchedule, NudgeSchedule.id == NudgeSend.schedule_id)
            .join(User, User.id == NudgeSend.user_id)
            .where(NudgeSend.status == "claimed", NudgeSend.claimed_at < claimed_before)
            .order_by(NudgeSend.claimed_at)
            .limit(limit)
        )
        if self._uow.skip_locked:
            statement = statement.with_for_update(skip_locked=True, of=NudgeSend)
        return [
            AbandonedSend(send, schedule, user)
            for send, schedule, user in (await self._session.execute(statement)).all()
        ]

    async def mark_sent(self, send_ids: Sequence[int], at: datetime) -> None:
        """Sends still claimed went out at `at`: sent, or late if claimed late."""
        await self._session.execute(
            update(NudgeSend)
            .where(NudgeSend.id.in_(send_ids), NudgeSend.status == "claimed")
            .values(status=case((NudgeSend.late.is_(True), "late"), else_="sent"), sent_at=at)
        )

    # ---------------------------------------------------------------- composing

    async def list_profiles(self, user_ids: Iterable[int]) -> dict[int, NudgeProfile]:
        """What a nudge reads of these users' profiles, by user id (users without one left out)."""
        statement = select(
            Profile.user_id,
            Profile.timezone,
            Profile.weekly_goal,
            Profile.topics,
            Profile.audience,
            Profile.main_platform,
        ).where(Profile.user_id.in_(list(user_ids)))
        return {
            user_id: NudgeProfile(zone, goal, tuple(topics), tuple(audience), platform)
            for user_id, zone, goal, topics, audience, platform in (
                await self._session.execute(statement)
            ).all()
        }

    async def list_post_times(
        self, user_ids: Iterable[int], since: datetime
    ) -> dict[int, list[datetime]]:
        """When these users reported posts from `since` on, by user id."""
        statement = select(Post.user_id, Post.posted_at).where(
            Post.user_id.in_(list(user_ids)), Post.posted_at >= since
        )
        times: dict[int, list[datetime]] = defaultdict(list)
        for user_id, posted_at in (await self._session.execute(statement)).all():
            times[user_id].append(posted_at)
        return times

    async def list_reminded(self, user_ids: Iterable[int], kind: str) -> set[int]:
        """Those of these users who were sent a nudge of this kind already (sent or late)."""
        statement = (
            select(NudgeSend.user_id)
            .where(
                NudgeSend.user_id.in_(list(user_ids)),
                NudgeSend.kind == kind,
                NudgeSend.status.in_(("sent", "late")),
            )
            .distinct()
        )
        return set((await self._session.execute(statement)).scalars())
