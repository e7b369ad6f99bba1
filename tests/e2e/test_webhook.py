"""`postcoach run` in webhook mode as a real process, and stopping cleanly on SIGTERM.

Telegram's side is played by the test: it POSTs updates to the bot's webhook server on
127.0.0.1, and the bot answers through the fake Bot API server as usual.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import BotProcess, base_env, run_cli, start_bot
from tests.fakebot import DEFAULT_TOKEN, FakeBotServer, command, make_user
from tests.loopback import free_port

SECRET = "e2e_Secret-0123456789abcdef"
URL = "https://bot.example.test/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REPLY_TIMEOUT = 30.0
# One back-end: the duplicate check runs on each in tests/unit/test_webhook.py, and a bot
# process costs seconds.
pytestmark = pytest.mark.backends("sqlite")


def _start_webhook_bot(
    bots: list[BotProcess], workdir: Path, server: FakeBotServer, **extra: str
) -> tuple[BotProcess, httpx.Client]:
    """Start the bot in webhook mode; return it once it set its webhook (it listens by then)."""
    port = free_port()
    env = base_env(
        server,
        workdir,
        WEBHOOK_URL=URL,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        **extra,
    )
    mark = server.telegram.mark()
    bot = start_bot(bots, workdir, env, server=server)
    server.telegram.wait_for("setWebhook", timeout=REPLY_TIMEOUT, since=mark)
    return bot, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)


def _post(client: httpx.Client, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post("/telegram", json=update, headers=headers).status_code


def test_webhook_mode_from_set_webhook_to_sigterm(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    """Set the webhook, answer what carries the secret, once; stop on SIGTERM; log no secret.

    One process for the whole story, at DEBUG in JSON: a bot process costs seconds.
    """
    telegram = fake_api.telegram
    bot, client = _start_webhook_bot(
        bots, tmp_path, fake_api, LOG_LEVEL="DEBUG", LOG_FORMAT="json"
    )
    webhook = telegram.webhook
    assert webhook["url"] == URL
    assert webhook["secret_token"] == SECRET
    assert {"message", "callback_query", "my_chat_member"} <= set(webhook["allowed_updates"])
    assert telegram.calls("getUpdates") == [], "webhook mode must not poll"

    # Only what carries the secret is taken.
    anna = make_user(701, "Anna", language_code="it")
    start = telegram.observe(command(anna, "/start"))
    assert _post(client, start, secret="wrong") == 403
    assert _post(client, start, secret=None) == 403
    mark = telegram.mark()
    assert _post(client, start) == 200
    welcome = telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark, count=3)
    assert "Ciao <b>Anna</b>" in (welcome[0].text or "")

    # Telegram posts /start again, then /help: one chat's updates are handled in order, so
    # a second /start would answer before /help does.
    mark = telegram.mark()
    assert _post(client, start) == 200
    assert _post(client, telegram.observe(command(anna, "/help"))) == 200
    [reply] = telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark)
    assert "/review" in (reply.text or "")

    # A send that fails is logged with its traceback (and the user gets the apology).
    telegram.fail("sendMessage", 400, description="Bad Request: chat not found", times=1)
    mark = telegram.mark()
    assert _post(client, telegram.observe(command(make_user(702, "Eva"), "/help"))) == 200
    telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark, count=2)

    assert client.get("/healthz").status_code == 200
    # What Docker's HEALTHCHECK runs: the same /healthz, found from the same settings.
    health = run_cli("health", cwd=tmp_path, env=bot.env)
    assert health.returncode == 0, health.stderr
    assert "tutto bene" in health.stdout  # LANG=C: the default language
    # An update is counted once its handling ends, a moment after its last send arrived.
    deadline = time.monotonic() + REPLY_TIMEOUT
    while 'postcoach_updates_total{type="message"} 3.0' not in (
        scraped := client.get("/metrics").text
    ):
        assert time.monotonic() < deadline, scraped
        time.sleep(0.05)
    assert "postcoach_duplicate_updates_total 1.0" in scraped
    assert 'postcoach_webhook_rejected_total{reason="forbidden"} 2.0' in scraped
    assert 'postcoach_send_errors_total{kind="BadRequest"} 1.0' in scraped

    # SIGTERM with a reply in flight: it is sent, then the process exits 0.
    telegram.delay("sendMessage", 0.5)
    mark = telegram.mark()
    assert _post(client, telegram.observe(command(make_user(703, "Luca"), "/help"))) == 200
    bot.process.send_signal(signal.SIGTERM)
    assert bot.stop() == 0
    [reply] = telegram.wait_for("sendMessage", timeout=1, since=mark)
    assert reply.ok
    assert reply.chat_id == 703
    with pytest.raises(httpx.ConnectError):
        client.get("/healthz")
    client.close()
    health = run_cli("health", cwd=tmp_path, env=bot.env)
    assert health.returncode == 1
    assert "non risponde nessuno" in health.stderr

    # One JSON object per line, and neither the token nor the webhook secret anywhere.
    output = bot.output
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert {"DEBUG", "ERROR"} <= {entry["level"] for entry in entries}
    assert any("exc_info" in entry for entry in entries)
    assert DEFAULT_TOKEN not in output
    assert DEFAULT_TOKEN.split(":", 1)[1] not in output
    assert SECRET not in output
    # PTB logs setWebhook's call at DEBUG: its name stays, its parameters (the secret, and
    # for sends the users' text) do not; its API URL, with the token, is redacted.
    assert any(
        "setWebhook" in entry["message"] and "[HIDDEN]" in entry["message"] for entry in entries
    )
    assert any("[REDACTED]" in entry["message"] for entry in entries)


def test_sigterm_in_polling_mode_finishes_the_reply_in_flight_and_exits_0(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    telegram = fake_api.telegram
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    # One answered update first: start_bot returns while PTB may still be starting up.
    mark = telegram.mark()
    telegram.push_update(command(make_user(705, "Dino"), "/help"))
    telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark)
    telegram.delay("sendMessage", 0.5)
    mark = telegram.mark()
    telegram.push_update(command(make_user(703, "Sara"), "/help"))
    # Confirmed by the next getUpdates: the bot holds the update now.
    deadline = time.monotonic() + REPLY_TIMEOUT
    while telegram.pending_updates():
        assert time.monotonic() < deadline, "the bot never fetched the update"
        time.sleep(0.02)
    bot.process.send_signal(signal.SIGTERM)
    assert bot.stop() == 0
    [reply] = telegram.wait_for("sendMessage", timeout=1, since=mark)
    assert reply.ok
    assert reply.chat_id == 703


def test_port_already_taken_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BOT_TOKEN": DEFAULT_TOKEN,
            "WEBHOOK_URL": URL,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        result = run_cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"postcoach: WEBHOOK_PORT: cannot listen on 127.0.0.1:{port}")
