"""The unit of work: one session and its repositories; the service decides when to commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import DraftRepository, ProfileRepository, UserRepository


class UnitOfWork:
    """A transaction with the repositories that share it; rolls back unless committed."""

    users: UserRepository
    drafts: DraftRepository
    profiles: ProfileRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.users = UserRepository(self.session)
        self.drafts = DraftRepository(self.session)
        self.profiles = ProfileRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing ends the transaction, rolling back anything uncommitted, and keeps
        # loaded objects readable (a rollback would expire them).
        await self.session.close()

    @property
    def skip_locked(self) -> bool:
        """Whether row claims can use FOR UPDATE SKIP LOCKED (PostgreSQL, not SQLite)."""
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    async def commit(self) -> None:
        """Make the work so far durable."""
        await self.session.commit()


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(session_factory: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """A zero-argument factory for services."""
    return lambda: UnitOfWork(session_factory)
