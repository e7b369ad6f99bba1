"""Logging set-up: one format, noisy libraries quieted, secrets never written."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable


class RedactingFormatter(logging.Formatter):
    """Replaces every secret (and its private half) in the finished log line."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        words: set[str] = set()
        for secret in secrets:
            words.add(secret)
            # A token's part after the colon is the secret half; hide it on its own too.
            _, _, private = secret.partition(":")
            if len(private) >= 8:
                words.add(private)
        self._secrets = sorted(words, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


# These log every request URL, and Telegram's URLs carry the token.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio", "hpack")


def configure_logging(level: int, secrets: Iterable[str]) -> RedactingFormatter:
    """Send logs to stderr through the redacting formatter."""
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return formatter
