"""Rewrites as a use case: ask the language model, let the checklist judge, keep the record.

Two steps, so the handler can tell the user it is working in between: `prepare` checks the
review is the caller's and the daily limit and reserves one of the day's rewrites (no
network), `suggest` asks the model, reviews the answer with the same checklist and platform
as the draft, runs the fact guard and stores the outcome on the reservation. The checklist
has the last word: the user sees the rewrite's score next to the draft's, every figure,
name or link the draft does not have, and whether it scores lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from bot.coach import PLATFORMS, Checklist, Review
from bot.localtime.defaults import Clock
from bot.localtime.schedule import load_zone
from bot.profiles.service import DEFAULT_ZONE
from bot.reviews.service import MAX_DRAFT_CHARS
from bot.rewrite.client import ChatClient, ErrorKind, ModelError
from bot.rewrite.facts import Fact, new_facts
from bot.rewrite.prompt import Finding, RewritePrompts, RewriteRequest
from bot.texts.catalog import Texts
from storage.models import Rewrite, utcnow
from storage.uow import UnitOfWorkFactory

RefusalReason = Literal["not_yours", "limit"]
# Only rewrites the user received count against the limit: a failed call is not their fault.
COUNTED_STATUSES = ("ok",)
# A rewrite asked for and not answered yet. It counts too, or presses at once (from several
# chats) each found the limit not reached and each called the model: 12 calls against 3.
RESERVED = "pending"
# A reservation older than this many model time-outs was left by a process that died: it
# no longer counts.
RESERVATION_TIMEOUTS = 3
# The model is asked to stay within this even where the platform allows more: the rewrite
# has to fit one Telegram message with its scores.
MAX_REWRITE_CHARS = 3000


class RewriteRefusedError(Exception):
    """No rewrite for this caller now; `reason` is `not_yours` or `limit`."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


class RewriteFailedError(Exception):
    """The model gave no usable rewrite; `kind` is `timeout`, `server` or `malformed`."""

    def __init__(self, kind: ErrorKind) -> None:
        super().__init__(kind)
        self.kind: ErrorKind = kind


@dataclass(frozen=True)
class RewriteJob:
    """A rewrite the caller may have, ready to be asked for."""

    review_id: int
    user_id: int
    rewrite_id: int
    draft: str
    platform: str
    draft_score: int
    reply_language: str
    topics: tuple[str, ...]
    request: RewriteRequest
    used_today: int


@dataclass(frozen=True)
class SuggestedRewrite:
    """A rewrite as the user is shown it."""

    text: str
    review: Review
    draft_score: int
    new_facts: tuple[Fact, ...]
    remaining: int

    @property
    def lower(self) -> bool:
        """Whether the checklist likes the rewrite less than the draft."""
        return self.review.score < self.draft_score

    @property
    def delta(self) -> int:
        """The rewrite's score minus the draft's."""
        return self.review.score - self.draft_score


def start_of_day(now: datetime, zone: str) -> datetime:
    """Midnight of `now`'s day in the zone, as an aware instant."""
    tz = load_zone(zone)
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


