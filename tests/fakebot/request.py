"""An in-process python-telegram-bot request object that talks to the fake core, no sockets.

Flow tests build the bot's ``Application`` with
``.request(RecordingRequest(core)).get_updates_request(RecordingRequest(core))``; every Bot API
call then reaches ``FakeTelegram.handle`` with the very parameters PTB would have put on the
wire (``RequestData.json_parameters`` and its file parts), so the answers are the ones the HTTP
server gives. A call answered later than its read timeout raises ``TimedOut`` as PTB's
HTTPXRequest does, while the fake still handles it (Telegram got the message).
"""

import asyncio
import json
import re
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakebot.core import FakeTelegram, Upload

_API_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[^/]+)$")
_FILE_PATH = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


def _error(status: int, description: str) -> tuple[int, bytes]:
    body = {"ok": False, "error_code": status, "description": description}
    return status, json.dumps(body).encode()


class RecordingRequest(BaseRequest):
    """A ``BaseRequest`` whose "network" is a ``FakeTelegram`` in the same process."""

    def __init__(self, telegram: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        """Answer every request from ``telegram``; ``read_timeout`` is the default wait."""
        self.telegram = telegram
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout PTB adds to getUpdates' long-poll timeout."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open: there is no connection pool."""

    async def shutdown(self) -> None:
        """Nothing to close."""

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
        """Route a Bot API call or a file download to the core; return (status, body)."""
        path = unquote(urlsplit(url).path)
        file_match = _FILE_PATH.search(path)
        if file_match is not None:
            content = self.telegram.read_file(file_match["token"], file_match["path"])
            return (200, content) if content is not None else _error(404, "Not Found")
        api_match = _API_PATH.search(path)
        if api_match is None:
            return _error(404, "Not Found")
        params = request_data.json_parameters if request_data is not None else {}
        files: dict[str, Upload] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, part, mime_type) in request_data.multipart_data.items():
                payload = part if isinstance(part, bytes) else part.read()
                files[name] = Upload(payload, filename, mime_type)
        token, api_method = api_match["token"], api_match["method"]
        if not self.telegram.may_block(api_method, params):
            status, body = self.telegram.handle(token, api_method, params, files)
            return status, json.dumps(body).encode()
        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        # A worker thread, so that a long poll or an injected delay does not stall the loop.
        answer = asyncio.ensure_future(
            asyncio.to_thread(self.telegram.handle, token, api_method, params, files)
        )
        try:
            # Shielded: the thread goes on and the fake records the call, as Telegram would.
            status, body = await asyncio.wait_for(asyncio.shield(answer), timeout)
        except TimeoutError:
            raise TimedOut(f"Timed out after {timeout} s") from None
        except asyncio.CancelledError:
            # PTB cancels a pending long poll on shutdown; free the thread still waiting in it.
            self.telegram.release_waiters()
            raise
        return status, json.dumps(body).encode()
