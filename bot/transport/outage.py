"""When Telegram cannot be reached: a warning per backoff step, a line when it is back.

An outage of the Bot API used to leave a full traceback in the log every few seconds for
as long as it lasted. A refused connection, a time-out and a 5xx answer are all "down".
Every such failure (polling, sends, the start-up check) goes through one `Connection`: it
counts the failure (postcoach_network_errors_total), logs one WARNING line with the error
and the next retry delay at most once per backoff step (1, 2, 4 ... 60 seconds), and one
INFO line when a call succeeds again.

`PatientRequest` wraps the getUpdates request: while the API is unreachable it waits the
backoff delay and asks again itself, so PTB's polling loop never sees the error (and never
hands it to the error handler). `Watched` wraps the request every other call uses: it
only reports failures and successes, and lets the error through to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from http import HTTPStatus

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.request import BaseRequest, RequestData

from bot.transport import metrics
from bot.transport.delegating import DelegatingRequest

logger = logging.getLogger(__name__)

FIRST_DELAY = 1.0  # seconds before the first retry
MAX_DELAY = 60.0  # the backoff doubles up to this


def is_network_failure(error: BaseException | None) -> bool:
    """A failure to reach Telegram (refused, timed out, 5xx); PTB's BadRequest is a
    NetworkError too, but Telegram answered it."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class Connection:
    """Whether Telegram answers, shared by every request of the process."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self._clock = clock
        self._first = first_delay
        self._max = max_delay
        self._down_since: float | None = None
        self._failures = 0
        self._delay = 0.0
        self._next_warning = 0.0

    @property
    def down(self) -> bool:
        """Whether the last call failed on the network."""
        return self._down_since is not None

    def failed(self, where: str, error: Exception) -> float:
        """Note a network failure; returns how long to wait before trying again."""
        now = self._clock()
        metrics.count_network_error(where)
        if self._down_since is None:
            self._down_since = now
            self._failures = 0
            self._delay = self._first
            self._next_warning = now
        else:
            self._delay = min(self._max, self._delay * 2)
        self._failures += 1
        if now >= self._next_warning:
            logger.warning(
                "Telegram unreachable (%s): %s: %s; trying again in %.0f s",
                where,
                type(error).__name__,
                error,
                self._delay,
            )
            self._next_warning = now + self._delay
        return self._delay

    def succeeded(self, where: str) -> None:
        """Note a call that went through: the end of an outage, if there was one."""
        if self._down_since is None:
            return
        lasted = self._clock() - self._down_since
        logger.info(
            "Telegram reachable again (%s) after %.0f s and %d failed calls",
            where,
            lasted,
            self._failures,
        )
        self._down_since = None
        self._failures = 0
        self._delay = 0.0


CONNECTION = Connection()


class _Watching(DelegatingRequest):
    """A delegating request that reports to the connection watch."""

    def __init__(self, inner: BaseRequest, connection: Connection = CONNECTION) -> None:
        super().__init__(inner)
        self._connection = connection


def _server_error(status: int) -> NetworkError | None:
    """A 5xx answer is the API being down as much as a refused connection."""
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return NetworkError(f"HTTP {status}")
    return None


class Watched(_Watching):
    """Reports each call's network failure or success to the connection; errors go on."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The wrapped request's answer, with the outcome noted."""
        try:
            status, payload = await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        except NetworkError as error:
            self._connection.failed("send", error)
            raise
        failure = _server_error(status)
        if failure is not None:
            self._connection.failed("send", failure)
        else:
            self._connection.succeeded("send")
        return status, payload


class PatientRequest(_Watching):
    """For getUpdates: while Telegram is unreachable, wait the backoff and ask again."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The wrapped request's answer, asked again until the network gives one (PTB
        cancels the wait when the bot stops)."""
        while True:
            try:
                status, payload = await super().do_request(
                    url,
                    method,
                    request_data,
                    read_timeout,
                    write_timeout,
                    connect_timeout,
                    pool_timeout,
                )
            except NetworkError as error:
                await asyncio.sleep(self._connection.failed("polling", error))
                continue
            failure = _server_error(status)
            if failure is not None:
                await asyncio.sleep(self._connection.failed("polling", failure))
                continue
            self._connection.succeeded("polling")
            return status, payload


async def wait_for_telegram(
    token: str, base_url: str, connection: Connection = CONNECTION
) -> bool:
    """Before starting: ask Telegram who we are until it answers. False when it refuses
    the token (401); a network failure waits the backoff and asks again, one line each."""
    while True:
        bot = Bot(token, base_url=base_url)
        try:
            await bot.initialize()
        except InvalidToken:
            return False
        except TelegramError as error:
            if not is_network_failure(error):
                raise
            await asyncio.sleep(connection.failed("start", error))
            continue
        finally:
            await bot.shutdown()
        connection.succeeded("start")
        return True
