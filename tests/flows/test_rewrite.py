"""A rewrite from a language model, checked by the checklist, against a fake model on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.coach import Checklist, load_checklist
from bot.texts.catalog import Texts
from storage.models import Profile, Rewrite
from tests.buttons import button
from tests.fakebot import (
    FakeTelegram,
    SentMessage,
    callback,
    command,
    inline_buttons,
    make_user,
    private_text,
)
from tests.fakellm import FakeLLMServer, draft_of
from tests.flows.conftest import Bot, running_bot

API_KEY = "sk-fake-0123456789abcdefXYZ"
DRAFT_IT = (
    "Buongiorno a tutti! Abbiamo finito il cappotto termico della scuola di Modena, "
    "consumi giù del 30%. Metti like se sei d'accordo!!! #ingegneria"
)
REWRITE_IT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena con un cappotto termico.\n"
    "Secondo me la riqualificazione conviene più di quanto si pensi.\n"
    "Voi avete esperienze simili nei vostri comuni? #ingegneria"
)
DRAFT_EN = (
    "Good morning everyone! We finished the insulation of a school in Leeds, energy use "
    "down 30%. Like if you agree!!!"
)
REWRITE_EN = (
    "We cut a school's energy use in Leeds by 30% with external wall insulation.\n"
    "In my experience, retrofits pay back faster than most councils think.\n"
    "Have you seen similar results in your area?"
)
# The same post with a saving, a professor and a link the draft never mentioned.
INVENTED_IT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena, risparmiando 12.000 euro l'anno.\n"
    "Secondo me, come dice il prof. Mario Rossi, la riqualificazione conviene.\n"
    "Voi avete esperienze simili? Scrivetemi su https://studio-esempio.it"
)
WEAK_REWRITE = "Metti like se sei d'accordo!!!"
CHECKLIST: Checklist = load_checklist()


def _score(text: str, topics: tuple[str, ...] = ()) -> int:
    """The checklist's score for a text, as the bot computes it (LinkedIn)."""
    return CHECKLIST.review(text, platform="linkedin", topics=topics).score


def _scores(rewrite: str, draft: str, topics: tuple[str, ...] = ()) -> tuple[int, int, str]:
    """The two scores and their signed difference, as the reply shows them."""
    new, old = _score(rewrite, topics), _score(draft)
    return new, old, f"{new - old:+d}"


def llm_settings(llm: FakeLLMServer, **overrides: Any) -> dict[str, Any]:
    """Settings that turn rewrites on against the fake model."""
    values: dict[str, Any] = {
        "llm_base_url": llm.base_url,
        "llm_model": "fake-model",
        "llm_api_key": API_KEY,
        "llm_timeout_seconds": 5,
    }
    values.update(overrides)
    return values


@pytest.fixture
async def llm_bot(
    database_url: str, telegram: FakeTelegram, texts: Texts, llm: FakeLLMServer
) -> AsyncIterator[Bot]:
    """The bot with a language model configured."""
    async with running_bot(database_url, telegram, texts, **llm_settings(llm)) as bot:
        yield bot


def _all_text(telegram: FakeTelegram) -> str:
    """Everything the bot wrote, sent or edited, and every button label."""
    parts = []
    for call in telegram.calls():
        if call.text:
            parts.append(call.text)
        markup = call.params.get("reply_markup")
        if markup:
            parts.append(str(markup))
    return "\n".join(parts)


async def _ask_rewrite(bot: Bot, user: dict[str, Any], draft: str) -> tuple[SentMessage, str]:
    """The user sends a draft and presses "suggest a rewrite"; the review and the final text."""
    [review] = await bot.replies(private_text(user, draft))
    await bot.press(user, review.message, button(review, "review.rewrite:"))
    [working] = [m for m in bot.telegram.sent_messages(user["id"]) if m.at > review.at]
    final = bot.telegram.message(user["id"], working.message_id)
    assert final is not None
    return review, str(final.get("text", ""))


async def _rewrites(bot: Bot) -> list[Rewrite]:
    async with bot.sessions() as session:
        return list((await session.execute(select(Rewrite).order_by(Rewrite.id))).scalars())


# ------------------------------------------------------------------ without a model


