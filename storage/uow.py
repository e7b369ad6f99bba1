"""The unit of work: one session and its repositories; the service decides when to commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.queries.groups import GroupActivityQueries, RevisionQueries
from storage.queries.history import HistoryQueries
from storage.queries.stats import StatsQueries
from storage.queries.user_data import UserDataQueries
from storage.repositories.drafts import DraftRepository
from storage.repositories.groups import (
    ChallengeRepository,
    GroupMemberRepository,
    GroupRepository,
    SubmissionRepository,
)
from storage.repositories.nudges import NudgeRepository
from storage.repositories.posts import PostRepository
from storage.repositories.profiles import ProfileRepository
from storage.repositories.rewrites import RewriteRepository
from storage.repositories.sends import ScheduledSendRepository
from storage.repositories.updates import UpdateRepository
from storage.repositories.users import UserRepository

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


class UnitOfWork:
    """A transaction with the repositories that share it; rolls back unless committed."""

    users: UserRepository
    drafts: DraftRepository
    profiles: ProfileRepository
    rewrites: RewriteRepository
    posts: PostRepository
    updates: UpdateRepository
    stats: StatsQueries
    history: HistoryQueries
    user_data: UserDataQueries
    nudges: NudgeRepository
    groups: GroupRepository
    group_members: GroupMemberRepository
    challenges: ChallengeRepository
    submissions: SubmissionRepository
    group_activity: GroupActivityQueries
    revisions: RevisionQueries

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.users = UserRepository(self.session)
        self.drafts = DraftRepository(self.session)
        self.profiles = ProfileRepository(self.session)
        self.rewrites = RewriteRepository(self.session)
        self.posts = PostRepository(self)
        self.updates = UpdateRepository(self)
        self.stats = StatsQueries(self.session)
        self.history = HistoryQueries(self.session)
        self.user_data = UserDataQueries(self.session)
        self.nudges = NudgeRepository(self)
        self.scheduled_sends = ScheduledSendRepository(self)
        self.groups = GroupRepository(self.session, skip_locked=self.skip_locked)
        self.group_members = GroupMemberRepository(self.session)
        self.challenges = ChallengeRepository(self.session, insert_once=self.insert_once)
        self.submissions = SubmissionRepository(self.session)
        self.group_activity = GroupActivityQueries(self.session)
        self.revisions = RevisionQueries(self.session)
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

    def insert_once(
        self,
        model: type[Any],
        values: dict[str, Any] | list[dict[str, Any]],
        unique: Sequence[str],
    ) -> postgresql.Insert | sqlite.Insert:
        """INSERT … ON CONFLICT (unique) DO NOTHING, for whichever back-end this is.

        Recording an occurrence under its unique key this way makes a second claim of
        the same occurrence (another process, a retry) a no-op instead of an error.
        A list of rows becomes one multi-row statement.
        """
        if not self.skip_locked:
            return (
                sqlite.insert(model)
                .values(values)
                .on_conflict_do_nothing(index_elements=list(unique))
            )
        # Imported on PostgreSQL only: the dialect costs a SQLite bot ~2 MB at start.
        from sqlalchemy.dialects import postgresql

        return (
            postgresql.insert(model)
            .values(values)
            .on_conflict_do_nothing(index_elements=list(unique))
        )

    async def commit(self) -> None:
        """Make the work so far durable."""
        await self.session.commit()

    async def scrub_log(self) -> None:
        """After a commit that erased data: leave no copy of it in SQLite's write-ahead log.

        With secure_delete (storage/database.py) the erasing transaction wrote zeros over
        what it removed, but the log still holds the pages as earlier transactions wrote
        them, until a checkpoint copies the new ones into the file and the log is reset.
        Reset here, at once, rather than some thousand pages later. Not done on PostgreSQL,
        where dead rows stay in their pages until VACUUM frees them for later writes.
        """
        if self.skip_locked:
            return
        await self.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(session_factory: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """A zero-argument factory for services."""
    return lambda: UnitOfWork(session_factory)
