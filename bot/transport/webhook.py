"""Webhook mode: a Starlette app on uvicorn takes Telegram's updates, health and metrics.

Modelled on python-telegram-bot's "custom webhook bot" example: the Application is run with
``initialize()`` / ``start()`` (no Updater, JobQueue running) and the web server puts each
update on ``application.update_queue``. Routes:

- ``POST <WEBHOOK_PATH>``: the secret header is checked in constant time before the body is
  read (403); the body is bounded (413), must be a JSON update (400); one we cannot handle
  (ids out of range, parts missing: bot/transport/intake.py) is answered 200, counted and
  dropped, as is an ``update_id`` seen before, by this process or another sharing the database.
- ``GET /healthz``: 200 when the database takes a write, 503 naming the fault otherwise
  (bot/transport/health.py).
- ``GET /metrics``: Prometheus text format.

With ``HEALTH_PORT`` set the last two move to a server of their own (``HealthServer``),
which polling mode runs too.

On SIGTERM (or SIGINT) uvicorn stops taking requests and finishes those in hand, then the
Application handles what is queued, lets running jobs and sends finish, and shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.transport import metrics
from bot.transport.health import DatabaseFile, StorageWatch, storage_fault
from bot.transport.intake import unhandleable, without_lone_surrogates
from bot.transport.metrics import DropReason
from storage.database import AsyncEngine, create_session_factory
from storage.models import utcnow
from storage.uow import unit_of_work_factory

logger = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, no secret
# Telegram's updates are a few kilobytes; a megabyte leaves room and bounds a hostile one.
MAX_BODY_BYTES = 1024 * 1024
# Telegram stops redelivering an update long before a day has passed.
KEEP_UPDATE_IDS = timedelta(hours=24)
PRUNE_EVERY = 1000
# Telegram's requests take milliseconds; this only bounds a stuck client at shutdown.
GRACEFUL_SHUTDOWN_SECONDS = 10
# Longer than a reverse proxy's idle upstream connections (nginx, load balancers: 60 s), so
# the proxy never reuses a connection we are closing (a 502, and Telegram retries later).
KEEP_ALIVE_SECONDS = 75
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WebhookError(Exception):
    """Webhook mode cannot start (the port is taken, Telegram refused the webhook...)."""


class UpdateLedger:
    """The update ids already taken in, shared through the database by every instance.

    Ids that arrive while an insert is under way wait and go in together, in one
    transaction (a group commit): under load most requests then share a write instead of
    queueing for SQLite's single writer one by one.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        keep: timedelta = KEEP_UPDATE_IDS,
        prune_every: int = PRUNE_EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow = unit_of_work_factory(create_session_factory(engine))
        self._keep = keep
        self._prune_every = prune_every
        self._clock = clock
        # Zero: the first update also clears what earlier runs left behind.
        self._until_prune = 0
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def first_time(self, update_id: int) -> bool:
        """Record the update id; False when it was already recorded (a redelivery)."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        return await answer

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                fresh = await self._insert({update_id for update_id, _ in batch})
            except Exception as exc:
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            self._until_prune -= len(batch)
            if self._until_prune <= 0:
                # Before answering, so that whoever awaited this batch sees the table pruned.
                self._until_prune = self._prune_every
                try:
                    await self.prune()
                except Exception as exc:
                    # Housekeeping: a failure here must not fail the updates; next time, then.
                    logger.warning("old update ids not pruned: %s", type(exc).__name__)
            for update_id, answer in batch:
                # The same id twice in one batch: only its first request is the first time.
                first = update_id in fresh
                fresh.discard(update_id)
                if not answer.done():
                    answer.set_result(first)

    async def _insert(self, update_ids: set[int]) -> set[int]:
        """Insert the ids, skipping those already there; return the ones inserted."""
        async with self._uow() as uow:
            fresh = await uow.updates.add_new(update_ids, self._clock())
            await uow.commit()
        return fresh

    async def prune(self) -> int:
        """Forget update ids older than the retention; returns how many went."""
        async with self._uow() as uow:
            removed = await uow.updates.delete_before(self._clock() - self._keep)
            await uow.commit()
        return removed


async def _read_bounded(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit`` (declared or actual)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    # Counted as it streams in: a chunked body declares no length.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def read_update(body: bytes) -> dict[str, Any] | None:
    """The decoded update in a request body (an object with an integer update_id), or None
    when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    return data