async def test_without_a_model_nothing_mentions_rewrites(bot: Bot, texts: Texts) -> None:
    anna = make_user(801, "Anna", language_code="it")
    john = make_user(802, "John", language_code="en")
    for user, draft in ((anna, DRAFT_IT), (john, DRAFT_EN)):
        [review] = await bot.replies(private_text(user, draft))
        assert not any(d.startswith("review.rewrite:") for _, d in inline_buttons(review.message))
        await bot.send(command(user, "help"))
        await bot.send(command(user, "privacy"))
    assert bot.application.bot_data["services"].rewrites is None
    shown = _all_text(bot.telegram)
    for lang in ("it", "en"):
        for text_id in ("rewrite.button", "rewrite.help_note", "rewrite.privacy_note"):
            assert texts.raw(lang, text_id) not in shown
    assert "riscrittura" not in shown.casefold()
    assert "rewrite" not in shown.casefold()


async def test_without_a_model_an_old_rewrite_button_is_stale(bot: Bot) -> None:
    anna = make_user(803, "Anna")
    [review] = await bot.replies(private_text(anna, DRAFT_IT))
    review_id = button(review, "review.revise:").split(":")[1]
    calls = await bot.press(anna, review.message, f"review.rewrite:{review_id}")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "non è più valido" in str(answer.params.get("text"))
    assert not [c for c in calls if c.method == "sendMessage"]


# ------------------------------------------------------------------ the flow


async def test_italian_rewrite_is_checked_and_shown_with_both_scores(
    llm_bot: Bot, llm: FakeLLMServer
) -> None:
    anna = make_user(811, "Anna", language_code="it")
    [review] = await llm_bot.replies(private_text(anna, DRAFT_IT))
    assert any("Proponi una riscrittura" in label for label, _ in inline_buttons(review.message))
    async with llm_bot.sessions() as session:
        session.add(
            Profile(
                user_id=811,
                role="ingegnera energetica",
                topics=["riqualificazione", "scuole"],
                audience=["clients", "public_admin"],
            )
        )
        await session.commit()
    llm.answer(REWRITE_IT)

    calls = await llm_bot.press(anna, review.message, button(review, "review.rewrite:"))

    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert not answer.params.get("show_alert")
    [working] = [c for c in calls if c.method == "sendMessage"]
    assert "Chiedo al modello linguistico" in (working.text or "")
    assert "fino a 5 secondi" in (working.text or "")
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.ok, edit.description
    text = edit.text or ""
    assert "Una riscrittura della tua bozza" in text
    new, old, delta = _scores(REWRITE_IT, DRAFT_IT, ("riqualificazione", "scuole"))
    assert new > old
    assert f"<b>{new}/100</b> per la riscrittura, {old}/100 per la tua bozza ({delta})" in text
    assert "Nessuna cifra, nome o link" in text
    assert "<blockquote>Abbiamo ridotto del 30% i consumi" in text
    assert "più basso" not in text
    assert "Riscritture rimaste oggi: 9" in text
    # The prompt: Italian, built from the review's failures and the profile.
    [call] = llm.calls
    assert call.path == "/v1/chat/completions"
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert call.body["model"] == "fake-model"
    system, user = call.messages
    assert system["role"] == "system"
    assert "Mantieni i fatti dell'autore" in system["content"]
    prompt = user["content"]
    assert draft_of(call.messages) == DRAFT_IT
    assert "Piattaforma: LinkedIn (al massimo 3000 caratteri)" in prompt
    assert "ingegnera energetica" in prompt
    assert "riqualificazione, scuole" in prompt
    assert "Clienti" in prompt
    assert "Relazioni, non like (da correggere)" in prompt
    assert "(da migliorare)" in prompt
    [row] = await _rewrites(llm_bot)
    assert (row.user_id, row.status, row.score, row.draft_score) == (811, "ok", new, old)
    assert row.text == REWRITE_IT
    assert row.new_facts == []


async def test_english_rewrite_end_to_end(llm_bot: Bot, llm: FakeLLMServer) -> None:
    john = make_user(812, "John", language_code="en")
    llm.answer(REWRITE_EN)

    review, text = await _ask_rewrite(llm_bot, john, DRAFT_EN)

    assert any("Suggest a rewrite" in label for label, _ in inline_buttons(review.message))
    assert "A rewrite of your draft · LinkedIn" in text
    new, old, delta = _scores(REWRITE_EN, DRAFT_EN)
    assert new > old
    assert f"Checklist: {new}/100 for the rewrite, {old}/100 for your draft ({delta})." in text
    assert "No figures, names or links" in text
    assert "We cut a school's energy use in Leeds" in text
    assert "Rewrites left today: 9" in text
    [call] = llm.calls
    assert "Keep the author's facts" in call.messages[0]["content"]
    assert "Platform: LinkedIn (at most 3000 characters)" in call.messages[1]["content"]
    assert "Relationships, not likes (to fix)" in call.messages[1]["content"]


