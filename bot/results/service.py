"""How posts went: when to ask (48 hours later, at a decent local hour), and the answers.

The questions go out through the one claim mechanism (bot/claims.py): each is recorded once
under (post, due instant) with a lease, sent, confirmed; a crash between a send and its
confirmation asks it once more after the lease, never twice more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.claims import Batch, ScheduledSendClaims
from bot.localtime.defaults import DEFAULT_ZONE
from bot.localtime.schedule import QuietHours, defer_past_quiet
from storage.models import Post, PostResult, ScheduledSend, User
from storage.repositories.sends import NewScheduledSend
from storage.uow import UnitOfWork

RESULTS_DELAY = timedelta(hours=48)
DEFAULT_QUIET = QuietHours(time(21, 0), time(8, 0))
METRICS: tuple[str, ...] = ("reactions", "comments", "contacts", "opportunity")
NUMBER_METRICS = METRICS[:3]
QUICK_VALUES: tuple[int, ...] = (0, 3, 10, 25, 50, 100)
MAX_COUNT = 1_000_000
RESULTS_DIALOGUE = "results"
CLAIM_BATCH = 50
QUESTION = "results"
# A question a crash left claimed is still worth asking this long after it was due.
GRACE = timedelta(hours=24)


class InvalidResultError(Exception):
    """The answer is not a count (or yes/no) in range; `reason` is a text id suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResultsQuestion:
    """A post whose results are due to be asked about, claimed under `send_id`."""

    send_id: int
    post_id: int
    user_id: int
    platform: str
    posted_at: datetime
    language: str | None
    telegram_language: str | None


@dataclass(frozen=True)
class ResultsProgress:
    """Where the answers to one post stand."""

    post_id: int
    platform: str
    next_metric: str | None


def results_due(posted_at: datetime, zone: str | None) -> datetime:
    """48 hours after posting, moved out of the night in the user's time zone."""
    return defer_past_quiet(posted_at + RESULTS_DELAY, zone or DEFAULT_ZONE, DEFAULT_QUIET)


def parse_counts(text: str) -> list[int]:
    """Whole numbers typed by the user ("25", "25 4 1", "25, 4, 1"), each within bounds."""
    numbers = re.findall(r"\d+", text[:200])
    if not numbers or re.search(r"[^\d\s,;./]", text.strip()):
        raise InvalidResultError("not_number")
    values = [int(n) for n in numbers[:3]]
    if any(value > MAX_COUNT for value in values):
        raise InvalidResultError("too_big")
    return values


def parse_yes_no(text: str) -> bool:
    """Yes or no, in Italian or English."""
    word = text.strip().lower()[:10]
    if word in ("sì", "si", "yes", "y", "s", "1"):
        return True
    if word in ("no", "n", "0"):
        return False
    raise InvalidResultError("not_yes_no")


class ResultsService(ScheduledSendClaims[ResultsQuestion]):
    """Asks about posts when due and stores what the user answers."""

    kind = QUESTION
    grace = GRACE

    async def claim_batch(
        self, limit: int = CLAIM_BATCH, *, tick_started: datetime | None = None
    ) -> Batch[ResultsQuestion]:
        """Record the questions due now (once each) and take over those a crash left
        claimed; what to ask, and how many posts and claims were handled."""
        now = self._clock()
        async with self._uow() as uow:
            questions = []
            due = await uow.posts.list_results_due(now, limit)
            for post in due:
                post.results_asked_at = now
                user = await uow.users.get(post.user_id)
                if user is None or not user.is_active or post.results_due_at is None:
                    continue
                send_id = await uow.scheduled_sends.add_once(
                    NewScheduledSend(
                        QUESTION, post.id, post.user_id, post.results_due_at, user_id=user.id
                    ),
                    claimed_at=now,
                )
                if send_id is None:
                    continue
                questions.append(_question(send_id, post, user))
                if user.dialogue is None:
                    # Typed numbers answer this post until the user is done with it.
                    user.dialogue = RESULTS_DIALOGUE
                    user.dialogue_data = {"post_id": post.id, "metric": METRICS[0]}
            taken, given_up = await self._take_over(uow, now, limit)
            await uow.commit()
        return Batch(questions + taken, handled=len(due) + len(taken) + given_up)

    async def _rebuild(self, uow: UnitOfWork, send: ScheduledSend) -> ResultsQuestion | None:
        post = await uow.posts.get(send.subject_id)
        user = await uow.users.get(send.chat_id)
        if post is None or user is None or not user.is_active:
            return None
        return _question(send.id, post, user)

    async def answer(
        self, user_id: int, post_id: int, metric: str, value: int | bool | None
    ) -> ResultsProgress | None:
        """Store one answer (None = skipped); None if the post is not the user's."""
        if metric not in METRICS:
            return None
        async with self._uow() as uow:
            post = await uow.posts.get(post_id)
            if post is None or post.user_id != user_id:
                return None
            result = await uow.posts.get_result(post_id)
            if result is None:
                result = PostResult(post_id=post_id, user_id=user_id, answered_at=self._clock())
                uow.posts.add_result(result)
            if value is not None:
                setattr(result, metric, value)
            result.answered_at = self._clock()
            index = METRICS.index(metric) + 1
            following = METRICS[index] if index < len(METRICS) else None
            user = await uow.users.get(user_id)
            if user is not None and user.dialogue == RESULTS_DIALOGUE:
                if (user.dialogue_data or {}).get("post_id") == post_id and following:
                    user.dialogue_data = {"post_id": post_id, "metric": following}
                elif (user.dialogue_data or {}).get("post_id") == post_id:
                    user.dialogue = None
                    user.dialogue_data = None
            await uow.commit()
            return ResultsProgress(post_id, post.platform, following)

    async def answer_text(self, user_id: int, text: str) -> ResultsProgress | None:
        """A typed answer to the open question; several numbers fill several counts."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            data = (user.dialogue_data or {}) if user else {}
        post_id, metric = data.get("post_id"), data.get("metric")
        if not isinstance(post_id, int) or metric not in METRICS:
            return None
        if metric == "opportunity":
            return await self.answer(user_id, post_id, metric, parse_yes_no(text))
        progress: ResultsProgress | None = None
        values = parse_counts(text)
        start = NUMBER_METRICS.index(metric)
        for offset, value in enumerate(values[: len(NUMBER_METRICS) - start]):
            progress = await self.answer(user_id, post_id, NUMBER_METRICS[start + offset], value)
        return progress


def _question(send_id: int, post: Post, user: User) -> ResultsQuestion:
    return ResultsQuestion(
        send_id,
        post.id,
        post.user_id,
        post.platform,
        post.posted_at,
        user.language,
        user.telegram_language,
    )
