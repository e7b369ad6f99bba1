"""Group and channel coaching with several members and a controllable clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.context import Services
from bot.groups import service as group_service
from storage.models import Challenge, Draft, Group, Submission
from tests.fakebot import (
    SentMessage,
    anonymous_admin_message,
    command,
    group_text,
    inline_buttons,
    make_channel,
    make_group,
    make_user,
    my_chat_member,
    private_text,
)
from tests.flows.conftest import Bot

GROUP = make_group(-100777, "Ingegneri in rete")
ADMIN = make_user(1001, "Chiara", language_code="it")
ANNA = make_user(1002, "Anna", language_code="it")
LUCA = make_user(1003, "Luca", language_code="it")
SARA = make_user(1004, "Sara", language_code="it")
MONDAY_9_ROME = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
WEAK = "Buongiorno a tutti! Metti like se sei d'accordo!!!"
GOOD = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena con un cappotto termico.\n"
    "Secondo me la riqualificazione conviene più di quanto si pensi.\n"
    "Voi avete esperienze simili nei vostri comuni?"
)


def _services(bot: Bot) -> Services:
    services: Services = bot.application.bot_data["services"]
    return services


async def _add_bot(bot: Bot) -> list[SentMessage]:
    bot.telegram.set_member(GROUP["id"], ADMIN["id"], "administrator")
    return await bot.replies(my_chat_member(GROUP, ADMIN, "left", "member"))


async def _enable_challenge(bot: Bot) -> SentMessage:
    [settings] = await bot.replies(command(ADMIN, "/groupsettings", chat=GROUP))
    await bot.press(ADMIN, settings.message, "group.set:challenge:on")
    return settings


async def test_added_introduces_itself_and_removed_stops(bot: Bot) -> None:
    [intro] = await _add_bot(bot)
    assert intro.chat_id == GROUP["id"]
    assert "/review" in (intro.plain_text or "")
    assert "/groupsettings" in (intro.plain_text or "")
    await _enable_challenge(bot)
    await bot.replies(my_chat_member(GROUP, ADMIN, "member", "kicked"))
    async with bot.sessions() as session:
        group = await session.get(Group, GROUP["id"])
    assert group is not None
    assert group.is_active is False
    assert group.next_challenge_at is None
    bot.clock.advance(timedelta(days=8))
    assert await bot.tick() == []


async def test_non_admin_is_refused_and_nothing_changes(bot: Bot) -> None:
    await _add_bot(bot)
    [refusal] = await bot.replies(command(ANNA, "/groupsettings", chat=GROUP))
    assert "solo gli amministratori" in (refusal.plain_text or "")
    assert refusal.reply_markup is None
    [settings] = await bot.replies(command(ADMIN, "/groupsettings", chat=GROUP))
    calls = await bot.press(ANNA, settings.message, "group.set:challenge:on")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") is True
    assert not [c for c in calls if c.method == "editMessageText"]
    assert any(c.method == "getChatMember" for c in calls)
    async with bot.sessions() as session:
        group = await session.get(Group, GROUP["id"])
    assert group is not None
    assert group.challenge_enabled is False


async def test_anonymous_admin_can_open_the_settings(bot: Bot) -> None:
    await _add_bot(bot)
    [settings] = await bot.replies(anonymous_admin_message(GROUP, "/groupsettings"))
    assert "Impostazioni di Ingegneri in rete" in (settings.plain_text or "")
    assert any(d == "group.set:challenge:on" for _, d in inline_buttons(settings.message))
    [theme] = await bot.replies(anonymous_admin_message(GROUP, "/theme sicurezza nei cantieri"))
    assert "sicurezza nei cantieri" in (theme.plain_text or "")


async def test_a_theme_too_long_is_refused_and_the_old_one_kept(bot: Bot) -> None:
    await _add_bot(bot)
    await bot.replies(anonymous_admin_message(GROUP, "/theme sicurezza nei cantieri"))
    long_theme = "cantieri " * 40
    [reply] = await bot.replies(anonymous_admin_message(GROUP, f"/theme {long_theme}"))
    assert "troppo lungo (359 caratteri): al massimo 200" in (reply.plain_text or "")
    async with bot.sessions() as session:
        group = await session.get(Group, GROUP["id"])
    assert group is not None
    assert group.challenge_theme == "sicurezza nei cantieri"


async def test_a_claim_of_challenges_already_posted_elsewhere_does_not_end_the_tick(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two groups due, the earlier one's challenge already recorded by another instance:
    # with one group per claim, the first claim posts nothing, and the tick goes on.
    monkeypatch.setattr(group_service, "CLAIM_BATCH", 1)
    bot.clock.now = MONDAY_9_ROME
    first, second = make_group(-100801, "Primo"), make_group(-100802, "Secondo")
    for chat in (first, second):
        bot.telegram.register_chat(chat)
    async with bot.sessions() as session:
        for minutes, chat in ((2, first), (1, second)):
            session.add(
                Group(
                    chat_id=chat["id"],
                    type="supergroup",
                    title=chat["title"],
                    challenge_enabled=True,
                    next_challenge_at=MONDAY_9_ROME - timedelta(minutes=minutes),
                )
            )
        await session.flush()
        session.add(
            Challenge(
                chat_id=first["id"],
                due_at=MONDAY_9_ROME - timedelta(minutes=2),
                idea="behind_the_scenes",
            )
        )
        await session.commit()
    posted = await bot.tick()
    assert [message.chat_id for message in posted] == [second["id"]]
    assert "Sfida della settimana" in (posted[0].plain_text or "")
    assert await bot.tick() == []


async def test_challenge_on_schedule_entries_deep_link_leaderboard_and_recap(bot: Bot) -> None:
    bot.clock.now = MONDAY_9_ROME - timedelta(days=1)
    await _add_bot(bot)
    settings = await _enable_challenge(bot)
    edited = bot.telegram.message(GROUP["id"], settings.message_id)
    assert edited is not None
    assert "ogni lunedì alle 09:00" in str(edited.get("text"))

    bot.clock.now = MONDAY_9_ROME - timedelta(minutes=1)
    assert await bot.tick() == []
    bot.clock.now = MONDAY_9_ROME
    [challenge] = await bot.tick()
    assert "Sfida della settimana" in (challenge.plain_text or "")
    assert await bot.tick() == []  # posted once

    # Three members answer at once; each gets a verdict in the thread, in order.
    entries = [
        group_text(member, GROUP, text, reply_to=challenge.message)
        for member, text in ((ANNA, WEAK), (LUCA, GOOD), (SARA, WEAK))
    ]
    before = len(bot.telegram.sent_messages(GROUP["id"]))
    await bot.burst(entries)
    verdicts = bot.telegram.sent_messages(GROUP["id"])[before:]
    assert len(verdicts) == 3
    assert [v.plain_text.split(":")[0] for v in verdicts if v.plain_text] == [
        "Anna",
        "Luca",
        "Sara",
    ]
    assert all(re.search(r"\d+/100", v.plain_text or "") for v in verdicts)
    # The full review is a deep link to a private chat: nobody is written to first.
    anna_verdict = verdicts[0]
    markup = anna_verdict.message["reply_markup"]["inline_keyboard"][0][0]
    assert markup["url"].startswith("https://t.me/postcoach_test_bot?start=r")
    assert bot.telegram.sent_messages(1002) == []
    payload = markup["url"].split("start=")[1]
    replies = await bot.replies(command(ANNA, "/start", payload))
    assert len(replies) == 1
    assert replies[0].chat_id == 1002
    assert "Da correggere" in (replies[0].plain_text or "")
    # Someone else opening Anna's link gets nothing of hers.
    [other] = await bot.replies(command(LUCA, "/start", payload))
    assert "un'altra persona" in (other.plain_text or "")

    # Anna revises her entry in private (a new version of the same draft) and sends one
    # more draft in the group; Sara leaves the leaderboard.
    [(_, revise)] = [
        b for b in inline_buttons(replies[0].message) if b[1].startswith("review.revise:")
    ]
    await bot.press(ANNA, replies[0].message, revise)
    [revised] = await bot.replies(private_text(ANNA, GOOD))
    gained = _score(revised) - _score(anna_verdict)
    assert gained > 0
    await bot.replies(group_text(ANNA, GROUP, "/review " + GOOD))
    await bot.replies(command(SARA, "/optout", chat=GROUP))
    [board] = await bot.replies(command(LUCA, "/leaderboard", chat=GROUP))
    text = board.plain_text or ""
    # Improvement is what revising gained, not the gap between two unrelated drafts.
    assert f"1. Anna — bozze: 2, miglioramento: {gained:+d}" in text
    assert "2. Luca — bozze: 1, nessuna revisione" in text
    assert "Sara" not in text
    async with bot.sessions() as session:
        submissions = (await session.execute(select(Submission))).scalars().all()
    assert len(submissions) == 4
    assert sum(1 for s in submissions if s.challenge_id is not None) == 4

    # A week later: the recap of the week, then the new challenge.
    bot.clock.now = MONDAY_9_ROME + timedelta(days=7)
    recap, second = await bot.tick()
    assert "Com'è andata la settimana" in (recap.plain_text or "")
    assert "Partecipanti: 3 · bozze: 4" in (recap.plain_text or "")
    assert f"Miglioramento più grande: Anna ({gained:+d} punti)" in (recap.plain_text or "")
    assert "Sfida della settimana" in (second.plain_text or "")
    assert second.plain_text != challenge.plain_text


def _score(sent: SentMessage) -> int:
    found = re.search(r"(\d+)/100", sent.plain_text or "")
    assert found is not None, sent.plain_text
    return int(found.group(1))


LUCIA = make_user(1005, "Lucia", language_code="it")
MARCO = make_user(1006, "Marco", language_code="it")


async def test_a_review_asked_for_a_colleagues_draft_is_the_colleagues(bot: Bot) -> None:
    await _add_bot(bot)
    # Lucia never started the bot; with privacy mode on, we never saw her message.
    draft = group_text(LUCIA, GROUP, GOOD)["message"]
    [verdict] = await bot.replies(group_text(MARCO, GROUP, "/review", reply_to=draft))
    assert (verdict.plain_text or "").startswith("Lucia: ")
    assert "Marco" not in (verdict.plain_text or "")
    # Nobody is written to in private; Lucia reaches her review through the link.
    assert bot.telegram.sent_messages(LUCIA["id"]) == []
    assert bot.telegram.sent_messages(MARCO["id"]) == []
    link = verdict.message["reply_markup"]["inline_keyboard"][0][0]["url"]
    [full] = await bot.replies(command(LUCIA, "/start", link.split("start=")[1]))
    assert "/100" in (full.plain_text or "")
    async with bot.sessions() as session:
        [submission] = (await session.execute(select(Submission))).scalars().all()
        [stored] = (await session.execute(select(Draft))).scalars().all()
    assert (submission.user_id, submission.requested_by) == (LUCIA["id"], MARCO["id"])
    assert stored.user_id == LUCIA["id"]
    [board] = await bot.replies(command(MARCO, "/leaderboard", chat=GROUP))
    text = board.plain_text or ""
    assert "Lucia — bozze: 1, nessuna revisione" in text
    assert "Marco — bozze: 0, nessuna revisione, revisioni chieste per altri: 1" in text


@pytest.mark.parametrize(
    ("replied", "why"),
    [
        (
            group_text(
                make_user(777, "Helper", username="helper_bot") | {"is_bot": True}, GROUP, GOOD
            )["message"],
            "di un bot",
        ),
        (
            anonymous_admin_message(GROUP, GOOD)["message"],
            "di un canale o di un amministratore anonimo",
        ),
        (
            group_text(LUCIA, GROUP, GOOD)["message"]
            | {"forward_origin": {"type": "user", "date": 1_700_000_000, "sender_user": LUCIA}},
            "inoltrato",
        ),
    ],
)
async def test_a_review_of_a_message_with_no_author_is_credited_to_nobody(
    bot: Bot, replied: dict[str, object], why: str
) -> None:
    await _add_bot(bot)
    [verdict] = await bot.replies(group_text(MARCO, GROUP, "/review", reply_to=replied))
    text = verdict.plain_text or ""
    assert text.startswith("Bozza: ")
    assert "Non conta in classifica" in text
    assert why in text
    assert "reply_markup" not in verdict.message
    async with bot.sessions() as session:
        assert (await session.execute(select(Submission))).first() is None
        assert (await session.execute(select(Draft))).first() is None


async def test_leaderboard_ties_are_ordered_by_drafts_then_name(bot: Bot) -> None:
    await _add_bot(bot)
    for member, count in ((LUCA, 1), (ANNA, 2), (SARA, 1)):
        for _ in range(count):
            await bot.replies(group_text(member, GROUP, "/review " + GOOD))
    [board] = await bot.replies(command(LUCA, "/leaderboard", chat=GROUP))
    lines = (board.plain_text or "").splitlines()[1:]
    assert [line.split(" — ")[0] for line in lines] == ["1. Anna", "2. Luca", "3. Sara"]


async def test_short_or_full_reviews_follow_the_setting(bot: Bot) -> None:
    await _add_bot(bot)
    [short] = await bot.replies(group_text(ANNA, GROUP, "/review " + GOOD))
    assert "url" in short.message["reply_markup"]["inline_keyboard"][0][0]
    settings = await _enable_challenge(bot)
    await bot.press(ADMIN, settings.message, "group.set:mode:full")
    [full] = await bot.replies(group_text(ANNA, GROUP, "/review " + GOOD))
    assert any(d.startswith("review.details:") for _, d in inline_buttons(full.message))


async def test_channel_admin_turns_on_the_weekly_tip(bot: Bot) -> None:
    channel = make_channel(-100888, "Il canale di Chiara")
    bot.clock.now = MONDAY_9_ROME
    await bot.replies(command(ADMIN, "/start"))
    [line] = await bot.replies(my_chat_member(channel, ADMIN, "left", "administrator"))
    # The admin is told, in private and in one line, where the tip is switched on.
    assert line.chat_id == ADMIN["id"]
    assert "/channels" in (line.plain_text or "")
    assert "il martedì alle 10:00 (ora di Roma)" in (line.plain_text or "")
    bot.telegram.set_member(channel["id"], ADMIN["id"], "creator")
    bot.telegram.set_member(channel["id"], ANNA["id"], "member")
    [none] = await bot.replies(command(ANNA, "/channels"))
    assert "Non amministri" in (none.plain_text or "")
    [listing] = await bot.replies(command(ADMIN, "/channels"))
    assert "(ora di Roma)" in (listing.plain_text or "")
    [(label, data)] = inline_buttons(listing.message)
    assert "Il canale di Chiara" in label
    assert data == "channel.tip:-100888:on"
    # A non-admin forging the button is refused.
    calls = await bot.press(ANNA, listing.message, data)
    refusal = next(c for c in calls if c.method == "answerCallbackQuery")
    assert refusal.params.get("show_alert") is True
    assert "amministratori del canale" in str(refusal.params.get("text"))
    await bot.press(ADMIN, listing.message, data)
    bot.clock.now = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Rome
    [tip] = await bot.tick()
    assert tip.chat_id == -100888
    assert "consiglio della settimana" in (tip.plain_text or "").lower()
    assert await bot.tick() == []
    bot.clock.now += timedelta(days=7)
    [second] = await bot.tick()
    assert second.plain_text != tip.plain_text


async def test_group_submissions_are_exported_and_deleted(bot: Bot) -> None:
    await _add_bot(bot)
    await bot.replies(group_text(ANNA, GROUP, "/review " + GOOD))
    privacy = _services(bot).privacy
    exported = await privacy.export(1002)
    assert exported["tables"]["submissions"]
    assert exported["tables"]["group_members"]
    await privacy.delete(1002)
    async with bot.sessions() as session:
        assert (await session.execute(select(Submission))).first() is None


async def test_a_channel_button_naming_a_group_changes_nothing(bot: Bot) -> None:
    await _add_bot(bot)
    bot.telegram.set_member(GROUP["id"], ADMIN["id"], "administrator")
    [listing] = await bot.replies(command(ADMIN, "/channels"))
    calls = await bot.press(ADMIN, listing.message, f"channel.tip:{GROUP['id']}:on")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "non è più valido" in str(answer.params.get("text"))
    group = await _services(bot).groups.get(GROUP["id"])
    assert group is not None
    assert group.tip_enabled is False


async def test_the_channel_refusal_speaks_the_users_language(bot: Bot) -> None:
    channel = make_channel(-100889, "Studio channel")
    await bot.send(my_chat_member(channel, ADMIN, "left", "administrator"))
    john = make_user(1090, "John", language_code="en")
    bot.telegram.set_member(channel["id"], john["id"], "member")
    [listing] = await bot.replies(command(ADMIN, "/channels"))
    # John never wrote to the bot: his Telegram language decides.
    calls = await bot.press(john, listing.message, "channel.tip:-100889:on")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("text") == (
        "Sorry, only the channel's administrators can switch its weekly tip on or off."
    )
