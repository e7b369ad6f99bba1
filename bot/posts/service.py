"""Posts the user published: recorded from a review or with /posted, with an optional link."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.coach import PLATFORMS
from bot.localtime.defaults import Clock
from bot.results.service import results_due
from storage.models import Post, utcnow
from storage.uow import UnitOfWork, UnitOfWorkFactory

LINK_DIALOGUE = "post.link"
MAX_LINK_CHARS = 2048
_LINK = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class RecordedPost:
    """A post as the handlers need it."""

    post_id: int
    platform: str
    score: int | None
    created: bool


def parse_link(text: str) -> str | None:
    """The link if the text is one http(s) URL of sensible length."""
    link = text.strip()
    if len(link) > MAX_LINK_CHARS or not _LINK.match(link):
        return None
    return link


class PostService:
    """Records posts, schedules the question about their results, keeps their links."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self._uow = uow
        self._clock = clock

    async def record_from_review(self, review_id: int, user_id: int) -> RecordedPost | None:
        """The user published this reviewed draft: record it once; None if not theirs."""
        async with self._uow() as uow:
            review = await uow.drafts.get_review(review_id)
            if review is None or review.user_id != user_id:
                return None
            existing = await uow.posts.get_for_review(review_id)
            if existing is not None:
                return RecordedPost(existing.id, existing.platform, existing.score, False)
            profile = await uow.profiles.get(user_id)
            post = self._new_post(user_id, review.platform, profile.timezone if profile else None)
            post.draft_id = review.draft_id
            post.review_id = review.id
            post.score = review.score
            await uow.posts.add(post)
            await self._expect_link(uow, user_id, post)
            await uow.commit()
            return RecordedPost(post.id, post.platform, post.score, True)

    async def record(self, user_id: int, platform: str) -> RecordedPost | None:
        """/posted: a post made without a review; None for an unknown platform."""
        if platform not in PLATFORMS:
            return None
        async with self._uow() as uow:
            profile = await uow.profiles.get(user_id)
            post = self._new_post(user_id, platform, profile.timezone if profile else None)
            await uow.posts.add(post)
            await self._expect_link(uow, user_id, post)
            await uow.commit()
            return RecordedPost(post.id, post.platform, None, True)

    def _new_post(self, user_id: int, platform: str, zone: str | None) -> Post:
        now = self._clock()
        return Post(
            user_id=user_id,
            platform=platform,
            posted_at=now,
            results_due_at=results_due(now, zone),
        )

    async def _expect_link(self, uow: UnitOfWork, user_id: int, post: Post) -> None:
        user = await uow.users.get(user_id)
        # Only when nothing else is going on: a link is optional.
        if user is not None and user.dialogue is None:
            user.dialogue = LINK_DIALOGUE
            user.dialogue_data = {"post_id": post.id}

    async def save_link(self, user_id: int, text: str) -> bool | None:
        """Attach a typed link to the post being recorded.

        True when saved, False when the text is not a link (the dialogue ends, so the
        text can be treated as a draft), None when no link was expected.
        """
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.dialogue != LINK_DIALOGUE:
                return None
            post_id = (user.dialogue_data or {}).get("post_id")
            user.dialogue = None
            user.dialogue_data = None
            link = parse_link(text)
            post = await uow.posts.get(post_id) if isinstance(post_id, int) else None
            if link is not None and post is not None and post.user_id == user_id:
                post.link = link
                await uow.commit()
                return True
            await uow.commit()
            return False