def parse_update(body: bytes, bot: Bot) -> Update | DropReason | None:
    """The update in a request body; why it is dropped when it is one we cannot handle;
    None when it is not an update at all."""
    data = read_update(body)
    if data is None:
        return None
    reason = unhandleable(data)
    if reason is not None:
        return reason
    try:
        return Update.de_json(without_lone_surrogates(data), bot)
    except Exception:
        # Whatever else PTB trips on in an object Telegram would not send: not handleable.
        return "parts"


def create_app(
    application: AnyApplication,
    *,
    path: str,
    secret: str,
    ledger: UpdateLedger | None = None,
    engine: AsyncEngine | None = None,
    max_body: int = MAX_BODY_BYTES,
    health: bool = True,
    database: DatabaseFile | None = None,
    watch: StorageWatch | None = None,
) -> Starlette:
    """The web app: the webhook route, and /healthz and /metrics unless ``health`` is False
    (they are served on HEALTH_PORT then).

    Without a ledger every update is enqueued (no duplicate check); without an engine
    /healthz has nothing to check and answers 200.
    """
    expected = secret.encode()

    async def receive_update(request: Request) -> Response:
        arrived = metrics.now()
        # Starlette decodes headers as latin-1; encoding back gives the bytes sent.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        # Before the body: a request without the secret costs us no reading and no parsing.
        if not hmac.compare_digest(given, expected):
            metrics.count_rejected("forbidden")
            return Response(status_code=403)
        body = await _read_bounded(request, max_body)
        if body is None:
            metrics.count_rejected("too_large")
            return Response(status_code=413)
        update = parse_update(body, application.bot)
        if update is None:
            metrics.count_rejected("bad_request")
            return Response(status_code=400)
        if isinstance(update, str):
            # A 2xx all the same: any other answer and Telegram posts it again, for ever.
            metrics.count_dropped(update)
            logger.warning("update dropped: it cannot be handled (%s)", update)
            return Response(status_code=200)
        if ledger is not None:
            try:
                fresh = await ledger.first_time(update.update_id)
            except Exception as exc:
                # Not a 2xx: Telegram keeps the update and posts it again later.
                logger.warning("update %s not recorded: %s", update.update_id, type(exc).__name__)
                return Response(status_code=503)
            if not fresh:
                metrics.count_duplicate()
                return Response(status_code=200)
        metrics.mark_received(update.update_id, arrived)
        await application.update_queue.put(update)
        return Response(status_code=200)

    routes = [Route(path, receive_update, methods=["POST"])]
    if health:
        routes.extend(health_routes(engine, database, watch))
    return Starlette(routes=routes)


