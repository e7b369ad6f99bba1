"""The connection watch: one warning per backoff step, a line when Telegram is back."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.transport import metrics
from bot.transport.outage import Connection, is_network_failure


class Ticks:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _count(where: str) -> float:
    value = metrics.REGISTRY.get_sample_value("postcoach_network_errors_total", {"where": where})
    return value or 0.0


def test_the_delay_doubles_up_to_a_minute() -> None:
    connection = Connection(Ticks())
    delays = [connection.failed("polling", NetworkError("down")) for _ in range(9)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_one_warning_per_backoff_step_however_many_calls_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Ticks()
    connection = Connection(clock)
    before = _count("send")
    with caplog.at_level(logging.WARNING, logger="bot.transport.outage"):
        for _ in range(50):  # fifty sends failing within the same second
            connection.failed("send", NetworkError("connection refused"))
    assert len(caplog.records) == 1
    assert "Telegram unreachable (send): NetworkError: connection refused" in caplog.text
    assert _count("send") - before == 50


def test_the_end_of_an_outage_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    connection = Connection(clock)
    with caplog.at_level(logging.INFO, logger="bot.transport.outage"):
        connection.failed("polling", NetworkError("down"))
        clock.now += 30
        connection.succeeded("polling")
        connection.succeeded("polling")
    infos = [record for record in caplog.records if record.levelno == logging.INFO]
    assert len(infos) == 1
    assert "reachable again (polling) after 30 s and 1 failed calls" in infos[0].getMessage()
    assert not connection.down


def test_only_failures_to_reach_telegram_are_network_failures() -> None:
    assert is_network_failure(NetworkError("Bad Gateway"))
    assert is_network_failure(TimedOut())
    # PTB's BadRequest is a NetworkError, but Telegram answered it: a real error.
    assert not is_network_failure(BadRequest("chat not found"))
    assert not is_network_failure(Forbidden("blocked"))
    assert not is_network_failure(RuntimeError("boom"))
