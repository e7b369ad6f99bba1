"""Settings: defaults, normalisation, and one readable line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings
from storage.database import create_engine

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
    "NUDGE_LEASE_SECONDS",
    "DRAFTS_PER_MINUTE",
    "TELEGRAM_MAX_RATE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_PATH",
    "LOG_FORMAT",
    "LLM_BASE_URL",
    "LLM_MODEL",
    "LLM_API_KEY",
    "LLM_TIMEOUT_SECONDS",
    "LLM_DAILY_LIMIT",
    "DATABASE_PASSWORD",
    "HEARTBEAT_FILE",
    "CACHE_DIR",
)
# Every character that breaks a hand-built URL.
AWKWARD_PASSWORD = "p@ss#w/rd:%?&= ü"


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


def test_the_database_password_is_escaped_into_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db:5432/postcoach")
    monkeypatch.setenv("DATABASE_PASSWORD", AWKWARD_PASSWORD)

    url = make_url(load_settings(None).database_url)

    assert (url.drivername, url.username, url.host, url.port, url.database) == (
        "postgresql+asyncpg",
        "bot",
        "db",
        5432,
        "postcoach",
    )
    assert url.password == AWKWARD_PASSWORD


def test_a_database_password_for_sqlite_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", "secret")
    with pytest.raises(SettingsError, match=r"^DATABASE_PASSWORD: is for PostgreSQL only"):
        load_settings(None)


@pytest.mark.backends("postgresql")
async def test_postgresql_takes_an_awkward_password(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way docker-compose.yml passes POSTGRES_PASSWORD, against a real server."""
    admin = create_engine(database_url)
    role = "awkward_role"
    quoted = AWKWARD_PASSWORD.replace("'", "''")
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
            await connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{quoted}'"))
        bare = make_url(database_url).set(username=role, password=None)
        monkeypatch.setenv("DATABASE_URL", bare.render_as_string(hide_password=False))
        monkeypatch.setenv("DATABASE_PASSWORD", AWKWARD_PASSWORD)
        engine = create_engine(load_settings(None).database_url)
        try:
            async with engine.connect() as connection:
                user = await connection.scalar(text("SELECT current_user"))
        finally:
            await engine.dispose()
        assert user == role
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        await admin.dispose()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("TELEGRAM_BASE_URL", "not a url"),
        ("DEFAULT_LANGUAGE", "de"),
        ("LOG_LEVEL", "LOUD"),
        ("ADMIN_CHAT_ID", "everyone"),
        ("BOT_TOKEN", "hello"),
        ("LLM_TIMEOUT_SECONDS", "0"),
        ("LLM_DAILY_LIMIT", "none"),
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


def test_rewrites_are_off_by_default() -> None:
    settings = load_settings(None)
    assert not settings.rewrites_enabled
    assert (settings.llm_base_url, settings.llm_model, settings.llm_api_key_value) == (
        None,
        None,
        None,
    )
    assert settings.llm_timeout_seconds == 20
    assert settings.llm_daily_limit == 10


def test_url_and_model_turn_rewrites_on_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", " http://127.0.0.1:11434/v1/ ")
    monkeypatch.setenv("LLM_MODEL", " llama3.1 ")
    monkeypatch.setenv("LLM_API_KEY", "")
    settings = load_settings(None)
    assert settings.rewrites_enabled
    assert settings.llm_base_url == "http://127.0.0.1:11434/v1"
    assert settings.llm_model == "llama3.1"
    assert settings.llm_api_key_value is None


def test_blank_model_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        monkeypatch.setenv(name, "  ")
    assert not load_settings(None).rewrites_enabled


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"LLM_BASE_URL": "https://api.example.com/v1"}, "LLM_MODEL"),
        ({"LLM_MODEL": "gpt-4o-mini"}, "LLM_BASE_URL"),
        ({"LLM_API_KEY": "sk-abcdef"}, "LLM_BASE_URL"),
        ({"LLM_BASE_URL": "ftp://example.com", "LLM_MODEL": "m"}, "LLM_BASE_URL"),
        ({"LLM_BASE_URL": "localhost:11434", "LLM_MODEL": "m"}, "LLM_BASE_URL"),
    ],
)
def test_half_a_model_configuration_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], variable: str
) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(None)
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_the_model_key_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    monkeypatch.setenv("LLM_BASE_URL", "https://api.example.com/v1")
    monkeypatch.setenv("LLM_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("LLM_API_KEY", "sk-secret-model-key-123")
    settings = load_settings(None)
    assert settings.llm_api_key_value == "sk-secret-model-key-123"
    assert "sk-secret" not in repr(settings)
    assert settings.secrets == ("123456:ABCDEFGHIJKLMNOP", "sk-secret-model-key-123")


def test_a_bad_key_is_refused_without_repeating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", "https://api.example.com/v1")
    monkeypatch.setenv("LLM_MODEL", "m")
    monkeypatch.setenv("LLM_API_KEY", "sk-one two")
    with pytest.raises(SettingsError) as raised:
        load_settings(None)
    assert str(raised.value).startswith("LLM_API_KEY: ")
    assert "sk-one" not in str(raised.value)


def test_every_setting_is_in_env_example_and_the_readme() -> None:
    root = Path(__file__).resolve().parents[2]
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    names = [name.upper() for name in Settings.model_fields]
    assert [n for n in names if f"\n{n}=" not in example] == []
    assert [n for n in names if f"| `{n}` |" not in readme] == []
