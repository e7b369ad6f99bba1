"""The bot's pace: even slots under the allowed rate, and one pause for all after a 429."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import RATE_HEADROOM, EvenPace, PacedRateLimiter


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


async def test_a_429_pauses_every_send_that_has_not_left() -> None:
    fake = FakeTime()
    limiter = PacedRateLimiter(1000, max_retries=0, clock=fake.clock, sleep=fake.sleep)
    sent: list[tuple[int, float]] = []

    async def flooded(*_: Any) -> bool:
        raise RetryAfter(5)

    async def send(chat_id: int) -> bool:
        sent.append((chat_id, fake.now))
        return True

    def request(callback: Any, chat_id: int) -> Any:
        return limiter.process_request(
            callback, (chat_id,), {}, "sendMessage", {"chat_id": chat_id}, None
        )

    results = list(
        await asyncio.gather(
            request(flooded, 1), request(send, 2), request(send, 3), return_exceptions=True
        )
    )
    assert isinstance(results[0], RetryAfter)
    assert results[1:] == [True, True]
    # Both were queued behind the flooded send; neither left before Telegram's 5 s.
    assert [chat for chat, _ in sent] == [2, 3]
    assert all(at >= 5 for _, at in sent)
    # The pause is over: the next send leaves at once.
    before = fake.now
    assert await request(send, 4) is True
    assert sent[-1][0] == 4
    assert sent[-1][1] == pytest.approx(before, abs=0.01)
