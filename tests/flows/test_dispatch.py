"""How a nudge's send ends when Telegram is slow: a time-out is not sent twice, a send that
never left goes out after the lease, and claims being sent slowly are not taken over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from telegram.error import TimedOut
from telegram.request import RequestData

from bot.app import build_application
from bot.context import Services
from bot.nudges.service import NudgeService
from bot.texts.catalog import Texts
from storage.database import create_session_factory
from storage.migrate import upgrade_engine
from storage.uow import unit_of_work_factory
from tests.fakebot import FakeTelegram, RecordingRequest
from tests.flows.conftest import Bot, FakeClock, settings_for
from tests.flows.test_nudges import MONDAY_9_ROME, _nudges, _schedule, _sends

LEASE = timedelta(seconds=5)


class FlakyRequest(RecordingRequest):
    """The fake Telegram, with a hook run around each sendMessage to the chats it names."""

    def __init__(self, telegram: FakeTelegram) -> None:
        super().__init__(telegram)
        self.chats: set[int] = set()
        self.before: Callable[[], Any] | None = None  # awaited before the fake answers
        self.error: type[httpx.TimeoutException] | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        params = request_data.json_parameters if request_data is not None else {}
        if not url.endswith("/sendMessage") or int(params.get("chat_id", 0)) not in self.chats:
            return await super().do_request(url, method, request_data, *args, **kwargs)
        if self.before is not None:
            await self.before()
        if self.error is httpx.ReadTimeout:
            # Telegram delivered it; its answer came too late for us.
            await super().do_request(url, method, request_data, *args, **kwargs)
            raise TimedOut() from httpx.ReadTimeout("read timed out")
        if self.error is not None:
            raise TimedOut() from self.error("no connection in time")
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
async def flaky(
    database_url: str, telegram: FakeTelegram, texts: Texts
) -> AsyncIterator[tuple[Bot, FlakyRequest]]:
    """A bot whose sends to some chats time out or hang, with a 5 s lease."""
    clock = FakeClock()
    request = FlakyRequest(telegram)
    application = build_application(
        settings_for(database_url, nudge_lease_seconds=int(LEASE.total_seconds())),
        texts=texts,
        request=request,
        get_updates_request=RecordingRequest(telegram),
        clock=clock,
    )
    engine = application.bot_data["engine"]
    await upgrade_engine(engine)
    await application.initialize()
    try:
        yield Bot(application, telegram, create_session_factory(engine), clock), request
    finally:
        await application.shutdown()
        await engine.dispose()


def _services(bot: Bot) -> Services:
    services: Services = bot.application.bot_data["services"]
    return services


async def test_a_nudge_whose_send_timed_out_is_kept_as_sent_and_never_sent_twice(
    flaky: tuple[Bot, FlakyRequest],
) -> None:
    bot, request = flaky
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 5101, days=[0], at="09:00")
    request.chats, request.error = {5101}, httpx.ReadTimeout
    bot.clock.now = MONDAY_9_ROME
    await bot.tick()
    assert len(_nudges(bot.telegram.sent_messages(5101))) == 1
    # Long past the lease, no later tick sends it again.
    request.error = None
    bot.clock.advance(LEASE * 10)
    await bot.tick()
    assert len(_nudges(bot.telegram.sent_messages(5101))) == 1
    [send] = [s for s in await _sends(bot, 5101) if s.kind == "nudge"]
    assert send.status == "sent"


async def test_a_nudge_that_found_no_connection_goes_out_once_after_the_lease(
    flaky: tuple[Bot, FlakyRequest],
) -> None:
    bot, request = flaky
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 5102, days=[0], at="09:00")
    request.chats, request.error = {5102}, httpx.PoolTimeout
    bot.clock.now = MONDAY_9_ROME
    await bot.tick()
    assert _nudges(bot.telegram.sent_messages(5102)) == []
    request.error = None
    bot.clock.advance(LEASE + timedelta(seconds=1))
    await bot.tick()
    bot.clock.advance(LEASE * 10)
    await bot.tick()
    assert len(_nudges(bot.telegram.sent_messages(5102))) == 1


async def test_claims_still_being_sent_are_renewed_and_not_taken_over(
    flaky: tuple[Bot, FlakyRequest],
) -> None:
    bot, request = flaky
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    for user_id in (5103, 5104):
        await _schedule(bot, user_id, days=[0], at="09:00")
    hanging, release = asyncio.Event(), asyncio.Event()

    async def hang() -> None:
        hanging.set()
        await release.wait()

    request.chats, request.before = {5103}, hang
    bot.clock.now = MONDAY_9_ROME
    tick = asyncio.create_task(bot.tick())
    await asyncio.wait_for(hanging.wait(), 5)
    # The send to 5103 takes ten leases; 5104's went out at once and waits to be written.
    bot.clock.advance(LEASE * 10)
    await asyncio.sleep(_services(bot).nudges.renew_every * 1.5)
    # Another instance looks for abandoned claims meanwhile: there are none.
    other = NudgeService(unit_of_work_factory(bot.sessions), bot.clock, lease=LEASE)
    assert (await other.claim_batch()).items == []
    release.set()
    await tick
    for user_id in (5103, 5104):
        assert len(_nudges(bot.telegram.sent_messages(user_id))) == 1
        assert [s.status for s in await _sends(bot, user_id) if s.kind == "nudge"] == ["sent"]


async def test_a_nudge_two_crashes_left_unconfirmed_is_not_sent_a_third_time(
    flaky: tuple[Bot, FlakyRequest],
) -> None:
    bot, _ = flaky
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 5105, days=[0], at="09:00")
    bot.clock.now = MONDAY_9_ROME

    def crashed() -> NudgeService:
        return NudgeService(unit_of_work_factory(bot.sessions), bot.clock, lease=LEASE)

    # Claimed (and perhaps sent) by a process that died, then by the one taking it over:
    # the nudge and the Monday review, both due at 9.
    assert {d.kind for d in (await crashed().claim_batch()).items} == {"nudge", "weekly"}
    bot.clock.advance(LEASE + timedelta(seconds=1))
    taken = (await crashed().claim_batch()).items
    assert {d.kind for d in taken} == {"nudge", "weekly"}
    assert all(d.late for d in taken)
    bot.clock.advance(LEASE + timedelta(seconds=1))
    await bot.tick()
    assert _nudges(bot.telegram.sent_messages(5105)) == []
    [send] = [s for s in await _sends(bot, 5105) if s.kind == "nudge"]
    assert (send.status, send.attempts) == ("failed", 2)


async def test_a_nudge_one_crash_left_unconfirmed_is_sent_once_more(
    flaky: tuple[Bot, FlakyRequest],
) -> None:
    bot, _ = flaky
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 5106, days=[0], at="09:00")
    bot.clock.now = MONDAY_9_ROME
    crashed = NudgeService(unit_of_work_factory(bot.sessions), bot.clock, lease=LEASE)
    assert {d.kind for d in (await crashed.claim_batch()).items} == {"nudge", "weekly"}
    await bot.tick()
    assert _nudges(bot.telegram.sent_messages(5106)) == []
    bot.clock.advance(LEASE + timedelta(seconds=1))
    await bot.tick()
    bot.clock.advance(LEASE * 10)
    await bot.tick()
    assert len(_nudges(bot.telegram.sent_messages(5106))) == 1
    [send] = [s for s in await _sends(bot, 5106) if s.kind == "nudge"]
    assert (send.status, send.attempts) == ("late", 2)
