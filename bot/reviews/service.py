"""Draft reviews as a use case: run the checklist, keep drafts and reviews, compare versions."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.coach import PLATFORMS, Checklist, Review
from storage.models import Draft, DraftReview, utcnow
from storage.uow import UnitOfWork, UnitOfWorkFactory

# Telegram caps a message at 4,096 characters; anything longer did not come from chat.
MAX_DRAFT_CHARS = 10_000
REVISE_DIALOGUE = "review.revise"
DEFAULT_PLATFORM = "linkedin"


class DraftRejectedError(Exception):
    """The text cannot be reviewed; `reason` is a text id suffix (empty, too_long,
    too_fast). For too_fast: `tell` whether to answer (once per slow-down), `seconds`
    until drafts are reviewed again."""

    def __init__(self, reason: str, *, tell: bool = True, seconds: int = 0, pace: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tell = tell
        self.seconds = seconds
        self.pace = pace


PACE_WINDOW = timedelta(minutes=1)
DEFAULT_DRAFTS_PER_MINUTE = 10


@dataclass(frozen=True)
class ItemChange:
    """An item whose status differs from the previous version's."""

    item_id: str
    before: str
    after: str


@dataclass(frozen=True)
class Comparison:
    """How a new version did against the version it revises."""

    previous_score: int
    delta: int
    changes: tuple[ItemChange, ...]


@dataclass(frozen=True)
class DraftDefaults:
    """What a review takes from the author's profile: the platform and the topics."""

    main_platform: str | None = None
    topics: tuple[str, ...] = ()

    @classmethod
    def of(cls, main_platform: str | None, topics: Iterable[str] | None) -> DraftDefaults:
        """From a profile's columns (no topics stored counts as none)."""
        return cls(main_platform, tuple(topics or ()))


@dataclass(frozen=True)
class StoredReview:
    """A review as shown to the user, with the ids the buttons refer to."""

    review_id: int
    draft_id: int
    user_id: int
    version: int
    review: Review
    comparison: Comparison | None = None
    text: str = ""  # the draft's own text, where the caller shows it again


def _compare(previous: DraftReview, review: Review) -> Comparison:
    before = {item.item_id: item.status for item in previous.items}
    changes = tuple(
        ItemChange(item.id, before[item.id], item.status)
        for item in review.items
        if item.id in before and before[item.id] != item.status
    )
    return Comparison(previous.score, review.score - previous.score, changes)


def _stored(
    review_id: int,
    draft_id: int,
    user_id: int,
    version: int,
    review: Review,
    previous: DraftReview | None,
) -> StoredReview:
    return StoredReview(
        review_id=review_id,
        draft_id=draft_id,
        user_id=user_id,
        version=version,
        review=review,
        comparison=_compare(previous, review) if previous else None,
    )


