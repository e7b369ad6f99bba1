"""The one claim mechanism of every scheduled send: nudges and Monday reviews, group
challenges, channel tips and results questions.

The guarantee, the same for all five: a send is recorded once under its unique key and
claimed with a lease; it is sent; its outcome is confirmed. The process sending a claim
renews its lease until the outcome is written, so however slow the sends, no other process
takes it over. If the process dies between a send and its confirmation, the lease runs out
and a later tick takes the claim over and sends it once more: a crash resends at most
once, since a claim taken over already (its second attempt) is never taken over again. A
send that certainly did not reach Telegram (no connection) is released: the attempt does
not count, and the tick after its lease tries again.

Each feature says what is due and how one send goes (its `ClaimSource` and `deliver`);
`dispatch` runs them: one task claims batches into a short queue while SENDERS tasks send
from it, outcomes are written in batches (`Confirmations`), and once the Application
stops no new batch is claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

import httpx
from telegram.error import TelegramError, TimedOut

from bot.transport.outage import is_network_failure
from storage.models import utcnow

if TYPE_CHECKING:
    from bot.context import CoachContext
    from bot.localtime.defaults import Clock
    from storage.models import ScheduledSend
    from storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

# A claim not confirmed, nor renewed, within this time belongs to a process that died
# (the default of NUDGE_LEASE_SECONDS). A live process renews the claims it still has to
# send RENEWALS_PER_LEASE times a lease, so the lease bounds how long a crash strands
# them, not how long a batch may take to send.
LEASE = timedelta(seconds=30)
RENEWALS_PER_LEASE = 3
# The first claim and the one taking it over after a crash: never a third.
MAX_ATTEMPTS = 2
# Sends in flight at once; the rate limiter, not this, sets the pace.
SENDERS = 8


class Outcome(enum.Enum):
    """How one send went."""

    SENT = "sent"  # Telegram took it (or may have: a late answer counts as sent)
    FAILED = "failed"  # never to be sent: the chat refused it
    RELEASED = "released"  # certainly not sent: tried again after the lease, uncounted
    KEPT = "kept"  # unknown: left claimed, so the lease hands it to a later tick


class Claimed(Protocol):
    """A claimed send: its id in its ledger."""

    @property
    def send_id(self) -> int: ...


T = TypeVar("T", bound=Claimed)


@dataclass(frozen=True)
class Batch(Generic[T]):
    """One claim: what to send now, and how many due rows it handled (sent or not): a
    batch of only missed ones sends nothing while more may be due behind it."""

    items: list[T]
    handled: int


class ClaimSource(Protocol[T]):
    """A feature's ledger as the dispatch sees it."""

    @property
    def renew_every(self) -> float:
        """Seconds between two renewals of the claims a dispatch still has to send."""
        ...

    async def claim_batch(self, *, tick_started: datetime) -> Batch[T]:
        """Record and claim what is due, and take over claims whose lease ran out."""
        ...

    async def renew(self, send_ids: Sequence[int]) -> None:
        """Extend the lease of claims still being sent."""
        ...

    async def settle(
        self, sent: Sequence[int], failed: Sequence[int], released: Sequence[int]
    ) -> None:
        """Write the outcomes of many sends in one transaction."""
        ...


def outcome_of(error: TelegramError, name: str, send_id: int) -> Outcome:
    """What a failed send (other than a refusal, whose handling is the feature's) means
    for its claim, the same for all five kinds; logged here, once per send.

    No connection in time: never sent, released. A time-out once connected: Telegram may
    well have delivered it and only its answer was late; sending it again after the lease
    doubled most slow sends, so it counts as sent (one lost send beats two). Another
    network failure: released (the outage is logged once, bot/transport/outage.py).
    Anything else: left claimed, so the lease hands it to a later tick for its one more
    attempt.
    """
    if isinstance(error, TimedOut):
        if isinstance(error.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout):
            logger.warning("%s %s not sent: no connection in time", name, send_id)
            return Outcome.RELEASED
        logger.warning("%s %s timed out: kept as sent, not sent again", name, send_id)
        return Outcome.SENT
    if is_network_failure(error):
        return Outcome.RELEASED
    logger.warning("%s %s not sent: %s", name, send_id, type(error).__name__)
    return Outcome.KEPT


