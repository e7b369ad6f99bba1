"""Groups and channels as a use case: membership, settings, challenges, submissions,
the leaderboard, the weekly recap and channel tips.

Challenges and tips follow the nudges' rule: the database says what is due, the
tick claims it (SKIP LOCKED on PostgreSQL) and records each occurrence once under
a unique key (group, due instant).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.nudges.compose import choose_idea
from bot.nudges.schedule import WeeklyRule, load_zone, next_occurrence, parse_local_time
from bot.results import Clock
from bot.settings import LANGUAGES
from bot.timezones import COMMON_ZONES
from storage.models import (
    Challenge,
    DraftReview,
    Group,
    GroupMember,
    ReviewItem,
    Submission,
    utcnow,
)
from storage.queries import RevisionQueries
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
    """A challenge to post now, and the recap of the week before it."""

    challenge_id: int
    chat_id: int
    language: str
    idea: str
    theme: str | None
    recap: Recap | None


@dataclass(frozen=True)
class ClaimedChallenges:
    """One claim of due challenges: those to post, and how many groups it advanced."""

    due: list[DueChallenge]
    handled: int


@dataclass(frozen=True)
class DueTip:
    """A channel tip to post now."""

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


def _view(group: Group) -> GroupView:
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


def _challenge_due(group: Group, after: datetime) -> datetime | None:
    if not group.challenge_enabled or not group.is_active:
        return None
    at = parse_local_time(group.challenge_time) or time(9, 0)
    return next_occurrence(WeeklyRule(frozenset({group.challenge_day}), at, group.timezone), after)


def _tip_due(group: Group, after: datetime) -> datetime | None:
    if not group.tip_enabled or not group.is_active:
        return None
    return next_occurrence(WeeklyRule(frozenset({TIP_DAY}), TIP_TIME, group.timezone), after)


class GroupService:
    """Everything postcoach keeps and decides about groups and channels."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self._uow = uow
        self._clock = clock

    # ---------------------------------------------------------------- membership

    async def joined(self, chat_id: int, chat_type: str, title: str, language: str) -> bool:
        """The bot was added (or made admin); True when the chat is new or was left before."""
        async with self._uow() as uow:
            group = await uow.session.get(Group, chat_id)
            fresh = group is None or not group.is_active
            if group is None:
                group = Group(
                    chat_id=chat_id,
                    type=chat_type,
                    language=language if language in LANGUAGES else LANGUAGES[0],
                    review_mode="short",
                    timezone="Europe/Rome",
                    challenge_enabled=False,
                    challenge_day=0,
                    challenge_time="09:00",
                    tip_enabled=False,
                    tip_turn=0,
                    added_at=self._clock(),
                )
                uow.session.add(group)
            group.type = chat_type
            group.title = title[:256]
            group.is_active = True
            group.next_challenge_at = _challenge_due(group, self._clock())
            group.next_tip_at = _tip_due(group, self._clock())
            await uow.commit()
            return fresh

    async def left(self, chat_id: int) -> None:
        """The bot was removed: the chat's schedules stop."""
        async with self._uow() as uow:
            group = await uow.session.get(Group, chat_id)
            if group is not None:
                group.is_active = False
                group.next_challenge_at = None
                group.next_tip_at = None
                await uow.commit()

    async def get(self, chat_id: int) -> GroupView | None:
        """A known group's settings."""
        async with self._uow() as uow:
            group = await uow.session.get(Group, chat_id)
            return _view(group) if group is not None else None

    async def channels(self) -> list[GroupView]:
        """Every channel the bot is in (the caller checks who administers which)."""
        async with self._uow() as uow:
            statement = select(Group).where(Group.type == CHANNEL, Group.is_active.is_(True))
            return [_view(g) for g in (await uow.session.execute(statement)).scalars()]

    # ---------------------------------------------------------------- settings

    async def change(self, chat_id: int, field: str, value: str) -> GroupView | None:
        """Change one setting; None when the value is not allowed."""
        async with self._uow() as uow:
            group = await uow.session.get(Group, chat_id)
            if group is None or not _apply(group, field, value):
                return None
            group.next_challenge_at = _challenge_due(group, self._clock())
            group.next_tip_at = _tip_due(group, self._clock())
            await uow.commit()
            return _view(group)

    # ---------------------------------------------------------------- challenges

    async def claim_due_challenges(self, limit: int | None = None) -> ClaimedChallenges:
        """Record the challenges due now (once each) and return them with last week's recap.

        `handled` counts the groups the claim advanced, including those whose challenge
        another process had already recorded: a batch of only those posts nothing, and
        more may be due behind it.
        """
        now = self._clock()
        async with self._uow() as uow:
            statement = (
                select(Group)
                .where(Group.is_active.is_(True), Group.next_challenge_at <= now)
                .order_by(Group.next_challenge_at)
                .limit(limit or CLAIM_BATCH)
            )
            if uow.skip_locked:
                statement = statement.with_for_update(skip_locked=True)
            due: list[DueChallenge] = []
            handled = 0
            for group in (await uow.session.execute(statement)).scalars():
                handled += 1
                due_at = group.next_challenge_at
                assert due_at is not None
                group.next_challenge_at = _challenge_due(group, max(due_at, now))
                previous = await self._latest_challenge(uow, group.chat_id)
                idea = choose_idea(previous.idea if previous else None, int(due_at.timestamp()))
                challenge_id = (
                    await uow.session.execute(
                        uow.insert_once(
                            Challenge,
                            {
                                "chat_id": group.chat_id,
                                "due_at": due_at,
                                "idea": idea,
                                "theme": group.challenge_theme,
                            },
                            ("chat_id", "due_at"),
                        ).returning(Challenge.id)
                    )
                ).scalar_one_or_none()
                if challenge_id is None:
                    continue
                recap = (
                    await self._recap(uow, group.chat_id, previous.due_at, due_at)
                    if previous is not None
                    else None
                )
                due.append(
                    DueChallenge(
                        challenge_id,
                        group.chat_id,
                        group.language,
                        idea,
                        group.challenge_theme,
                        recap,
                    )
                )
            await uow.commit()
            return ClaimedChallenges(due, handled)

    async def _latest_challenge(self, uow: UnitOfWork, chat_id: int) -> Challenge | None:
        statement = (
            select(Challenge)
            .where(Challenge.chat_id == chat_id)
            .order_by(Challenge.due_at.desc())
            .limit(1)
        )
        return (await uow.session.execute(statement)).scalar_one_or_none()

    async def challenge_posted(self, challenge_id: int, message_id: int) -> None:
        """Remember the message members reply to."""
        async with self._uow() as uow:
            challenge = await uow.session.get(Challenge, challenge_id)
            if challenge is not None:
                challenge.message_id = message_id
                challenge.posted_at = self._clock()
                await uow.commit()

    async def challenge_for(self, chat_id: int, reply_to_message_id: int | None) -> int | None:
        """The challenge a message answers: the one replied to, else this week's, if any."""
        now = self._clock()
        async with self._uow() as uow:
            statement = select(Challenge.id).where(
                Challenge.chat_id == chat_id, Challenge.posted_at >= now - CHALLENGE_WINDOW
            )
            if reply_to_message_id is not None:
                replied = await uow.session.execute(
                    statement.where(Challenge.message_id == reply_to_message_id)
                )
                found = replied.scalar_one_or_none()
                if found is not None:
                    return found
            latest = await uow.session.execute(statement.order_by(Challenge.id.desc()).limit(1))
            return latest.scalar_one_or_none()

    async def is_challenge_message(self, chat_id: int, message_id: int) -> bool:
        """Whether a message is one of the challenges posted in this chat."""
        async with self._uow() as uow:
            statement = select(Challenge.id).where(
                Challenge.chat_id == chat_id, Challenge.message_id == message_id
            )
            return (await uow.session.execute(statement)).first() is not None

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
                member = await uow.session.get(GroupMember, (chat_id, member_id))
                if member is None:
                    member = GroupMember(chat_id=chat_id, user_id=member_id, opted_out=False)
                    uow.session.add(member)
                member.display_name = name[:128]
            uow.session.add(
                Submission(
                    chat_id=chat_id,
                    user_id=user_id,
                    challenge_id=challenge_id,
                    review_id=review_id,
                    score=score,
                    created_at=self._clock(),
                    requested_by=requested_by[0] if requested_by else None,
                )
            )
            await uow.commit()

    async def set_opted_out(
        self, chat_id: int, user_id: int, display_name: str, opted_out: bool
    ) -> None:
        """Leave (or rejoin) the group's leaderboard."""
        async with self._uow() as uow:
            member = await uow.session.get(GroupMember, (chat_id, user_id))
            if member is None:
                member = GroupMember(chat_id=chat_id, user_id=user_id)
                uow.session.add(member)
            member.display_name = display_name[:128]
            member.opted_out = opted_out
            await uow.commit()

    async def leaderboard(self, chat_id: int) -> list[LeaderboardRow]:
        """This month's drafts per member (opted-out excluded): most improved first, then
        most drafts, then by name; members with no revised draft after those who have."""
        now = self._clock()
        async with self._uow() as uow:
            group = await uow.session.get(Group, chat_id)
            tz = load_zone(group.timezone if group else "Europe/Rome")
            local = now.astimezone(tz)
            month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            statement = (
                select(Submission.user_id, Submission.review_id, Submission.requested_by)
                .where(Submission.chat_id == chat_id, Submission.created_at >= month_start)
                .order_by(Submission.created_at, Submission.id)
            )
            rows = (await uow.session.execute(statement)).all()
            gains = await RevisionQueries(uow.session).chain_gains(
                [review_id for _, review_id, _ in rows if review_id is not None]
            )
            members = await uow.session.execute(
                select(GroupMember.user_id, GroupMember.display_name).where(
                    GroupMember.chat_id == chat_id, GroupMember.opted_out.is_(False)
                )
            )
            names = dict(members.all())
        drafts: Counter[int] = Counter()
        asked: Counter[int] = Counter()
        chain_gains: dict[int, dict[int, int]] = defaultdict(dict)
        for user_id, review_id, requested_by in rows:
            drafts[user_id] += 1
            if requested_by is not None:
                asked[requested_by] += 1
            if review_id in gains:
                chain, gain = gains[review_id]
                chain_gains[user_id][chain] = gain
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

    async def _recap(
        self, uow: UnitOfWork, chat_id: int, since: datetime, until: datetime
    ) -> Recap:
        statement = (
            select(Submission.user_id, Submission.score, Submission.review_id)
            .where(
                Submission.chat_id == chat_id,
                Submission.created_at >= since,
                Submission.created_at < until,
            )
            .order_by(Submission.created_at, Submission.id)
        )
        rows = (await uow.session.execute(statement)).all()
        scores: dict[int, list[int]] = defaultdict(list)
        review_ids = []
        for user_id, score, review_id in rows:
            scores[user_id].append(score)
            if review_id is not None:
                review_ids.append(review_id)
        missing: Counter[str] = Counter()
        if review_ids:
            failed = await uow.session.execute(
                select(ReviewItem.item_id)
                .join(DraftReview, DraftReview.id == ReviewItem.review_id)
                .where(ReviewItem.review_id.in_(review_ids), ReviewItem.status == "fail")
            )
            missing.update(item for (item,) in failed.all())
        gains = await RevisionQueries(uow.session).chain_gains(review_ids)
        improved: dict[int, dict[int, int]] = defaultdict(dict)
        for user_id, _, review_id in rows:
            if review_id in gains:
                chain, gain = gains[review_id]
                improved[user_id][chain] = gain
        best_name, best_delta = None, 0
        members = {}
        if scores:
            member_rows = await uow.session.execute(
                select(GroupMember.user_id, GroupMember.display_name, GroupMember.opted_out).where(
                    GroupMember.chat_id == chat_id, GroupMember.user_id.in_(list(scores))
                )
            )
            members = {uid: (name, out) for uid, name, out in member_rows.all()}
        for user_id in scores:
            name, opted_out = members.get(user_id, ("", True))
            delta = _average(improved[user_id].values())
            if not opted_out and delta is not None and delta > best_delta:
                best_name, best_delta = name, delta
        top = tuple(item for item, _ in sorted(missing.items(), key=lambda kv: (-kv[1], kv[0])))
        return Recap(len(scores), len(rows), top[:3], best_name, best_delta)

    # ---------------------------------------------------------------- channel tips

    async def claim_due_tips(self, limit: int | None = None) -> list[DueTip]:
        """Channel tips due now; each advances to next week before it is sent."""
        now = self._clock()
        async with self._uow() as uow:
            statement = (
                select(Group)
                .where(Group.is_active.is_(True), Group.next_tip_at <= now)
                .limit(limit or CLAIM_BATCH)
            )
            if uow.skip_locked:
                statement = statement.with_for_update(skip_locked=True)
            due = []
            for group in (await uow.session.execute(statement)).scalars():
                assert group.next_tip_at is not None
                group.next_tip_at = _tip_due(group, max(group.next_tip_at, now))
                due.append(DueTip(group.chat_id, group.language, group.tip_turn % TIP_COUNT))
                group.tip_turn += 1
            await uow.commit()
            return due


def _apply(group: Group, field: str, value: str) -> bool:
    """Set one field from a button's value; False when the value is not allowed."""
    if field == "language" and value in LANGUAGES:
        group.language = value
    elif field == "mode" and value in REVIEW_MODES:
        group.review_mode = value
    elif field == "challenge" and value in ("on", "off"):
        group.challenge_enabled = value == "on"
    elif field == "day" and value.isdigit() and 0 <= int(value) <= 6:
        group.challenge_day = int(value)
    elif field == "time" and value in TIME_CHOICES:
        group.challenge_time = value
    elif field == "zone" and value in COMMON_ZONES:
        group.timezone = value
    elif field == "theme":
        theme = " ".join(value.split())[:MAX_THEME_CHARS]
        group.challenge_theme = theme or None
    elif field == "tip" and value in ("on", "off"):
        group.tip_enabled = value == "on"
    else:
        return False
    return True
