"""A new user's first minute: a draft sent mid-onboarding, /cancel, deep links."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Draft, Profile, User
from tests.fakebot import SentMessage, command, inline_buttons, make_user, private_text
from tests.flows.conftest import Bot

# A real post, several paragraphs: what a new user pastes right after /start.
LONG_DRAFT = "\n\n".join(
    [
        "Tre settimane fa abbiamo consegnato il progetto di adeguamento sismico della scuola "
        "primaria di Carpi: 14 pilastri rinforzati con FRP, 220 m² di solaio consolidato.",
        "Il mio punto è questo: la verifica a tavolino non basta, le indagini in sito hanno "
        "cambiato metà delle scelte. Le prove sui calcestruzzi davano valori più bassi del "
        "previsto del 30%.",
    ]
    * 8
)


def _data(message: SentMessage) -> list[str]:
    return [data for _, data in inline_buttons(message.message)]


async def _user(bot: Bot, user_id: int) -> User:
    async with bot.sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def _drafts(bot: Bot, user_id: int) -> list[Draft]:
    async with bot.sessions() as session:
        result = await session.execute(select(Draft).where(Draft.user_id == user_id))
        return list(result.scalars())


async def test_a_draft_sent_during_onboarding_is_reviewed_and_kept(bot: Bot) -> None:
    anna = make_user(1801, "Anna", language_code="it")
    await bot.replies(command(anna, "/start"))
    assert len(LONG_DRAFT) > 2500

    review, resumed, question = await bot.replies(private_text(anna, LONG_DRAFT))
    assert "/100" in (review.plain_text or "")
    assert "bozza" in (resumed.plain_text or "")
    assert "lingua" in (question.plain_text or "")
    assert "profile.set:language:it" in _data(question)
    [draft] = await _drafts(bot, 1801)
    assert draft.text == LONG_DRAFT
    # The questions go on where they were.
    assert (await _user(bot, 1801)).dialogue == "profile.onboarding"
    await bot.press(anna, question.message, "profile.set:language:it")
    # A role in two short sentences is an answer, not a draft.
    role = "Ingegnere strutturista. Mi occupo di scuole e di edifici pubblici."
    [question] = await bot.replies(private_text(anna, role))
    assert "temi" in (question.plain_text or "")
    async with bot.sessions() as session:
        profile = (
            await session.execute(select(Profile).where(Profile.user_id == 1801))
        ).scalar_one()
    assert profile.role == role
    # At a button question, a draft is still a draft.
    for _ in range(4):  # topics, audience, platforms, goal
        await bot.replies(command(anna, "/skip"))
    review, resumed, question, hint = await bot.replies(private_text(anna, LONG_DRAFT))
    assert "/100" in (review.plain_text or "")
    assert "fuso orario" in (question.plain_text or "")
    assert hint.reply_markup is not None
    assert len(await _drafts(bot, 1801)) == 2


async def test_a_short_invalid_answer_is_not_taken_for_a_draft(bot: Bot) -> None:
    luca = make_user(1802, "Luca", language_code="en")
    replies = await bot.replies(command(luca, "/start"))
    [error, question] = await bot.replies(private_text(luca, "Whatever you prefer. Really."))
    assert "buttons" in (error.plain_text or "")
    assert "language" in (question.plain_text or "")
    assert await _drafts(bot, 1802) == []
    assert replies


async def test_cancel_leaves_onboarding_and_keeps_the_answers(bot: Bot) -> None:
    sara = make_user(1803, "Sara", language_code="en")
    replies = await bot.replies(command(sara, "/start"))
    await bot.press(sara, replies[-1].message, "profile.set:language:en")
    await bot.replies(private_text(sara, "Energy consultant"))
    [cancelled] = await bot.replies(command(sara, "/cancel"))
    assert "I keep the answers" in (cancelled.plain_text or "")
    assert cancelled.reply_markup == {"remove_keyboard": True}
    assert (await _user(bot, 1803)).dialogue is None
    async with bot.sessions() as session:
        profile = (
            await session.execute(select(Profile).where(Profile.user_id == 1803))
        ).scalar_one()
    assert profile.role == "Energy consultant"
    assert profile.onboarded_at is None
    # The next text is a draft, not an answer to the topics question.
    [review] = await bot.replies(private_text(sara, "heat pumps, schools"))
    assert "/100" in (review.plain_text or "")
    # Nothing left to stop.
    [nothing] = await bot.replies(command(sara, "/cancel"))
    assert "no question in progress" in (nothing.plain_text or "")


async def test_cancel_drops_a_pending_new_version(bot: Bot) -> None:
    piero = make_user(1804, "Piero", language_code="it")
    draft = "Buongiorno a tutti! Metti like se sei d'accordo!!! #ingegneria"
    [first] = await bot.replies(private_text(piero, draft))
    revise = next(d for d in _data(first) if d.startswith("review.revise:"))
    await bot.press(piero, first.message, revise)
    assert (await _user(bot, 1804)).dialogue == "review.revise"
    [cancelled] = await bot.replies(command(piero, "/cancel"))
    assert "niente nuova versione" in (cancelled.plain_text or "")
    [second] = await bot.replies(private_text(piero, draft))
    assert "Versione" not in (second.plain_text or "")
    assert [d.version for d in await _drafts(bot, 1804)] == [1, 1]


async def test_cancel_drops_the_link_question(bot: Bot) -> None:
    eva = make_user(1805, "Eva", language_code="it")
    [review] = await bot.replies(private_text(eva, LONG_DRAFT[:600]))
    posted = next(d for d in _data(review) if d.startswith("review.posted:"))
    await bot.press(eva, review.message, posted)
    assert (await _user(bot, 1805)).dialogue == "post.link"
    [cancelled] = await bot.replies(command(eva, "/cancel"))
    assert "niente link" in (cancelled.plain_text or "")
    assert (await _user(bot, 1805)).dialogue is None


async def test_a_start_link_says_where_the_user_came_from(bot: Bot) -> None:
    gino = make_user(1806, "Gino", language_code="it")
    replies = await bot.replies(command(gino, "/start linkedin"))
    # The normal welcome and the first question: the payload changes nothing the user sees.
    assert "Ciao" in (replies[0].plain_text or "")
    assert "lingua" in (replies[-1].plain_text or "")
    assert (await _user(bot, 1806)).came_from == "linkedin"
    # The first origin stays; a later link does not overwrite it.
    await bot.replies(command(gino, "/start gruppo_x"))
    assert (await _user(bot, 1806)).came_from == "linkedin"
    await bot.replies(command(gino, "/cancel"))
    [document] = await bot.replies(command(gino, "/export"))
    assert document.content is not None
    assert json.loads(document.content)["user"]["came_from"] == "linkedin"


async def test_an_odd_start_payload_is_ignored(bot: Bot) -> None:
    rita = make_user(1807, "Rita", language_code="en")
    for payload in ("r99999", "<b>x</b>", "a" * 65, "r12x", "r"):
        replies = await bot.replies(command(rita, f"/start {payload}"))
        assert replies
        assert "went wrong" not in (replies[0].plain_text or "")
    assert (await _user(bot, 1807)).came_from == "r12x"
