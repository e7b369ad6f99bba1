"""The webhook server in-process: the secret check, body limits, duplicates, health, metrics.

The Application is built as in production, with the fake Bot API in-process; it is not
started, so what the route enqueues stays on ``update_queue`` for the test to see.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import shutil
from collections.abc import AsyncIterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from telegram import Update
from telegram.error import Forbidden, NetworkError

from bot.app import CoachApplication, build_application, build_webhook_app
from bot.coach import Checklist, load_checklist
from bot.settings import Settings, SettingsError, load_settings
from bot.texts.catalog import Texts
from bot.transport import metrics, webhook
from bot.transport.webhook import SECRET_HEADER, UpdateLedger, create_app
from storage.migrate import upgrade, upgrade_engine
from storage.models import ProcessedUpdate
from tests.fakebot import (
    DEFAULT_TOKEN,
    FakeTelegram,
    RecordingRequest,
    command,
    make_user,
    private_text,
)

SECRET = "unit_Secret-0123456789"
# What the route does before and after the database does not depend on its back-end; the
# duplicate checks and /healthz run on every back-end.
HTTP_ONLY = pytest.mark.backends("sqlite")
URL = "https://bot.example.test/telegram"


def _settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=DEFAULT_TOKEN,
        database_url=database_url,
        telegram_base_url="http://127.0.0.1:9/bot",
        telegram_base_file_url="http://127.0.0.1:9/file/bot",
        scheduler_tick_seconds=0,
        webhook_url=URL,
        webhook_secret=SECRET,
    )


@pytest.fixture
def telegram() -> FakeTelegram:
    """An empty fake Telegram."""
    return FakeTelegram()


@pytest.fixture(scope="module")
def checklist() -> Checklist:
    """The shipped checklist, loaded once."""
    return load_checklist()


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once and copied for each test (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "postcoach.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def application(
    database_url: str,
    migrated_file: Path,
    telegram: FakeTelegram,
    texts: Texts,
    checklist: Checklist,
) -> AsyncIterator[CoachApplication]:
    """The bot's Application on a migrated database, not started."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(migrated_file, database_url.split(":///", 1)[1])
    application = build_application(
        _settings(database_url),
        texts=texts,
        checklist=checklist,
        request=RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
    )
    engine: AsyncEngine = application.bot_data["engine"]
    await upgrade_engine(engine)
    yield application
    await engine.dispose()


@pytest.fixture
def web_app(application: CoachApplication, database_url: str) -> Starlette:
    """The webhook server's app, built by the composition root."""
    return build_webhook_app(application, _settings(database_url))


@pytest.fixture
async def client(web_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client


def _update(telegram: FakeTelegram, text: str = "/start", user_id: int = 601) -> dict[str, Any]:
    return telegram.observe(command(make_user(user_id, "Anna"), text))


def _queued(application: CoachApplication) -> list[Update]:
    updates: list[Update] = []
    while not application.update_queue.empty():
        update = application.update_queue.get_nowait()
        assert isinstance(update, Update)
        updates.append(update)
    return updates


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def _post(
    client: httpx.AsyncClient, body: Any, secret: str | None = SECRET, **kwargs: Any
) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post("/telegram", content=content, headers=headers, **kwargs)


# ------------------------------------------------------------------------- the secret


@HTTP_ONLY
async def test_update_with_the_right_secret_is_enqueued(
    client: httpx.AsyncClient, application: CoachApplication, telegram: FakeTelegram
) -> None:
    update = _update(telegram)
    response = await _post(client, update)
    assert response.status_code == 200
    [queued] = _queued(application)
    assert queued.update_id == update["update_id"]
    assert queued.message is not None
    assert queued.message.text == "/start"


@HTTP_ONLY
@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET[:-1], SECRET + "x", "sécret"])
async def test_missing_or_wrong_secret_is_refused(
    client: httpx.AsyncClient,
    application: CoachApplication,
    telegram: FakeTelegram,
    secret: str | None,
) -> None:
    before = _sample("postcoach_webhook_rejected_total", {"reason": "forbidden"})
    # Bytes, so that a non-ASCII header reaches the server as sent.
    headers = {SECRET_HEADER.encode(): secret.encode()} if secret is not None else {}
    response = await client.post(
        "/telegram", content=json.dumps(_update(telegram)).encode(), headers=headers
    )
    assert response.status_code == 403
    assert _queued(application) == []
    assert _sample("postcoach_webhook_rejected_total", {"reason": "forbidden"}) == before + 1


