"""The user's drafts for /history: a page at a time, each with its latest review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Draft, DraftReview, Post


@dataclass(frozen=True)
class DraftSummary:
    """One draft for a history list, with its latest review and whether it was posted."""

    draft_id: int
    version: int
    head: str
    created_at: datetime
    review_id: int | None
    score: int | None
    platform: str | None
    posted: bool


class HistoryQueries:
    """The user's drafts, newest first, one page at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_drafts(self, user_id: int) -> int:
        """How many drafts the user has."""
        statement = select(func.count(Draft.id)).where(Draft.user_id == user_id)
        return (await self._session.execute(statement)).scalar_one()

    async def list_drafts(
        self, user_id: int, *, offset: int, limit: int, head_chars: int
    ) -> list[DraftSummary]:
        """A page of drafts with their latest review and whether a post came from them."""
        latest_review = (
            select(func.max(DraftReview.id))
            .where(DraftReview.draft_id == Draft.id)
            .correlate(Draft)
            .scalar_subquery()
        )
        # Filtering on the user as well lets the (user_id, posted_at) index serve the lookup.
        posted = exists().where(Post.user_id == user_id, Post.draft_id == Draft.id)
        statement = (
            select(
                Draft.id,
                Draft.version,
                # Only the head travels: a history line shows the first line, never the text.
                func.substr(Draft.text, 1, head_chars, type_=Text),
                Draft.created_at,
                DraftReview.id,
                DraftReview.score,
                DraftReview.platform,
                posted,
            )
            .select_from(Draft)
            .outerjoin(DraftReview, DraftReview.id == latest_review)
            .where(Draft.user_id == user_id)
            .order_by(Draft.created_at.desc(), Draft.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = await self._session.execute(statement)
        return [
            DraftSummary(
                draft_id, version, head or "", created_at, review_id, score, platform, bool(sent)
            )
            for draft_id, version, head, created_at, review_id, score, platform, sent in rows
        ]

    async def latest_review_id(self, user_id: int, draft_id: int) -> int | None:
        """The newest review of the draft, only if the draft belongs to the user."""
        statement = (
            select(DraftReview.id)
            .join(Draft, Draft.id == DraftReview.draft_id)
            .where(Draft.id == draft_id, Draft.user_id == user_id)
            .order_by(DraftReview.id.desc())
            .limit(1)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()
