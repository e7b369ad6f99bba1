"""Groups and channels, their members, the challenges posted in them and the drafts
members had reviewed there. The repositories stage and read rows; they never commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from sqlalchemy import Select, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Challenge, Group, GroupMember, Submission

GROUPS = cast(Table, Group.__table__)
CHALLENGES = cast(Table, Challenge.__table__)
MEMBERS = cast(Table, GroupMember.__table__)
SUBMISSIONS = cast(Table, Submission.__table__)

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

    # The unit of work's INSERT … ON CONFLICT DO NOTHING for its back-end
    # (UnitOfWork.insert_once).
    InsertOnce: TypeAlias = Callable[
        [type[Any], dict[str, Any], Sequence[str]], postgresql.Insert | sqlite.Insert
    ]


@dataclass(frozen=True)
class GroupRecord:
    """A group's or channel's row: its settings and when its challenge and tip are due."""

    chat_id: int
    type: str
    title: str
    language: str
    is_active: bool
    review_mode: str
    timezone: str
    challenge_enabled: bool
    challenge_day: int
    challenge_time: str
    challenge_theme: str | None
    tip_enabled: bool
    tip_turn: int
    next_challenge_at: datetime | None
    next_tip_at: datetime | None


@dataclass(frozen=True)
class ChallengeRecord:
    """A challenge recorded for one due instant, and the message it went out as."""

    id: int
    chat_id: int
    due_at: datetime
    idea: str
    theme: str | None
    message_id: int | None
    posted_at: datetime | None


_GROUP_FIELDS = tuple(field.name for field in fields(GroupRecord))
_GROUP_COLUMNS = tuple(GROUPS.c[name] for name in _GROUP_FIELDS)
_CHALLENGE_COLUMNS = tuple(CHALLENGES.c[field.name] for field in fields(ChallengeRecord))


def _group_values(group: GroupRecord) -> dict[str, Any]:
    return {name: getattr(group, name) for name in _GROUP_FIELDS}


class GroupRepository:
    """Groups and channels by chat id, and the claims of their due challenges and tips."""

    def __init__(self, session: AsyncSession, *, skip_locked: bool) -> None:
        self._session = session
        self._skip_locked = skip_locked

    async def get(self, chat_id: int) -> GroupRecord | None:
        """The group or channel with this chat id, if known."""
        statement = select(*_GROUP_COLUMNS).where(GROUPS.c.chat_id == chat_id)
        row = (await self._session.execute(statement)).first()
        return GroupRecord(*row) if row is not None else None

    async def list_active(self, chat_type: str) -> list[GroupRecord]:
        """Every chat of this type the bot is still in."""
        statement = select(*_GROUP_COLUMNS).where(
            GROUPS.c.type == chat_type, GROUPS.c.is_active.is_(True)
        )
        return [GroupRecord(*row) for row in await self._session.execute(statement)]

    async def add(self, group: GroupRecord, added_at: datetime) -> None:
        """Store a chat the bot was added to."""
        await self._session.execute(
            insert(GROUPS).values(**_group_values(group), added_at=added_at)
        )

    async def update(self, group: GroupRecord) -> None:
        """Write back a chat's settings and schedule."""
        values = _group_values(group)
        del values["chat_id"]
        await self._session.execute(
            update(GROUPS).where(GROUPS.c.chat_id == group.chat_id).values(**values)
        )

    async def claim_due_challenges(self, now: datetime, limit: int) -> list[GroupRecord]:
        """Active groups whose challenge is due, earliest first, locked until the
        transaction ends (others' locked rows skipped on PostgreSQL)."""
        statement = (
            select(*_GROUP_COLUMNS)
            .where(GROUPS.c.is_active.is_(True), GROUPS.c.next_challenge_at <= now)
            .order_by(GROUPS.c.next_challenge_at)
            .limit(limit)
        )
        return await self._claim(statement)

    async def claim_due_tips(self, now: datetime, limit: int) -> list[GroupRecord]:
        """Active chats whose tip is due, locked as claim_due_challenges locks them."""
        statement = (
            select(*_GROUP_COLUMNS)
            .where(GROUPS.c.is_active.is_(True), GROUPS.c.next_tip_at <= now)
            .limit(limit)
        )
        return await self._claim(statement)

    async def _claim(self, statement: Select[Any]) -> list[GroupRecord]:
        if self._skip_locked:
            statement = statement.with_for_update(skip_locked=True)
        return [GroupRecord(*row) for row in await self._session.execute(statement)]