class RewriteService:
    """Suggests rewrites of reviewed drafts, within a daily limit per user."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        checklist: Checklist,
        client: ChatClient,
        prompts: RewritePrompts,
        texts: Texts,
        *,
        daily_limit: int,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self._checklist = checklist
        self._client = client
        self._prompts = prompts
        self._texts = texts
        self._clock = clock
        self.daily_limit = daily_limit

    @property
    def timeout_seconds(self) -> float:
        """How long the user may wait for the model."""
        return self._client.timeout_seconds

    async def prepare(self, review_id: int, user_id: int, *, reply_language: str) -> RewriteJob:
        """The job for the caller's review, one of today's rewrites reserved for it;
        RewriteRefusedError if not theirs or over the limit."""
        now = self._clock()
        async with self._uow() as uow:
            row = await uow.drafts.get_review(review_id)
            if row is None or row.user_id != user_id:
                raise RewriteRefusedError("not_yours")
            # Counted and reserved in one transaction, one at a time per user.
            await uow.rewrites.lock_user(user_id)
            profile = await uow.profiles.get(user_id)
            zone = (profile.timezone if profile else None) or DEFAULT_ZONE
            abandoned = timedelta(seconds=self.timeout_seconds * RESERVATION_TIMEOUTS)
            used = await uow.rewrites.count_since(
                user_id,
                start_of_day(now, zone),
                COUNTED_STATUSES,
                reserved=RESERVED,
                reserved_after=now - abandoned,
            )
            if used >= self.daily_limit:
                raise RewriteRefusedError("limit")
            reservation = Rewrite(
                user_id=user_id,
                review_id=review_id,
                status=RESERVED,
                draft_score=row.score,
                new_facts=[],
                created_at=now,
            )
            await uow.rewrites.add(reservation)
            rewrite_id = reservation.id
            draft = row.draft.text
            platform = row.platform
            draft_score = row.score
            role = profile.role if profile else None
            topics = tuple(profile.topics) if profile else ()
            audience = tuple(profile.audience) if profile else ()
            language = row.language
            await uow.commit()
        # The findings are put to the model in the draft's language, whatever the user reads.
        review = self._checklist.review(
            draft, platform=platform, reply_language=language, topics=topics
        )
        findings = tuple(
            Finding(
                item=self._checklist.item_title(item.id, language),
                status=item.status,
                reason=item.reason,
                suggestion=item.suggestion,
            )
            for status in ("fail", "warn")
            for item in review.items
            if item.status == status
        )
        audience_names = tuple(
            self._texts.raw(language, f"audiences.{name}")
            for name in audience
            if f"audiences.{name}" in self._texts.ids()
        )
        request = RewriteRequest(
            draft=draft,
            language=language,
            platform=self._checklist.platform_name(platform),
            limit=min(self._checklist.max_chars(platform), MAX_REWRITE_CHARS),
            role=role,
            audience=audience_names,
            topics=topics,
            findings=findings,
        )
        return RewriteJob(
            review_id=review_id,
            user_id=user_id,
            rewrite_id=rewrite_id,
            draft=draft,
            platform=platform,
            draft_score=draft_score,
            reply_language=reply_language,
            topics=topics,
            request=request,
            used_today=used,
        )

    async def suggest(self, job: RewriteJob) -> SuggestedRewrite:
        """Ask the model, review its answer, guard the facts, record it; RewriteFailedError."""
        try:
            text = await self._client.complete(self._prompts.messages(job.request))
            if len(text) > MAX_DRAFT_CHARS:
                raise ModelError("malformed")
        except ModelError as error:
            await self._record(job, error.kind)
            raise RewriteFailedError(error.kind) from None
        review = self._checklist.review(
            text, platform=job.platform, reply_language=job.reply_language, topics=job.topics
        )
        # Naming a platform is no invented fact.
        known = [self._checklist.platform_name(platform) for platform in PLATFORMS]
        facts = new_facts(job.draft, text, known=known)
        await self._record(job, "ok", text=text, score=review.score, facts=facts)
        return SuggestedRewrite(
            text=text,
            review=review,
            draft_score=job.draft_score,
            new_facts=facts,
            remaining=max(self.daily_limit - job.used_today - 1, 0),
        )

    async def _record(
        self,
        job: RewriteJob,
        status: str,
        *,
        text: str | None = None,
        score: int | None = None,
        facts: tuple[Fact, ...] = (),
    ) -> None:
        """The outcome, on the job's reservation (gone if /delete erased it meanwhile)."""
        async with self._uow() as uow:
            rewrite = await uow.rewrites.get(job.rewrite_id)
            if rewrite is None:
                return
            rewrite.status = status
            rewrite.text = text
            rewrite.score = score
            rewrite.new_facts = [fact.text for fact in facts]
            rewrite.created_at = self._clock()
            await uow.commit()

    async def aclose(self) -> None:
        """Close the model client's connections."""
        await self._client.aclose()
