"""Drafts and their reviews (with each checklist item's status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Draft, DraftReview, ReviewItem

DRAFTS = cast(Table, Draft.__table__)
REVIEWS = cast(Table, DraftReview.__table__)
REVIEW_ITEMS = cast(Table, ReviewItem.__table__)


class DraftRepository:
    """Drafts and their reviews."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, draft_id: int) -> Draft | None:
        """A draft by id."""
        return await self._session.get(Draft, draft_id)

    async def add_draft(
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

    async def add_review(
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

    async def list_recent_times(self, user_id: int, since: datetime, limit: int) -> list[datetime]:
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

    async def get_latest_review(
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
