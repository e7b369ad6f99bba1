"""The bot's pace: even slots under the allowed rate, a pace per chat, and a 429 pausing
the chat it was for (every chat only on a global flood)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.transport.pacing import CHAT_HEADROOM, GROUP_PER_MINUTE, PRIVATE_BURST, ChatPace
from bot.transport.ratelimit import FLOOD_CHATS, RATE_HEADROOM, EvenPace, PacedRateLimiter


class FakeTime:
    """A clock that moves only when someone sleeps; `overshoot` makes every wake-up late."""

    def __init__(self, overshoot: float = 0.0) -> None:
        self.now = 0.0
        self.overshoot = overshoot

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds + self.overshoot
        await asyncio.sleep(0)
        self.now = max(self.now, target)


async def _enter_all(pace: EvenPace, fake: FakeTime, count: int) -> list[float]:
    entered: list[float] = []

    async def one() -> None:
        async with pace:
            entered.append(fake.now)

    await asyncio.gather(*(one() for _ in range(count)))
    return entered


async def test_even_pace_spaces_callers_one_interval_apart() -> None:
    fake = FakeTime()
    entered = await _enter_all(EvenPace(10, fake.clock, fake.sleep), fake, 10)
    assert entered == pytest.approx([k / 10 for k in range(10)])


async def test_a_late_wake_up_does_not_push_the_next_slot_back() -> None:
    fake = FakeTime(overshoot=0.03)
    entered = await _enter_all(EvenPace(10, fake.clock, fake.sleep), fake, 10)
    # Each caller wakes 30 ms late, but the slots stay 100 ms apart: the tenth goes at
    # 0.93 s, not 0.9 + 9 x 0.03 s.
    assert entered[-1] == pytest.approx(0.93)
    # And none goes before its slot.
    assert all(at >= k / 10 for k, at in enumerate(entered))


async def test_after_an_idle_spell_the_next_slot_is_now() -> None:
    fake = FakeTime()
    pace = EvenPace(10, fake.clock, fake.sleep)
    await _enter_all(pace, fake, 2)
    fake.now = 5.0
    assert await _enter_all(pace, fake, 2) == pytest.approx([5.0, 5.1])


async def test_the_limiter_paces_under_the_allowed_rate() -> None:
    fake = FakeTime()
    limiter = PacedRateLimiter(100, clock=fake.clock, sleep=fake.sleep)
    sent: list[float] = []

    async def send(*_: Any) -> bool:
        sent.append(fake.now)
        return True

    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": n}, None)
            for n in range(50)
        )
    )
    in_one_second = sum(1 for at in sent if at < sent[0] + 1)
    assert in_one_second == 50  # all 50 fit in one second at 96 a second...
    assert sent[-1] - sent[0] == pytest.approx(49 / (100 * RATE_HEADROOM))  # ...evenly


class VirtualTime:
    """Time that moves only when every task sleeps: then to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), future))
        await future

    async def run(self, *coroutines: Awaitable[Any]) -> list[Any]:
        """Run the coroutines together to the end, moving time as they sleep."""
        everything = asyncio.gather(*coroutines)
        while not everything.done():
            for _ in range(50):  # let whatever is ready run until all of them sleep
                await asyncio.sleep(0)
            if self._sleepers and not everything.done():
                at, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, at)
                future.set_result(None)
        return list(await everything)


class Sends:
    """A limiter on fake time and what went out through it: (chat, when)."""

    def __init__(self, rate: float = 1000, chat_rate: float | None = 1.0) -> None:
        self.fake = VirtualTime()
        self.limiter = PacedRateLimiter(
            rate, max_retries=1, chat_rate=chat_rate, clock=self.fake.clock, sleep=self.fake.sleep
        )
        self.sent: list[tuple[int | None, float]] = []
        self.floods: dict[int | None, int] = {}

    def flood(self, chat_id: int | None, retry_after: int, times: int = 1) -> None:
        """The next `times` calls for this chat get 429 with this retry_after."""
        self.floods[chat_id] = times
        self.retry_after = retry_after

    async def send(self, chat_id: int | None, endpoint: str = "sendMessage") -> Any:
        async def call() -> bool:
            if self.floods.get(chat_id, 0) > 0:
                self.floods[chat_id] -= 1
                raise RetryAfter(self.retry_after)
            self.sent.append((chat_id, self.fake.now))
            return True

        data = {} if chat_id is None else {"chat_id": chat_id}
        return await self.limiter.process_request(call, (), {}, endpoint, data, None)

    def times(self, chat_id: int | None) -> list[float]:
        return [at for chat, at in self.sent if chat == chat_id]


