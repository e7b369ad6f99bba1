"""Prometheus metrics: what the bot counts, in its own registry, and the two seams that feed it.

The objects live in ``REGISTRY`` (not prometheus_client's global one), which ``/metrics``
serves in webhook mode. Other modules call the small ``count_*`` functions.

How update-to-reply latency is measured:

1. The webhook route notes when each update arrived (``mark_received``).
2. ``MeasuredUpdateProcessor`` wraps the Application's update processor. In the task that
   processes an update it puts a ``_Pending`` holding that arrival time into a contextvar
   (in polling mode, where no arrival was noted, the moment processing starts).
3. ``MeasuredRateLimiter`` is the AIORateLimiter every ExtBot call except getUpdates goes
   through. Its ``process_request`` runs in the caller's task, so it sees the contextvar;
   after the first successful sendMessage / editMessageText / sendPhoto / sendDocument of that
   update it observes the latency once. The rate limiter is the one funnel all sends share,
   so no handler has to remember to time anything, and the builder keeps its own HTTP
   settings (wrapping the ExtBot would mean rebuilding them). The time spent waiting for the
   rate limiter counts, as the user would feel it. Sends outside an update (the scheduler's
   nudges) have no contextvar and are not timed. Each failed attempt is counted in
   ``postcoach_send_errors_total`` by exception class, retried 429s included, so nobody
   else needs to call ``count_send_error`` (a second call for the same exception is a no-op).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from telegram import Update
from telegram.error import Forbidden
from telegram.ext import BaseUpdateProcessor

from bot.transport.ratelimit import PacedRateLimiter, Result

logger = logging.getLogger(__name__)

# unconfirmed: the send timed out, so Telegram may have delivered it; kept as sent.
NudgeOutcome = Literal["sent", "late", "missed", "unconfirmed"]
NUDGE_OUTCOMES: tuple[NudgeOutcome, ...] = ("sent", "late", "missed", "unconfirmed")
RejectReason = Literal["forbidden", "too_large", "bad_request"]
REJECT_REASONS: tuple[RejectReason, ...] = ("forbidden", "too_large", "bad_request")
DropReason = Literal["ids", "parts"]
DROP_REASONS: tuple[DropReason, ...] = ("ids", "parts")
# What happened to someone we write to: blocked the bot (an update says so), a send refused
# with 403, marked inactive (sends to them stop), back (wrote to us again, sends resume).
ReachEvent = Literal["blocked", "refused", "inactive", "back"]
REACH_EVENTS: tuple[ReachEvent, ...] = ("blocked", "refused", "inactive", "back")
# Why a chat's queued update was dropped: the chat's queue was full, or the bot is stopping.
QueueDrop = Literal["full", "stopping"]
QUEUE_DROPS: tuple[QueueDrop, ...] = ("full", "stopping")
# The Bot API methods that answer a user; the first success ends an update's latency.
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})
# Around the 100 ms target, finer; then coarse up to a stuck request.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Arrival times not claimed by a processor (an update dropped at shutdown) are forgotten.
MAX_PENDING_ARRIVALS = 10_000

REGISTRY = CollectorRegistry()
UPDATES = Counter(
    "postcoach_updates", "Updates handled, by update type.", ["type"], registry=REGISTRY
)
REVIEWS = Counter("postcoach_reviews", "Drafts reviewed.", registry=REGISTRY)
NUDGES = Counter(
    "postcoach_nudges",
    "Nudges by outcome: sent, late, missed, unconfirmed (timed out).",
    ["outcome"],
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    "postcoach_send_errors",
    "Failed Bot API calls, by exception class (RetryAfter, Forbidden, BadRequest, ...).",
    ["kind"],
    registry=REGISTRY,
)
NETWORK_ERRORS = Counter(
    "postcoach_network_errors",
    "Bot API calls that did not reach Telegram or got a 5xx, by where: polling, send, start.",
    ["where"],
    registry=REGISTRY,
)
WEBHOOK_REJECTED = Counter(
    "postcoach_webhook_rejected",
    "Webhook requests refused: forbidden (bad secret), too_large, bad_request.",
    ["reason"],
    registry=REGISTRY,
)
DROPPED_UPDATES = Counter(
    "postcoach_dropped_updates",
    "Updates with the right secret answered 200 but not handled: ids out of the Bot API's "
    "range, or parts missing (bot/transport/intake.py).",
    ["reason"],
    registry=REGISTRY,
)
DUPLICATE_UPDATES = Counter(
    "postcoach_duplicate_updates",
    "Updates received again (same update_id) and not handled twice.",
    registry=REGISTRY,
)
REACHABILITY = Counter(
    "postcoach_reachability",
    "People and chats: blocked the bot, a send refused (403), marked inactive, back.",
    ["event"],
    registry=REGISTRY,
)
CHAT_QUEUE_DROPPED = Counter(
    "postcoach_chat_queue_dropped",
    "Updates dropped before they were handled: their chat's queue was full, or stopping.",
    ["reason"],
    registry=REGISTRY,
)
REPLY_LATENCY = Histogram(
    "postcoach_update_reply_seconds",
    "From receiving an update to the first successful send in reply.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
for _outcome in NUDGE_OUTCOMES:
    NUDGES.labels(_outcome)
for _reason in REJECT_REASONS:
    WEBHOOK_REJECTED.labels(_reason)
for _dropped in DROP_REASONS:
    DROPPED_UPDATES.labels(_dropped)
for _event in REACH_EVENTS:
    REACHABILITY.labels(_event)
for _drop in QUEUE_DROPS:
    CHAT_QUEUE_DROPPED.labels(_drop)

_clock: Callable[[], float] = time.perf_counter
# Set on an exception once it is counted, so that it is counted once.
_COUNTED = "_postcoach_send_error_counted"
_arrivals: dict[int, float] = {}


@dataclass
class _Pending:
    """One update being processed: when it arrived, and whether it was answered yet."""

    started: float
    answered: bool = False


_current: ContextVar[_Pending | None] = ContextVar("postcoach_update", default=None)


def now() -> float:
    """The clock latencies are measured with (monotonic, in seconds)."""
    return _clock()


def count_network_error(where: str) -> None:
    """A Bot API call that failed on the network (bot/transport/outage.py)."""
    NETWORK_ERRORS.labels(where=where).inc()


def count_review() -> None:
    """One draft was reviewed."""
    REVIEWS.inc()


def count_nudge(outcome: NudgeOutcome) -> None:
    """A nudge was sent, sent late, recorded as missed, or timed out (unconfirmed)."""
    NUDGES.labels(outcome).inc()


def count_send_error(exc: BaseException) -> None:
    """A Bot API call failed: count it once by its class (RetryAfter, Forbidden, ...).

    ``MeasuredRateLimiter`` already counts every failed call; an error handler that reports
    the same exception again changes nothing. Each retry raises a new exception, so each
    retried 429 counts.
    """
    if getattr(exc, _COUNTED, False):
        return
    with contextlib.suppress(AttributeError):  # an exception type that takes no attributes
        setattr(exc, _COUNTED, True)
    SEND_ERRORS.labels(type(exc).__name__).inc()


def count_rejected(reason: RejectReason) -> None:
    """The webhook refused a request."""
    WEBHOOK_REJECTED.labels(reason).inc()


def count_dropped(reason: DropReason) -> None:
    """The webhook took an update it cannot handle and dropped it."""
    DROPPED_UPDATES.labels(reason).inc()


def count_reach(event: ReachEvent) -> None:
    """Someone blocked the bot, refused a send, was marked inactive, or came back."""
    REACHABILITY.labels(event).inc()


def count_queue_drop(reason: QueueDrop) -> None:
    """An update was dropped from its chat's queue before it was handled."""
    CHAT_QUEUE_DROPPED.labels(reason).inc()


