"""The user's draft history: recent drafts a page at a time, and reopening one of them.

Pages are numbered from 0. Out-of-range input is bounded rather than refused, because it
comes from callback buttons that can outlive the data they were drawn from: a page past
the end shows the last page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.queries import DraftSummary
from storage.uow import UnitOfWorkFactory

DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 20
HEADLINE_CHARS = 60
ELLIPSIS = "…"
# Enough of the text to find a first line worth showing, without loading whole drafts.
_HEAD_CHARS = 4 * HEADLINE_CHARS


@dataclass(frozen=True)
class HistoryEntry:
    """One draft in the list, with its latest review, if any, and whether it was posted."""

    draft_id: int
    version: int
    headline: str
    created_at: datetime
    review_id: int | None
    score: int | None
    platform: str | None
    posted: bool


@dataclass(frozen=True)
class HistoryPage:
    """One page of drafts, newest first."""

    entries: tuple[HistoryEntry, ...]
    page: int
    pages: int
    total: int
    size: int

    @property
    def has_previous(self) -> bool:
        """Whether there is a newer page."""
        return self.page > 0

    @property
    def has_next(self) -> bool:
        """Whether there is an older page."""
        return self.page + 1 < self.pages


def headline(text: str, limit: int = HEADLINE_CHARS) -> str:
    """The first non-blank line of a text, cut to `limit` characters with an ellipsis."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) <= limit:
        return line
    return line[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _entry(summary: DraftSummary) -> HistoryEntry:
    return HistoryEntry(
        draft_id=summary.draft_id,
        version=summary.version,
        headline=headline(summary.head),
        created_at=summary.created_at,
        review_id=summary.review_id,
        score=summary.score,
        platform=summary.platform,
        posted=summary.posted,
    )


class HistoryService:
    """Lists a user's drafts and reopens the ones that are theirs."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def page(self, user_id: int, page: int, size: int = DEFAULT_PAGE_SIZE) -> HistoryPage:
        """A page of the user's drafts, newest first (page from 0, size 1 to 20)."""
        size = min(max(size, 1), MAX_PAGE_SIZE)
        async with self._uow() as uow:
            total = await uow.history.count_drafts(user_id)
            # One page even when empty, so "page 1 of 1" needs no special case.
            pages = max(1, -(-total // size))
            page = min(max(page, 0), pages - 1)
            summaries = await uow.history.list_drafts(
                user_id, offset=page * size, limit=size, head_chars=_HEAD_CHARS
            )
        return HistoryPage(
            entries=tuple(_entry(summary) for summary in summaries),
            page=page,
            pages=pages,
            total=total,
            size=size,
        )

    async def open_draft(self, user_id: int, draft_id: int) -> int | None:
        """The id of the draft's latest review if the draft is the user's, else None."""
        async with self._uow() as uow:
            return await uow.history.latest_review_id(user_id, draft_id)
