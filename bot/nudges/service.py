"""Nudge schedules as a use case: keep them in line with the profile, claim what is due.

The dispatch follows the one claim mechanism (bot/claims.py): the tick claims due
schedules in a transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), records each
occurrence once under the unique key (schedule, due instant), and advances the schedule.
An occurrence late by less than the grace period is sent once and marked late; an older
one is recorded as missed. A claim never confirmed (the process died) is taken over once
after its lease; the process sending a claim renews its lease until the outcome is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.claims import LEASE, Batch, LeasedClaims, Ledger, may_take_over
from bot.localtime.defaults import DEFAULT_AT, DEFAULT_TIME, Clock
from bot.localtime.schedule import (
    QuietHours,
    WeeklyRule,
    defer_past_quiet,
    next_occurrence,
    parse_local_time,
    week_start,
)
from bot.nudges.compose import Tone, choose_idea, choose_tone
from bot.profiles.service import DEFAULT_GOAL, DEFAULT_ZONE
from bot.transport import metrics
from storage.models import NudgeSchedule, NudgeSend, User, utcnow
from storage.repositories.nudges import NewSend
from storage.uow import UnitOfWork, UnitOfWorkFactory

NUDGE = "nudge"
WEEKLY = "weekly"
SNOOZE = "snooze"
WEEKLY_DAYS = frozenset({0})
WEEKLY_TIME = DEFAULT_TIME
# A new user's first reminder comes no sooner than this after their reminders are set.
FIRST_DELAY = timedelta(hours=12)
# A Monday review is sent to users who were here from at least this far into the week.
REVIEWED_FROM = timedelta(days=3)
DEFAULT_QUIET = ("21:00", "08:00")
# Schedules per claim. A claim is one transaction whose work (loading, advancing and
# recording the schedules) runs on the event loop without a pause, since SQLite answers at
# once (storage/sqlite_driver.py): at 50 it held the loop for 60-100 ms, long enough for
# the paced sends behind it to leave in a burst and draw 429s (benchmarks/nudge_dispatch).
CLAIM_BATCH = 20
# Claimed this long after the due instant, a nudge is marked late (a tick is ~20 s).
LATE_AFTER = timedelta(minutes=2)
SNOOZES = {"1h": timedelta(hours=1), "3h": timedelta(hours=3)}


@dataclass(frozen=True)
class Delivery:
    """One nudge (or weekly review) to send now, with what composing it needs."""

    send_id: int
    user_id: int
    kind: str
    due_at: datetime
    late: bool
    idea: str | None
    tone: Tone
    language: str | None
    telegram_language: str | None
    first_name: str
    topics: tuple[str, ...]
    audience: tuple[str, ...]
    platform: str | None
    goal: int
    zone: str


@dataclass(frozen=True)
class Occurrence:
    """One due instant of a schedule the claim moved past: to record, sent or missed."""

    schedule: NudgeSchedule
    user: User
    kind: str
    due_at: datetime
    missed: bool
    idea: str | None


@dataclass(frozen=True)
class ClaimedOccurrence:
    """An occurrence this claim owns (recorded by it, or taken over): to send now."""

    send_id: int
    schedule: NudgeSchedule
    user: User
    kind: str
    due_at: datetime
    late: bool
    idea: str | None


def _time(text: str | None, default: str) -> time:
    return parse_local_time(text or default) or parse_local_time(default) or DEFAULT_AT


def _quiet(schedule: NudgeSchedule) -> QuietHours:
    return QuietHours(_time(schedule.quiet_start, "21:00"), _time(schedule.quiet_end, "08:00"))


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _new_since_week_before(user: User, due: datetime, zone: str) -> bool:
    """Whether the user missed most of the week a Monday review looks back on: they
    arrived after its Wednesday, so its count of posts would judge days they were not here."""
    reviewed = week_start(week_start(due, zone) - timedelta(seconds=1), zone)
    return _utc(user.created_at) >= reviewed + REVIEWED_FROM


def next_due(schedule: NudgeSchedule, after: datetime) -> datetime | None:
    """The schedule's first due instant after `after`, out of its quiet hours."""
    if not schedule.weekdays:
        return None
    rule = WeeklyRule(
        frozenset(schedule.weekdays), _time(schedule.local_time, DEFAULT_TIME), schedule.timezone
    )
    due = next_occurrence(rule, after)
    # The weekly review is not a nudge: it goes out at its hour whatever the quiet hours.
    if schedule.kind == WEEKLY:
        return due
    return defer_past_quiet(due, schedule.timezone, _quiet(schedule))