class ReviewService:
    """Reviews drafts for users and remembers what happened to them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        checklist: Checklist,
        clock: Callable[[], datetime] = utcnow,
        drafts_per_minute: int = DEFAULT_DRAFTS_PER_MINUTE,
    ) -> None:
        self._uow = uow
        self._checklist = checklist
        self._clock = clock
        self._pace = drafts_per_minute

    def check(self, text: str) -> str:
        """The text stripped, or DraftRejectedError if it cannot be reviewed."""
        text = text.strip()
        if not text:
            raise DraftRejectedError("empty")
        if len(text) > MAX_DRAFT_CHARS:
            raise DraftRejectedError("too_long")
        return text

    def _run(
        self, text: str, platform: str, reply_language: str, topics: Sequence[str] = ()
    ) -> Review:
        return self._checklist.review(
            text, platform=platform, reply_language=reply_language, topics=topics
        )

    async def _defaults(self, uow: UnitOfWork, user_id: int) -> DraftDefaults:
        profile = await uow.profiles.get(user_id)
        if profile is None:
            return DraftDefaults()
        return DraftDefaults.of(profile.main_platform, profile.topics)

    async def _store(self, uow: UnitOfWork, draft_id: int, review: Review, user_id: int) -> int:
        return await uow.drafts.add_review(
            draft_id=draft_id,
            user_id=user_id,
            platform=review.platform,
            language=review.language,
            score=review.score,
            top_fixes=list(review.top_fixes),
            created_at=self._clock(),
            statuses=[(item.id, item.status) for item in review.items],
        )

    def preview(self, text: str, *, reply_language: str) -> Review:
        """A review of a text that belongs to nobody we know (a bot's, a channel's):
        checked and bounded like any draft, and not stored."""
        return self._run(self.check(text), DEFAULT_PLATFORM, reply_language, ())

    async def _keep_pace(self, uow: UnitOfWork, user_id: int) -> None:
        """Refuse a draft over the user's pace (DRAFTS_PER_MINUTE): the first refusal says
        until when (and marks the user slowed down), later ones until then say nothing."""
        now = self._clock()
        recent = await uow.drafts.list_recent_times(user_id, now - PACE_WINDOW, self._pace)
        if len(recent) < self._pace:
            return
        # The oldest of the last `pace` drafts leaves the window first.
        free_at = recent[-1] + PACE_WINDOW
        seconds = max(1, math.ceil((free_at - now).total_seconds()))
        user = await uow.users.get(user_id)
        if user is not None and user.slowed_until is not None and user.slowed_until > now:
            raise DraftRejectedError("too_fast", tell=False, seconds=seconds, pace=self._pace)
        if user is not None:
            user.slowed_until = free_at
            await uow.commit()
        raise DraftRejectedError("too_fast", seconds=seconds, pace=self._pace)

    async def review_draft(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        reply_language: str,
        platform: str | None = None,
        revision_pending: bool = True,
        defaults: DraftDefaults | None = None,
    ) -> StoredReview:
        """Review a new draft, or a new version when the user asked to revise one.

        The platform defaults to the one being revised, then the user's main one.
        What the caller already knows from the account loaded for this update spares a
        query each: `revision_pending=False` (none is), `defaults` (the profile's).
        """
        text = self.check(text)
        async with self._uow() as uow:
            await self._keep_pace(uow, user_id)
            user = await uow.users.get(user_id) if revision_pending else None
            parent: Draft | None = None
            previous: DraftReview | None = None
            if user is not None and user.dialogue == REVISE_DIALOGUE:
                parent_id = (user.dialogue_data or {}).get("draft_id")
                parent = await uow.drafts.get(parent_id) if isinstance(parent_id, int) else None
                if parent is not None and parent.user_id != user_id:
                    parent = None
                user.dialogue = None
                user.dialogue_data = None
            if parent is not None:
                previous = await uow.drafts.get_latest_review(parent.id)
            if defaults is None:
                defaults = await self._defaults(uow, user_id)
            chosen = (
                platform
                or (previous.platform if previous else None)
                or defaults.main_platform
                or DEFAULT_PLATFORM
            )
            review = self._run(text, chosen, reply_language, defaults.topics)
            version = parent.version + 1 if parent else 1
            draft_id = await uow.drafts.add_draft(
                user_id=user_id,
                chat_id=chat_id,
                parent_id=parent.id if parent else None,
                version=version,
                text=text,
                language=review.language,
                created_at=self._clock(),
            )
            review_id = await self._store(uow, draft_id, review, user_id)
            await uow.commit()
            return _stored(review_id, draft_id, user_id, version, review, previous)

    async def reopen(
        self,
        review_id: int,
        user_id: int,
        *,
        reply_language: str,
        platform: str | None = None,
    ) -> StoredReview | None:
        """A review of the user's, for another platform if asked; None if not theirs."""
        if platform is not None and platform not in PLATFORMS:
            return None
        async with self._uow() as uow:
            row = await uow.drafts.get_review(review_id)
            if row is None or row.user_id != user_id:
                return None
            draft = row.draft
            chosen = platform or row.platform
            defaults = await self._defaults(uow, user_id)
            review = self._run(draft.text, chosen, reply_language, defaults.topics)
            previous = None
            if draft.parent_id is not None:
                previous = await uow.drafts.get_latest_review(draft.parent_id, chosen)
            review_id = row.id
            if chosen != row.platform:
                review_id = await self._store(uow, draft.id, review, user_id)
                await uow.commit()
            stored = _stored(review_id, draft.id, user_id, draft.version, review, previous)
            return dataclasses.replace(stored, text=draft.text)

    async def why_refused(self, review_id: int, user_id: int) -> Literal["gone", "not_yours"]:
        """Why a review id was refused: it does not exist (any more), or it is not theirs."""
        async with self._uow() as uow:
            row = await uow.drafts.get_review(review_id)
            return "gone" if row is None or row.user_id == user_id else "not_yours"

    async def start_revision(self, review_id: int, user_id: int) -> bool:
        """Make the user's next draft a new version of this review's draft."""
        async with self._uow() as uow:
            row = await uow.drafts.get_review(review_id)
            user = await uow.users.get(user_id)
            if row is None or user is None or row.user_id != user_id:
                return False
            user.dialogue = REVISE_DIALOGUE
            user.dialogue_data = {"draft_id": row.draft_id}
            await uow.commit()
            return True
