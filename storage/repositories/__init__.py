"""Repositories: typed queries over one session. They never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Draft, DraftReview, Post, Profile, ReviewItem, Rewrite, User
from storage.repositories.groups import GroupRepository as GroupRepository

USERS = cast(Table, User.__table__)
PROFILES = cast(Table, Profile.__table__)
DRAFTS = cast(Table, Draft.__table__)
REVIEWS = cast(Table, DraftReview.__table__)
REVIEW_ITEMS = cast(Table, ReviewItem.__table__)


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

    async def seen(self, user_id: int) -> SeenUser | None:
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


class DraftRepository:
    """Drafts, their reviews and the posts made from them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, draft_id: int) -> Draft | None:
        """A draft by id."""
        return await self._session.get(Draft, draft_id)

    async def insert_draft(
        self,
        *,
        user_id: int,
        chat_id: int,
        parent_id: int | None,
        version: int,
        text: str,
        language: str,
        created_at: datetime,
    ) -> int:
        """Store a new draft at once; its id.

        Plain INSERT … RETURNING statements: for a draft and its review, the ORM's unit of
        work (objects, flush order, identity map) cost more than the statements themselves.
        """
        statement = insert(DRAFTS).returning(DRAFTS.c.id)
        values = {
            "user_id": user_id,
            "chat_id": chat_id,
            "parent_id": parent_id,
            "version": version,
            "text": text,
            "language": language,
            "created_at": created_at,
        }
        return int((await self._session.execute(statement, values)).scalar_one())

    async def insert_review(
        self,
        *,
        draft_id: int,
        user_id: int,
        platform: str,
        language: str,
        score: int,
        top_fixes: list[str],
        created_at: datetime,
        statuses: Sequence[tuple[str, str]],
    ) -> int:
        """Store a review of a stored draft and its items' statuses (item id, status); its id."""
        statement = insert(REVIEWS).returning(REVIEWS.c.id)
        values = {
            "draft_id": draft_id,
            "user_id": user_id,
            "platform": platform,
            "language": language,
            "score": score,
            "top_fixes": top_fixes,
            "created_at": created_at,
        }
        review_id = int((await self._session.execute(statement, values)).scalar_one())
        # One executemany for the statuses: row by row they were most of a review's cost.
        await self._session.execute(
            insert(REVIEW_ITEMS),
            [
                {"review_id": review_id, "item_id": item_id, "position": index, "status": status}
                for index, (item_id, status) in enumerate(statuses)
            ],
        )
        return review_id

    async def recent_times(self, user_id: int, since: datetime, limit: int) -> list[datetime]:
        """When the user's drafts since `since` were made, newest first, `limit` at most."""
        statement = (
            select(Draft.created_at)
            .where(Draft.user_id == user_id, Draft.created_at >= since)
            .order_by(Draft.created_at.desc())
            .limit(limit)
        )
        return list((await self._session.execute(statement)).scalars())

    async def get_review(self, review_id: int) -> DraftReview | None:
        """A review with its draft and items."""
        statement = (
            select(DraftReview)
            .where(DraftReview.id == review_id)
            .options(selectinload(DraftReview.items), selectinload(DraftReview.draft))
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def latest_review(
        self, draft_id: int, platform: str | None = None
    ) -> DraftReview | None:
        """The newest review of a draft, for a platform if given."""
        statement = (
            select(DraftReview)
            .where(DraftReview.draft_id == draft_id)
            .options(selectinload(DraftReview.items))
            .order_by(DraftReview.id.desc())
            .limit(1)
        )
        if platform is not None:
            statement = statement.where(DraftReview.platform == platform)
        return (await self._session.execute(statement)).scalar_one_or_none()

    def add_post(self, post: Post) -> None:
        """Stage a reported post."""
        self._session.add(post)

    async def post_for_review(self, review_id: int) -> Post | None:
        """The post already recorded from a review, if any."""
        statement = select(Post).where(Post.review_id == review_id).limit(1)
        return (await self._session.execute(statement)).scalar_one_or_none()


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


class RewriteRepository:
    """Rewrites the language model suggested."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, rewrite: Rewrite) -> None:
        """Stage a rewrite (or a failed attempt)."""
        self._session.add(rewrite)

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