class NudgeService(LeasedClaims):
    """Schedules, claims and the user's controls (snooze, skip, pause, quiet hours)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock = utcnow,
        grace: timedelta = timedelta(minutes=30),
        lease: timedelta = LEASE,
        first_delay: timedelta = FIRST_DELAY,
    ) -> None:
        super().__init__(uow, clock, lease)
        self._grace = grace
        self._first_delay = first_delay

    def _ledger(self, uow: UnitOfWork) -> Ledger:
        return uow.nudges

    # ---------------------------------------------------------------- schedules

    async def sync_from_profile(self, user_id: int) -> None:
        """Make the user's schedules match their profile (days, time, zone)."""
        now = self._clock()
        async with self._uow() as uow:
            profile = await uow.profiles.get(user_id)
            if profile is None:
                return
            zone = profile.timezone or DEFAULT_ZONE
            existing = {s.kind: s for s in await uow.nudges.list_schedules(user_id)}
            wanted = {
                NUDGE: (sorted(set(profile.nudge_days)), profile.nudge_time or DEFAULT_TIME),
                WEEKLY: (sorted(WEEKLY_DAYS), WEEKLY_TIME),
            }
            for kind, (days, at) in wanted.items():
                schedule = existing.get(kind)
                # Reminders start a while after they are first set: greeted, not nudged.
                start = now + self._first_delay if schedule is None and kind == NUDGE else now
                if schedule is None:
                    schedule = NudgeSchedule(
                        user_id=user_id,
                        kind=kind,
                        quiet_start=DEFAULT_QUIET[0],
                        quiet_end=DEFAULT_QUIET[1],
                        paused=False,
                    )
                    uow.nudges.add_schedule(schedule)
                changed = (schedule.weekdays, schedule.local_time, schedule.timezone) != (
                    days,
                    at,
                    zone,
                )
                if changed or schedule.next_due_at is None:
                    schedule.weekdays = days
                    schedule.local_time = at
                    schedule.timezone = zone
                    schedule.next_due_at = next_due(schedule, start)
            await uow.commit()

    # ---------------------------------------------------------------- claiming

    async def claim_batch(
        self, limit: int = CLAIM_BATCH, *, tick_started: datetime | None = None
    ) -> Batch[Delivery]:
        """Claim up to `limit` due schedules; what to send, and how many were handled.

        Lateness is judged at `tick_started` when given: a nudge that waits its turn
        behind thousands due in the same minute is not late, the tick is. A batch may
        hold nothing to send (all missed) while more is due: go on until `handled` is 0.
        """
        now = self._clock()
        judged = min(now, tick_started) if tick_started is not None else now
        async with self._uow() as uow:
            due = await uow.nudges.list_due(now, limit)
            occurrences: list[Occurrence] = []
            for row in due:
                occurrences += self._advance(row.schedule, row.user, now, judged)
            claimed = await self._record(uow, occurrences, now, judged)
            taken, expired = await self._take_over(uow, now, limit)
            deliveries = await self._deliveries(uow, claimed + taken, now)
            await uow.commit()
        return Batch(deliveries, handled=len(due) + len(taken) + expired)

    def _advance(
        self, schedule: NudgeSchedule, user: User, now: datetime, judged: datetime
    ) -> list[Occurrence]:
        """Move a due schedule past now; the occurrences it had due."""
        if schedule.paused_until is not None:
            # The pause is over: occurrences inside it were not missed, just paused.
            if schedule.next_due_at is not None and schedule.next_due_at < schedule.paused_until:
                schedule.next_due_at = next_due(schedule, schedule.paused_until)
            schedule.paused_until = None
        dues: list[tuple[datetime, str]] = []
        if schedule.snooze_due_at is not None and schedule.snooze_due_at <= now:
            dues.append((schedule.snooze_due_at, SNOOZE))
            schedule.snooze_due_at = None
        if schedule.next_due_at is not None and schedule.next_due_at <= now:
            dues.append((schedule.next_due_at, schedule.kind))
            # Jump to the first occurrence after now: downtime never causes a burst.
            schedule.next_due_at = next_due(schedule, max(schedule.next_due_at, now))
        occurrences = []
        # The idea each occurrence follows; the schedule keeps it only once one is recorded.
        last = schedule.last_idea
        for due, kind in dues:
            missed = judged - due > self._grace
            if kind == WEEKLY and _new_since_week_before(user, due, schedule.timezone):
                # A review of a week the user was not here for says nothing: not sent.
                missed = True
            idea = None
            if kind != WEEKLY and not missed:
                idea = (
                    last
                    if kind == SNOOZE and last
                    else choose_idea(last, int(due.timestamp()) // 60)
                )
                last = idea
            kind = schedule.kind if kind == SNOOZE else kind
            occurrences.append(Occurrence(schedule, user, kind, due, missed, idea))
        return occurrences

    async def _record(
        self,
        uow: UnitOfWork,
        occurrences: Sequence[Occurrence],
        now: datetime,
        judged: datetime,
    ) -> list[ClaimedOccurrence]:
        """Record every occurrence in one statement; those already recorded are skipped.
        Claimed at `now`; late if due more than LATE_AFTER before `judged`."""
        if not occurrences:
            return []
        sends = [
            NewSend(
                schedule_id=o.schedule.id,
                user_id=o.user.id,
                kind=o.kind,
                due_at=o.due_at,
                status="missed" if o.missed else "claimed",
                idea=o.idea,
                claimed_at=now,
                late=not o.missed and judged - o.due_at > LATE_AFTER,
            )
            for o in occurrences
        ]
        inserted = await uow.nudges.add_sends(sends)
        claimed = []
        for o, send in zip(occurrences, sends, strict=True):
            send_id = inserted.get((o.schedule.id, _utc(o.due_at)))
            if send_id is None:
                continue
            if o.missed:
                metrics.count_nudge("missed")
                continue
            if o.idea is not None:
                o.schedule.last_idea = o.idea
            claimed.append(
                ClaimedOccurrence(send_id, o.schedule, o.user, o.kind, o.due_at, send.late, o.idea)
            )
        return claimed

    async def _take_over(
        self, uow: UnitOfWork, now: datetime, limit: int
    ) -> tuple[list[ClaimedOccurrence], int]:
        """Claims a dead process never confirmed: to send again (late), and how many expired."""
        taken = []
        expired = 0
        for abandoned in await uow.nudges.list_abandoned(now - self._lease, limit):
            send, user = abandoned.send, abandoned.user
            if not may_take_over(send.attempts):
                # Sent, most likely, by a process that died before confirming it: the
                # one resend was had already.
                send.status = "failed"
                metrics.count_nudge("unconfirmed")
                expired += 1
                continue
            if now - send.due_at > self._grace or not user.is_active:
                send.status = "missed"
                metrics.count_nudge("missed")
                expired += 1
                continue
            send.claimed_at = now
            send.attempts += 1
            send.late = True
            taken.append(
                ClaimedOccurrence(
                    send.id, abandoned.schedule, user, send.kind, send.due_at, True, send.idea
                )
            )
        return taken, expired

    async def _deliveries(
        self, uow: UnitOfWork, claimed: Sequence[ClaimedOccurrence], now: datetime
    ) -> list[Delivery]:
        if not claimed:
            return []
        user_ids = {c.user.id for c in claimed}
        profiles = await uow.nudges.list_profiles(user_ids)
        recent = await uow.nudges.list_post_times(user_ids, now - timedelta(days=15))
        # Users who had a reminder already: anyone else's first one is a welcome.
        reminded = await uow.nudges.list_reminded(user_ids, NUDGE)
        deliveries = []
        for c in claimed:
            user = c.user
            profile = profiles.get(user.id)
            zone = (profile.timezone if profile else None) or c.schedule.timezone or DEFAULT_ZONE
            goal = (profile.weekly_goal if profile else None) or DEFAULT_GOAL
            this_week = week_start(now, zone)
            last_week = week_start(this_week - timedelta(seconds=1), zone)
            posted = recent.get(user.id, [])
            week_posts = sum(1 for at in posted if at >= this_week)
            last_posts = sum(1 for at in posted if last_week <= at < this_week)
            deliveries.append(
                Delivery(
                    send_id=c.send_id,
                    user_id=user.id,
                    kind=c.kind,
                    due_at=c.due_at,
                    late=c.late,
                    idea=c.idea,
                    tone="welcome"
                    if c.kind == NUDGE and user.id not in reminded
                    else choose_tone(week_posts, last_posts, goal),
                    language=user.language,
                    telegram_language=user.telegram_language,
                    first_name=user.first_name,
                    topics=profile.topics if profile else (),
                    audience=profile.audience if profile else (),
                    platform=(profile.main_platform if profile else None),
                    goal=goal,
                    zone=zone,
                )
            )
        return deliveries

    # ---------------------------------------------------------------- the user's controls

    async def _own_send(self, uow: UnitOfWork, send_id: int, user_id: int) -> NudgeSend | None:
        send = await uow.nudges.get_send(send_id)
        return send if send is not None and send.user_id == user_id else None

    async def snooze(self, send_id: int, user_id: int, option: str) -> datetime | None:
        """Send this nudge again later (1 h, 3 h, or tomorrow); the weekly rule stays."""
        now = self._clock()
        async with self._uow() as uow:
            send = await self._own_send(uow, send_id, user_id)
            schedule = await uow.nudges.get_schedule_by_id(send.schedule_id) if send else None
            if send is None or schedule is None:
                return None
            if option in SNOOZES:
                due = now + SNOOZES[option]
            elif option == "tomorrow":
                rule = WeeklyRule(
                    frozenset(range(7)),
                    _time(schedule.local_time, DEFAULT_TIME),
                    schedule.timezone,
                )
                due = next_occurrence(rule, now + timedelta(hours=12))
            else:
                return None
            due = defer_past_quiet(due, schedule.timezone, _quiet(schedule))
            schedule.snooze_due_at = due
            schedule.last_idea = send.idea or schedule.last_idea
            send.status = "snoozed"
            await uow.commit()
            return due

    async def skip(self, send_id: int, user_id: int) -> bool:
        """Skip this one nudge."""
        async with self._uow() as uow:
            send = await self._own_send(uow, send_id, user_id)
            if send is None:
                return False
            send.status = "skipped"
            await uow.commit()
            return True

    async def pause(self, user_id: int, until: datetime | None = None) -> bool:
        """Stop nudges until a date (or until /resume); False if there are none."""
        async with self._uow() as uow:
            schedules = await uow.nudges.list_schedules(user_id)
            for schedule in schedules:
                if until is None:
                    schedule.paused = True
                    schedule.paused_until = None
                    # Nothing is due until /resume, which starts again from then; a due
                    # instant left here would lie in the claim's way for good.
                    schedule.next_due_at = None
                    schedule.snooze_due_at = None
                else:
                    schedule.paused = False
                    schedule.paused_until = until
                    if schedule.next_due_at is None:
                        # Paused until /resume so far: this pause's end starts them again.
                        schedule.next_due_at = next_due(schedule, until)
            await uow.commit()
            return bool(schedules)

    async def resume(self, user_id: int) -> bool:
        """Start nudges again from now (no catching up on the paused ones)."""
        now = self._clock()
        async with self._uow() as uow:
            schedules = await uow.nudges.list_schedules(user_id)
            for schedule in schedules:
                schedule.paused = False
                schedule.paused_until = None
                schedule.snooze_due_at = None
                schedule.next_due_at = next_due(schedule, now)
            await uow.commit()
            return bool(schedules)

    async def set_quiet_hours(self, user_id: int, start: time, end: time) -> bool:
        """Change the quiet hours of the user's nudges."""
        now = self._clock()
        async with self._uow() as uow:
            schedules = await uow.nudges.list_schedules(user_id)
            for schedule in schedules:
                schedule.quiet_start = f"{start.hour:02d}:{start.minute:02d}"
                schedule.quiet_end = f"{end.hour:02d}:{end.minute:02d}"
                schedule.next_due_at = next_due(schedule, now)
            await uow.commit()
            return bool(schedules)

    async def set_active(self, user_id: int, active: bool) -> None:
        """The user blocked (or unblocked) the bot: stop (or restart) everything for them."""
        now = self._clock()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None or user.is_active == active:
                return
            user.is_active = active
            for schedule in await uow.nudges.list_schedules(user_id):
                if active:
                    schedule.next_due_at = next_due(schedule, now)
                else:
                    # Nothing is due while they are away (the claim would step over it
                    # on every tick); coming back starts again from then, as above.
                    schedule.next_due_at = None
                    schedule.snooze_due_at = None
            await uow.commit()
