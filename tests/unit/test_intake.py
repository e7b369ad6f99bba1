"""What comes in from Telegram: ids in the Bot API's range, the parts handlers need, and no
lone surrogates in user text, in polling mode as in webhook mode (tests/unit/test_webhook.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import CoachApplication, build_application
from bot.coach import Checklist
from bot.settings import Settings
from bot.texts.catalog import Texts
from bot.transport import metrics
from bot.transport.intake import MAX_UPDATE_ID, clean_updates_payload, unhandleable
from tests.fakebot import DEFAULT_TOKEN, FakeTelegram, RecordingRequest, make_user, private_text


def _update(**change: Any) -> dict[str, Any]:
    update = FakeTelegram().observe(private_text(make_user(601, "Anna"), "una bozza"))
    return {**update, **change}


def test_an_update_telegram_would_send_can_be_handled() -> None:
    assert unhandleable(_update()) is None
    assert unhandleable(_update(update_id=MAX_UPDATE_ID)) is None


@pytest.mark.parametrize("update_id", [2**63, 2**31, -1])
def test_an_update_id_beyond_the_bot_api_range_cannot(update_id: int) -> None:
    assert unhandleable(_update(update_id=update_id)) == "ids"


def test_a_message_without_its_chat_cannot() -> None:
    update = _update()
    del update["message"]["chat"]
    assert unhandleable(update) == "parts"


def test_a_sender_without_an_id_cannot() -> None:
    update = _update()
    del update["message"]["from"]["id"]
    assert unhandleable(update) == "parts"


def test_a_payload_without_surrogates_is_passed_as_it_is() -> None:
    payload = b'{"ok": true, "result": [{"update_id": 1, "x": "caf\\u00e9"}]}'
    assert clean_updates_payload(payload) is payload


@pytest.fixture
async def application(
    tmp_path: Path, telegram: FakeTelegram, texts: Texts, packaged_checklist: Checklist
) -> AsyncIterator[CoachApplication]:
    """The Application polling the fake Telegram in-process (nothing else runs)."""
    settings = Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        telegram_base_url="http://127.0.0.1:9/bot",
        telegram_base_file_url="http://127.0.0.1:9/file/bot",
        scheduler_tick_seconds=0,
    )
    application = build_application(
        settings,
        texts=texts,
        checklist=packaged_checklist,
        request=RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
    )
    await application.bot.initialize()
    yield application
    await application.bot.shutdown()
    await application.bot_data["engine"].dispose()


@pytest.fixture
def telegram() -> FakeTelegram:
    """An empty fake Telegram."""
    return FakeTelegram()


async def test_polled_text_with_lone_surrogates_is_replaced_and_can_be_sent_back(
    application: CoachApplication, telegram: FakeTelegram
) -> None:
    anna = make_user(602, "An\udfffna")
    telegram.push_update(private_text(anna, "bozza \ud800 fine \ud83d\ude00"))
    [update] = await application.bot.get_updates(timeout=0)
    message = update.message
    assert message is not None
    assert message.from_user is not None
    assert message.text == "bozza \ufffd fine \U0001f600"
    assert message.from_user.first_name == "An\ufffdna"
    # The reply quoting both goes out instead of failing to encode.
    await application.bot.send_message(602, f"{message.from_user.first_name}: {message.text}")
    [sent] = telegram.sent_messages(602)
    assert "\ufffd" in (sent.text or "")


def _dropped(reason: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value("postcoach_dropped_updates_total", {"reason": reason})
        or 0.0
    )


def _without_chat(user_id: int) -> dict[str, Any]:
    update = private_text(make_user(user_id, "Bruno"), "una bozza senza chat")
    del update["message"]["chat"]
    return update


async def test_a_polled_message_without_its_chat_is_dropped_and_the_next_is_read(
    application: CoachApplication, telegram: FakeTelegram
) -> None:
    before = _dropped("parts")
    telegram.push_update(_without_chat(603))
    telegram.push_update(private_text(make_user(604, "Carla"), "la bozza di Carla"))

    [update] = await application.bot.get_updates(timeout=0)

    assert update.message is not None
    assert update.message.text == "la bozza di Carla"
    assert _dropped("parts") == before + 1


async def test_a_dropped_last_update_still_moves_polling_past_it(
    application: CoachApplication, telegram: FakeTelegram
) -> None:
    before = _dropped("parts")
    telegram.push_update(private_text(make_user(605, "Dario"), "la bozza di Dario"))
    bad = telegram.push_update(_without_chat(606))

    # What PTB's polling does: read, then ask for what comes after the last id it read.
    first, last = await application.bot.get_updates(timeout=0)
    again = await application.bot.get_updates(offset=last.update_id + 1, timeout=0)

    assert first.message is not None
    assert first.message.text == "la bozza di Dario"
    # Only its id is left: no handler matches an update with nothing in it.
    assert (last.update_id, last.effective_message, last.effective_user) == (bad, None, None)
    assert again == ()
    assert _dropped("parts") == before + 1
