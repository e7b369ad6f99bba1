"""The results question goes through the one claim mechanism: a crash between its send and
its confirmation asks it once more after the lease, never a third time, and a question that
found no connection is asked once the lease is over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.claims import LEASE
from bot.results.service import ResultsService
from storage.models import ScheduledSend
from storage.uow import unit_of_work_factory
from tests.fakebot import command, make_user
from tests.flows.conftest import Bot

PAST_LEASE = LEASE + timedelta(seconds=1)


async def _post_due(bot: Bot, user_id: int) -> None:
    """The user reported a post 49 hours ago: its results question is due."""
    await bot.replies(command(make_user(user_id, "Anna"), "/posted linkedin"))
    bot.clock.advance(timedelta(hours=49))


def _crashed_process(bot: Bot) -> ResultsService:
    """Another process on the same database, whose claims are never confirmed."""
    return ResultsService(unit_of_work_factory(bot.sessions), bot.clock)


async def _ledger(bot: Bot) -> list[ScheduledSend]:
    async with bot.sessions() as session:
        statement = select(ScheduledSend).where(ScheduledSend.kind == "results")
        return list((await session.execute(statement)).scalars())


def _questions(bot: Bot, user_id: int) -> int:
    return sum("reazioni" in (m.plain_text or "") for m in bot.telegram.sent_messages(user_id))


async def test_a_question_is_recorded_asked_and_confirmed(bot: Bot) -> None:
    await _post_due(bot, 4501)
    [question] = await bot.tick()
    assert question.chat_id == 4501
    [send] = await _ledger(bot)
    assert (send.status, send.attempts, send.chat_id) == ("sent", 1, 4501)
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []


async def test_a_crash_before_the_confirmation_asks_once_more_after_the_lease(
    bot: Bot,
) -> None:
    await _post_due(bot, 4502)
    [claimed] = (await _crashed_process(bot).claim_batch()).items
    assert claimed.post_id is not None
    # Within the lease the claim is the dead process's: nobody asks.
    assert await bot.tick() == []
    bot.clock.advance(PAST_LEASE)
    [question] = await bot.tick()
    assert question.chat_id == 4502
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []
    [send] = await _ledger(bot)
    assert (send.status, send.attempts) == ("sent", 2)
    assert _questions(bot, 4502) == 1


async def test_two_crashes_never_ask_a_third_time(bot: Bot) -> None:
    await _post_due(bot, 4503)
    assert len((await _crashed_process(bot).claim_batch()).items) == 1
    bot.clock.advance(PAST_LEASE)
    # Taken over by a second process, which dies too.
    assert len((await _crashed_process(bot).claim_batch()).items) == 1
    bot.clock.advance(PAST_LEASE)
    assert await bot.tick() == []
    [send] = await _ledger(bot)
    assert (send.status, send.attempts) == ("failed", 2)


async def test_two_processes_claiming_at_once_ask_once(bot: Bot) -> None:
    await _post_due(bot, 4504)
    first, second = _crashed_process(bot), _crashed_process(bot)
    batches = [await first.claim_batch(), await second.claim_batch()]
    assert sorted(len(batch.items) for batch in batches) == [0, 1]


async def test_a_question_that_found_no_connection_is_asked_after_the_lease(
    bot: Bot,
) -> None:
    await _post_due(bot, 4505)
    bot.telegram.fail("sendMessage", 502)
    assert await bot.tick() == []
    [send] = await _ledger(bot)
    # Released: this attempt does not count.
    assert (send.status, send.attempts) == ("claimed", 0)
    bot.clock.advance(PAST_LEASE)
    [question] = await bot.tick()
    assert question.chat_id == 4505
    [send] = await _ledger(bot)
    assert (send.status, send.attempts) == ("sent", 1)
