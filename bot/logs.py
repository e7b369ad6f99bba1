"""Logging set-up: text or JSON lines, noisy libraries quieted, secrets never written."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"


class RedactingFormatter(logging.Formatter):
    """Replaces every secret (and its private half) in the finished log line."""

    def __init__(self, fmt: str | None, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        words: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            words.add(secret)
            # A token's part after the colon is the secret half; hide it on its own too.
            _, _, private = secret.partition(":")
            if len(private) >= 8:
                words.add(private)
        # Longest first, so a secret containing another is hidden whole.
        self._secrets = sorted(words, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        """The line as the format string makes it, secrets replaced."""
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object per line: time, level, logger, message and, with an error, exc_info.

    Each value is redacted before encoding, so a secret that JSON would escape
    is still found.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(None, secrets)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc_info"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


# These log every request URL, and Telegram's URLs carry the token.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio", "hpack", "alembic")


def make_formatter(log_format: LogFormat, secrets: Iterable[str]) -> RedactingFormatter:
    """The redacting formatter for the chosen format."""
    if log_format == "json":
        return JsonFormatter(secrets)
    return RedactingFormatter(TEXT_FORMAT, secrets)


def configure_logging(
    level: int, secrets: Iterable[str], log_format: LogFormat = "text"
) -> RedactingFormatter:
    """Send every log (ours, PTB's, uvicorn's) to stderr through the redacting formatter."""
    formatter = make_formatter(log_format, secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return formatter
