"""Logs: text or one JSON object per line, and never the token or the webhook secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from telegram.error import InvalidToken

from bot.logs import (
    REDACTED,
    SKIPPED_QUIET_SECONDS,
    BriefRefusal,
    HideUserText,
    JsonFormatter,
    LogFormat,
    RedactingFormatter,
    SkippedRunsOnce,
    configure_logging,
)
from bot.settings import Settings
from tests.fakebot import DEFAULT_TOKEN

SECRET = "webhook_Secret-0123456789"
SECRETS = (DEFAULT_TOKEN, SECRET)
PRIVATE_HALF = DEFAULT_TOKEN.split(":", 1)[1]


def _log_through(formatter: logging.Formatter, emit: Callable[[logging.Logger], None]) -> str:
    """What the formatter writes for the records ``emit(logger)`` makes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        emit(logger)
    finally:
        logger.handlers.clear()
    return stream.getvalue()


def _leaky(logger: logging.Logger) -> None:
    logger.debug("POST https://api.telegram.org/bot%s/getMe", DEFAULT_TOKEN)
    logger.info("private half alone: %s", PRIVATE_HALF)
    logger.debug("setWebhook with parameters {'secret_token': '%s'}", SECRET)
    try:
        raise RuntimeError(f"failed calling /bot{DEFAULT_TOKEN}/x with {SECRET}")
    except RuntimeError:
        logger.exception("update %s failed", 7)


def _assert_clean(output: str) -> None:
    assert DEFAULT_TOKEN not in output
    assert PRIVATE_HALF not in output
    assert SECRET not in output
    assert REDACTED in output


def test_text_lines_hide_the_token_and_the_secret() -> None:
    output = _log_through(RedactingFormatter("%(levelname)s %(message)s", SECRETS), _leaky)
    _assert_clean(output)
    assert "DEBUG POST https://api.telegram.org/bot[REDACTED]/getMe" in output
    assert "Traceback" in output


def test_json_lines_are_one_object_each_with_the_fields() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.warning('two\nlines and a quote " in one record')

    [line] = _log_through(JsonFormatter(SECRETS), emit).splitlines()
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message"}
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "tests.logs"
    assert entry["message"] == 'two\nlines and a quote " in one record'
    assert entry["time"].endswith("+00:00")


def test_json_lines_carry_the_traceback_as_text() -> None:
    lines = _log_through(JsonFormatter(SECRETS), _leaky).splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 4
    failure = entries[-1]
    assert failure["level"] == "ERROR"
    assert failure["message"] == "update 7 failed"
    assert failure["exc_info"].startswith("Traceback")
    assert "RuntimeError" in failure["exc_info"]


def test_json_lines_hide_the_token_and_the_secret() -> None:
    _assert_clean(_log_through(JsonFormatter(SECRETS), _leaky))


def test_secret_json_would_escape_is_still_hidden() -> None:
    # Not a shape Telegram allows, but the formatter must not depend on that.
    secret = 'pass"word\\with/escapes'
    output = _log_through(
        JsonFormatter([secret]), lambda logger: logger.info("the secret is %s", secret)
    )
    assert json.loads(output)["message"] == f"the secret is {REDACTED}"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, put back as it was after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("log_format", "kind"), [("text", RedactingFormatter), ("json", JsonFormatter)]
)
def test_configure_logging_installs_the_chosen_format(
    root_logger: logging.Logger, log_format: LogFormat, kind: type[logging.Formatter]
) -> None:
    formatter = configure_logging(logging.DEBUG, SECRETS, log_format)
    assert type(formatter) is kind
    [handler] = root_logger.handlers
    assert handler.formatter is formatter
    # Request URLs carry the token: the HTTP client's loggers stay quiet even at DEBUG.
    assert logging.getLogger("httpx").level == logging.WARNING


def test_the_language_model_key_is_redacted_too() -> None:
    settings = Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        llm_base_url="https://api.example.com/v1",
        llm_model="gpt-4o-mini",
        llm_api_key="sk-proj-Abc123_def456-GHI789",
    )

    def emit(logger: logging.Logger) -> None:
        logger.warning("headers: {'Authorization': 'Bearer sk-proj-Abc123_def456-GHI789'}")

    for formatter in (
        RedactingFormatter("%(message)s", settings.secrets),
        JsonFormatter(settings.secrets),
    ):
        output = _log_through(formatter, emit)
        assert "sk-proj-Abc123_def456-GHI789" not in output
        assert f"Bearer {REDACTED}" in output


def _through_filter(log_filter: logging.Filter, emit: Callable[[logging.Logger], None]) -> str:
    """What a handler with this filter writes for the records ``emit(logger)`` makes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(log_filter)
    logger = logging.getLogger("telegram.Bot")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        emit(logger)
    finally:
        logger.handlers.clear()
        logger.propagate = True
    return stream.getvalue()


def test_library_debug_lines_keep_the_method_but_hide_the_text() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.debug(
            "Calling Bot API endpoint `%s` with parameters `%s`",
            "sendMessage",
            {"chat_id": 5, "text": "Ciao <b>Zenobia</b>, my secret plan"},
        )
        logger.debug("Webhook received data: %s", '{"message": {"text": "my secret plan"}}')
        logger.debug('Processing update {"text": "my secret plan"}')
        logger.warning("an error with %s", "my secret plan")

    output = _through_filter(HideUserText(), emit)
    assert "Calling Bot API endpoint `sendMessage` with parameters `[HIDDEN]`" in output
    assert output.count("secret plan") == 1  # only the WARNING, which is not DEBUG
    assert "Zenobia" not in output


def test_a_refused_token_is_one_line_without_its_traceback() -> None:
    def emit(logger: logging.Logger) -> None:
        try:
            raise InvalidToken(f"The token `{DEFAULT_TOKEN}` was rejected by the server.")
        except InvalidToken:
            logger.exception("Network Retry Loop: Invalid token. Aborting retry loop.")

    [line] = _through_filter(BriefRefusal(), emit).splitlines()
    assert line.endswith("Invalid token. Aborting retry loop.")


class _Job:
    def __init__(self, job_id: str, next_run: int) -> None:
        self.id = job_id
        self.next_run = next_run

    def __str__(self) -> str:
        return f"{self.id} (next run at: {self.next_run})"


def test_a_tick_skipped_while_a_long_run_goes_on_is_said_once() -> None:
    now = [0.0]
    skipped = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'

    def emit(logger: logging.Logger) -> None:
        for second in range(30):  # one long run: a skip a second
            now[0] = float(second)
            logger.warning(skipped, _Job("tick", second), 1)
        now[0] = 30 + SKIPPED_QUIET_SECONDS + 1  # another long run, much later
        logger.warning(skipped, _Job("tick", 99), 1)
        logger.warning("something else")

    lines = _through_filter(SkippedRunsOnce(clock=lambda: now[0]), emit).splitlines()
    assert len([line for line in lines if "running instances" in line]) == 2
    assert lines[-1].endswith("something else")
