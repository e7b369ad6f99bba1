"""The fake Bot API over loopback HTTP, for end-to-end tests of the real bot process.

``FakeBotServer`` runs Starlette on uvicorn in a background thread with its own event loop,
bound to 127.0.0.1 on a free port. Requests arrive as python-telegram-bot sends them
(``POST /bot<TOKEN>/<method>``, form, multipart or JSON body; files at
``GET /file/bot<TOKEN>/<path>``) and are answered by the shared ``FakeTelegram`` core in a
worker thread, so a long poll never holds up other requests. A pytest fixture is three lines::

    @pytest.fixture
    def fake_api() -> Iterator[FakeBotServer]:
        with FakeBotServer() as server:
            yield server
"""

import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakebot.core import FakeTelegram, Upload
from tests.loopback import LoopbackServer


async def _read_request(request: Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters and file parts of a Bot API request, whatever its encoding."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body.strip():
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("the JSON body is not an object")
            params.update(decoded)
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        # Telegram takes uploads of up to 50 MB; Starlette's default part limit is 1 MB.
        async with request.form(max_part_size=50 * 1024 * 1024) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = Upload(
                        await value.read(), value.filename, value.content_type or None
                    )
                else:
                    params[key] = value
    return params, files


def build_app(telegram: FakeTelegram | Callable[[], FakeTelegram]) -> Starlette:
    """The Starlette application serving a core the way api.telegram.org is laid out.

    Given a callable, every request asks it for the core, so a running server can be switched
    to a fresh world between tests.
    """
    current = telegram if callable(telegram) else lambda: telegram

    async def call_method(request: Request) -> Response:
        try:
            params, files = await _read_request(request)
        except ValueError:
            body = {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}
            return JSONResponse(body, status_code=400)
        telegram = current()
        token, method = request.path_params["token"], request.path_params["method"]
        if telegram.may_block(method, params):
            # A worker thread keeps a long poll or a slow answer from stalling the loop.
            status, body = await run_in_threadpool(telegram.handle, token, method, params, files)
        else:
            status, body = telegram.handle(token, method, params, files)
        return JSONResponse(body, status_code=status)

    async def serve_file(request: Request) -> Response:
        content = current().read_file(request.path_params["token"], request.path_params["path"])
        if content is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return JSONResponse(body, status_code=404)
        return Response(content, media_type="application/octet-stream")

    return Starlette(
        routes=[
            Route("/file/bot{token}/{path:path}", serve_file, methods=["GET"]),
            Route("/bot{token}/{method}", call_method, methods=["GET", "POST"]),
        ]
    )


class FakeBotServer:
    """A loopback HTTP server for one ``FakeTelegram``; a context manager that starts it."""

    def __init__(
        self, telegram: FakeTelegram | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Serve ``telegram`` (a fresh core by default) on ``host``; port 0 picks a free one."""
        self.telegram = telegram if telegram is not None else FakeTelegram()
        self._loopback = LoopbackServer("fake Bot API server", host=host, port=port)

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only once started)."""
        return self._loopback.port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        return self._loopback.url

    @property
    def base_url(self) -> str:
        """The value for PTB's base_url / TELEGRAM_BASE_URL; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The value for PTB's base_file_url / TELEGRAM_BASE_FILE_URL."""
        return f"{self.url}/file/bot"

    def env(self) -> dict[str, str]:
        """Environment variables pointing a ``postcoach run`` subprocess at this server."""
        return {
            "BOT_TOKEN": self.telegram.token,
            "TELEGRAM_BASE_URL": self.base_url,
            "TELEGRAM_BASE_FILE_URL": self.base_file_url,
        }

    def start(self) -> "FakeBotServer":
        """Bind the socket and serve in a background thread; return once it accepts calls."""
        self._loopback.start(build_app(lambda: self.telegram))
        return self

    def reset(self, telegram: FakeTelegram | None = None) -> FakeTelegram:
        """Serve a fresh world (or ``telegram``) from now on; return it.

        Restarting uvicorn costs about 0.2 s, so a suite can share one server and reset it per
        test. Long polls waiting on the old world are ended first.
        """
        old = self.telegram
        self.telegram = telegram if telegram is not None else FakeTelegram(old.token)
        old.release_waiters()
        return self.telegram

    def stop(self) -> None:
        """Stop serving: end pending long polls and delays, then join the thread."""
        # Again and again: a client may start a new long poll while uvicorn drains.
        self._loopback.stop(while_draining=self.telegram.release_waiters)

    def __enter__(self) -> "FakeBotServer":
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
