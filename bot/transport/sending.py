"""Bot API requests, and the sends whose answer nobody reads.

PTB turns Telegram's answer to every sendMessage into a `Message`, with its entities and
buttons. For a review that costs ~0.9 ms, about a tenth of everything the bot does for
the draft (benchmarks/throughput), and the reply handlers never look at it. Inside
`unread_answers()`, a successful call hands PTB a bare `true` instead of the answer, as
Telegram gives for an edit of an inline message, and PTB builds nothing from it.
Only a 200 answer is replaced, after it arrived: errors, rate limiting, retries, defaults
and quoting are PTB's as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from http import HTTPStatus

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import RequestData

from bot.transport.delegating import DelegatingRequest

_UNREAD: ContextVar[bool] = ContextVar("postcoach_unread_answers", default=False)
# What Telegram answers to calls that return no object, e.g. editing an inline message.
_TRUE = b'{"ok":true,"result":true}'


@contextlib.contextmanager
def unread_answers() -> Iterator[None]:
    """Within this block (this task), successful Bot API calls answer `True`."""
    token = _UNREAD.set(True)
    try:
        yield
    finally:
        _UNREAD.reset(token)


class SkipUnreadAnswers(DelegatingRequest):
    """Another request (PTB's HTTPXRequest, or a test's), answering `true` when unread."""

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
        """The wrapped request's answer, or a bare `true` for a success nobody reads."""
        status, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == HTTPStatus.OK and _UNREAD.get():
            return status, _TRUE
        return status, payload
