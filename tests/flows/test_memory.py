"""Coaching memory in chat: /stats with its picture, /history, /privacy, /export and /delete."""

from __future__ import annotations

import json
import struct
from datetime import timedelta

from sqlalchemy import inspect, select, text

from storage.models import Base
from tests.buttons import button
from tests.fakebot import command, inline_buttons, make_user, private_text
from tests.flows.conftest import Bot

DRAFT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena.\n"
    "Secondo me conviene più di quanto si pensi. Voi che ne pensate?"
)
WEAK = "Buongiorno! Metti like se sei d'accordo!!!"


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


async def test_stats_sends_numbers_and_a_real_png(bot: Bot) -> None:
    anna = make_user(701, "Anna", language_code="it")
    [review] = await bot.replies(private_text(anna, DRAFT))
    await bot.press(anna, review.message, button(review, "review.posted:"))
    await bot.replies(command(anna, "/skip"))
    bot.clock.advance(timedelta(hours=49))
    [question] = await bot.tick()
    await bot.replies(private_text(anna, "30 5 2"))
    await bot.replies(private_text(anna, "no"))
    await bot.replies(private_text(anna, WEAK))

    replies = await bot.replies(command(anna, "/stats"))
    text_reply, photo = replies
    body = text_reply.plain_text or ""
    assert "I tuoi numeri" in body
    assert "Questa settimana: 1 post su 2" in body
    assert "• Prima riga (1)" in body  # the weak draft opens with a greeting
    assert "LinkedIn: 1 post (1 con risultati), 30 reazioni, 5 commenti, 2 contatti" in body
    assert photo.method == "sendPhoto"
    assert photo.content is not None
    width, height = _png_size(photo.content)
    assert width >= 600
    assert height >= 300
    assert question.chat_id == 701
    # While the chart is drawn, the chat says a photo is on its way.
    calls = [c.method for c in bot.telegram.calls() if c.method in ("sendChatAction", "sendPhoto")]
    assert calls[-2:] == ["sendChatAction", "sendPhoto"]
    [action] = bot.telegram.calls("sendChatAction")
    assert action.params["action"] == "upload_photo"
    assert int(action.params["chat_id"]) == 701


async def test_stats_for_a_newcomer_is_honest_and_has_no_empty_chart(bot: Bot) -> None:
    [reply] = await bot.replies(command(make_user(702, "John", language_code="en"), "/stats"))
    body = reply.plain_text or ""
    assert "No posts recorded yet" in body
    assert "This week: 0 of 2 posts." in body
    # No drafts yet: no praise for missing no checklist item.
    assert "No checklist item missed" not in body
    assert "what your drafts miss most often" in body
    assert bot.telegram.calls("sendPhoto") == []


async def test_history_pages_and_reopens_a_draft(bot: Bot) -> None:
    luca = make_user(703, "Luca", language_code="it")
    for number in range(7):
        await bot.replies(private_text(luca, f"Bozza numero {number}: {DRAFT}"))
    [page] = await bot.replies(command(luca, "/history"))
    assert "pagina 1 di 2" in (page.plain_text or "")
    assert "Bozza numero 6" in (page.plain_text or "")
    calls = await bot.press(luca, page.message, "history.page:1")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "pagina 2 di 2" in (edit.text or "")
    assert "Bozza numero 0" in (edit.text or "")
    before = len(bot.telegram.sent_messages())
    await bot.press(luca, page.message, button(page, "history.open:"))
    text, reopened = bot.telegram.sent_messages()[before:]
    # The draft's own text comes back, without markup, ready to copy and revise.
    assert text.text == f"Bozza numero 6: {DRAFT}"
    assert text.parse_mode is None
    assert "/100" in (reopened.plain_text or "")
    assert any(d.startswith("review.revise:") for _, d in inline_buttons(reopened.message))


async def test_history_cannot_open_someone_elses_draft(bot: Bot) -> None:
    anna, eve = make_user(704, "Anna"), make_user(705, "Eve")
    await bot.replies(private_text(anna, DRAFT))
    [page] = await bot.replies(command(anna, "/history"))
    calls = await bot.press(eve, page.message, button(page, "history.open:"))
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") is True
    assert not [c for c in calls if c.method == "sendMessage"]


async def test_privacy_export_and_delete_leave_nothing(bot: Bot) -> None:
    sara, other = make_user(706, "Sara", language_code="it"), make_user(707, "Ugo")
    replies = await bot.replies(command(sara, "/start"))
    await bot.press(sara, replies[-1].message, "profile.set:language:it")
    await bot.replies(private_text(sara, "Architetta"))
    for _ in range(7):  # the rest of the onboarding
        await bot.replies(command(sara, "/skip"))
    [review] = await bot.replies(private_text(sara, DRAFT))
    await bot.press(sara, review.message, button(review, "review.posted:"))
    await bot.replies(private_text(other, DRAFT))

    [privacy] = await bot.replies(command(sara, "/privacy"))
    assert "/export" in (privacy.plain_text or "")
    [document] = await bot.replies(command(sara, "/export"))
    assert document.method == "sendDocument"
    assert document.content is not None
    exported = json.loads(document.content)
    assert "Architetta" in json.dumps(exported, ensure_ascii=False)
    assert [draft["text"] for draft in exported["drafts"]] == [DRAFT]
    assert exported["posts"][0]["platform"] == "linkedin"

    [confirm] = await bot.replies(command(sara, "/delete"))
    calls = await bot.press(sara, confirm.message, "privacy.delete:yes")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "cancellato" in (edit.text or "")

    async with bot.sessions() as session:
        connection = await session.connection()
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in Base.metadata.sorted_tables:
            assert table.name in tables
            columns = {c.name for c in table.columns}
            for column in ("user_id", "id") if table.name == "users" else ("user_id",):
                if column in columns:
                    count = (
                        await session.execute(
                            text(f"SELECT COUNT(*) FROM {table.name} WHERE {column} = :u"),  # noqa: S608
                            {"u": 706},
                        )
                    ).scalar()
                    assert count == 0, table.name
        other_drafts = (
            await session.execute(text("SELECT COUNT(*) FROM drafts WHERE user_id = 707"))
        ).scalar()
    assert other_drafts == 1


async def test_delete_can_be_cancelled(bot: Bot) -> None:
    piero = make_user(708, "Piero")
    await bot.replies(private_text(piero, DRAFT))
    [confirm] = await bot.replies(command(piero, "/delete"))
    calls = await bot.press(piero, confirm.message, "privacy.delete:no")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "non ho cancellato" in (edit.text or "")
    async with bot.sessions() as session:
        assert (await session.execute(select(Base.metadata.tables["drafts"]))).first()
