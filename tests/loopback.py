"""An ASGI app served by uvicorn on 127.0.0.1 in a background thread: the fake Bot API and
the fake chat-completions server both run on it. And `free_port()`, for the servers the
tests start by port (a bot's webhook and health routes, PostgreSQL)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

_START_TIMEOUT = 5.0
_STOP_TIMEOUT = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, for a server a test starts by port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LoopbackServer:
    """Binds its socket itself, so the port is known before the thread starts."""

    def __init__(self, name: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._name = name
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The TCP port it listens on (only once started)."""
        if self._port is None:
            raise RuntimeError(f"the {self._name} is not running")
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    def start(self, app: Any) -> None:
        """Serve `app` in a background thread; return once it accepts calls."""
        if self._thread is not None:
            raise RuntimeError(f"the {self._name} is already running")
        # The explicit IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that
        # name it, and without it every keep-alive answer waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
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

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._thread = None
                self._port = None
                raise RuntimeError(f"the {self._name} did not start") from self._failure
            time.sleep(0.005)

    def stop(self, while_draining: Callable[[], None] | None = None) -> None:
        """Stop serving and join the thread; `while_draining` runs again and again until
        it ends (to release requests that would otherwise keep it waiting)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        deadline = time.monotonic() + _STOP_TIMEOUT
        while self._thread.is_alive() and time.monotonic() < deadline:
            if while_draining is not None:
                while_draining()
            self._thread.join(timeout=0.05)
        self._thread = None
        self._server = None
        self._port = None