@HTTP_ONLY
async def test_secret_is_compared_in_constant_time(
    client: httpx.AsyncClient, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return compare_digest(given, expected)

    monkeypatch.setattr(webhook.hmac, "compare_digest", spy)
    assert (await _post(client, _update(telegram), secret="wrong")).status_code == 403
    assert (await _post(client, _update(telegram))).status_code == 200
    assert compared == [(b"wrong", SECRET.encode()), (SECRET.encode(), SECRET.encode())]


@HTTP_ONLY
async def test_wrong_secret_is_refused_before_the_body_is_read(web_app: Starlette) -> None:
    reads: list[str] = []

    async def receive() -> MutableMapping[str, Any]:
        # Reading the body would end here: the test fails, or hangs until its timeout.
        reads.append("body")
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/telegram",
        "raw_path": b"/telegram",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bot"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100000"),
            (SECRET_HEADER.lower().encode(), b"wrong"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
    }
    await asyncio.wait_for(web_app(scope, receive, send), timeout=5)
    assert sent[0]["status"] == 403
    assert reads == []


# -------------------------------------------------------------------------- the body


@HTTP_ONLY
async def test_declared_body_over_the_limit_is_refused(
    client: httpx.AsyncClient, application: CoachApplication, telegram: FakeTelegram
) -> None:
    update = _update(telegram)
    update["message"]["text"] = "x" * (webhook.MAX_BODY_BYTES + 1)
    response = await _post(client, update)
    assert response.status_code == 413
    assert _queued(application) == []


@HTTP_ONLY
async def test_streamed_body_over_the_limit_is_refused(
    application: CoachApplication, database_url: str
) -> None:
    small = create_app(application, path="/telegram", secret=SECRET, max_body=1000)

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the size is only known while reading.
        for _ in range(20):
            yield b" " * 100

    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post(
            "/telegram", content=chunks(), headers={SECRET_HEADER: SECRET}
        )
    assert response.status_code == 413


@HTTP_ONLY
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[" * 200_000,
        b"\xff\xfe\xfa",
        b"[1, 2]",
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": true}',
    ],
)
async def test_body_that_is_not_an_update_is_a_bad_request(
    client: httpx.AsyncClient, application: CoachApplication, body: bytes
) -> None:
    response = await _post(client, body)
    assert response.status_code == 400
    assert _queued(application) == []


# ------------------------------------------------------ updates we cannot handle, dropped


@HTTP_ONLY
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # Past a signed 64-bit integer: the ledger's insert overflowed, a 503, for ever.
        ({"update_id": 2**63}, "ids"),
        ({"update_id": -1}, "ids"),
        ({"message": {"message_id": 1, "date": 0, "text": "hi"}}, "parts"),
        ({"message": "not an object"}, "parts"),
        ({"callback_query": {"id": "1", "chat_instance": "c"}}, "parts"),
    ],
)
async def test_update_with_the_secret_that_cannot_be_handled_is_answered_200_and_dropped(
    client: httpx.AsyncClient,
    application: CoachApplication,
    telegram: FakeTelegram,
    change: dict[str, Any],
    reason: str,
) -> None:
    update = {**_update(telegram), **change}
    before = _sample("postcoach_dropped_updates_total", {"reason": reason})
    response = await _post(client, update)
    # Any other answer and Telegram would post it again and again.
    assert response.status_code == 200
    assert _queued(application) == []
    assert _sample("postcoach_dropped_updates_total", {"reason": reason}) == before + 1


@HTTP_ONLY
async def test_a_user_id_beyond_the_bot_api_range_is_dropped(
    client: httpx.AsyncClient, application: CoachApplication, telegram: FakeTelegram
) -> None:
    update = _update(telegram)
    update["message"]["from"]["id"] = 2**63
    assert (await _post(client, update)).status_code == 200
    assert _queued(application) == []


@HTTP_ONLY
async def test_lone_surrogates_in_user_text_are_replaced_on_the_way_in(
    client: httpx.AsyncClient, application: CoachApplication, telegram: FakeTelegram
) -> None:
    update = _update(telegram, text="ciao")
    update["message"]["text"] = "bozza \ud800 fine \ud83d\ude00"
    update["message"]["from"]["first_name"] = "An\udfffna"
    # json.dumps writes them as Telegram does: escapes, a pair for the emoji.
    assert (await _post(client, update)).status_code == 200
    [queued] = _queued(application)
    assert queued.message is not None
    assert queued.message.text == "bozza \ufffd fine \U0001f600"
    assert queued.message.from_user is not None
    assert queued.message.from_user.first_name == "An\ufffdna"
    # What the bot will send back can be encoded.
    (queued.message.text + queued.message.from_user.first_name).encode()


# -------------------------------------------------------------------- duplicate updates


async def test_repeated_update_id_is_handled_once(
    client: httpx.AsyncClient, application: CoachApplication, telegram: FakeTelegram
) -> None:
    update = _update(telegram)
    before = _sample("postcoach_duplicate_updates_total")
    assert (await _post(client, update)).status_code == 200
    # Telegram posts it again (say our answer was lost): 200, so it stops, and no second run.
    assert (await _post(client, update)).status_code == 200
    assert [u.update_id for u in _queued(application)] == [update["update_id"]]
    assert _sample("postcoach_duplicate_updates_total") == before + 1