def health_routes(
    engine: AsyncEngine | None,
    database: DatabaseFile | None = None,
    watch: StorageWatch | None = None,
) -> list[Route]:
    """/healthz (200 when the database takes a write, 503 naming the fault) and /metrics.

    The outcome goes to the watch, which logs a fault once however often it is asked.
    """

    async def health(_: Request) -> Response:
        if engine is not None:
            fault = await storage_fault(engine, database)
            if watch is not None:
                watch.report(fault)
            elif fault is not None:
                logger.warning("health check: %s", fault)
            if fault is not None:
                return PlainTextResponse(f"{fault}\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def show_metrics(_: Request) -> Response:
        content, content_type = metrics.render()
        return Response(content, media_type=content_type)

    return [
        Route("/healthz", health, methods=["GET"]),
        Route("/metrics", show_metrics, methods=["GET"]),
    ]


class HealthServer:
    """/healthz and /metrics on a listen address of their own (HEALTH_PORT), beside polling
    or the webhook: started and stopped with the Application."""

    def __init__(
        self,
        sock: socket.socket,
        engine: AsyncEngine,
        database: DatabaseFile | None,
        watch: StorageWatch | None = None,
    ) -> None:
        config = uvicorn.Config(
            Starlette(routes=health_routes(engine, database, watch)),
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = _Server(config)
        self._sock = sock
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen; returns once the server does (or raises why it could not)."""
        self._serving = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        await _until_listening(self._server, self._serving)
        host, port = self._sock.getsockname()[:2]
        logger.info("health and metrics on %s:%d", host, port)

    async def stop(self) -> None:
        """Stop listening and finish the requests in hand."""
        self._server.should_exit = True
        if self._serving is not None and not self._serving.done():
            await self._serving


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6); WebhookError when that fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        # The explicit protocol matters: asyncio sets TCP_NODELAY only on sockets that name
        # it, and without it each answer can wait 40 ms for a delayed ACK.
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise WebhookError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise WebhookError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling, telling when it listens.

    uvicorn would raise the signal again once it stopped, killing the process before the
    Application had finished its updates and sends: ``serve`` owns the signals instead.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start listening, then say so."""
        await super().startup(sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the signals to ``serve``."""
        yield


@contextlib.contextmanager
def _stop_on_signals(server: uvicorn.Server) -> Iterator[None]:
    loop = asyncio.get_running_loop()

    def stop(sig: signal.Signals) -> None:
        if server.should_exit:
            # A second signal: stop waiting for open connections.
            server.force_exit = True
            return
        logger.info("%s: no new updates; finishing those in hand", sig.name)
        server.should_exit = True

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def _until_listening(server: _Server, serving: asyncio.Task[None]) -> None:
    listening = asyncio.ensure_future(server.listening.wait())
    try:
        await asyncio.wait({listening, serving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        listening.cancel()
    if serving.done():
        # It stopped before listening: let its exception (if any) speak.
        await serving


async def serve(
    application: AnyApplication,
    web_app: Starlette,
    sock: socket.socket,
    *,
    url: str,
    secret: str,
    access_log: bool = False,
    health: HealthServer | None = None,
) -> None:
    """Run the bot in webhook mode until SIGTERM or SIGINT, then stop in order.

    Start: Application (and its post_init), web server, then setWebhook, so Telegram's first
    post finds us listening. Stop: web server first (nothing new comes in), then the
    Application (queued updates, jobs and sends finish), then its shutdown.
    """
    config = uvicorn.Config(
        web_app,
        log_config=None,  # our redacting handler on the root logger writes uvicorn's logs too
        access_log=access_log,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = _Server(config)

    def stop_serving() -> None:
        server.should_exit = True

    # How a job stops the bot (a fatal storage fault): PTB's stop_running needs its runner.
    application.bot_data["stop"] = stop_serving
    with _stop_on_signals(server):
        await application.initialize()
        try:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            try:
                if health is not None:
                    await health.start()
                try:
                    await _serve_and_set_webhook(application, server, sock, url, secret)
                finally:
                    if health is not None:
                        await health.stop()
            finally:
                await application.stop()
                if application.post_stop is not None:
                    await application.post_stop(application)
        finally:
            await application.shutdown()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


async def _serve_and_set_webhook(
    application: AnyApplication, server: _Server, sock: socket.socket, url: str, secret: str
) -> None:
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await _until_listening(server, serving)
        if not server.should_exit:
            try:
                await application.bot.set_webhook(
                    url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                )
            except TelegramError as exc:
                raise WebhookError(f"setWebhook failed: {exc}") from None
            host, port = sock.getsockname()[:2]
            logger.info("webhook set to %s; listening on %s:%d", url, host, port)
        await serving
    finally:
        # However we got here, the server stops before the Application does.
        server.should_exit = True
        if not serving.done():
            await serving
