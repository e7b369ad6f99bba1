"""Per-chat paces: how fast the bot writes into one chat.

Telegram allows about one message a second to one private chat (a few quick ones pass,
then it answers 429) and twenty a minute to one group. `ChatPace` is that limit on our
side, and every send with a chat goes through it (bot/transport/ratelimit.py), replies and nudges
alike:

- a private chat gets a burst of `PRIVATE_BURST` messages, then one per interval (a
  token bucket, kept as its next theoretical slot: GCRA);
- a group or channel gets at most `GROUP_PER_MINUTE` in any sliding minute.

Both run a little under Telegram's figures (`CHAT_HEADROOM`): a send leaves at its slot
but reaches Telegram a moment later, and not always after the same moment. A caller
reserves its slot at once, in call order, and sleeps until it: nobody holds a lock while
waiting. After a 429 for one chat, `pause` keeps that chat's slots after Telegram's
retry_after.

`ChatPacer` is older and narrower: the nudges hold a user's chat turn across the text and
the picture of a weekly review (only private chats: groups never take a turn).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

# Forget chats idle this long; the table stays small with many users.
_FORGET_AFTER = 60.0
# Tables are swept for idle chats only past this size.
_SWEEP_ABOVE = 10_000
# The quick messages Telegram lets through to one private chat before spacing them.
PRIVATE_BURST = 3
# Telegram's limit per group (and channel), in any minute.
GROUP_PER_MINUTE = 20
GROUP_WINDOW = 60.0
# Our paces run this much under Telegram's figures, for the jitter on the way there.
CHAT_HEADROOM = 0.9

ChatId = int | str


def is_group(chat_id: ChatId) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username)."""
    return isinstance(chat_id, str) or chat_id < 0


@dataclass
class _ChatSlots:
    """One chat's reservations: the next theoretical slot (private) or the last sends
    (groups), and the end of a pause Telegram asked for."""

    next_slot: float = 0.0
    sent: deque[float] = field(default_factory=deque)
    not_before: float = 0.0


class ChatPace:
    """Hands out each chat's send slots: a burst then `private_rate` a second in a private
    chat, `GROUP_PER_MINUTE` a minute in a group."""

    def __init__(
        self, private_rate: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if private_rate <= 0:
            raise ValueError("a chat's rate must be positive")
        self._interval = 1 / (private_rate * CHAT_HEADROOM)
        # GCRA's tolerance: how far ahead of now the next slot may be and still be now.
        self._tolerance = (PRIVATE_BURST - 1) * self._interval
        self._group_window = GROUP_WINDOW / CHAT_HEADROOM
        self._clock = clock
        self._chats: dict[ChatId, _ChatSlots] = {}

    def reserve(self, chat_id: ChatId) -> float:
        """Take the chat's next slot; returns how many seconds from now it is (0: now)."""
        now = self._clock()
        self._forget_idle(now)
        slots = self._chats.setdefault(chat_id, _ChatSlots())
        earliest = max(now, slots.not_before)
        if is_group(chat_id):
            while slots.sent and slots.sent[0] <= earliest - self._group_window:
                slots.sent.popleft()
            slot = earliest
            if len(slots.sent) >= GROUP_PER_MINUTE:
                slot = max(slot, slots.sent[-GROUP_PER_MINUTE] + self._group_window)
            slots.sent.append(slot)
        else:
            slot = max(earliest, slots.next_slot - self._tolerance)
            slots.next_slot = max(slots.next_slot, slot) + self._interval
        return slot - now

    def pause(self, chat_id: ChatId, seconds: float) -> None:
        """Telegram asked us to wait before writing to this chat again."""
        slots = self._chats.setdefault(chat_id, _ChatSlots())
        slots.not_before = max(slots.not_before, self._clock() + seconds)

    def paused_for(self, chat_id: ChatId) -> float:
        """Seconds left of the chat's pause (0 when it may be written to)."""
        slots = self._chats.get(chat_id)
        return max(0.0, slots.not_before - self._clock()) if slots is not None else 0.0

    def _forget_idle(self, now: float) -> None:
        if len(self._chats) < _SWEEP_ABOVE:
            return
        for chat_id, slots in list(self._chats.items()):
            last = max(slots.next_slot, slots.not_before, slots.sent[-1] if slots.sent else 0.0)
            if now - last > max(_FORGET_AFTER, self._group_window):
                del self._chats[chat_id]


class ChatPacer:
    """Spaces messages to the same private chat by a minimum interval."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _forget_idle(self, now: float) -> None:
        if len(self._last) < _SWEEP_ABOVE:
            return
        for chat_id, at in list(self._last.items()):
            lock = self._locks.get(chat_id)
            if now - at > _FORGET_AFTER and (lock is None or not lock.locked()):
                self._last.pop(chat_id, None)
                self._locks.pop(chat_id, None)

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for the chat's turn, then hold it while sending."""
        interval = self._interval
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