def count_duplicate() -> None:
    """An update arrived again and was not handled a second time."""
    DUPLICATE_UPDATES.inc()


def update_type(update: object) -> str:
    """The kind of update (message, callback_query, ...) for the updates counter."""
    if isinstance(update, Update):
        for name in Update.ALL_TYPES:
            if getattr(update, name, None) is not None:
                return name
    return "other"


def mark_received(update_id: int, at: float) -> None:
    """Note when an update arrived (from ``now()``), for its latency."""
    if len(_arrivals) >= MAX_PENDING_ARRIVALS:
        # Oldest first: dicts keep insertion order.
        del _arrivals[next(iter(_arrivals))]
    _arrivals[update_id] = at


def _arrival(update: object) -> float:
    if isinstance(update, Update):
        at = _arrivals.pop(update.update_id, None)
        if at is not None:
            return at
    return now()


def observe_reply() -> None:
    """A reply was sent: record the latency of the update being processed, once."""
    pending = _current.get()
    if pending is None or pending.answered:
        return
    pending.answered = True
    REPLY_LATENCY.observe(now() - pending.started)


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MeasuredUpdateProcessor(BaseUpdateProcessor):
    """Wraps an update processor: counts each update and times it until its first reply."""

    def __init__(self, inner: BaseUpdateProcessor) -> None:
        super().__init__(inner.max_concurrent_updates)
        self._inner = inner

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Set the update's start time for the sends it makes, then let the inner one run it."""
        token = _current.set(_Pending(_arrival(update)))
        try:
            await self._inner.process_update(update, coroutine)
        finally:
            _current.reset(token)
            UPDATES.labels(update_type(update)).inc()

    async def initialize(self) -> None:
        """Initialise the inner processor."""
        await self._inner.initialize()

    async def shutdown(self) -> None:
        """Shut the inner processor down."""
        await self._inner.shutdown()


class MeasuredRateLimiter(PacedRateLimiter):
    """The bot's rate limiter (bot/transport/ratelimit.py) that also counts failed calls and times
    the first reply."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Rate-limit the call as AIORateLimiter does, measuring each attempt."""

        async def measured(*call_args: Any, **call_kwargs: Any) -> Result:
            try:
                result = await callback(*call_args, **call_kwargs)
            except Exception as exc:
                count_send_error(exc)
                if isinstance(exc, Forbidden):
                    count_reach("refused")
                raise
            if endpoint in REPLY_METHODS:
                observe_reply()
            return result

        return await super().process_request(
            measured, args, kwargs, endpoint, data, rate_limit_args
        )
