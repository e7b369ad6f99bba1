"""Repositories: typed queries over one session. They never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Draft, DraftReview, Post, Profile, Rewrite, User


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


class DraftRepository:
    """Drafts, their reviews and the posts made from them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, draft: Draft) -> None:
        """Stage a new draft."""
        self._session.add(draft)

    async def get(self, draft_id: int) -> Draft | None:
        """A draft by id."""
        return await self._session.get(Draft, draft_id)

    def add_review(self, review: DraftReview) -> None:
        """Stage a review (with its items)."""
        self._session.add(review)

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

    async def count_since(self, user_id: int, since: datetime, statuses: tuple[str, ...]) -> int:
        """How many of the user's rewrites with these statuses were made from `since` on."""
        statement = select(func.count()).where(
            Rewrite.user_id == user_id,
            Rewrite.created_at >= since,
            Rewrite.status.in_(statuses),
        )
        return (await self._session.execute(statement)).scalar_one()
