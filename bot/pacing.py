"""A per-chat pace on top of PTB's global rate limiter.

AIORateLimiter keeps the bot under Telegram's overall limit (and 20 a minute per
group); this adds the per-chat pace: about one message a second to one private
chat, so a weekly review's text and picture never trip a chat's flood limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# Forget chats idle this long; the table stays small with many users.
_FORGET_AFTER = 60.0


class ChatPacer:
    """Spaces messages to the same chat by a minimum interval."""

    def __init__(
        self,
        private_interval: float = 1.0,
        group_interval: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._private = private_interval
        self._group = group_interval
        self._clock = clock
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _forget_idle(self, now: float) -> None:
        if len(self._last) < 10_000:
            return
        for chat_id, at in list(self._last.items()):
            lock = self._locks.get(chat_id)
            if now - at > _FORGET_AFTER and (lock is None or not lock.locked()):
                self._last.pop(chat_id, None)
                self._locks.pop(chat_id, None)

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for the chat's turn, then hold it while sending."""
        interval = self._group if chat_id < 0 else self._private
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._last.get(chat_id, -interval) + interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                now = self._clock()
                self._last[chat_id] = now
                self._forget_idle(now)
