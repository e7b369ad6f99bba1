"""Groups and channels as a use case: membership, settings, challenges, submissions,
the leaderboard, the weekly recap and channel tips.

Challenges and tips go through the one claim mechanism (bot/claims.py): the database
says what is due, the tick claims it (SKIP LOCKED on PostgreSQL), advances the group and
records the post once in the ledger under (kind, group, due instant) with a lease, in one
transaction; the post is confirmed once sent. A claim never confirmed (the process died
between the send and its confirmation) is taken over once after its lease: posted again
at most once. `ChallengeClaims` and `TipClaims` are the two ledgers' sources; what they
share is `GroupPostClaims`', on the ledger's `ScheduledSendClaims` (lease, take-over,
outcomes).
"""

from __future__ import annotations

from abc import abstractmethod
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import TypeVar

from bot.claims import LEASE, Batch, ScheduledSendClaims
from bot.localtime.defaults import DEFAULT_AT, DEFAULT_TIME, DEFAULT_ZONE, Clock
from bot.localtime.schedule import WeeklyRule, load_zone, next_occurrence, parse_local_time
from bot.localtime.zones import COMMON_ZONES
from bot.nudges.compose import choose_idea
from bot.settings import LANGUAGES
from storage.models import ScheduledSend, utcnow
from storage.queries.groups import ChainGain, SubmissionEntry
from storage.repositories.groups import ChallengeRecord, GroupRecord
from storage.repositories.sends import NewScheduledSend
from storage.uow import UnitOfWork, UnitOfWorkFactory

GROUP_TYPES = ("group", "supergroup")
CHANNEL = "channel"
REVIEW_MODES = ("short", "full")
TIME_CHOICES = ("09:00", "12:30", "18:00")
TIP_DAY = 1  # Tuesday
TIP_TIME = time(10, 0)
TIP_COUNT = 8
MAX_THEME_CHARS = 200
CLAIM_BATCH = 50
# A challenge reply older than this no longer counts for that challenge.
CHALLENGE_WINDOW = timedelta(days=7)
# The ledger's kinds for a group's posts (scheduled_sends.kind).
CHALLENGE = "challenge"
TIP = "tip"
# A claim left unconfirmed longer than this is not posted again: a Monday challenge or a
# Tuesday tip still makes sense the same morning, not the next day. Much longer than any
# lease, so only an outage or a long crash loop reaches it.
POST_GRACE = timedelta(hours=6)


@dataclass(frozen=True)
class GroupView:
    """A group's settings as the handlers show them."""

    chat_id: int
    type: str
    title: str
    language: str
    is_active: bool
    review_mode: str
    timezone: str
    challenge_enabled: bool
    challenge_day: int
    challenge_time: str
    challenge_theme: str | None
    tip_enabled: bool


@dataclass(frozen=True)
class Recap:
    """How the past week went in a group."""

    participants: int
    submissions: int
    missing: tuple[str, ...]
    best_name: str | None
    best_delta: int


@dataclass(frozen=True)
class DueChallenge:
    """A claimed challenge to post now (`send_id`: its ledger row), and the recap of the
    week before it."""

    send_id: int
    challenge_id: int
    chat_id: int
    language: str
    idea: str
    theme: str | None
    recap: Recap | None


@dataclass(frozen=True)
class DueTip:
    """A claimed channel tip to post now (`send_id`: its ledger row)."""

    send_id: int
    chat_id: int
    language: str
    turn: int


@dataclass(frozen=True)
class LeaderboardRow:
    """One member's month: their drafts, what revising gained, reviews asked for others."""

    name: str
    submissions: int
    # Points gained across the versions of a draft, averaged over the member's revised
    # drafts this month; None when none was revised.
    improvement: int | None
    asked_for_others: int


def _average(values: Iterable[int]) -> int | None:
    """The rounded mean, None for no values."""
    listed = list(values)
    return round(sum(listed) / len(listed)) if listed else None