async def test_repeated_update_id_is_handled_once_across_instances(
    application: CoachApplication, database_url: str, telegram: FakeTelegram
) -> None:
    # Two processes behind one load balancer: two ledgers on one database.
    other_engine = create_async_engine(database_url)
    first = create_app(
        application,
        path="/telegram",
        secret=SECRET,
        ledger=UpdateLedger(application.bot_data["engine"]),
    )
    second = create_app(
        application, path="/telegram", secret=SECRET, ledger=UpdateLedger(other_engine)
    )
    update = _update(telegram)
    try:
        for app in (first, second):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
                assert (await _post(client, update)).status_code == 200
    finally:
        await other_engine.dispose()
    assert len(_queued(application)) == 1


async def test_concurrent_arrivals_share_a_write_and_a_repeat_among_them_loses(
    application: CoachApplication,
) -> None:
    ledger = UpdateLedger(application.bot_data["engine"])
    # Gathered, these arrive while the first insert is under way: one batch after it.
    answers = await asyncio.gather(*(ledger.first_time(i) for i in (1, 2, 3, 2, 3, 3)))
    assert answers == [True, True, True, False, False, False]
    assert list(await asyncio.gather(ledger.first_time(3), ledger.first_time(4))) == [False, True]


async def test_old_update_ids_are_pruned(application: CoachApplication) -> None:
    engine: AsyncEngine = application.bot_data["engine"]
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    ledger = UpdateLedger(engine, prune_every=1000, clock=lambda: now)
    assert await ledger.first_time(1)
    assert await ledger.first_time(2)
    assert not await ledger.first_time(1)
    now += timedelta(hours=25)
    assert await ledger.prune() == 2
    # Long forgotten by Telegram too: the same id would be new again.
    assert await ledger.first_time(1)


