"""Profiles by user id."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Profile


class ProfileRepository:
    """Profiles by user id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> Profile | None:
        """The user's profile, if they have one."""
        return await self._session.get(Profile, user_id)

    def add(self, profile: Profile) -> None:
        """Stage a new profile."""
        self._session.add(profile)