def _view(group: GroupRecord) -> GroupView:
    return GroupView(
        chat_id=group.chat_id,
        type=group.type,
        title=group.title,
        language=group.language,
        is_active=group.is_active,
        review_mode=group.review_mode,
        timezone=group.timezone,
        challenge_enabled=group.challenge_enabled,
        challenge_day=group.challenge_day,
        challenge_time=group.challenge_time,
        challenge_theme=group.challenge_theme,
        tip_enabled=group.tip_enabled,
    )


def _challenge_due(group: GroupRecord, after: datetime) -> datetime | None:
    if not group.challenge_enabled or not group.is_active:
        return None
    at = parse_local_time(group.challenge_time) or DEFAULT_AT
    return next_occurrence(WeeklyRule(frozenset({group.challenge_day}), at, group.timezone), after)


def _tip_due(group: GroupRecord, after: datetime) -> datetime | None:
    if not group.tip_enabled or not group.is_active:
        return None
    return next_occurrence(WeeklyRule(frozenset({TIP_DAY}), TIP_TIME, group.timezone), after)


def _rescheduled(group: GroupRecord, now: datetime) -> GroupRecord:
    """The group with its next challenge and tip computed from its settings."""
    return replace(
        group, next_challenge_at=_challenge_due(group, now), next_tip_at=_tip_due(group, now)
    )


def _chain_gains_per_member(
    entries: Iterable[SubmissionEntry], gains: dict[int, ChainGain]
) -> dict[int, dict[int, int]]:
    """Per member, the gain of each of their revised drafts' chains."""
    per_member: dict[int, dict[int, int]] = defaultdict(dict)
    for entry in entries:
        if entry.review_id in gains:
            found = gains[entry.review_id]
            per_member[entry.user_id][found.chain_id] = found.gain
    return per_member


async def _recap(uow: UnitOfWork, chat_id: int, since: datetime, until: datetime) -> Recap:
    """How the group's week between two challenges went."""
    entries = await uow.group_activity.list_submissions(chat_id, since, until)
    scores: dict[int, list[int]] = defaultdict(list)
    review_ids = []
    for entry in entries:
        scores[entry.user_id].append(entry.score)
        if entry.review_id is not None:
            review_ids.append(entry.review_id)
    missing = Counter(await uow.group_activity.list_failed_items(review_ids))
    improved = _chain_gains_per_member(entries, await uow.revisions.chain_gains(review_ids))
    best_name, best_delta = None, 0
    members = (
        {m.user_id: m for m in await uow.group_activity.list_members(chat_id, list(scores))}
        if scores
        else {}
    )
    for user_id in scores:
        member = members.get(user_id)
        delta = _average(improved[user_id].values())
        if member and not member.opted_out and delta is not None and delta > best_delta:
            best_name, best_delta = member.display_name, delta
    top = tuple(item for item, _ in sorted(missing.items(), key=lambda kv: (-kv[1], kv[0])))
    return Recap(len(scores), len(entries), top[:3], best_name, best_delta)


