"""Settings: defaults, normalisation, and one readable line for a bad value."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings

VARIABLES = (
    "BOT_TOKEN",
    "DATABASE_URL",
    "TELEGRAM_BASE_URL",
    "TELEGRAM_BASE_FILE_URL",
    "DEFAULT_LANGUAGE",
    "LOG_LEVEL",
    "ADMIN_CHAT_ID",
    "POLLING_TIMEOUT",
    "SCHEDULER_TICK_SECONDS",
    "NUDGE_GRACE_MINUTES",
    "TELEGRAM_MAX_RATE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_PATH",
    "LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(None)
    assert settings.token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.default_language == "it"
    assert settings.admin_chat_id is None


def test_libpq_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw@db:5432/postcoach")
    assert load_settings(None).database_url == "postgresql+asyncpg://bot:pw@db:5432/postcoach"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("TELEGRAM_BASE_URL", "not a url"),
        ("DEFAULT_LANGUAGE", "de"),
        ("LOG_LEVEL", "LOUD"),
        ("ADMIN_CHAT_ID", "everyone"),
        ("BOT_TOKEN", "hello"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(None)
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_token_is_never_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    settings = load_settings(None)
    assert settings.token == "123456:ABCDEFGHIJKLMNOP"
    assert "ABCDEFGHIJ" not in repr(settings)
    assert settings.secrets == ("123456:ABCDEFGHIJKLMNOP",)


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_CHAT_ID", "")
    monkeypatch.setenv("BOT_TOKEN", " ")
    settings = load_settings(None)
    assert settings.admin_chat_id is None
    assert settings.token is None
