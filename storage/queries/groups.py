"""Read models for groups: the drafts reviewed in a group over a period, the members
behind them, the checklist items they missed, and what revising gained (a draft's chain).
They only read, and hand back frozen values."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Draft, DraftReview, GroupMember, ReviewItem, Submission


@dataclass(frozen=True)
class SubmissionEntry:
    """One reviewed draft counted for a group: whose, its review and score, who asked."""

    user_id: int
    review_id: int | None
    score: int
    requested_by: int | None


@dataclass(frozen=True)
class MemberEntry:
    """A member as a group's leaderboard and recap name them."""

    user_id: int
    display_name: str
    opted_out: bool


@dataclass(frozen=True)
class ChainGain:
    """A revised draft's chain (its root draft's id) and the score revising gained."""

    chain_id: int
    gain: int


class GroupActivityQueries:
    """What members did in a group: their submissions, names and missed checklist items."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_submissions(
        self, chat_id: int, since: datetime, until: datetime | None = None
    ) -> list[SubmissionEntry]:
        """The group's submissions from `since` (up to `until`, excluded), oldest first."""
        statement = select(
            Submission.user_id, Submission.review_id, Submission.score, Submission.requested_by
        ).where(Submission.chat_id == chat_id, Submission.created_at >= since)
        if until is not None:
            statement = statement.where(Submission.created_at < until)
        rows = await self._session.execute(
            statement.order_by(Submission.created_at, Submission.id)
        )
        return [SubmissionEntry(*row) for row in rows]

    async def list_members(
        self, chat_id: int, user_ids: Collection[int] | None = None
    ) -> list[MemberEntry]:
        """The group's members (only these, when given)."""
        statement = select(
            GroupMember.user_id, GroupMember.display_name, GroupMember.opted_out
        ).where(GroupMember.chat_id == chat_id)
        if user_ids is not None:
            statement = statement.where(GroupMember.user_id.in_(list(user_ids)))
        return [MemberEntry(*row) for row in await self._session.execute(statement)]

    async def list_failed_items(self, review_ids: Sequence[int]) -> list[str]:
        """The checklist items these reviews failed, once per failure."""
        if not review_ids:
            return []
        statement = (
            select(ReviewItem.item_id)
            .join(DraftReview, DraftReview.id == ReviewItem.review_id)
            .where(ReviewItem.review_id.in_(review_ids), ReviewItem.status == "fail")
        )
        return list((await self._session.execute(statement)).scalars())


class RevisionQueries:
    """What revising gained: the score across the versions of one draft (its chain)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def chain_gains(self, review_ids: Sequence[int]) -> dict[int, ChainGain]:
        """For each review whose draft has been revised (or is a revision): its chain's
        root draft id and the score gained from the root's first review to the latest
        version's latest review. Reviews of drafts never revised are left out."""
        if not review_ids:
            return {}
        rows = await self._session.execute(
            select(DraftReview.id, DraftReview.draft_id).where(DraftReview.id.in_(review_ids))
        )
        draft_of = {review_id: draft_id for review_id, draft_id in rows.all()}
        parents: dict[int, int | None] = {}
        frontier = set(draft_of.values())
        while frontier:  # up to the roots
            found = await self._session.execute(
                select(Draft.id, Draft.parent_id).where(Draft.id.in_(frontier))
            )
            frontier = set()
            for draft_id, parent_id in found.all():
                parents[draft_id] = parent_id
                if parent_id is not None and parent_id not in parents:
                    frontier.add(parent_id)
        frontier = set(parents)
        while frontier:  # and down to every version
            found = await self._session.execute(
                select(Draft.id, Draft.parent_id).where(Draft.parent_id.in_(frontier))
            )
            frontier = set()
            for draft_id, parent_id in found.all():
                if draft_id not in parents:
                    parents[draft_id] = parent_id
                    frontier.add(draft_id)

        def root(draft_id: int) -> int:
            while (parent := parents.get(draft_id)) is not None:
                draft_id = parent
            return draft_id

        chains: dict[int, list[int]] = {}
        for draft_id in parents:
            chains.setdefault(root(draft_id), []).append(draft_id)
        revised = {key: ids for key, ids in chains.items() if len(ids) > 1}
        if not revised:
            return {}
        versions = await self._session.execute(
            select(Draft.id, Draft.version, DraftReview.score, DraftReview.id)
            .join(DraftReview, DraftReview.draft_id == Draft.id)
            .where(Draft.id.in_([i for ids in revised.values() for i in ids]))
            .order_by(Draft.version, DraftReview.id)
        )
        scores: dict[int, list[tuple[int, int, int]]] = {}
        chain_of = {draft_id: key for key, ids in revised.items() for draft_id in ids}
        for draft_id, version, score, review_id in versions.all():
            scores.setdefault(chain_of[draft_id], []).append((version, review_id, score))
        gains = {
            key: values[-1][2] - values[0][2] for key, values in scores.items() if len(values) > 1
        }
        return {
            review_id: ChainGain(chain_of[draft_id], gains[chain_of[draft_id]])
            for review_id, draft_id in draft_of.items()
            if draft_id in chain_of and chain_of[draft_id] in gains
        }