class GroupService:
    """Everything postcoach keeps and decides about groups and channels."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock = utcnow, lease: timedelta = LEASE
    ) -> None:
        self._uow = uow
        self._clock = clock
        # The tick's two claim sources (bot/groups/dispatch.py).
        self.challenges = ChallengeClaims(uow, clock, lease)
        self.tips = TipClaims(uow, clock, lease)

    # ---------------------------------------------------------------- membership

    async def joined(self, chat_id: int, chat_type: str, title: str, language: str) -> bool:
        """The bot was added (or made admin); True when the chat is new or was left before."""
        async with self._uow() as uow:
            known = await uow.groups.get(chat_id)
            fresh = known is None or not known.is_active
            group = known or GroupRecord(
                chat_id=chat_id,
                type=chat_type,
                title="",
                language=language if language in LANGUAGES else LANGUAGES[0],
                is_active=True,
                review_mode="short",
                timezone=DEFAULT_ZONE,
                challenge_enabled=False,
                challenge_day=0,
                challenge_time=DEFAULT_TIME,
                challenge_theme=None,
                tip_enabled=False,
                tip_turn=0,
                next_challenge_at=None,
                next_tip_at=None,
            )
            group = replace(group, type=chat_type, title=title[:256], is_active=True)
            group = _rescheduled(group, self._clock())
            if known is None:
                await uow.groups.add(group, added_at=self._clock())
            else:
                await uow.groups.update(group)
            await uow.commit()
            return fresh

    async def left(self, chat_id: int) -> None:
        """The bot was removed: the chat's schedules stop."""
        async with self._uow() as uow:
            group = await uow.groups.get(chat_id)
            if group is not None:
                await uow.groups.update(
                    replace(group, is_active=False, next_challenge_at=None, next_tip_at=None)
                )
                await uow.commit()

    async def get(self, chat_id: int) -> GroupView | None:
        """A known group's settings."""
        async with self._uow() as uow:
            group = await uow.groups.get(chat_id)
            return _view(group) if group is not None else None

    async def channels(self) -> list[GroupView]:
        """Every channel the bot is in (the caller checks who administers which)."""
        async with self._uow() as uow:
            return [_view(group) for group in await uow.groups.list_active(CHANNEL)]

    # ---------------------------------------------------------------- settings

    async def change(self, chat_id: int, field: str, value: str) -> GroupView | None:
        """Change one setting; None when the value is not allowed."""
        async with self._uow() as uow:
            group = await uow.groups.get(chat_id)
            changed = _apply(group, field, value) if group is not None else None
            if changed is None:
                return None
            changed = _rescheduled(changed, self._clock())
            await uow.groups.update(changed)
            await uow.commit()
            return _view(changed)

    # ---------------------------------------------------------------- challenges

    async def challenge_for(self, chat_id: int, reply_to_message_id: int | None) -> int | None:
        """The challenge a message answers: the one replied to, else this week's, if any."""
        since = self._clock() - CHALLENGE_WINDOW
        async with self._uow() as uow:
            if reply_to_message_id is not None:
                found = await uow.challenges.get_id_by_message(
                    chat_id, reply_to_message_id, posted_since=since
                )
                if found is not None:
                    return found
            return await uow.challenges.get_latest_posted_id(chat_id, since)

    async def is_challenge_message(self, chat_id: int, message_id: int) -> bool:
        """Whether a message is one of the challenges posted in this chat."""
        async with self._uow() as uow:
            return await uow.challenges.get_id_by_message(chat_id, message_id) is not None

    # ---------------------------------------------------------------- members

    async def record_submission(
        self,
        chat_id: int,
        user_id: int,
        display_name: str,
        review_id: int,
        score: int,
        challenge_id: int | None,
        requested_by: tuple[int, str] | None = None,
    ) -> None:
        """Count a member's reviewed draft for the group's leaderboard and recap;
        `requested_by`: the member (id, name) who asked for it, when not the author."""
        async with self._uow() as uow:
            for member_id, name in (
                (user_id, display_name),
                *([requested_by] if requested_by else []),
            ):
                await uow.group_members.save(chat_id, member_id, name[:128])
            await uow.submissions.add(
                chat_id=chat_id,
                user_id=user_id,
                challenge_id=challenge_id,
                review_id=review_id,
                score=score,
                created_at=self._clock(),
                requested_by=requested_by[0] if requested_by else None,
            )
            await uow.commit()

    async def set_opted_out(
        self, chat_id: int, user_id: int, display_name: str, opted_out: bool
    ) -> None:
        """Leave (or rejoin) the group's leaderboard."""
        async with self._uow() as uow:
            await uow.group_members.save(chat_id, user_id, display_name[:128], opted_out)
            await uow.commit()

    async def leaderboard(self, chat_id: int) -> list[LeaderboardRow]:
        """This month's drafts per member (opted-out excluded): most improved first, then
        most drafts, then by name; members with no revised draft after those who have."""
        now = self._clock()
        async with self._uow() as uow:
            group = await uow.groups.get(chat_id)
            tz = load_zone(group.timezone if group else DEFAULT_ZONE)
            local = now.astimezone(tz)
            month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            entries = await uow.group_activity.list_submissions(chat_id, month_start)
            gains = await uow.revisions.chain_gains(
                [entry.review_id for entry in entries if entry.review_id is not None]
            )
            members = await uow.group_activity.list_members(chat_id)
        names = {member.user_id: member.display_name for member in members if not member.opted_out}
        drafts: Counter[int] = Counter(entry.user_id for entry in entries)
        asked: Counter[int] = Counter(
            entry.requested_by for entry in entries if entry.requested_by is not None
        )
        chain_gains = _chain_gains_per_member(entries, gains)
        board = [
            LeaderboardRow(
                names[user_id],
                drafts[user_id],
                _average(chain_gains[user_id].values()),
                asked[user_id],
            )
            for user_id in names
            if drafts[user_id] or asked[user_id]
        ]
        return sorted(
            board,
            key=lambda row: (
                row.improvement is None,
                -(row.improvement or 0),
                -row.submissions,
                row.name.casefold(),
            ),
        )


