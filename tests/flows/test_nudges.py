"""Nudges with a controllable clock: exact local times across DST, quiet hours, snooze,
pause and resume, crashes and downtime, blocked users, and the Monday review."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from bot.app import build_application
from bot.context import Services
from bot.nudges.service import CLAIM_BATCH, NudgeService
from bot.texts.catalog import Texts
from storage.migrate import upgrade_engine
from storage.models import NudgeSchedule, NudgeSend, Profile, User, utcnow
from storage.uow import unit_of_work_factory
from tests.fakebot import (
    FakeTelegram,
    RecordingRequest,
    SentMessage,
    command,
    inline_buttons,
    make_user,
    my_chat_member,
    private_chat,
    private_text,
)
from tests.flows.conftest import Bot, settings_for

MONDAY_9_ROME = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
DRAFT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena.\n"
    "Secondo me conviene più di quanto si pensi. Voi che ne pensate?"
)


def _services(bot: Bot) -> Services:
    services: Services = bot.application.bot_data["services"]
    return services


async def _schedule(
    bot: Bot,
    user_id: int,
    *,
    days: list[int],
    at: str,
    zone: str = "Europe/Rome",
    goal: int = 2,
    language: str = "it",
    joined: timedelta = timedelta(days=60),
) -> None:
    async with bot.sessions() as session:
        session.add(
            User(
                id=user_id,
                first_name="Anna",
                language=language,
                telegram_language=language,
                created_at=bot.clock.now - joined,
            )
        )
        await session.flush()
        session.add(
            Profile(
                user_id=user_id,
                topics=["sismica"],
                audience=["clients"],
                platforms=["linkedin"],
                main_platform="linkedin",
                weekly_goal=goal,
                timezone=zone,
                nudge_days=days,
                nudge_time=at,
                updated_at=utcnow(),
            )
        )
        await session.commit()
    bot.telegram.register_chat(private_chat(make_user(user_id, "Anna")))
    await _services(bot).nudges.sync_from_profile(user_id)


async def _sends(bot: Bot, user_id: int) -> list[NudgeSend]:
    async with bot.sessions() as session:
        statement = select(NudgeSend).where(NudgeSend.user_id == user_id).order_by(NudgeSend.id)
        return list((await session.execute(statement)).scalars())


async def _nudge_schedule(bot: Bot, user_id: int) -> NudgeSchedule:
    async with bot.sessions() as session:
        return (
            await session.execute(
                select(NudgeSchedule).where(
                    NudgeSchedule.user_id == user_id, NudgeSchedule.kind == "nudge"
                )
            )
        ).scalar_one()


async def _statuses(bot: Bot, *user_ids: int) -> list[str]:
    statuses = []
    for user_id in user_ids:
        statuses += [send.status for send in await _sends(bot, user_id)]
    return sorted(statuses)


def _nudges(messages: list[SentMessage]) -> list[SentMessage]:
    return [
        m for m in messages if any(d.startswith("nudge.") for _, d in inline_buttons(m.message))
    ]


async def test_nudge_arrives_at_local_time_once_with_buttons(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(days=1)
    await _schedule(bot, 901, days=[0, 3], at="09:00")
    assert (await _nudge_schedule(bot, 901)).next_due_at == MONDAY_9_ROME
    bot.clock.now = MONDAY_9_ROME - timedelta(seconds=1)
    assert _nudges(await bot.tick()) == []
    bot.clock.now = MONDAY_9_ROME + timedelta(seconds=5)
    [nudge] = _nudges(await bot.tick())
    assert nudge.chat_id == 901
    # Its idea (the first, a recent result) is about the user's topic, not any work.
    assert "sismica" in (nudge.plain_text or "")
    data = [d for _, d in inline_buttons(nudge.message)]
    assert [d.split(":")[0] for d in data] == [
        "nudge.write",
        "nudge.snooze",
        "nudge.snooze",
        "nudge.snooze",
        "nudge.skip",
        "nudge.pause",
    ]
    assert _nudges(await bot.tick()) == []
    [send] = [s for s in await _sends(bot, 901) if s.kind == "nudge"]
    assert send.status == "sent"
    assert send.due_at == MONDAY_9_ROME
    # Thursday 09:00 in Rome is next.
    assert (await _nudge_schedule(bot, 901)).next_due_at == datetime(
        2026, 11, 19, 8, 0, tzinfo=UTC
    )


async def test_local_time_kept_across_both_dst_changes_in_rome(bot: Bot) -> None:
    bot.clock.now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday before spring forward
    await _schedule(bot, 902, days=[0], at="09:00")
    assert (await _nudge_schedule(bot, 902)).next_due_at == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )  # 09:00 CEST
    bot.clock.now = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)  # Friday before fall back
    await _services(bot).nudges.resume(902)
    assert (await _nudge_schedule(bot, 902)).next_due_at == datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )  # 09:00 CET


async def test_local_time_kept_across_both_dst_changes_in_new_york(bot: Bot) -> None:
    bot.clock.now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    await _schedule(bot, 903, days=[6], at="08:30", zone="America/New_York", language="en")
    assert (await _nudge_schedule(bot, 903)).next_due_at == datetime(
        2026, 3, 8, 12, 30, tzinfo=UTC
    )  # EDT, the morning of the change
    bot.clock.now = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    await _services(bot).nudges.resume(903)
    assert (await _nudge_schedule(bot, 903)).next_due_at == datetime(
        2026, 11, 1, 13, 30, tzinfo=UTC
    )  # EST


async def test_quiet_hours_move_a_late_evening_nudge_to_the_morning(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME
    await _schedule(bot, 904, days=[1], at="22:30")
    # Tuesday 22:30 is inside 21:00-08:00: Wednesday 08:00 in Rome.
    assert (await _nudge_schedule(bot, 904)).next_due_at == datetime(
        2026, 11, 18, 7, 0, tzinfo=UTC
    )
    await bot.replies(command(make_user(904, "Anna"), "/quiet 23:00-07:00"))
    assert (await _nudge_schedule(bot, 904)).next_due_at == datetime(
        2026, 11, 17, 21, 30, tzinfo=UTC
    )


async def test_snooze_sends_again_later_and_keeps_the_weekly_rule(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 905, days=[0, 3], at="09:00")
    bot.clock.now = MONDAY_9_ROME
    [nudge] = _nudges(await bot.tick())
    rule_next = (await _nudge_schedule(bot, 905)).next_due_at
    snooze = next(d for _, d in inline_buttons(nudge.message) if d.endswith(":1h"))
    calls = await bot.press(make_user(905, "Anna"), nudge.message, snooze)
    assert any("ricordo" in (c.text or "") for c in calls if c.method == "sendMessage")
    assert (await _nudge_schedule(bot, 905)).next_due_at == rule_next
    bot.clock.advance(timedelta(minutes=59))
    assert _nudges(await bot.tick()) == []
    bot.clock.advance(timedelta(minutes=1))
    [again] = _nudges(await bot.tick())
    assert again.plain_text == nudge.plain_text
    assert (await _nudge_schedule(bot, 905)).next_due_at == rule_next


async def test_pause_and_resume(bot: Bot) -> None:
    anna = make_user(906, "Anna")
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 906, days=[0, 1, 2, 3, 4], at="09:00")
    [reply] = await bot.replies(command(anna, "/pause"))
    assert "/resume" in (reply.plain_text or "")
    bot.clock.now = MONDAY_9_ROME + timedelta(days=2)
    assert _nudges(await bot.tick()) == []
    [reply] = await bot.replies(command(anna, "/resume"))
    assert "riattivati" in (reply.plain_text or "")
    # No catching up: the next one is tomorrow at 09:00, not the ones paused.
    assert (await _nudge_schedule(bot, 906)).next_due_at == datetime(
        2026, 11, 19, 8, 0, tzinfo=UTC
    )
    assert _nudges(await bot.tick()) == []


async def test_pause_until_a_date(bot: Bot) -> None:
    anna = make_user(907, "Anna")
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 907, days=[0, 1, 2, 3, 4, 5, 6], at="09:00")
    [reply] = await bot.replies(command(anna, "/pause 18/11"))
    assert "18/11/2026" in (reply.plain_text or "")
    [bad] = await bot.replies(command(anna, "/pause 31/02"))
    assert "/pause 15/12" in (bad.plain_text or "")
    bot.clock.now = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    assert _nudges(await bot.tick()) == []
    bot.clock.now = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    assert len(_nudges(await bot.tick())) == 1


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("/pause 31/02", "Il 31/02 non esiste"),
        ("/pause domani", "«domani» non è una data"),
        ("/pause 01/01/2020", "Il 01/01/2020 è già passato"),
        ("/pause 2030-01-01", "al massimo per 366 giorni"),
        ("/quiet 25:00-99:00", "«25:00» non è un orario"),
        ("/quiet 22:00-99:00", "«99:00» non è un orario"),
        ("/quiet 22:00", "Mi servono due orari"),
        ("/quiet 22:00-22:00", "Inizio e fine coincidono"),
    ],
)
async def test_a_value_that_cannot_be_is_named_before_the_usage(
    bot: Bot, typed: str, problem: str
) -> None:
    anna = make_user(918, "Anna", language_code="it")
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 918, days=[0, 1, 2, 3, 4, 5, 6], at="09:00")
    [reply] = await bot.replies(command(anna, typed))
    text = reply.plain_text or ""
    assert problem in text
    # Then how to write it, and nothing was changed.
    assert ("/pause 15/12" if typed.startswith("/pause") else "/quiet 21:00-08:00") in text
    bot.clock.now = MONDAY_9_ROME + timedelta(minutes=1)
    assert len(_nudges(await bot.tick())) == 1


async def test_a_bare_command_without_a_value_just_says_how(bot: Bot) -> None:
    anna = make_user(919, "Anna", language_code="it")
    [reply] = await bot.replies(command(anna, "/quiet"))
    assert (reply.plain_text or "").startswith("Scrivi le ore di silenzio")


async def test_process_killed_after_claiming_sends_once_after_restart(
    bot: Bot, database_url: str, telegram: FakeTelegram, texts: Texts
) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 908, days=[0], at="09:00")
    bot.clock.now = MONDAY_9_ROME
    # The first process claims, then dies before sending anything.
    claimed = (await _services(bot).nudges.claim_batch()).items
    assert {(c.user_id, c.kind) for c in claimed} == {(908, "nudge"), (908, "weekly")}
    assert telegram.sent_messages(908) == []

    restarted = build_application(
        settings_for(database_url),
        texts=texts,
        request=RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
        clock=bot.clock,
    )
    await upgrade_engine(restarted.bot_data["engine"])
    await restarted.initialize()
    try:
        second = Bot(restarted, telegram, bot.sessions, bot.clock)
        # Within the lease, the claim still belongs to the dead process.
        bot.clock.advance(timedelta(seconds=30))
        assert _nudges(await second.tick()) == []
        bot.clock.advance(timedelta(minutes=3))
        [nudge] = _nudges(await second.tick())
        assert nudge.chat_id == 908
        assert _nudges(await second.tick()) == []
    finally:
        await restarted.shutdown()
        await restarted.bot_data["engine"].dispose()
    [send] = [s for s in await _sends(bot, 908) if s.kind == "nudge"]
    assert send.status == "late"


async def test_downtime_sends_late_within_grace_and_records_missed_beyond(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 909, days=[0, 1], at="09:00")
    bot.clock.now = MONDAY_9_ROME + timedelta(minutes=10)  # down for ten minutes
    [nudge] = _nudges(await bot.tick())
    assert "ritardo" in (nudge.plain_text or "")
    bot.clock.now = MONDAY_9_ROME + timedelta(days=1, hours=2)  # down for two hours
    assert _nudges(await bot.tick()) == []
    sends = [s for s in await _sends(bot, 909) if s.kind == "nudge"]
    assert [(s.status, s.late) for s in sends] == [("late", True), ("missed", False)]
    # After downtime the schedule jumped ahead: next Monday, no burst.
    assert (await _nudge_schedule(bot, 909)).next_due_at == MONDAY_9_ROME + timedelta(days=7)


async def test_blocked_user_stops_getting_nudges_until_unblocked(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 910, days=[0, 1, 2], at="09:00")
    bot.telegram.block_user(910)
    bot.clock.now = MONDAY_9_ROME
    assert _nudges(await bot.tick()) == []
    async with bot.sessions() as session:
        user = await session.get(User, 910)
    assert user is not None
    assert user.is_active is False
    bot.clock.now = MONDAY_9_ROME + timedelta(days=1)
    assert bot.telegram.calls("sendMessage")[-1].status == 403
    calls_before = len(bot.telegram.calls("sendMessage"))
    await bot.tick()
    assert len(bot.telegram.calls("sendMessage")) == calls_before  # nothing even attempted

    bot.telegram.unblock_user(910)
    anna = make_user(910, "Anna")
    await bot.send(my_chat_member(private_chat(anna), anna, "kicked", "member"))
    bot.clock.now = MONDAY_9_ROME + timedelta(days=2)
    assert len(_nudges(await bot.tick())) == 1


async def test_block_update_stops_nudges(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 911, days=[0], at="09:00")
    anna = make_user(911, "Anna")
    await bot.send(my_chat_member(private_chat(anna), anna, "member", "kicked"))
    bot.clock.now = MONDAY_9_ROME
    assert _nudges(await bot.tick()) == []


async def test_ideas_never_repeat_back_to_back_and_tone_follows_the_goal(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 912, days=[0, 1, 2, 3, 4, 5, 6], at="09:00", goal=1)
    ideas = []
    for day in range(9):
        bot.clock.now = MONDAY_9_ROME + timedelta(days=day)
        await bot.tick()
    sends = [s for s in await _sends(bot, 912) if s.kind == "nudge"]
    ideas = [s.idea for s in sends]
    assert len(ideas) == 9
    assert all(a != b for a, b in itertools.pairwise(ideas))
    texts = [m.plain_text or "" for m in _nudges(bot.telegram.sent_messages(912))]
    assert "primo promemoria" in texts[0]  # the first one is a welcome
    assert "settimana scorsa" in texts[1]  # no post last week: encouraging
    await bot.replies(command(make_user(912, "Anna"), "/posted linkedin"))
    bot.clock.now = MONDAY_9_ROME + timedelta(days=9)
    [nudge] = _nudges(await bot.tick())
    assert "già raggiunto" in (nudge.plain_text or "")


async def test_an_occurrence_already_recorded_leaves_the_last_idea_alone(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 913, days=[0], at="09:00")
    schedule = await _nudge_schedule(bot, 913)
    async with bot.sessions() as session:
        # Another process recorded (and sent) this occurrence already.
        session.add(
            NudgeSend(
                schedule_id=schedule.id,
                user_id=913,
                kind="nudge",
                due_at=MONDAY_9_ROME,
                status="sent",
                idea="show_result",
                claimed_at=MONDAY_9_ROME,
                late=False,
            )
        )
        await session.execute(
            update(NudgeSchedule)
            .where(NudgeSchedule.id == schedule.id)
            .values(last_idea="show_result")
        )
        await session.commit()
    bot.clock.now = MONDAY_9_ROME + timedelta(seconds=5)
    assert _nudges(await bot.tick()) == []
    # Nothing was sent, so the idea sent last is still the one to avoid next time.
    assert (await _nudge_schedule(bot, 913)).last_idea == "show_result"


async def test_monday_review_sends_the_week_and_the_chart(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(days=1)
    await _schedule(bot, 913, days=[], at="09:00")
    await bot.replies(private_text(make_user(913, "Anna"), DRAFT))  # a week with a score
    bot.clock.now = MONDAY_9_ROME
    sent = await bot.tick()
    texts = [m for m in sent if m.method == "sendMessage"]
    photos = [m for m in sent if m.method == "sendPhoto"]
    assert "La tua settimana" in (texts[0].plain_text or "")
    assert "La settimana scorsa: 0 post su 2" in (texts[0].plain_text or "")
    assert photos
    assert (photos[0].content or b"").startswith(b"\x89PNG")
    [action] = bot.telegram.calls("sendChatAction")
    assert action.params["action"] == "upload_photo"
    assert int(action.params["chat_id"]) == 913


async def test_a_long_tick_judges_lateness_at_its_start(bot: Bot) -> None:
    thursday = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    bot.clock.now = thursday - timedelta(hours=1)
    for user_id in (931, 932, 933):
        await _schedule(bot, user_id, days=[3], at="09:00")
    tick_started = thursday + timedelta(seconds=20)
    nudges = _services(bot).nudges
    # Thousands were due in the same minute: this batch is claimed 10 minutes into the
    # tick. Waiting for its turn does not make a nudge late (the late note is not shown).
    bot.clock.now = thursday + timedelta(minutes=10)
    claimed = (await nudges.claim_batch(limit=2, tick_started=tick_started)).items
    assert len(claimed) == 2
    assert not any(c.late for c in claimed)
    # Without the tick's start, the same wait would count as late.
    [last] = (await nudges.claim_batch()).items
    assert last.late
    await nudges.settle([c.send_id for c in (*claimed, last)])
    assert await _statuses(bot, 931, 932, 933) == ["late", "sent", "sent"]
    # A confirmation only moves a claimed send: a second one changes nothing.
    await nudges.settle([last.send_id], [claimed[0].send_id])
    assert await _statuses(bot, 931, 932, 933) == ["late", "sent", "sent"]


async def test_one_tick_sends_more_than_a_claim_batch_each_once(bot: Bot) -> None:
    # Set up on Monday: the weekly reviews of that morning are missed by Thursday, a
    # whole batch of them with nothing to send, and the tick goes on past them.
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    users = range(940, 940 + CLAIM_BATCH * 2 + 7)
    for user_id in users:
        await _schedule(bot, user_id, days=[3], at="09:00")
    bot.clock.now = datetime(2026, 11, 19, 8, 0, 30, tzinfo=UTC)
    sent = _nudges(await bot.tick())
    assert sorted(m.chat_id for m in sent) == list(users)
    async with bot.sessions() as session:
        statuses = (
            await session.execute(select(NudgeSend.status).where(NudgeSend.kind == "nudge"))
        ).scalars()
        assert set(statuses) == {"sent"}
    assert _nudges(await bot.tick()) == []


TUESDAY_9_ROME = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)


async def _snooze_to(bot: Bot, user_id: int, due: datetime) -> None:
    async with bot.sessions() as session:
        schedule = await session.get(NudgeSchedule, (await _nudge_schedule(bot, user_id)).id)
        assert schedule is not None
        schedule.snooze_due_at = due
        await session.commit()


async def test_a_backlog_is_claimed_earliest_first_across_batches(bot: Bot) -> None:
    bot.clock.now = TUESDAY_9_ROME - timedelta(hours=1)
    # Registered out of order, so that the ids do not give the order away.
    for user_id, minute in zip(range(960, 967), (12, 0, 20, 4, 16, 8, 24), strict=True):
        await _schedule(bot, user_id, days=[1], at=f"09:{minute:02d}")
    # A nudge snoozed to 09:06 goes out between the ones of 09:04 and 09:08.
    await _schedule(bot, 967, days=[3], at="09:00")
    await _snooze_to(bot, 967, TUESDAY_9_ROME + timedelta(minutes=6))
    bot.clock.now = TUESDAY_9_ROME + timedelta(minutes=25)
    nudges = _services(bot).nudges
    batches = [(await nudges.claim_batch(limit=3)).items for _ in range(4)]
    assert [len(batch) for batch in batches] == [3, 3, 2, 0]
    claimed = [delivery for batch in batches for delivery in batch]
    assert [c.user_id for c in claimed] == [961, 963, 967, 965, 960, 964, 962, 966]
    assert [c.due_at for c in claimed] == sorted(c.due_at for c in claimed)


async def test_a_claim_fills_its_batch_past_paused_schedules_due_earlier(bot: Bot) -> None:
    bot.clock.now = TUESDAY_9_ROME - timedelta(hours=1)
    for user_id in range(970, 975):
        await _schedule(bot, user_id, days=[1], at="09:00")
    await _schedule(bot, 975, days=[1], at="09:10")
    nudges = _services(bot).nudges
    for user_id in range(970, 975):
        await nudges.pause(user_id, until=TUESDAY_9_ROME + timedelta(days=2))
    bot.clock.now = TUESDAY_9_ROME + timedelta(minutes=15)
    # Five paused schedules are due before it, and the batch of one still finds it.
    [claimed] = (await nudges.claim_batch(limit=1)).items
    assert claimed.user_id == 975
    assert (await nudges.claim_batch(limit=1)).items == []


async def test_paused_and_blocked_users_have_nothing_due_until_they_come_back(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    for user_id in (980, 981):
        await _schedule(bot, user_id, days=[0, 3], at="09:00")
        await _snooze_to(bot, user_id, MONDAY_9_ROME + timedelta(minutes=30))
    nudges = _services(bot).nudges
    await nudges.pause(980)
    await nudges.set_active(981, False)
    async with bot.sessions() as session:
        dues = (
            await session.execute(
                select(NudgeSchedule.next_due_at, NudgeSchedule.snooze_due_at).where(
                    NudgeSchedule.user_id.in_([980, 981])
                )
            )
        ).all()
    assert [tuple(due) for due in dues] == [(None, None)] * 4  # nudge and weekly review each
    bot.clock.now = MONDAY_9_ROME + timedelta(hours=1)
    assert await bot.tick() == []
    await nudges.resume(980)
    await nudges.set_active(981, True)
    # Back from now: Thursday 09:00 in Rome, nothing from Monday caught up.
    for user_id in (980, 981):
        schedule = await _nudge_schedule(bot, user_id)
        assert schedule.next_due_at == datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
        assert schedule.snooze_due_at is None
    assert await bot.tick() == []


async def test_a_pause_until_resume_turned_into_a_pause_until_a_date_ends_then(bot: Bot) -> None:
    anna = make_user(985, "Anna")
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 985, days=[0, 1, 2, 3, 4, 5, 6], at="09:00")
    await bot.replies(command(anna, "/pause"))
    await bot.replies(command(anna, "/pause 18/11"))
    bot.clock.now = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    assert _nudges(await bot.tick()) == []
    bot.clock.now = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    assert len(_nudges(await bot.tick())) == 1


async def test_a_new_user_is_greeted_first_and_reminded_hours_later(bot: Bot) -> None:
    # Onboarding ends at 08:59 on a Monday whose reminders are at 09:00.
    bot.clock.now = MONDAY_9_ROME - timedelta(minutes=1)
    await _schedule(bot, 950, days=[0, 1], at="09:00", joined=timedelta(minutes=5))
    # Set as a new user's reminders are, with the delay of FIRST_REMINDER_DELAY_HOURS.
    delayed = NudgeService(
        unit_of_work_factory(bot.sessions), bot.clock, first_delay=timedelta(hours=12)
    )
    async with bot.sessions() as session:
        # Set again from scratch, as onboarding sets them the first time.
        await session.execute(delete(NudgeSchedule).where(NudgeSchedule.user_id == 950))
        await session.commit()
    await delayed.sync_from_profile(950)
    bot.clock.now = MONDAY_9_ROME + timedelta(seconds=5)
    # No reminder a minute after onboarding, and no review of a week they were not here for.
    assert await bot.tick() == []
    tuesday = MONDAY_9_ROME + timedelta(days=1)
    assert (await _nudge_schedule(bot, 950)).next_due_at == tuesday
    bot.clock.now = tuesday
    [nudge] = _nudges(await bot.tick())
    assert (nudge.plain_text or "").startswith("Ecco il tuo primo promemoria")
    # The second is an ordinary one.
    bot.clock.now = MONDAY_9_ROME + timedelta(days=7)
    messages = await bot.tick()
    [second] = _nudges(messages)
    assert "primo promemoria" not in (second.plain_text or "")
    # By the next Monday they were here the whole week: the review comes.
    assert any("La tua settimana" in (m.plain_text or "") for m in messages)


async def test_ideas_for_someone_without_topics_read_as_italian(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(hours=1)
    await _schedule(bot, 951, days=[0, 1, 2, 3, 4, 5, 6], at="09:00")
    async with bot.sessions() as session:
        await session.execute(update(Profile).where(Profile.user_id == 951).values(topics=[]))
        await session.commit()
    for day in range(8):
        bot.clock.now = MONDAY_9_ROME + timedelta(days=day)
        await bot.tick()
    texts = [m.plain_text or "" for m in _nudges(bot.telegram.sent_messages(951))]
    assert len(texts) == 8
    for text in texts:
        assert " su il " not in text
        assert "il tuo lavoro su" not in text
