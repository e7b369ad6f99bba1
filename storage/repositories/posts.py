"""Posts the user reported and their results (what the user said of how each went)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.models import Post, PostResult

if TYPE_CHECKING:
    from storage.uow import UnitOfWork


class PostRepository:
    """Posts, the claim of their due results questions, and their results."""

    def __init__(self, uow: UnitOfWork) -> None:
        # The unit of work, not only its session: the claim needs its dialect's
        # skip_locked, written once there for every claim.
        self._uow = uow
        self._session = uow.session

    async def get(self, post_id: int) -> Post | None:
        """A post by id."""
        return await self._session.get(Post, post_id)

    async def add(self, post: Post) -> None:
        """Stage a post and flush it, so that its id is known before the commit."""
        self._session.add(post)
        await self._session.flush()

    async def get_for_review(self, review_id: int) -> Post | None:
        """The post already recorded from a review, if any."""
        statement = select(Post).where(Post.review_id == review_id).limit(1)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def list_results_due(self, now: datetime, limit: int) -> Sequence[Post]:
        """Up to `limit` posts whose results question is due and not yet asked, the
        earliest due first; locked until commit where the database can (SKIP LOCKED)."""
        statement = (
            select(Post)
            .where(Post.results_due_at <= now, Post.results_asked_at.is_(None))
            .order_by(Post.results_due_at)
            .limit(limit)
        )
        if self._uow.skip_locked:
            statement = statement.with_for_update(skip_locked=True)
        return (await self._session.execute(statement)).scalars().all()

    async def get_result(self, post_id: int) -> PostResult | None:
        """What the user answered about a post so far, if anything."""
        return await self._session.get(PostResult, post_id)

    def add_result(self, result: PostResult) -> None:
        """Stage the first answer about a post."""
        self._session.add(result)