Due = TypeVar("Due", DueChallenge, DueTip)


class GroupPostClaims(ScheduledSendClaims[Due]):
    """One kind of group post in its ledger, as the claim mechanism's `ClaimSource`; the
    lease, the take-over and the outcomes are `ScheduledSendClaims`'.

    A claim records the post once and advances its group in one transaction. A kind says
    what is due (`_claim_due`) and what a taken-over claim posts (`_rebuild_for`), which
    is nothing once its group is gone.
    """

    grace = POST_GRACE

    async def claim_batch(
        self, limit: int | None = None, *, tick_started: datetime | None = None
    ) -> Batch[Due]:
        """Claim up to `limit` due posts and take over as many abandoned ones.

        `handled` counts the groups advanced and the claims taken over or given up: a
        batch posting nothing (recorded elsewhere already) may have more due behind it.
        Unlike a nudge, a group post is not late by waiting its turn in a tick, so
        `tick_started` changes nothing here.
        """
        now = self._clock()
        limit = limit or CLAIM_BATCH
        async with self._uow() as uow:
            claimed, advanced = await self._claim_due(uow, now, limit)
            taken, given_up = await self._take_over(uow, now, limit)
            await uow.commit()
        return Batch(claimed + taken, handled=advanced + len(taken) + given_up)

    async def _record(
        self,
        uow: UnitOfWork,
        chat_id: int,
        due_at: datetime,
        now: datetime,
        variant: int | None = None,
    ) -> int | None:
        """Record the group's post due at `due_at`, claimed now; None if recorded already."""
        send = NewScheduledSend(
            kind=self.kind, subject_id=chat_id, chat_id=chat_id, due_at=due_at, variant=variant
        )
        return await uow.scheduled_sends.add_once(send, claimed_at=now)

    async def _rebuild(self, uow: UnitOfWork, send: ScheduledSend) -> Due | None:
        group = await uow.groups.get(send.chat_id)
        if group is None or not group.is_active:
            return None
        return await self._rebuild_for(uow, send, group)

    @abstractmethod
    async def _claim_due(
        self, uow: UnitOfWork, now: datetime, limit: int
    ) -> tuple[list[Due], int]:
        """Advance up to `limit` groups with this post due, recording each post once: the
        posts recorded by this claim, and how many groups were advanced."""

    @abstractmethod
    async def _rebuild_for(
        self, uow: UnitOfWork, send: ScheduledSend, group: GroupRecord
    ) -> Due | None:
        """The post of a claim taken over, for its (still active) group."""


