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
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakebot.core import FakeTelegram, Upload

_START_TIMEOUT = 5.0


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
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only once started)."""
        if self._port is None:
            raise RuntimeError("the fake Bot API server is not running")
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

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
        if self._thread is not None:
            raise RuntimeError("the fake Bot API server is already running")
        # Binding here, not in uvicorn, tells us the port before the thread starts. The explicit
        # IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that name it, and
        # without it every keep-alive answer waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(lambda: self.telegram),
            log_config=None,  # leave the test run's logging configuration alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._failure = None

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported by start() instead of dying silently
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="fake-bot-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._thread = None
                self._port = None
                raise RuntimeError("the fake Bot API server did not start") from self._failure
            time.sleep(0.005)
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
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        deadline = time.monotonic() + 10
        while self._thread.is_alive() and time.monotonic() < deadline:
            # Again and again: a client may start a new long poll while uvicorn drains.
            self.telegram.release_waiters()
            self._thread.join(timeout=0.05)
        self._thread = None
        self._server = None
        self._port = None

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
