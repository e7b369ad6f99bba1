"""The pace of everything the bot sends: even overall, paced per chat, and a 429 pauses
the chat it was for.

PTB's AIORateLimiter was measured (`benchmarks/nudge_dispatch.py`) and replaced here:

- The overall limit. aiolimiter's leaky bucket either allows bursts (a bucket as deep
  as the rate sends a whole second's worth at once, which Telegram's sliding window
  answers with 429) or, one deep, loses the time every late wake-up costs (~18% of the
  rate on a busy loop). `EvenPace` hands out slots at fixed intervals instead: a send
  that wakes up late does not push the next slot back, and nothing goes early.
- The per-chat limit. Every send with a chat, replies as much as nudges, takes a slot of
  that chat's pace (`bot.transport.pacing.ChatPace`: a short burst then about one a second in a
  private chat, twenty a minute in a group), then an overall slot.
- The pause after a 429. Telegram answers 429 for a chat's flood on a call to that chat,
  so a 429 on a call with a chat pauses that chat only, until the time Telegram asked
  for: one user flooding their own chat must not stop everyone's sends. A global pause
  (every send that has not left yet waits) follows a global flood signal only, which is
  either a 429 on a call without a chat, or 429s for `FLOOD_CHATS` different chats
  within `FLOOD_WINDOW` seconds (the bot's own overall pace went over Telegram's). A send
  whose slot comes during a pause queues again after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from types import TracebackType
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.transport.pacing import ChatId, ChatPace

logger = logging.getLogger(__name__)

# Sends are paced a little under the allowed rate: the margin absorbs jitter on the way
# to Telegram, which counts messages in a sliding one-second window.
RATE_HEADROOM = 0.96
# 429s for this many different chats within FLOOD_WINDOW seconds are a global flood.
FLOOD_CHATS = 3
FLOOD_WINDOW = 5.0

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]


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


def _chat_of(data: dict[str, Any]) -> ChatId | None:
    """The chat a call writes to, as Telegram counts it (an int id, or an @username)."""
    chat_id = data.get("chat_id")
    if chat_id is None or isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


def _seconds(exc: RetryAfter) -> float:
    # As AIORateLimiter reads it: the public attribute's type is changing (int, then
    # timedelta) and warns when read.
    after: timedelta = exc._retry_after
    return after.total_seconds()


class PacedRateLimiter(BaseRateLimiter[int]):
    """Every send paced overall and per chat; a 429 pauses its chat, a flood everyone.

    `chat_rate` is the private chats' pace (messages a second after the burst); None
    turns the per-chat pace off (a self-hosted Bot API without limits, a benchmark).
    A call that gets 429 is tried again after the pause, up to `max_retries` times (PTB's
    `rate_limit_args` may ask for another count).
    """

    def __init__(
        self,
        rate: float,
        max_retries: int = 3,
        chat_rate: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pace = EvenPace(rate * RATE_HEADROOM, clock, sleep)
        self._chats = ChatPace(chat_rate, clock) if chat_rate else None
        self._flood_pace = ChatPace(1.0, clock) if self._chats is None else self._chats
        self._max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._recent_floods: dict[ChatId, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _note_flood(self, chat_id: ChatId | None, exc: RetryAfter) -> None:
        now = self._clock()
        seconds = _seconds(exc)
        if chat_id is not None:
            # Paused even without a per-chat pace: Telegram asked for it.
            self._flood_pace.pause(chat_id, seconds)
            self._recent_floods[chat_id] = now
            for chat, at in list(self._recent_floods.items()):
                if now - at > FLOOD_WINDOW:
                    del self._recent_floods[chat]
            if len(self._recent_floods) < FLOOD_CHATS:
                logger.info("429 for chat %s: that chat waits %.0f s", chat_id, seconds)
                return
        self._paused_until = max(self._paused_until, now + seconds)
        logger.warning("429 on many chats: every send waits %.0f s", seconds)

    def _pause_left(self, chat_id: ChatId | None) -> float:
        wait = self._paused_until - self._clock()
        if chat_id is not None:
            wait = max(wait, self._flood_pace.paused_for(chat_id))
        return wait

    async def _paced(
        self, chat_id: ChatId | None, callback: Callback, args: Any, kwargs: dict[str, Any]
    ) -> Result:
        while True:
            wait = self._pause_left(chat_id)
            if wait > 0:
                await self._sleep(wait)
                continue
            if chat_id is None:
                # Not a message (answerCallbackQuery, setMyCommands...): Telegram does
                # not count these as messages; only a global pause holds them.
                return await callback(*args, **kwargs)
            if self._chats is not None:
                chat_wait = self._chats.reserve(chat_id)
                if chat_wait > 0:
                    await self._sleep(chat_wait)
            async with self._pace:
                if self._pause_left(chat_id) > 0:
                    continue  # the slot came during a pause: queue again after it
                return await callback(*args, **kwargs)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Send when the chat's and the overall pace allow; after a 429, wait and retry."""
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        chat_id = _chat_of(data)
        attempt = 0
        while True:
            try:
                return await self._paced(chat_id, callback, args, kwargs)
            except RetryAfter as exc:
                self._note_flood(chat_id, exc)
                if attempt >= retries:
                    raise
                attempt += 1
