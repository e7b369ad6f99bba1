"""Published posts: "I posted it", /posted, the link, and the results question 48 hours later."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.transport import metrics
from storage.models import Post, PostResult, User
from tests.buttons import button
from tests.fakebot import command, make_user, private_text
from tests.flows.conftest import Bot

DRAFT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena.\n"
    "Secondo me conviene più di quanto si pensi. Voi che ne pensate?"
)


async def _posts(bot: Bot) -> list[Post]:
    async with bot.sessions() as session:
        return list((await session.execute(select(Post).order_by(Post.id))).scalars())


async def test_posted_review_gets_a_link_and_a_results_question(bot: Bot) -> None:
    anna = make_user(401, "Anna", language_code="it")
    [review] = await bot.replies(private_text(anna, DRAFT))
    calls = await bot.press(anna, review.message, button(review, "review.posted:"))
    [confirmation] = [c for c in calls if c.method == "sendMessage"]
    assert "link" in (confirmation.text or "")

    [saved] = await bot.replies(private_text(anna, "https://www.linkedin.com/posts/anna-123"))
    assert "Link salvato" in (saved.plain_text or "")
    [post] = await _posts(bot)
    assert post.link == "https://www.linkedin.com/posts/anna-123"
    assert post.results_due_at is not None

    # Nothing is due before 48 hours have passed.
    bot.clock.advance(timedelta(hours=47))
    assert await bot.tick() == []
    bot.clock.advance(timedelta(hours=1, minutes=1))
    [question] = await bot.tick()
    assert question.chat_id == 401
    assert "LinkedIn" in (question.plain_text or "")
    assert "reazioni" in (question.plain_text or "")
    # Asked once: a later tick sends nothing.
    assert await bot.tick() == []

    calls = await bot.press(
        anna, question.message, button(question, f"results.set:{post.id}:reactions:25")
    )
    [comments] = [c for c in calls if c.method == "sendMessage"]
    assert "commenti" in (comments.text or "")
    [contacts] = await bot.replies(private_text(anna, "4"))
    assert "contatti" in (contacts.plain_text or "")
    [opportunity] = await bot.replies(private_text(anna, "2"))
    assert "opportunità" in (opportunity.plain_text or "")
    [thanks] = await bot.replies(private_text(anna, "sì"))
    assert "/stats" in (thanks.plain_text or "")
    async with bot.sessions() as session:
        result = await session.get(PostResult, post.id)
    assert result is not None
    assert (result.reactions, result.comments, result.contacts, result.opportunity) == (
        25,
        4,
        2,
        True,
    )


async def test_typed_numbers_fill_several_answers_at_once(bot: Bot) -> None:
    luca = make_user(402, "Luca", language_code="en")
    await bot.replies(command(luca, "/posted x"))
    await bot.replies(command(luca, "/skip"))
    bot.clock.advance(timedelta(hours=49))
    [question] = await bot.tick()
    [error] = await bot.replies(private_text(luca, "lots"))
    assert "whole number" in (error.plain_text or "")
    [opportunity] = await bot.replies(private_text(luca, "120 14 3"))
    assert "work opportunity" in (opportunity.plain_text or "")
    [post] = await _posts(bot)
    async with bot.sessions() as session:
        result = await session.get(PostResult, post.id)
    assert result is not None
    assert (result.reactions, result.comments, result.contacts) == (120, 14, 3)
    assert question.chat_id == 402


async def test_posted_command_asks_the_platform(bot: Bot) -> None:
    sara = make_user(403, "Sara", language_code="it")
    [ask] = await bot.replies(command(sara, "/posted"))
    assert "piattaforma" in (ask.plain_text or "")
    calls = await bot.press(sara, ask.message, "posts.platform:instagram")
    assert any("Instagram" in (c.text or "") for c in calls if c.method == "sendMessage")
    [post] = await _posts(bot)
    assert post.platform == "instagram"
    assert post.review_id is None


async def test_results_question_waits_for_the_morning(bot: Bot) -> None:
    eva = make_user(404, "Eva", language_code="it")
    # 22:30 in Rome (UTC+1 in November): 48 hours later is still night there.
    bot.clock.now = datetime(2026, 11, 16, 21, 30, tzinfo=UTC)
    await bot.replies(command(eva, "/posted linkedin"))
    [post] = await _posts(bot)
    assert post.results_due_at == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    bot.clock.now = datetime(2026, 11, 18, 21, 31, tzinfo=UTC)
    assert await bot.tick() == []
    bot.clock.now = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    assert len(await bot.tick()) == 1


async def test_someone_else_cannot_answer_my_results(bot: Bot) -> None:
    anna, eve = make_user(405, "Anna"), make_user(406, "Eve")
    await bot.replies(command(anna, "/posted linkedin"))
    bot.clock.advance(timedelta(hours=49))
    [question] = await bot.tick()
    data = button(question, "results.set:")
    calls = await bot.press(eve, question.message, data)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") is True
    async with bot.sessions() as session:
        assert (await session.execute(select(PostResult))).first() is None


async def test_a_user_who_blocked_the_bot_is_marked_inactive_by_the_results_question(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    marta = make_user(407, "Marta", language_code="it")
    await bot.replies(command(marta, "/posted linkedin"))
    bot.telegram.block_user(marta["id"])  # without the bot hearing of it
    bot.clock.advance(timedelta(hours=49))
    inactive = metrics.REACHABILITY.labels("inactive")._value.get()
    with caplog.at_level(logging.INFO, logger="bot"):
        assert await bot.tick() == []
    assert bot.telegram.calls("sendMessage")[-1].status == 403
    async with bot.sessions() as session:
        assert await session.scalar(select(User.is_active).where(User.id == 407)) is False
    refused = "Forbidden: bot was blocked by the user"
    assert [r.getMessage() for r in caplog.records] == [
        f"user 407 refused a results question ({refused}): marked inactive"
    ]
    assert caplog.records[0].levelno == logging.INFO
    assert metrics.REACHABILITY.labels("inactive")._value.get() == inactive + 1