class ChallengeClaims(GroupPostClaims[DueChallenge]):
    """The groups' weekly challenges, each after the recap of the week before it.

    A challenge repost after a crash posts its recap again too: both were sent (or may
    have been) before the confirmation the crash prevented. At most once, like the
    challenge.
    """

    kind = CHALLENGE

    async def _claim_due(
        self, uow: UnitOfWork, now: datetime, limit: int
    ) -> tuple[list[DueChallenge], int]:
        claimed = []
        groups = await uow.groups.claim_due_challenges(now, limit)
        for group in groups:
            due_at = group.next_challenge_at
            assert due_at is not None
            await uow.groups.update(
                replace(group, next_challenge_at=_challenge_due(group, max(due_at, now)))
            )
            previous = await uow.challenges.get_latest(group.chat_id)
            idea = choose_idea(previous.idea if previous else None, int(due_at.timestamp()))
            theme = group.challenge_theme
            challenge_id = await uow.challenges.add_once(group.chat_id, due_at, idea, theme)
            if challenge_id is None:
                continue  # recorded already, by another claim
            send_id = await self._record(uow, group.chat_id, due_at, now)
            if send_id is None:
                continue
            challenge = ChallengeRecord(
                challenge_id, group.chat_id, due_at, idea, theme, message_id=None, posted_at=None
            )
            claimed.append(await _due_challenge(uow, send_id, group, challenge, previous))
        return claimed, len(groups)

    async def _rebuild_for(
        self, uow: UnitOfWork, send: ScheduledSend, group: GroupRecord
    ) -> DueChallenge | None:
        challenge = await uow.challenges.get_by_due(group.chat_id, send.due_at)
        if challenge is None:
            return None
        previous = await uow.challenges.get_latest(group.chat_id, before=challenge.due_at)
        return await _due_challenge(uow, send.id, group, challenge, previous)

    async def posted(self, due: DueChallenge, message_id: int) -> None:
        """Confirm a challenge posted as this message, and keep the message members reply
        to, in one transaction: the id is kept as soon as it is known, and the tick's
        batch of outcomes then finds the post confirmed already."""
        now = self._clock()
        async with self._uow() as uow:
            await uow.challenges.mark_posted(due.challenge_id, message_id, now)
            await uow.scheduled_sends.mark_sent([due.send_id], now)
            await uow.commit()


async def _due_challenge(
    uow: UnitOfWork,
    send_id: int,
    group: GroupRecord,
    challenge: ChallengeRecord,
    previous: ChallengeRecord | None,
) -> DueChallenge:
    """What posting a claimed challenge needs: the recap since the one before it, if any."""
    recap = (
        await _recap(uow, group.chat_id, previous.due_at, challenge.due_at)
        if previous is not None
        else None
    )
    return DueChallenge(
        send_id,
        challenge.id,
        group.chat_id,
        group.language,
        challenge.idea,
        challenge.theme,
        recap,
    )


class TipClaims(GroupPostClaims[DueTip]):
    """The channels' weekly tips, each the next in turn (the ledger row keeps which)."""

    kind = TIP

    async def _claim_due(
        self, uow: UnitOfWork, now: datetime, limit: int
    ) -> tuple[list[DueTip], int]:
        claimed = []
        groups = await uow.groups.claim_due_tips(now, limit)
        for group in groups:
            due_at = group.next_tip_at
            assert due_at is not None
            turn = group.tip_turn % TIP_COUNT
            send_id = await self._record(uow, group.chat_id, due_at, now, variant=turn)
            advanced = replace(group, next_tip_at=_tip_due(group, max(due_at, now)))
            if send_id is not None:
                # The turn moves on with the tip recorded, not with one recorded elsewhere.
                advanced = replace(advanced, tip_turn=group.tip_turn + 1)
                claimed.append(DueTip(send_id, group.chat_id, group.language, turn))
            await uow.groups.update(advanced)
        return claimed, len(groups)

    async def _rebuild_for(
        self, uow: UnitOfWork, send: ScheduledSend, group: GroupRecord
    ) -> DueTip | None:
        if send.variant is None:
            return None
        return DueTip(send.id, group.chat_id, group.language, send.variant)


def _apply(group: GroupRecord, field: str, value: str) -> GroupRecord | None:
    """The group with one field set from a button's value; None when it is not allowed."""
    if field == "language" and value in LANGUAGES:
        return replace(group, language=value)
    if field == "mode" and value in REVIEW_MODES:
        return replace(group, review_mode=value)
    if field == "challenge" and value in ("on", "off"):
        return replace(group, challenge_enabled=value == "on")
    if field == "day" and value.isdigit() and 0 <= int(value) <= 6:
        return replace(group, challenge_day=int(value))
    if field == "time" and value in TIME_CHOICES:
        return replace(group, challenge_time=value)
    if field == "zone" and value in COMMON_ZONES:
        return replace(group, timezone=value)
    if field == "theme":
        theme = " ".join(value.split())[:MAX_THEME_CHARS]
        return replace(group, challenge_theme=theme or None)
    if field == "tip" and value in ("on", "off"):
        return replace(group, tip_enabled=value == "on")
    return None