async def test_a_429_for_one_chat_pauses_that_chat_only() -> None:
    sends = Sends()
    sends.flood(1, retry_after=30)
    await sends.fake.run(sends.send(1), sends.send(2), sends.send(3))
    # The flooded chat's message went again once Telegram's 30 s were over...
    assert sends.times(1) == [pytest.approx(30, abs=0.01)]
    # ...and nobody else waited for it.
    assert sends.times(2) == [pytest.approx(0, abs=0.01)]
    assert sends.times(3) == [pytest.approx(0, abs=0.01)]


async def test_429s_for_several_chats_pause_every_send() -> None:
    sends = Sends()
    for chat_id in range(1, FLOOD_CHATS + 1):
        sends.flood(chat_id, retry_after=5)
    await sends.fake.run(*(sends.send(chat_id) for chat_id in range(1, FLOOD_CHATS + 1)))
    # A chat that never got a 429 waits out the global pause too.
    started = sends.fake.now
    await sends.fake.run(sends.send(99))
    assert sends.times(99) == [pytest.approx(max(started, 5), abs=0.01)]
    assert all(at >= 5 for _, at in sends.sent)


async def test_a_429_on_a_call_without_a_chat_pauses_every_send() -> None:
    sends = Sends()
    sends.flood(None, retry_after=4)
    await sends.fake.run(sends.send(None, "setMyCommands"), sends.send(7))
    assert sends.times(None) == [pytest.approx(4, abs=0.01)]
    assert sends.times(7)[0] >= 4


async def test_a_private_chat_gets_a_short_burst_then_about_one_a_second() -> None:
    sends = Sends()
    await sends.fake.run(*(sends.send(5) for _ in range(PRIVATE_BURST + 3)))
    times = sends.times(5)
    interval = 1 / CHAT_HEADROOM
    assert times[:PRIVATE_BURST] == pytest.approx([0.0] * PRIVATE_BURST, abs=0.01)
    assert times[PRIVATE_BURST:] == pytest.approx([interval, 2 * interval, 3 * interval])


async def test_a_group_gets_twenty_a_minute() -> None:
    sends = Sends()
    await sends.fake.run(*(sends.send(-100) for _ in range(GROUP_PER_MINUTE + 1)))
    times = sends.times(-100)
    assert times[-1] - times[0] >= 60  # the 21st waits until the first left the minute
    assert times[GROUP_PER_MINUTE - 1] == pytest.approx(0, abs=0.1)


async def test_other_chats_are_not_held_by_one_chats_pace() -> None:
    sends = Sends()
    await sends.fake.run(*(sends.send(5) for _ in range(10)), sends.send(6))
    assert sends.times(6) == [pytest.approx(0, abs=0.1)]


async def test_without_a_chat_rate_a_chat_is_paced_only_overall() -> None:
    sends = Sends(rate=100, chat_rate=None)
    await sends.fake.run(*(sends.send(5) for _ in range(10)))
    assert sends.times(5)[-1] == pytest.approx(9 / (100 * RATE_HEADROOM))


def test_a_paused_chat_resumes_at_the_end_of_the_pause() -> None:
    fake = VirtualTime()
    pace = ChatPace(1.0, clock=fake.clock)
    pace.pause(5, 12)
    assert pace.paused_for(5) == pytest.approx(12)
    assert pace.reserve(5) == pytest.approx(12)
    assert pace.paused_for(6) == 0
