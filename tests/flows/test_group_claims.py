"""A group's challenge and a channel's tip go through the one claim mechanism: posted once,
posted again once (never twice) when a process died between the post and its
confirmation, posted after the lease when Telegram could not be reached, and once only
when two processes claim at the same time.

Each test runs for both kinds of post, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.context import Services
from bot.groups.service import DueChallenge, DueTip, GroupPostClaims, GroupService
from bot.groups.view import challenge_text, tip_text
from bot.texts.catalog import Texts
from storage.models import Challenge, Group, ScheduledSend
from storage.uow import unit_of_work_factory
from tests.fakebot import FakeTelegram, RecordingRequest, SentMessage, make_channel, make_group
from tests.flows.conftest import Bot, FakeClock, running_bot

LEASE = timedelta(seconds=5)
MONDAY_9_ROME = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Post:
    """One kind of group post: its ledger kind, the chat it goes to, what its text says."""

    kind: str
    chat: dict[str, Any]
    marker: str


CHALLENGE = Post("challenge", make_group(-100901, "Ingegneri in rete"), "Sfida della settimana")
TIP = Post("tip", make_channel(-100902, "Il canale di Chiara"), "consiglio della settimana")
POSTS = [pytest.param(CHALLENGE, id="challenge"), pytest.param(TIP, id="tip")]


# Telegram answers a send this late in the time-out test; the bot waits READ_TIMEOUT.
LATE_ANSWER = 1.0
READ_TIMEOUT = 0.5


def _process(
    database_url: str, telegram: FakeTelegram, texts: Texts
) -> AbstractAsyncContextManager[Bot]:
    """One bot process on the database, with a 5 s lease and a short read time-out."""
    return running_bot(
        database_url,
        telegram,
        texts,
        clock=FakeClock(MONDAY_9_ROME),
        request=RecordingRequest(telegram, read_timeout=READ_TIMEOUT),
        nudge_lease_seconds=int(LEASE.total_seconds()),
    )


@pytest.fixture
async def bot(database_url: str, telegram: FakeTelegram, texts: Texts) -> AsyncIterator[Bot]:
    """The bot whose claims are tested."""
    async with _process(database_url, telegram, texts) as bot:
        yield bot


@pytest.fixture(params=POSTS)
async def post(request: pytest.FixtureRequest, bot: Bot) -> Post:
    """A chat whose post of this kind is due now."""
    post: Post = request.param
    await _due_now(bot, post)
    return post


async def _due_now(bot: Bot, post: Post) -> None:
    bot.clock.now = MONDAY_9_ROME
    bot.telegram.register_chat(post.chat)
    is_challenge = post is CHALLENGE
    async with bot.sessions() as session:
        session.add(
            Group(
                chat_id=post.chat["id"],
                type=post.chat["type"],
                title=post.chat["title"],
                challenge_enabled=is_challenge,
                next_challenge_at=MONDAY_9_ROME if is_challenge else None,
                tip_enabled=not is_challenge,
                next_tip_at=None if is_challenge else MONDAY_9_ROME,
            )
        )
        await session.commit()


def _services(bot: Bot) -> Services:
    services: Services = bot.application.bot_data["services"]
    return services


def _claims(groups: GroupService, post: Post) -> GroupPostClaims[Any]:
    return groups.challenges if post is CHALLENGE else groups.tips


def _posts(bot: Bot, post: Post) -> list[SentMessage]:
    """What the chat was sent of this kind of post."""
    sent = bot.telegram.sent_messages(post.chat["id"])
    return [m for m in sent if post.marker.lower() in (m.plain_text or "").lower()]


async def _ledger(bot: Bot, post: Post) -> list[tuple[str, int]]:
    """The post's ledger rows: (status, attempts)."""
    async with bot.sessions() as session:
        rows = (
            await session.execute(select(ScheduledSend).where(ScheduledSend.kind == post.kind))
        ).scalars()
        return [(row.status, row.attempts) for row in rows]


async def _post_and_die(bot: Bot, post: Post) -> None:
    """A process claims the post, posts it and dies before confirming it."""
    [due] = (await _claims(_services(bot).groups, post).claim_batch()).items
    texts = _services(bot).texts
    text = challenge_text(texts, due) if isinstance(due, DueChallenge) else tip_text(texts, due)
    await bot.application.bot.send_message(due.chat_id, text)


async def test_a_due_post_goes_out_once_and_is_confirmed(bot: Bot, post: Post) -> None:
    [sent] = await bot.tick()
    assert sent.chat_id == post.chat["id"]
    assert _posts(bot, post) == [sent]
    assert await _ledger(bot, post) == [("sent", 1)]
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []


async def test_the_challenge_keeps_the_message_members_reply_to(bot: Bot) -> None:
    await _due_now(bot, CHALLENGE)
    [sent] = await bot.tick()
    async with bot.sessions() as session:
        [challenge] = (await session.execute(select(Challenge))).scalars()
    assert (challenge.message_id, challenge.posted_at) == (sent.message_id, MONDAY_9_ROME)