def may_take_over(attempts: int) -> bool:
    """Whether a claim whose lease ran out is sent again (else it is given up)."""
    return attempts < MAX_ATTEMPTS


def renew_every(lease: timedelta) -> float:
    """Seconds between two renewals for this lease."""
    return lease.total_seconds() / RENEWALS_PER_LEASE


class Ledger(Protocol):
    """The statements of one ledger table that renew, release and confirm claims."""

    async def renew(self, send_ids: Sequence[int], at: datetime) -> None: ...

    async def mark_sent(self, send_ids: Sequence[int], at: datetime) -> None: ...

    async def mark_failed(self, send_ids: Sequence[int]) -> None: ...

    async def release(self, send_ids: Sequence[int]) -> None: ...


class LeasedClaims:
    """The lease and the outcomes of the claims of one ledger: what every `ClaimSource`
    shares. A subclass says which ledger (`_ledger`) and how its sends are claimed."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock = utcnow, lease: timedelta = LEASE):
        self._uow = uow
        self._clock = clock
        self._lease = lease

    def _ledger(self, uow: UnitOfWork) -> Ledger:
        raise NotImplementedError

    @property
    def renew_every(self) -> float:
        """Seconds between two renewals of the claims a dispatch still has to send."""
        return renew_every(self._lease)

    async def renew(self, send_ids: Sequence[int]) -> None:
        """Extend the lease of claims still being sent, so no other process takes them over."""
        if not send_ids:
            return
        async with self._uow() as uow:
            await self._ledger(uow).renew(send_ids, self._clock())
            await uow.commit()

    async def settle(
        self, sent: Sequence[int], failed: Sequence[int] = (), released: Sequence[int] = ()
    ) -> None:
        """Write the outcomes of many sends in one transaction (an UPDATE each)."""
        if not sent and not failed and not released:
            return
        async with self._uow() as uow:
            ledger = self._ledger(uow)
            if sent:
                await ledger.mark_sent(sent, self._clock())
            if failed:
                await ledger.mark_failed(failed)
            if released:
                await ledger.release(released)
            await uow.commit()


class ScheduledSendClaims(LeasedClaims, Generic[T]):
    """The take-over of sends kept in the `scheduled_sends` ledger (group challenges,
    channel tips, results questions): what their sources share besides the lease.

    A source names its ledger `kind`, how long after it was due a send is still worth
    making (`grace`), and adds its own `claim_batch` and `_rebuild` (what a claim taken
    over sends).
    """

    kind: ClassVar[str]
    grace: ClassVar[timedelta]

    def _ledger(self, uow: UnitOfWork) -> Ledger:
        return uow.scheduled_sends

    async def _take_over(self, uow: UnitOfWork, now: datetime, limit: int) -> tuple[list[T], int]:
        """Claims a dead process never confirmed: those to send again, and how many were
        given up (their one resend had already, past `grace`, or nothing left to send)."""
        taken: list[T] = []
        given_up = 0
        for send in await uow.scheduled_sends.list_abandoned(self.kind, now - self._lease, limit):
            if not may_take_over(send.attempts):
                # Sent, most likely, by a process that died before confirming it: the
                # one resend was had already.
                send.status = "failed"
            elif now - send.due_at > self.grace or (due := await self._rebuild(uow, send)) is None:
                send.status = "missed"
            else:
                send.attempts += 1
                send.claimed_at = now
                taken.append(due)
                continue
            given_up += 1
        return taken, given_up

    async def _rebuild(self, uow: UnitOfWork, send: ScheduledSend) -> T | None:
        """What a claim taken over sends; None when there is nothing left to send."""
        raise NotImplementedError


class Confirmations:
    """Outcomes of sends, written in batches: one transaction per `flush_every` sends or
    `max_age` seconds instead of one per send.

    The price is a window: a process killed after Telegram accepted a send and before its
    batch was written sends it again once the lease expires. `max_age` keeps the window
    short; a graceful stop flushes.
    """

    FLUSH_EVERY = 50  # outcomes per write at most
    MAX_AGE = 0.25  # seconds an outcome waits to be written at most

    def __init__(
        self,
        source: ClaimSource[T],
        flush_every: int = FLUSH_EVERY,
        max_age: float = MAX_AGE,
        monotonic: Callable[[], float] = _monotonic,
    ) -> None:
        self._settle = source.settle
        self._flush_every = flush_every
        self._max_age = max_age
        self._monotonic = monotonic
        self._noted: dict[Outcome, list[int]] = {outcome: [] for outcome in Outcome}
        self._oldest: float | None = None

    async def add(self, send_id: int, outcome: Outcome) -> None:
        """Note one outcome; write the batch if it is full or old enough."""
        if outcome is Outcome.KEPT:
            return
        self._noted[outcome].append(send_id)
        now = self._monotonic()
        if self._oldest is None:
            self._oldest = now
        if len(self.pending) >= self._flush_every or now - self._oldest >= self._max_age:
            await self.flush()

    @property
    def pending(self) -> list[int]:
        """The sends whose outcome is noted but not written yet (still claimed)."""
        return [send_id for noted in self._noted.values() for send_id in noted]

    async def flush(self) -> None:
        """Write every outcome noted so far."""
        noted = self._noted
        self._noted = {outcome: [] for outcome in Outcome}
        self._oldest = None
        if any(noted.values()):
            await self._settle(noted[Outcome.SENT], noted[Outcome.FAILED], noted[Outcome.RELEASED])


def stopping(context: CoachContext, was_running: bool) -> bool:
    """Whether the Application that started this tick is stopping (SIGTERM, SIGINT).

    PTB marks it not running as soon as it starts to stop, then waits for the running
    jobs: a tick that went on claiming kept the process alive past compose's grace. A
    tick run by hand, on an Application never started (tests, benchmarks), never stops.
    """
    return was_running and not context.application.running


async def dispatch(
    context: CoachContext,
    source: ClaimSource[T],
    deliver: Callable[[CoachContext, T], Awaitable[Outcome]],
    *,
    was_running: bool,
    tick_started: datetime,
    name: str,
    senders: int = SENDERS,
) -> int:
    """Claim what `source` has due and `deliver` it; returns how many were claimed.

    Lateness is judged at `tick_started`, not at each batch's claim. While claims wait in
    the queue or are being sent, their lease is renewed; once the Application stops, no
    new batch is claimed and those in hand finish.
    """
    queue: asyncio.Queue[T | None] = asyncio.Queue(maxsize=max(senders, 20))
    confirmations = Confirmations(source)
    claimed = 0
    # Claimed by this tick and not through `deliver` yet. With the outcomes noted but not
    # written, what the heartbeat renews; one left claimed for a later tick is in neither.
    in_hand: set[int] = set()

    async def claim_all() -> None:
        nonlocal claimed
        try:
            while not stopping(context, was_running):
                batch = await source.claim_batch(tick_started=tick_started)
                if not batch.handled:
                    break
                claimed += len(batch.items)
                in_hand.update(item.send_id for item in batch.items)
                for item in batch.items:
                    await queue.put(item)
        finally:
            for _ in range(senders):
                await queue.put(None)

    async def send_all() -> None:
        while (item := await queue.get()) is not None:
            try:
                outcome = await deliver(context, item)
            except Exception:
                # Left claimed: the lease hands it to a later tick.
                logger.exception("%s %s not sent", name, item.send_id)
                outcome = Outcome.KEPT
            try:
                await confirmations.add(item.send_id, outcome)
            finally:
                in_hand.discard(item.send_id)

    async def heartbeat() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), source.renew_every)
                return
            try:
                await source.renew(sorted(in_hand.union(confirmations.pending)))
            except Exception:
                # The next beat tries again; the lease allows for a few missed.
                logger.exception("%s claims not renewed", name)

    # Ended by an event, not cancelled: a cancel could land mid-transaction.
    finished = asyncio.Event()
    beating = asyncio.create_task(heartbeat())
    try:
        # Every task runs to its end even if one fails, so no outcome is noted after the
        # last flush.
        results = await asyncio.gather(
            claim_all(), *(send_all() for _ in range(senders)), return_exceptions=True
        )
    finally:
        finished.set()
        await beating
        await confirmations.flush()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return claimed