async def test_invented_figures_names_and_links_are_pointed_out(
    llm_bot: Bot, llm: FakeLLMServer
) -> None:
    llm.answer(INVENTED_IT)

    _, text = await _ask_rewrite(llm_bot, make_user(813, "Anna"), DRAFT_IT)

    assert "Controlla prima di usarla" in text
    facts_line = next(line for line in text.splitlines() if "Controlla" in line)
    for invented in ("12.000", "Mario Rossi", "https://studio-esempio.it"):
        assert invented in facts_line
    for kept in ("30%", "Modena"):
        assert kept not in facts_line
    [row] = await _rewrites(llm_bot)
    assert row.new_facts == ["12.000", "Mario Rossi", "https://studio-esempio.it"]


async def test_a_rewrite_that_scores_lower_says_so(llm_bot: Bot, llm: FakeLLMServer) -> None:
    llm.answer(WEAK_REWRITE)

    _, text = await _ask_rewrite(llm_bot, make_user(814, "Anna"), REWRITE_IT)

    new, old, delta = _scores(WEAK_REWRITE, REWRITE_IT)
    assert new < old
    assert f"{new}/100 per la riscrittura, {old}/100 per la tua bozza ({delta})" in text
    assert "La riscrittura ha un punteggio più basso della tua bozza" in text
    assert "Ancora da correggere:" in text


async def test_model_text_is_escaped(llm_bot: Bot, llm: FakeLLMServer) -> None:
    llm.answer("Secondo me <b>conta</b> il risultato & il metodo. Voi che ne pensate?")
    anna = make_user(815, "Anna")

    calls_before = llm_bot.telegram.mark()
    _, text = await _ask_rewrite(llm_bot, anna, DRAFT_IT)

    [edit] = [c for c in llm_bot.telegram.calls()[calls_before:] if c.method == "editMessageText"]
    assert "&lt;b&gt;conta&lt;/b&gt; il risultato &amp; il metodo" in (edit.text or "")
    assert "<b>conta</b> il risultato & il metodo" in text


# ------------------------------------------------------------------ when the model fails


async def test_slow_model_times_out_and_the_review_stays_usable(
    database_url: str, telegram: FakeTelegram, texts: Texts, llm: FakeLLMServer
) -> None:
    llm.answer_slowly(REWRITE_IT, seconds=3)
    settings = llm_settings(llm, llm_timeout_seconds=0.5)
    async with running_bot(database_url, telegram, texts, **settings) as bot:
        anna = make_user(821, "Anna")

        review, text = await _ask_rewrite(bot, anna, DRAFT_IT)

        assert "ci ha messo troppo a rispondere" in text
        # The review is untouched, its buttons too, and they still work.
        kept = bot.telegram.message(821, review.message_id)
        assert kept is not None
        assert kept["text"] == review.plain_text
        assert inline_buttons(kept) == inline_buttons(review.message)
        calls = await bot.press(anna, kept, button(kept, "review.details:"))
        assert next(c for c in calls if c.method == "editMessageText").ok
        [row] = await _rewrites(bot)
        assert (row.status, row.text, row.score) == ("timeout", None, None)


@pytest.mark.parametrize(
    ("lang", "fault", "expected"),
    [
        ("it", "500", "non è raggiungibile"),
        ("en", "500", "isn't available right now"),
        ("it", "malformed", "qualcosa che non posso usare"),
        ("en", "malformed", "something I can't use"),
        ("en", "empty", "something I can't use"),
    ],
)
async def test_model_failures_get_a_clear_message(
    llm_bot: Bot, llm: FakeLLMServer, lang: str, fault: str, expected: str
) -> None:
    if fault == "500":
        llm.fail(500)
    elif fault == "malformed":
        llm.answer_malformed()
    else:
        llm.answer("   ")
    user = make_user(822, "Anna", language_code=lang)

    review, text = await _ask_rewrite(llm_bot, user, DRAFT_IT if lang == "it" else DRAFT_EN)

    assert expected in text
    assert inline_buttons(llm_bot.telegram.message(822, review.message_id) or {})
    [row] = await _rewrites(llm_bot)
    assert row.status == ("server" if fault == "500" else "malformed")


