"""Repositories: typed queries over one session. They never commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User


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