async def test_a_post_left_unconfirmed_by_a_crash_goes_out_once_more_after_the_lease(
    bot: Bot, post: Post
) -> None:
    await _post_and_die(bot, post)
    assert len(_posts(bot, post)) == 1
    # Within the lease the claim is the dead process's still.
    assert await bot.tick() == []
    bot.clock.advance(LEASE + timedelta(seconds=1))
    [again] = await bot.tick()
    assert _posts(bot, post)[1:] == [again]
    assert await _ledger(bot, post) == [("sent", 2)]
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []


async def test_a_challenge_posted_again_after_a_crash_repeats_its_recap(bot: Bot) -> None:
    await _due_now(bot, CHALLENGE)
    async with bot.sessions() as session:
        last_week = MONDAY_9_ROME - timedelta(days=7)
        session.add(Challenge(chat_id=CHALLENGE.chat["id"], due_at=last_week, idea="show_result"))
        await session.commit()
    await _post_and_die(bot, CHALLENGE)
    bot.clock.advance(LEASE + timedelta(seconds=1))
    recap, challenge = await bot.tick()
    # The recap is part of the post: sent again with it, once at most.
    assert "La settimana scorsa nessuna bozza" in (recap.plain_text or "")
    assert _posts(bot, CHALLENGE)[1:] == [challenge]
    async with bot.sessions() as session:
        latest = (
            await session.execute(select(Challenge).where(Challenge.due_at == MONDAY_9_ROME))
        ).scalar_one()
    # Replies go to the challenge members can see last.
    assert latest.message_id == challenge.message_id


async def test_a_post_unconfirmed_twice_is_not_posted_a_third_time(bot: Bot, post: Post) -> None:
    await _post_and_die(bot, post)
    bot.clock.advance(LEASE + timedelta(seconds=1))
    await _post_and_die(bot, post)  # the one taking it over dies too
    bot.clock.advance(LEASE + timedelta(seconds=1))
    assert await bot.tick() == []
    assert len(_posts(bot, post)) == 2
    assert await _ledger(bot, post) == [("failed", 2)]
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []


async def test_a_post_unconfirmed_past_the_grace_is_missed(bot: Bot, post: Post) -> None:
    await _post_and_die(bot, post)
    bot.clock.advance(timedelta(hours=7))
    assert await bot.tick() == []
    assert await _ledger(bot, post) == [("missed", 1)]


async def test_a_post_that_found_telegram_down_goes_out_once_after_the_lease(
    bot: Bot, post: Post
) -> None:
    bot.telegram.fail("sendMessage", 502, chat_id=post.chat["id"], times=None)
    assert await bot.tick() == []
    # Certainly not sent: released, and the attempt does not count.
    assert await _ledger(bot, post) == [("claimed", 0)]
    bot.telegram.clear_faults()
    assert await bot.tick() == []  # its lease is not over yet
    bot.clock.advance(LEASE + timedelta(seconds=1))
    [sent] = await bot.tick()
    assert _posts(bot, post) == [sent]
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []
    assert await _ledger(bot, post) == [("sent", 1)]


async def test_a_post_whose_answer_came_too_late_is_kept_as_posted(bot: Bot, post: Post) -> None:
    bot.telegram.delay("sendMessage", LATE_ANSWER, times=1)
    assert await bot.tick() == []
    await asyncio.sleep(LATE_ANSWER)  # Telegram delivered it all the same
    assert len(_posts(bot, post)) == 1
    # It may well have arrived: kept as posted, never posted again, as for a nudge.
    assert await _ledger(bot, post) == [("sent", 1)]
    bot.clock.advance(LEASE * 10)
    assert await bot.tick() == []
    assert len(_posts(bot, post)) == 1


async def test_a_chat_that_removed_the_bot_stops_and_its_post_fails(bot: Bot, post: Post) -> None:
    bot.telegram.set_member(post.chat["id"], bot.telegram.bot_id, "kicked")
    assert await bot.tick() == []
    assert await _ledger(bot, post) == [("failed", 1)]
    async with bot.sessions() as session:
        group = await session.get(Group, post.chat["id"])
    assert group is not None
    assert (group.is_active, group.next_challenge_at, group.next_tip_at) == (False, None, None)


async def test_two_processes_ticking_at_once_post_it_once(
    bot: Bot, post: Post, database_url: str, telegram: FakeTelegram, texts: Texts
) -> None:
    async with _process(database_url, telegram, texts) as other:
        await asyncio.gather(bot.tick(), other.tick())
        assert len(_posts(bot, post)) == 1
        assert await _ledger(bot, post) == [("sent", 1)]
        for process in (bot, other):
            process.clock.advance(LEASE * 10)
            assert await process.tick() == []


async def test_two_services_claiming_at_once_share_nothing(bot: Bot, post: Post) -> None:
    other = GroupService(unit_of_work_factory(bot.sessions), bot.clock, lease=LEASE)
    batches = await asyncio.gather(
        _claims(_services(bot).groups, post).claim_batch(), _claims(other, post).claim_batch()
    )
    claimed: list[DueChallenge | DueTip] = [due for batch in batches for due in batch.items]
    assert [due.chat_id for due in claimed] == [post.chat["id"]]