async def test_the_api_key_never_reaches_the_logs(
    llm_bot: Bot, llm: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    llm.fail(503)
    caplog.set_level(logging.DEBUG)

    await _ask_rewrite(llm_bot, make_user(823, "Anna"), DRAFT_IT)

    assert "HTTP 503" in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY in llm_bot.application.bot_data["services"].settings.secrets


# ------------------------------------------------------------------ limits and ownership


async def test_daily_limit_counts_received_rewrites_until_the_next_day(
    database_url: str, telegram: FakeTelegram, texts: Texts, llm: FakeLLMServer
) -> None:
    async with running_bot(
        database_url, telegram, texts, **llm_settings(llm, llm_daily_limit=2)
    ) as bot:
        anna = make_user(831, "Anna")
        [review] = await bot.replies(private_text(anna, DRAFT_IT))
        rewrite = button(review, "review.rewrite:")
        llm.fail(500)
        await bot.press(anna, review.message, rewrite)  # a failure does not count
        llm.answer(REWRITE_IT)
        await bot.press(anna, review.message, rewrite)
        await bot.press(anna, review.message, rewrite)
        assert len(llm.calls) == 3

        calls = await bot.press(anna, review.message, rewrite)

        [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answer.params.get("show_alert")
        assert "Hai usato le 2 riscritture di oggi" in str(answer.params.get("text"))
        assert not [c for c in calls if c.method == "sendMessage"]
        assert len(llm.calls) == 3
        last = bot.telegram.sent_messages(831)[-1]
        assert "Riscritture rimaste oggi: 0" in (
            (bot.telegram.message(831, last.message_id) or {}).get("text", "")
        )

        bot.clock.advance(timedelta(days=1))
        calls = await bot.press(anna, review.message, rewrite)
        assert [c for c in calls if c.method == "editMessageText"]
        assert len(llm.calls) == 4


async def test_presses_at_once_from_many_chats_never_pass_the_daily_limit(
    database_url: str, telegram: FakeTelegram, texts: Texts, llm: FakeLLMServer
) -> None:
    async with running_bot(
        database_url, telegram, texts, drafts_per_minute=20, **llm_settings(llm, llm_daily_limit=3)
    ) as bot:
        anna = make_user(835, "Anna")
        reviews = [await bot.replies(private_text(anna, f"{DRAFT_IT} ({n})")) for n in range(12)]
        llm.answer_slowly(REWRITE_IT, 0.3)
        mark = bot.telegram.mark()
        # Twelve presses at once, as from twelve chats: none waits for another's answer.
        await asyncio.gather(
            *(
                bot.send(callback(anna, review.message, button(review, "review.rewrite:")))
                for [review] in reviews
            )
        )
        answers = [c for c in bot.telegram.calls()[mark:] if c.method == "answerCallbackQuery"]
        refused = [a for a in answers if "Hai usato le 3 riscritture" in str(a.params.get("text"))]
        assert len(llm.calls) == 3
        assert (len(answers), len(refused)) == (12, 9)
        assert sorted(r.status for r in await _rewrites(bot)) == ["ok", "ok", "ok"]


async def test_someone_elses_review_gets_no_rewrite(llm_bot: Bot, llm: FakeLLMServer) -> None:
    anna = make_user(832, "Anna")
    luca = make_user(833, "Luca")
    [review] = await llm_bot.replies(private_text(anna, DRAFT_IT))

    calls = await llm_bot.press(luca, review.message, button(review, "review.rewrite:"))

    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert "di un'altra persona" in str(answer.params.get("text"))
    assert not llm.calls
    assert not await _rewrites(llm_bot)


async def test_help_and_privacy_mention_rewrites_when_a_model_is_set(llm_bot: Bot) -> None:
    john = make_user(834, "John", language_code="en")
    [help_reply] = await llm_bot.replies(command(john, "help"))
    [privacy] = await llm_bot.replies(command(john, "privacy"))
    assert "Suggest a rewrite" in (help_reply.plain_text or "")
    assert "sent to the language model" in (privacy.plain_text or "")


async def test_export_and_delete_cover_rewrites(llm_bot: Bot, llm: FakeLLMServer) -> None:
    anna = make_user(835, "Anna")
    llm.answer(REWRITE_IT)
    await _ask_rewrite(llm_bot, anna, DRAFT_IT)
    privacy = llm_bot.application.bot_data["services"].privacy

    export = await privacy.export(835)

    [row] = export["tables"]["rewrites"]
    assert (row["text"], row["score"]) == (REWRITE_IT, 100)
    await privacy.delete(835)
    assert not await _rewrites(llm_bot)
