"""Users by Telegram id: the sender every update loads, what Telegram says of them, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Profile, User
from storage.queries.user_data import UserScope

USERS = cast(Table, User.__table__)
PROFILES = cast(Table, Profile.__table__)


@dataclass(frozen=True)
class SeenUser:
    """A user as each update needs them, with their profile's review defaults."""

    id: int
    first_name: str
    last_name: str | None
    username: str | None
    telegram_language: str | None
    language: str | None
    last_seen_at: datetime
    is_active: bool
    dialogue: str | None
    main_platform: str | None
    topics: list[str] | None


_SEEN = (
    select(
        USERS.c.id,
        USERS.c.first_name,
        USERS.c.last_name,
        USERS.c.username,
        USERS.c.telegram_language,
        USERS.c.language,
        USERS.c.last_seen_at,
        USERS.c.is_active,
        USERS.c.dialogue,
        PROFILES.c.main_platform,
        PROFILES.c.topics,
    )
    .select_from(USERS.outerjoin(PROFILES, PROFILES.c.user_id == USERS.c.id))
    .where(USERS.c.id == bindparam("user_id"))
)


class UserRepository:
    """Users by Telegram id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        """The user with this Telegram id, if known."""
        return await self._session.get(User, user_id)

    def add(self, user: User) -> None:
        """Stage a new user."""
        self._session.add(user)

    async def get_seen(self, user_id: int) -> SeenUser | None:
        """The user and their profile's review defaults in one query, no ORM objects.

        Every update loads its sender: the ORM's identity map and instance state cost
        more than the query (benchmarks/throughput).
        """
        row = (await self._session.execute(_SEEN, {"user_id": user_id})).first()
        return SeenUser(*row) if row is not None else None

    async def record_seen(
        self,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        telegram_language: str | None,
        last_seen_at: datetime,
    ) -> None:
        """Update what Telegram says of the user and when they were last seen."""
        await self._session.execute(
            update(USERS)
            .where(USERS.c.id == user_id)
            .values(
                first_name=first_name,
                last_name=last_name,
                username=username,
                telegram_language=telegram_language,
                last_seen_at=last_seen_at,
            )
        )

    async def erase(self, scope: UserScope) -> int:
        """Delete every row of the user's scope (storage.queries.user_data.user_scope); how
        many rows went."""
        # Clear detaching references first, while the rows they point at still exist:
        # without PRAGMA foreign_keys, SQLite would otherwise leave them dangling.
        for reference in scope.references:
            await self._session.execute(
                update(reference.table)
                .where(reference.where)
                .values({reference.column.name: None})
            )
        # Children before parents, so no delete depends on ON DELETE CASCADE and each
        # statement's row count is exactly the rows it removed.
        removed = 0
        for scoped in reversed(scope.tables):
            result = await self._session.execute(delete(scoped.table).where(scoped.where))
            removed += cast(CursorResult[Any], result).rowcount
        return removed
