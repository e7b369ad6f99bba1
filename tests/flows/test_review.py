"""Reviewing drafts in chat: the reply, its buttons, versions and posts."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Draft, DraftReview, Post, Profile, ReviewItem
from tests.buttons import button
from tests.fakebot import (
    SentMessage,
    command,
    group_text,
    inline_buttons,
    make_group,
    make_user,
    photo_with_caption,
    private_text,
)
from tests.flows.conftest import Bot

DRAFT_IT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena con un cappotto termico.\n"
    "Secondo me la riqualificazione conviene più di quanto si pensi.\n"
    "Voi avete esperienze simili nei vostri comuni?"
)
WEAK_DRAFT = "Buongiorno a tutti! Metti like se sei d'accordo!!! #ingegneria"
SCORE = re.compile(r"\b(\d{1,3})/100\b")


def _score(message: SentMessage | str) -> int:
    text = message if isinstance(message, str) else (message.plain_text or "")
    match = SCORE.search(text)
    assert match, text
    return int(match.group(1))


async def test_private_draft_gets_one_reply_with_score_and_buttons(bot: Bot) -> None:
    anna = make_user(201, "Anna", language_code="it")
    replies = await bot.replies(private_text(anna, DRAFT_IT))
    assert len(replies) == 1
    [reply] = replies
    text = reply.plain_text or ""
    assert 0 <= _score(reply) <= 100
    assert "LinkedIn" in text
    assert "bozza in italiano" in text
    data = [d for _, d in inline_buttons(reply.message)]
    assert any(d.startswith("review.platform:") and d.endswith(":x") for d in data)
    assert any(d.startswith("review.details:") for d in data)
    assert any(d.startswith("review.revise:") for d in data)
    assert any(d.startswith("review.posted:") for d in data)
    assert not any(d.endswith(":linkedin") for d in data), "the current platform is not offered"
    async with bot.sessions() as session:
        review = (await session.execute(select(DraftReview))).scalar_one()
        items = (await session.execute(select(func.count()).select_from(ReviewItem))).scalar()
        draft = await session.get(Draft, review.draft_id)
    assert review.user_id == 201
    assert review.platform == "linkedin"
    assert review.score == _score(reply)
    assert items == 11
    assert draft is not None
    assert draft.text == DRAFT_IT


async def test_the_profile_chooses_the_platform_and_topics_from_the_next_draft_on(
    bot: Bot,
) -> None:
    anna = make_user(207, "Anna", language_code="it")
    [first] = await bot.replies(private_text(anna, DRAFT_IT))
    assert "Il tuo tema." in (first.plain_text or "")  # no topics yet: not checked
    async with bot.sessions() as session:
        session.add(Profile(user_id=207, main_platform="x", topics=["scuola"]))
        await session.commit()
    [second] = await bot.replies(private_text(anna, DRAFT_IT))
    async with bot.sessions() as session:
        platforms = (
            (await session.execute(select(DraftReview.platform).order_by(DraftReview.id)))
            .scalars()
            .all()
        )
        profile = await session.get(Profile, 207)
        assert profile is not None
        profile.main_platform = "instagram"
        await session.commit()
    await bot.replies(private_text(anna, DRAFT_IT))
    async with bot.sessions() as session:
        latest = (
            (await session.execute(select(DraftReview.platform).order_by(DraftReview.id.desc())))
            .scalars()
            .first()
        )
    assert platforms == ["linkedin", "x"]
    assert latest == "instagram"
    # The declared topic ("scuola") is in the draft: the item is checked, and passes.
    assert "Non valutati" not in (second.plain_text or "")


async def test_english_user_gets_english_texts_for_an_italian_draft(bot: Bot) -> None:
    [reply] = await bot.replies(private_text(make_user(202, "John", language_code="en"), DRAFT_IT))
    text = reply.plain_text or ""
    assert "draft in Italian" in text
    assert "bozza" not in text


async def test_weak_draft_lists_failures_and_top_fixes(bot: Bot) -> None:
    [reply] = await bot.replies(private_text(make_user(203, "Anna"), WEAK_DRAFT))
    text = reply.plain_text or ""
    assert "Da correggere" in text
    assert "Le tre correzioni che contano di più" in text
    assert "Relazioni, non like" in text
    assert _score(reply) < 60


async def test_platform_button_rechecks_in_place(bot: Bot) -> None:
    anna = make_user(204, "Anna")
    [reply] = await bot.replies(private_text(anna, DRAFT_IT))
    calls = await bot.press(
        anna, reply.message, button(reply, "review.platform:").rsplit(":", 1)[0] + ":x"
    )
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1
    assert edits[0].ok
    assert edits[0].params["message_id"] == reply.message_id
    assert "· X ·" in (edits[0].text or "")
    assert not [c for c in calls if c.method == "sendMessage"]
    async with bot.sessions() as session:
        platforms = (await session.execute(select(DraftReview.platform))).scalars().all()
    assert sorted(platforms) == ["linkedin", "x"]


async def test_details_show_suggestions_and_hide_again(bot: Bot) -> None:
    anna = make_user(205, "Anna")
    [reply] = await bot.replies(private_text(anna, WEAK_DRAFT))
    show = button(reply, "review.details:")
    assert show.endswith(":1")
    calls = await bot.press(anna, reply.message, show)
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "👉" in (edit.text or "")
    message = bot.telegram.message(205, reply.message_id)
    assert message is not None
    hide = next(d for _, d in inline_buttons(message) if d.startswith("review.details:"))
    assert hide.endswith(":0")
    calls = await bot.press(anna, message, hide)
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "👉" not in (edit.text or "")


async def test_revise_compares_the_new_version(bot: Bot) -> None:
    anna = make_user(206, "Anna")
    [first] = await bot.replies(private_text(anna, WEAK_DRAFT))
    calls = await bot.press(anna, first.message, button(first, "review.revise:"))
    prompts = [c for c in calls if c.method == "sendMessage"]
    assert "nuova versione" in (prompts[0].text or "")
    [second] = await bot.replies(private_text(anna, DRAFT_IT))
    text = second.plain_text or ""
    delta = _score(second) - _score(first)
    assert f"Versione 2: {delta:+d} punti" in text
    assert "Cambiati:" in text
    async with bot.sessions() as session:
        drafts = (await session.execute(select(Draft).order_by(Draft.id))).scalars().all()
    assert [d.version for d in drafts] == [1, 2]
    assert drafts[1].parent_id == drafts[0].id
    # The dialogue is over: the next text is a new draft again.
    [third] = await bot.replies(private_text(anna, WEAK_DRAFT))
    assert "Versione" not in (third.plain_text or "")


async def test_posted_button_records_the_post_once(bot: Bot) -> None:
    anna = make_user(207, "Anna")
    [reply] = await bot.replies(private_text(anna, DRAFT_IT))
    posted = button(reply, "review.posted:")
    calls = await bot.press(anna, reply.message, posted)
    [confirmation] = [c for c in calls if c.method == "sendMessage"]
    assert "Registrato" in (confirmation.text or "")
    calls = await bot.press(anna, reply.message, posted)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "già registrato" in str(answer.params.get("text"))
    async with bot.sessions() as session:
        posts = (await session.execute(select(Post))).scalars().all()
    assert len(posts) == 1
    assert posts[0].user_id == 207
    assert posts[0].platform == "linkedin"
    assert posts[0].score == _score(reply)


async def test_someone_else_cannot_use_my_review_buttons(bot: Bot) -> None:
    anna, eve = make_user(208, "Anna"), make_user(209, "Eve")
    group = make_group(-100208, "Studio")
    # A group that shows full reviews in the thread, buttons included.
    groups = bot.application.bot_data["services"].groups
    await groups.joined(-100208, "supergroup", "Studio", "it")
    await groups.change(-100208, "mode", "full")
    [reply] = await bot.replies(group_text(anna, group, "/review " + DRAFT_IT))
    # In the group only what changes the review in place: no "new version", no "posted".
    shown = [d for _, d in inline_buttons(reply.message)]
    assert not [d for d in shown if d.startswith(("review.posted:", "review.revise:"))]
    review_id = button(reply, "review.details:").split(":")[1]
    for data in (
        f"review.posted:{review_id}",
        f"review.revise:{review_id}",
        f"review.details:{review_id}:1",
    ):
        calls = await bot.press(eve, reply.message, data)
        [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answer.params.get("show_alert") is True
        assert "di un'altra persona" in str(answer.params.get("text"))
        assert not [c for c in calls if c.method in ("editMessageText", "sendMessage")]
    # Anna opens the details in place: still no private-only buttons.
    calls = await bot.press(anna, reply.message, f"review.details:{review_id}:1")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "review.revise:" not in str(edit.params.get("reply_markup"))
    async with bot.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Post))).scalar() == 0


async def test_forged_review_id_is_refused(bot: Bot) -> None:
    anna = make_user(210, "Anna")
    [reply] = await bot.replies(private_text(anna, DRAFT_IT))
    calls = await bot.press(anna, reply.message, "review.posted:999999")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") is True
    # A review that does not exist is not "someone else's".
    assert "non esiste più" in str(answer.params.get("text"))
    calls = await bot.press(anna, reply.message, "review.details:999999:1")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "non esiste più" in str(answer.params.get("text"))
    calls = await bot.press(anna, reply.message, "review.platform:1:myspace")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "non è più valido" in str(answer.params.get("text"))


async def test_review_command_with_text_in_a_group(bot: Bot) -> None:
    group = make_group(-100211, "Ingegneri")
    [reply] = await bot.replies(group_text(make_user(211, "Anna"), group, "/review " + DRAFT_IT))
    assert reply.chat_id == -100211
    assert 0 <= _score(reply) <= 100


async def test_review_command_as_reply_reviews_the_replied_text(bot: Bot) -> None:
    group = make_group(-100212, "Ingegneri")
    anna, luca = make_user(212, "Anna"), make_user(213, "Luca")
    original = group_text(luca, group, WEAK_DRAFT)
    update = group_text(anna, group, "/review", reply_to=original["message"])
    [reply] = await bot.replies(update)
    assert reply.chat_id == -100212
    assert _score(reply) < 60
    async with bot.sessions() as session:
        draft = (await session.execute(select(Draft))).scalar_one()
    assert draft.text == WEAK_DRAFT
    assert draft.user_id == 213  # the author of the replied message, not who asked


async def test_review_command_without_text_explains(bot: Bot) -> None:
    [reply] = await bot.replies(command(make_user(214, "Anna"), "/review"))
    assert "/review" in (reply.plain_text or "")
    assert not SCORE.search(reply.plain_text or "")


async def test_photo_caption_is_reviewed(bot: Bot) -> None:
    [reply] = await bot.replies(photo_with_caption(make_user(215, "Anna"), DRAFT_IT))
    assert 0 <= _score(reply) <= 100


async def test_html_in_the_draft_is_escaped(bot: Bot) -> None:
    anna = make_user(216, "Anna")
    draft = "<b>Buongiorno</b> & benvenuti: <script>alert(1)</script> metti like se ti piace!"
    [reply] = await bot.replies(private_text(anna, draft))
    assert reply.parse_mode == "HTML"
    # The fake Telegram rejects a bare "&" or an unknown tag, so a reply at all proves
    # the escaping; in the details the user sees their own markup quoted as text.
    calls = await bot.press(anna, reply.message, button(reply, "review.details:"))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.ok
    assert "<script>" not in (edit.text or "")
    assert "&lt;b&gt;Buongiorno&lt;/b&gt; &amp; benvenuti" in (edit.text or "")


async def test_longest_message_review_fits_one_message(bot: Bot) -> None:
    words = ["<&>"] * 200 + ["ingegneria"] * 400 + ["#tag"] * 300
    draft = " ".join(words)[:4096]
    # A message of Telegram's full length may be the first part of a longer paste: the
    # review comes once the rest has not followed.
    assert await bot.replies(private_text(make_user(217, "Anna"), draft)) == []
    await _wait_for_messages(bot, 1, 217)
    replies = bot.telegram.sent_messages(217)
    assert len(replies) == 1
    assert len(replies[0].plain_text or "") <= 4096


async def test_a_flood_of_drafts_gets_one_slow_down_answer_and_others_are_not_slowed(
    bot: Bot,
) -> None:
    aldo, bea = make_user(290, "Aldo"), make_user(291, "Bea")
    for n in range(10):  # DRAFTS_PER_MINUTE, the default
        [review] = await bot.replies(private_text(aldo, f"{DRAFT_IT} ({n})"))
        assert SCORE.search(review.plain_text or "")
        bot.clock.advance(timedelta(seconds=1))
    [slow_down] = await bot.replies(private_text(aldo, DRAFT_IT))
    text = slow_down.plain_text or ""
    assert text.startswith("Piano")
    assert "10 bozze al minuto" in text
    assert "nei prossimi 50 secondi" in text  # the first of the ten leaves the minute then
    # Meanwhile: nothing more for Aldo (he was told), a review for Bea as usual.
    assert await bot.replies(private_text(aldo, DRAFT_IT)) == []
    [other] = await bot.replies(private_text(bea, DRAFT_IT))
    assert SCORE.search(other.plain_text or "")
    async with bot.sessions() as session:
        drafts = await session.scalar(select(func.count(Draft.id)).where(Draft.user_id == 290))
    assert drafts == 10
    # Once the minute is over, his drafts are reviewed again.
    bot.clock.advance(timedelta(seconds=60))
    [again] = await bot.replies(private_text(aldo, DRAFT_IT))
    assert SCORE.search(again.plain_text or "")


def _long_paste(length: int) -> str:
    sentence = "Abbiamo rinforzato la scuola di Modena con fibre di carbonio in sei settimane. "
    return (sentence * (length // len(sentence) + 1))[:length]


async def _wait_for_messages(bot: Bot, count: int, chat_id: int, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while len([m for m in bot.telegram.sent_messages() if m.chat_id == chat_id]) < count:
        assert loop.time() < deadline, "the bot did not answer in time"
        await asyncio.sleep(0.05)


async def test_a_long_paste_split_by_telegram_is_reviewed_once(bot: Bot) -> None:
    anna = make_user(260, "Anna")
    paste = _long_paste(5000)
    first, rest = paste[:4096], paste[4096:]
    assert await bot.replies(private_text(anna, first)) == []  # held for the rest
    [review] = await bot.replies(private_text(anna, rest))
    assert SCORE.search(review.plain_text or "")
    # One draft, the whole text: past LinkedIn's limit, which the review says.
    async with bot.sessions() as session:
        drafts = (await session.execute(select(Draft).where(Draft.user_id == 260))).scalars()
        [draft] = list(drafts)
    assert draft.text == paste
    assert "5000 caratteri" in (review.plain_text or "")
    await asyncio.sleep(2)  # the held part's wait ends without a second review
    assert [m for m in bot.telegram.sent_messages() if m.chat_id == 260] == [review]


async def test_a_message_of_exactly_one_part_is_still_reviewed_alone(bot: Bot) -> None:
    anna = make_user(261, "Anna")
    assert await bot.replies(private_text(anna, _long_paste(4096))) == []
    await _wait_for_messages(bot, 1, 261)
    [review] = [m for m in bot.telegram.sent_messages() if m.chat_id == 261]
    assert SCORE.search(review.plain_text or "")