async def test_first_update_after_start_prunes_what_earlier_runs_left(
    application: CoachApplication,
) -> None:
    engine: AsyncEngine = application.bot_data["engine"]
    then = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    await UpdateLedger(engine, clock=lambda: then).first_time(1)
    later = UpdateLedger(engine, prune_every=2, clock=lambda: then + timedelta(days=2))
    await later.first_time(2)
    async with engine.connect() as connection:
        ids = (await connection.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert ids == [2]
    for update_id in range(3, 7):
        await later.first_time(update_id)
    async with engine.connect() as connection:
        count = (await connection.execute(select(func.count(ProcessedUpdate.update_id)))).scalar()
    assert count == 5


@HTTP_ONLY
async def test_database_down_while_recording_asks_telegram_to_retry(
    application: CoachApplication, tmp_path: Path, telegram: FakeTelegram
) -> None:
    broken = _unreachable_engine(tmp_path)
    app = create_app(application, path="/telegram", secret=SECRET, ledger=UpdateLedger(broken))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            assert (await _post(client, _update(telegram))).status_code == 503
    finally:
        await broken.dispose()
    assert _queued(application) == []


# ---------------------------------------------------------------------- health, metrics

FAMILIES = (
    "postcoach_updates",
    "postcoach_reviews",
    "postcoach_nudges",
    "postcoach_send_errors",
    "postcoach_webhook_rejected",
    "postcoach_duplicate_updates",
    "postcoach_update_reply_seconds",
)


def _unreachable_engine(tmp_path: Path) -> AsyncEngine:
    # A database file under a plain file: SQLite cannot open it.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return create_async_engine(f"sqlite+aiosqlite:///{blocker / 'db.sqlite3'}")


async def test_health_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


@HTTP_ONLY
async def test_health_is_503_when_the_database_does_not_answer(
    application: CoachApplication, tmp_path: Path
) -> None:
    broken = _unreachable_engine(tmp_path)
    app = create_app(application, path="/telegram", secret=SECRET, engine=broken)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            response = await client.get("/healthz")
    finally:
        await broken.dispose()
    assert response.status_code == 503


@HTTP_ONLY
async def test_metrics_are_served_in_prometheus_text_format(
    client: httpx.AsyncClient, telegram: FakeTelegram
) -> None:
    await _post(client, _update(telegram), secret="wrong")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    body = response.text
    assert 'postcoach_nudges_total{outcome="missed"}' in body
    assert 'postcoach_update_reply_seconds_bucket{le="0.1"}' in body
    families = {family.name for family in text_string_to_metric_families(body)}
    assert families >= set(FAMILIES)
    forbidden = _sample("postcoach_webhook_rejected_total", {"reason": "forbidden"})
    assert f'postcoach_webhook_rejected_total{{reason="forbidden"}} {forbidden}' in body


@HTTP_ONLY
async def test_processing_counts_the_update_and_times_the_first_reply(
    application: CoachApplication, telegram: FakeTelegram
) -> None:
    await application.initialize()
    try:
        update = Update.de_json(
            telegram.observe(private_text(make_user(602, "Luca"), "Una bozza da rivedere.")),
            application.bot,
        )
        before_updates = _sample("postcoach_updates_total", {"type": "message"})
        before_count = _sample("postcoach_update_reply_seconds_count")
        before_sum = _sample("postcoach_update_reply_seconds_sum")
        # Arrived 50 ms ago, as the webhook route would have noted.
        metrics.mark_received(update.update_id, metrics.now() - 0.05)
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
    finally:
        await application.shutdown()
    assert telegram.sent_messages(602), "the draft should have been answered"
    assert _sample("postcoach_updates_total", {"type": "message"}) == before_updates + 1
    # One observation however many messages the reply took.
    assert _sample("postcoach_update_reply_seconds_count") == before_count + 1
    assert _sample("postcoach_update_reply_seconds_sum") - before_sum >= 0.05


@HTTP_ONLY
async def test_failed_sends_are_counted_by_exception_class(
    application: CoachApplication, telegram: FakeTelegram
) -> None:
    # Not a 403: a blocked user gets no apology, and this needs one to fail too.
    telegram.fail("sendMessage", 400, "Bad Request: message is too long", times=None)
    await application.initialize()
    try:
        update = Update.de_json(
            telegram.observe(command(make_user(603, "Eva"), "/help")), application.bot
        )
        before = _sample("postcoach_send_errors_total", {"kind": "BadRequest"})
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
    finally:
        await application.shutdown()
    # The reply and the error handler's apology both failed: two calls, each counted once.
    assert _sample("postcoach_send_errors_total", {"kind": "BadRequest"}) == before + 2


def test_a_send_error_reported_twice_counts_once() -> None:
    before = _sample("postcoach_send_errors_total", {"kind": "Forbidden"})
    blocked = Forbidden("Forbidden: bot was blocked by the user")
    # The rate limiter counts it, then an error handler reports the same exception.
    metrics.count_send_error(blocked)
    metrics.count_send_error(blocked)
    assert _sample("postcoach_send_errors_total", {"kind": "Forbidden"}) == before + 1
    metrics.count_send_error(Forbidden("Forbidden: bot was blocked by the user"))
    assert _sample("postcoach_send_errors_total", {"kind": "Forbidden"}) == before + 2


def test_counting_helpers_feed_their_counters() -> None:
    reviews = _sample("postcoach_reviews_total")
    late = _sample("postcoach_nudges_total", {"outcome": "late"})
    network = _sample("postcoach_send_errors_total", {"kind": "NetworkError"})
    metrics.count_review()
    metrics.count_nudge("late")
    metrics.count_send_error(NetworkError("connection reset"))
    assert _sample("postcoach_reviews_total") == reviews + 1
    assert _sample("postcoach_nudges_total", {"outcome": "late"}) == late + 1
    assert _sample("postcoach_send_errors_total", {"kind": "NetworkError"}) == network + 1


# ------------------------------------------------------------------------------ settings

WEBHOOK_VARIABLES = ("WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_PATH", "WEBHOOK_PORT", "LOG_FORMAT")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The webhook variables, cleared for the test to set."""
    for name in WEBHOOK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_webhook_is_off_by_default(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings(None)
    assert settings.webhook_url is None
    assert settings.webhook_port == 8080
    assert settings.webhook_path == "/telegram"
    assert settings.log_format == "text"


def test_webhook_secret_is_a_secret(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("WEBHOOK_URL", URL)
    environment.setenv("WEBHOOK_SECRET", SECRET)
    settings = load_settings(None)
    assert SECRET in settings.secrets
    assert SECRET not in repr(settings)


def test_webhook_url_without_secret_names_the_secret(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("WEBHOOK_URL", URL)
    with pytest.raises(SettingsError, match=r"^WEBHOOK_SECRET: is required"):
        load_settings(None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEBHOOK_URL", "http://bot.example.test/telegram"),
        ("WEBHOOK_URL", "not a url"),
        ("WEBHOOK_SECRET", "has spaces in it"),
        ("WEBHOOK_SECRET", "x" * 257),
        ("WEBHOOK_PATH", "telegram"),
        ("WEBHOOK_PATH", "/healthz"),
        ("WEBHOOK_PORT", "70000"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_bad_webhook_setting_names_the_variable(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    environment.setenv("WEBHOOK_URL", URL)
    environment.setenv("WEBHOOK_SECRET", SECRET)
    environment.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(None)
    assert str(raised.value).startswith(f"{variable}: ")
    if variable == "WEBHOOK_SECRET":
        assert value not in str(raised.value)
