"""Logging set-up: text or JSON lines, noisy libraries quieted, secrets never written.

Beyond the secrets, two things never reach the log: what users wrote (libraries' DEBUG
lines carry request bodies and whole updates; only their names and numbers are kept) and
the traceback of a refused token (PTB's names the token and says nothing more). A job
skipped because its previous run is still going is said once per long run, not every tick.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
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
# Our own DEBUG lines are written to hold no user text; other libraries' are not.
OWN_LOGGERS = ("bot", "storage")
HIDDEN = "[HIDDEN]"
# What a library's DEBUG argument may be and still be shown: a method name, a path, a URL.
_NAME = re.compile(r"[\w.:/@-]{0,64}|https?://[\w.:/@%-]{1,256}")
# APScheduler's warning for a tick that found the previous one still running.
_SKIPPED_RUN = "maximum number of running instances reached"
# A skipped tick this long after the last one belongs to a new long run: say it again.
SKIPPED_QUIET_SECONDS = 60.0


def _shown(value: object) -> object:
    """The argument itself if it cannot hold what a user wrote; else HIDDEN."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    return HIDDEN


class HideUserText(logging.Filter):
    """Other libraries' DEBUG lines keep their wording and names; bodies become HIDDEN.

    python-telegram-bot logs each call's parameters (the text of every send) and each
    update it processes (names, drafts); at DEBUG those are what an operator turns on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, its arguments made safe."""
        if record.levelno >= logging.INFO or record.name.split(".", 1)[0] in OWN_LOGGERS:
            return True
        if isinstance(record.args, dict):
            record.args = {key: _shown(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_shown(value) for value in record.args)
        elif not _NAME.fullmatch(str(record.msg).replace(" ", "")):
            # Already formatted by the library: nothing tells the names from the text.
            record.msg = f"{HIDDEN} ({len(str(record.msg))} characters)"
        return True


class BriefRefusal(logging.Filter):
    """A refused token is one line: PTB's traceback of it would only repeat the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, without the traceback of an InvalidToken."""
        from telegram.error import InvalidToken

        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            record.exc_info = None
            record.exc_text = None
        return True


class SkippedRunsOnce(logging.Filter):
    """APScheduler warns every tick while a long run goes on; one warning per run is enough."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeated skip of the same job within SKIPPED_QUIET_SECONDS."""
        if not isinstance(record.msg, str) or _SKIPPED_RUN not in record.msg:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        # The job's text names its next run time, which moves each tick: its id does not.
        job = str(getattr(args[0], "id", args[0])) if args else ""
        now = self._clock()
        last = self._last.get(job)
        self._last[job] = now
        return last is None or now - last > SKIPPED_QUIET_SECONDS


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
    for log_filter in (HideUserText(), BriefRefusal(), SkippedRunsOnce()):
        handler.addFilter(log_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return formatter
