"""One reading of Telegram's errors for every scheduled send's claim."""

from __future__ import annotations

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.claims import Outcome, outcome_of


def _timed_out(cause: BaseException) -> TimedOut:
    error = TimedOut()
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        # No connection in time: it never left, so it is tried again uncounted.
        (_timed_out(httpx.PoolTimeout("pool")), Outcome.RELEASED),
        (_timed_out(httpx.ConnectTimeout("connect")), Outcome.RELEASED),
        # Connected, answer late: Telegram may have delivered it, so never sent twice.
        (_timed_out(httpx.ReadTimeout("read")), Outcome.SENT),
        # An outage: released for the tick after the lease.
        (NetworkError("connection refused"), Outcome.RELEASED),
        # Telegram answered no: left claimed, for its one more attempt after the lease.
        (BadRequest("chat not found"), Outcome.KEPT),
        (RetryAfter(5), Outcome.KEPT),
        (TelegramError("something else"), Outcome.KEPT),
    ],
)
def test_a_failed_send_means_the_same_for_every_kind(
    error: TelegramError, outcome: Outcome
) -> None:
    assert outcome_of(error, "tip", 7) is outcome


def test_only_what_the_outage_does_not_say_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="bot.claims")
    outcome_of(NetworkError("connection refused"), "nudge", 1)
    assert caplog.records == []
    outcome_of(_timed_out(httpx.ReadTimeout("read")), "challenge", 2)
    [line] = caplog.records
    assert line.getMessage() == "challenge 2 timed out: kept as sent, not sent again"