class ChallengeRepository:
    """The challenges posted in groups, one per group and due instant."""

    def __init__(self, session: AsyncSession, *, insert_once: InsertOnce) -> None:
        self._session = session
        self._insert_once = insert_once

    async def get_latest(
        self, chat_id: int, before: datetime | None = None
    ) -> ChallengeRecord | None:
        """The group's most recently due challenge (due before `before`, when given)."""
        statement = select(*_CHALLENGE_COLUMNS).where(CHALLENGES.c.chat_id == chat_id)
        if before is not None:
            statement = statement.where(CHALLENGES.c.due_at < before)
        statement = statement.order_by(CHALLENGES.c.due_at.desc()).limit(1)
        row = (await self._session.execute(statement)).first()
        return ChallengeRecord(*row) if row is not None else None

    async def get_by_due(self, chat_id: int, due_at: datetime) -> ChallengeRecord | None:
        """The group's challenge recorded for this due instant."""
        statement = select(*_CHALLENGE_COLUMNS).where(
            CHALLENGES.c.chat_id == chat_id, CHALLENGES.c.due_at == due_at
        )
        row = (await self._session.execute(statement)).first()
        return ChallengeRecord(*row) if row is not None else None

    async def add_once(
        self, chat_id: int, due_at: datetime, idea: str, theme: str | None
    ) -> int | None:
        """Record the group's challenge for this due instant; its id, or None when it was
        recorded already (by another process or an earlier claim)."""
        values = {"chat_id": chat_id, "due_at": due_at, "idea": idea, "theme": theme}
        statement = self._insert_once(Challenge, values, ("chat_id", "due_at"))
        result = await self._session.execute(statement.returning(CHALLENGES.c.id))
        return result.scalar_one_or_none()

    async def mark_posted(self, challenge_id: int, message_id: int, posted_at: datetime) -> None:
        """Remember the message a challenge went out as."""
        await self._session.execute(
            update(CHALLENGES)
            .where(CHALLENGES.c.id == challenge_id)
            .values(message_id=message_id, posted_at=posted_at)
        )

    async def get_id_by_message(
        self, chat_id: int, message_id: int, posted_since: datetime | None = None
    ) -> int | None:
        """The challenge that went out as this message (posted since `posted_since`)."""
        statement = select(CHALLENGES.c.id).where(
            CHALLENGES.c.chat_id == chat_id, CHALLENGES.c.message_id == message_id
        )
        if posted_since is not None:
            statement = statement.where(CHALLENGES.c.posted_at >= posted_since)
        return (await self._session.execute(statement.limit(1))).scalar_one_or_none()

    async def get_latest_posted_id(self, chat_id: int, posted_since: datetime) -> int | None:
        """The group's newest challenge posted since `posted_since`."""
        statement = (
            select(CHALLENGES.c.id)
            .where(CHALLENGES.c.chat_id == chat_id, CHALLENGES.c.posted_at >= posted_since)
            .order_by(CHALLENGES.c.id.desc())
            .limit(1)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()


class GroupMemberRepository:
    """Members' standing in a group: the name shown and whether they left the leaderboard."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(
        self, chat_id: int, user_id: int, display_name: str, opted_out: bool | None = None
    ) -> None:
        """Keep the member's name (and their choice about the leaderboard, when given); a
        member not seen before is on the leaderboard unless they opted out."""
        key = (MEMBERS.c.chat_id == chat_id, MEMBERS.c.user_id == user_id)
        known = (await self._session.execute(select(MEMBERS.c.user_id).where(*key))).first()
        values: dict[str, Any] = {"display_name": display_name}
        if opted_out is not None:
            values["opted_out"] = opted_out
        if known is None:
            values.setdefault("opted_out", False)
            await self._session.execute(
                insert(MEMBERS).values(chat_id=chat_id, user_id=user_id, **values)
            )
        else:
            await self._session.execute(update(MEMBERS).where(*key).values(**values))


class SubmissionRepository:
    """Drafts members had reviewed in a group, for its leaderboard and recap."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        chat_id: int,
        user_id: int,
        challenge_id: int | None,
        review_id: int,
        score: int,
        created_at: datetime,
        requested_by: int | None,
    ) -> None:
        """Store a member's reviewed draft."""
        await self._session.execute(
            insert(SUBMISSIONS).values(
                chat_id=chat_id,
                user_id=user_id,
                challenge_id=challenge_id,
                review_id=review_id,
                score=score,
                created_at=created_at,
                requested_by=requested_by,
            )
        )
