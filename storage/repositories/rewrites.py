"""Rewrites the language model suggested, and the daily count they are limited by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Rewrite, User


class RewriteRepository:
    """Rewrites the language model suggested."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, rewrite: Rewrite) -> None:
        """Stage a rewrite (or a failed attempt) and flush it, so that its id is known."""
        self._session.add(rewrite)
        await self._session.flush()

    async def get(self, rewrite_id: int) -> Rewrite | None:
        """One rewrite by id."""
        return await self._session.get(Rewrite, rewrite_id)

    async def lock_user(self, user_id: int) -> None:
        """Hold the user's row until the transaction ends, so that their counts and the
        rewrites reserved on them are one step (FOR UPDATE on PostgreSQL; on SQLite the
        one writer does it)."""
        await self._session.execute(select(User.id).where(User.id == user_id).with_for_update())

    async def count_since(
        self,
        user_id: int,
        since: datetime,
        statuses: tuple[str, ...],
        *,
        reserved: str | None = None,
        reserved_after: datetime | None = None,
    ) -> int:
        """How many of the user's rewrites with these statuses were made from `since` on,
        with those in status `reserved` made after `reserved_after` (in progress)."""
        counted: ColumnElement[bool] = Rewrite.status.in_(statuses)
        if reserved is not None and reserved_after is not None:
            counted = or_(
                counted, and_(Rewrite.status == reserved, Rewrite.created_at > reserved_after)
            )
        statement = select(func.count()).where(
            Rewrite.user_id == user_id, Rewrite.created_at >= since, counted
        )
        return (await self._session.execute(statement)).scalar_one()
