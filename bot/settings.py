"""Runtime settings: the only module that reads the environment (and the `.env` file)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/postcoach.sqlite3"

# What Telegram accepts as a webhook secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
# Routes the webhook server answers itself; the webhook path must not hide them.
RESERVED_PATHS = ("/healthz", "/metrics")


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and the problem."""


class Settings(BaseSettings):
    """Everything the process can be told from outside, with safe defaults."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL's password apart from DATABASE_URL, any characters (it is escaped into
    # the URL here): docker-compose.yml passes POSTGRES_PASSWORD this way.
    database_password: SecretStr | None = None
    # SQLite's statements on the event loop's thread (storage/sqlite_driver.py); false: the
    # stock aiosqlite adapter, on aiosqlite's thread (slower under load, same results).
    sqlite_inline_driver: bool = True
    # python-telegram-bot's form: the token is appended to these.
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    default_language: Language = "it"
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    admin_chat_id: int | None = None
    # Polling: how long one getUpdates call waits on Telegram's side.
    polling_timeout: int = Field(default=10, ge=0, le=50)
    # How often the scheduler looks for due work (results questions, nudges); 0 turns it off.
    scheduler_tick_seconds: float = Field(default=20, ge=0, le=3600)
    # A nudge found late by less than this after downtime is still sent (marked late).
    nudge_grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # A nudge claimed but not confirmed sent, nor renewed, this long ago belongs to a process
    # that died: another process takes it over (and may send it again, see README "Crash
    # safety"). A live process renews its claims every third of it while it sends them.
    nudge_lease_seconds: int = Field(default=30, ge=5, le=3600)
    # No reminder this soon after onboarding: a new user is greeted, not nudged at once.
    first_reminder_delay_hours: float = Field(default=12, ge=0, le=7 * 24)
    # Drafts one user may have reviewed in a minute; over it, one "slow down" answer.
    drafts_per_minute: int = Field(default=10, ge=1, le=1000)
    # Messages per second to Telegram overall (Telegram allows about 30).
    telegram_max_rate: float = Field(default=30, gt=0, le=1000)
    # Messages per second to one private chat after a burst of three (Telegram allows
    # about one; groups get 20 a minute). 0: no per-chat pace (a Bot API without limits).
    telegram_chat_rate: float = Field(default=1, ge=0, le=1000)
    # Seconds to wait for Telegram's answer to a send; a send that times out is logged and
    # counted (Telegram may well have delivered it), never apologised for.
    telegram_read_timeout: float = Field(default=10, gt=0, le=120)
    # Webhook mode (instead of polling) when a public URL is set.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Every interface by default: in a container the proxy reaches us from outside.
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - on purpose, as said above
    # 0 picks a free port (logged at start), for tests and benchmarks.
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    webhook_path: str = "/telegram"
    log_format: Literal["text", "json"] = "text"
    # Files the bot can rebuild (the language model, ready to map); empty: no cache.
    cache_dir: Path | None = Path("data/cache")
    # Polling mode touches this file every 30 s while the bot and its database answer;
    # `postcoach health` reads it (bot/transport/health.py). Empty: no heartbeat.
    heartbeat_file: Path | None = Path("data/heartbeat")
    # /healthz and /metrics on a port of their own, in both modes (webhook mode then keeps
    # them off the public webhook server); unset: polling serves none, webhook its own.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    # Loopback by default: metrics are for the operator, not for the internet.
    health_listen: str = "127.0.0.1"
    # Start-up: how long to keep trying a database that does not answer (one line a try).
    database_wait_seconds: float = Field(default=60, ge=0, le=3600)
    # Optional rewrites by a language model: any OpenAI-compatible chat-completions server.
    # The feature exists for users only when both the URL and the model are set.
    llm_base_url: str | None = None
    llm_model: str | None = None
    # Optional: local servers often need no key.
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=20, gt=0, le=300)
    # Rewrites per user per day (the user's local day).
    llm_daily_limit: int = Field(default=10, ge=1, le=1000)

    @field_validator(
        "bot_token",
        "admin_chat_id",
        "webhook_url",
        "webhook_secret",
        "llm_base_url",
        "llm_model",
        "llm_api_key",
        "cache_dir",
        "heartbeat_file",
        "health_port",
        "database_password",
        mode="before",
    )
    @classmethod
    def _blank_is_missing(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        bot_id, sep, secret = token.partition(":")
        if not sep or not bot_id.isdigit() or len(secret) < 10 or any(c.isspace() for c in token):
            raise ValueError("does not look like a token from @BotFather (digits:secret)")
        return SecretStr(token)

    @field_validator("telegram_base_url", "telegram_base_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgres://", "postgresql://")):
            # Operators paste libpq URLs; the async engine needs the asyncpg driver.
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (or postgresql://)"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
            raise ValueError("must be the public https:// URL Telegram will post updates to")
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(c.isspace() for c in value)
        ):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:11434/v1")
        return value

    @field_validator("llm_model")
    @classmethod
    def _llm_model(cls, value: str | None) -> str | None:
        return value.strip() if value is not None else None

    @field_validator("llm_api_key")
    @classmethod
    def _llm_key(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it is a secret.
        if value is None:
            return None
        key = value.get_secret_value().strip()
        if any(c.isspace() for c in key):
            raise ValueError("must not contain spaces or line breaks")
        return SecretStr(key)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it is a secret.
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters, each A-Z, a-z, 0-9, _ or -")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        value = value.strip()
        if not _WEBHOOK_PATH.fullmatch(value) or value in RESERVED_PATHS:
            raise ValueError("must be a URL path such as /telegram (not /healthz or /metrics)")
        return value

    @field_validator("webhook_listen", "health_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() for c in value):
            raise ValueError("must be an address to listen on, such as 0.0.0.0 or 127.0.0.1")
        return value

    @field_validator("default_language", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _password_into_url(self) -> Settings:
        if self.database_password is None:
            return self
        if not self.database_url.startswith("postgresql"):
            raise ValueError("DATABASE_PASSWORD: is for PostgreSQL only; unset it for SQLite")
        url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
        # Rendered by SQLAlchemy, so '@', '#', '/' and the like are escaped.
        self.database_url = url.render_as_string(hide_password=False)
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without the secret anyone who finds the URL could post us fake updates.
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET: is required when WEBHOOK_URL is set")
        return self

    @model_validator(mode="after")
    def _llm_complete(self) -> Settings:
        # Half a configuration is a mistake, not a wish to turn the feature off.
        if self.llm_base_url is not None and self.llm_model is None:
            raise ValueError("LLM_MODEL: is required when LLM_BASE_URL is set")
        if self.llm_model is not None and self.llm_base_url is None:
            raise ValueError("LLM_BASE_URL: is required when LLM_MODEL is set")
        if self.llm_api_key is not None and self.llm_base_url is None:
            raise ValueError("LLM_BASE_URL: is required when LLM_API_KEY is set")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the Telegram client only."""
        return self.bot_token.get_secret_value() if self.bot_token else None

    @property
    def webhook_secret_value(self) -> str | None:
        """The webhook secret in clear, for setWebhook and the header check only."""
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    @property
    def llm_api_key_value(self) -> str | None:
        """The language model's API key in clear, for its Authorization header only."""
        return self.llm_api_key.get_secret_value() if self.llm_api_key else None

    @property
    def rewrites_enabled(self) -> bool:
        """Whether a language model is configured, so users are offered rewrites."""
        return self.llm_base_url is not None and self.llm_model is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never reach a log line."""
        values = (self.token, self.webhook_secret_value, self.llm_api_key_value)
        return tuple(s for s in values if s)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, when the database is SQLite on disk."""
        if not self.database_url.startswith("sqlite"):
            return None
        path = self.database_url.split(":///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)

    @property
    def log_level_number(self) -> int:
        """The log level as the logging module wants it."""
        return logging.getLevelNamesMapping()[self.log_level]


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read the settings, turning a validation failure into one readable line."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            # A rule across settings: its message starts with the variable to fix.
            raise SettingsError(message) from None
        raise SettingsError(f"{str(error['loc'][0]).upper()}: {message}") from None
