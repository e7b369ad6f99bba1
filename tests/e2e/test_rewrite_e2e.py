"""A suggested rewrite through the real process: `postcoach run` with a model configured,
the fake Bot API and the fake chat-completions server, in Italian and in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.fakebot import FakeBotServer, callback, inline_buttons, make_user, private_text
from tests.fakellm import FakeLLMServer

CASES = [
    pytest.param(
        "it",
        "Buongiorno a tutti! Abbiamo finito il cappotto termico della scuola di Modena, "
        "consumi giù del 30%. Metti like se sei d'accordo!!! #ingegneria",
        "Abbiamo ridotto del 30% i consumi di una scuola a Modena, risparmiando 12.000 euro.\n"
        "Secondo me la riqualificazione conviene più di quanto si pensi.\n"
        "Voi avete esperienze simili nei vostri comuni? #ingegneria",
        ("Proponi una riscrittura", "questi elementi non sono nella tua bozza"),
        id="it",
    ),
    pytest.param(
        "en",
        "Good morning everyone! We finished the insulation of a school in Leeds, energy use "
        "down 30%. Like if you agree!!!",
        "We cut a school's energy use in Leeds by 30% with external wall insulation.\n"
        "In my experience, retrofits pay back faster than most councils think.\n"
        "Have you seen similar results in your area?",
        ("Suggest a rewrite", "No figures, names or links"),
        id="en",
    ),
]


@pytest.mark.parametrize(("language", "draft", "rewrite", "expected"), CASES)
def test_rewrite_button_asks_the_model_and_shows_the_checked_rewrite(
    fake_api: FakeBotServer,
    bots: list[BotProcess],
    tmp_path: Path,
    llm: FakeLLMServer,
    language: str,
    draft: str,
    rewrite: str,
    expected: tuple[str, str],
) -> None:
    button_label, fact_line = expected
    env = base_env(
        fake_api,
        tmp_path,
        LLM_BASE_URL=llm.base_url,
        LLM_MODEL="fake-model",
        LLM_API_KEY="sk-e2e-key-never-logged",
    )
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    telegram = fake_api.telegram
    user = make_user(650, "Anna", language_code=language)
    llm.answer(rewrite)

    mark = telegram.mark()
    telegram.push_update(private_text(user, draft))
    [review] = telegram.wait_for("sendMessage", timeout=30, since=mark)
    assert review.ok, review.description
    buttons = {label: data for label, data in inline_buttons(review.result)}
    [data] = [data for label, data in buttons.items() if button_label in label]

    mark = telegram.mark()
    telegram.push_update(callback(user, review.result, data))
    [result] = telegram.wait_for("editMessageText", timeout=30, since=mark)
    assert result.ok, result.description
    text = result.text or ""
    # The checklist's verdict on the rewrite next to the draft's, the facts, the rewrite.
    assert text.count("/100") >= 2
    assert fact_line in text
    assert rewrite.splitlines()[1] in text
    [call] = llm.calls
    assert call.headers.get("authorization") == "Bearer sk-e2e-key-never-logged"
    assert draft in call.messages[-1]["content"]
    assert "sk-e2e-key-never-logged" not in bot.output
