"""The pace of everything the bot sends: even, under Telegram's limit, and one pause for all
after a 429.

PTB's AIORateLimiter does the per-group limit (20 a minute) and the retries; two of its
parts are replaced here, as measured by `benchmarks/nudge_dispatch.py`:

- The overall limit. aiolimiter's leaky bucket either allows bursts (a bucket as deep
  as the rate sends a whole second's worth at once, which Telegram's sliding window
  answers with 429) or, one deep, loses the time every late wake-up costs (~18% of the
  rate on a busy loop). `EvenPace` hands out slots at fixed intervals instead: a send
  that wakes up late does not push the next slot back, and nothing goes early.
- The pause after a 429. AIORateLimiter's pause ends as soon as any other send
  succeeds, and sends wait for it while holding their slot, so they all leave together
  when it ends. Here a 429 pauses every send that has not left yet, until the time
  Telegram asked for, and a send whose slot comes during a pause queues again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from types import TracebackType
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

# Sends are paced a little under the allowed rate: the margin absorbs jitter on the way
# to Telegram, which counts messages in a sliding one-second window.
RATE_HEADROOM = 0.96

Result = bool | dict[str, Any] | list[dict[str, Any]]


class EvenPace:
    """An async context manager that lets one caller through per interval, in order.

    Slots follow each other at exact intervals while callers are waiting (a caller that
    wakes up late does not delay the next slot); after an idle spell the next slot is
    now. So any one-second window holds at most rate + 1 sends.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def __aenter__(self) -> None:
        now = self._clock()
        slot = max(self._next, now)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


class _PausedError(Exception):
    """A send's turn came during a RetryAfter pause: it queues again after the pause."""


class _NeverCleared(asyncio.Event):
    """Stands in for AIORateLimiter's pause event: `PacedRateLimiter` pauses instead."""

    def clear(self) -> None:
        """Stay set."""


class PacedRateLimiter(AIORateLimiter):
    """AIORateLimiter with an even overall pace and one pause for every send after a 429."""

    def __init__(
        self,
        rate: float,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(max_retries=max_retries)
        pace = EvenPace(rate * RATE_HEADROOM, clock, sleep)
        self._base_limiter = pace  # type: ignore[assignment]
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._retry_after_event = _NeverCleared()
        self._retry_after_event.set()

    def _pause(self, exc: RetryAfter) -> None:
        # As AIORateLimiter reads it: the public attribute's type is changing (int, then
        # timedelta) and warns when read.
        after: timedelta = exc._retry_after
        seconds = after.total_seconds()
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> Result:
        async def unless_paused(*call_args: Any, **call_kwargs: Any) -> Result:
            if self._paused_until > self._clock():
                raise _PausedError
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                self._pause(exc)
                raise

        while True:
            wait = self._paused_until - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue
            try:
                return await super()._run_request(
                    chat, group, allow_paid_broadcast, unless_paused, args, kwargs
                )
            except _PausedError:
                continue
