"""`postcoach run` as a real process: it answers, survives restarts and never logs the token."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import BotProcess, base_env, run_cli, start_bot
from tests.fakebot import FakeBotServer, callback, command, inline_buttons, make_user

REPLY_TIMEOUT = 30.0


def _reply_to(server: FakeBotServer, chat_id: int, since: int) -> str:
    [call] = server.telegram.wait_for(
        "sendMessage", lambda c: c.chat_id == chat_id, timeout=REPLY_TIMEOUT, since=since
    )
    assert call.ok, call.description
    return call.text or ""


def test_start_help_and_language_over_http(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    anna = make_user(501, "Anna", language_code="it")

    mark = telegram.mark()
    telegram.push_update(command(anna, "/start"))
    # The welcome, then the onboarding's introduction and first question.
    welcome, _, question = telegram.wait_for(
        "sendMessage", timeout=REPLY_TIMEOUT, since=mark, count=3
    )
    assert "Ciao <b>Anna</b>" in (welcome.text or "")
    assert "lingua" in (question.text or "")

    mark = telegram.mark()
    telegram.push_update(command(anna, "/help"))
    assert "/review" in _reply_to(fake_api, 501, mark)

    mark = telegram.mark()
    telegram.push_update(command(anna, "/language"))
    [prompt] = telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark)
    assert ("🇬🇧 English", "language.set:en") in inline_buttons(prompt.result)
    mark = telegram.mark()
    telegram.push_update(callback(anna, prompt.result, "language.set:en"))
    [edit] = telegram.wait_for("editMessageText", timeout=REPLY_TIMEOUT, since=mark)
    assert "English" in (edit.text or "")

    # The menus were registered in both languages at start.
    assert {c["command"] for c in telegram.commands(language_code="en")} >= {"start", "help"}
    assert bot.stop() == 0


def test_restart_keeps_the_user(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    env = base_env(fake_api, tmp_path)
    telegram = fake_api.telegram
    luca = make_user(502, "Luca", language_code="it")

    first = start_bot(bots, tmp_path, env, "first", server=fake_api)
    mark = telegram.mark()
    telegram.push_update(command(luca, "/start"))
    assert "Ciao" in _reply_to(fake_api, 502, mark)
    assert first.stop() == 0

    second = start_bot(bots, tmp_path, env, "second", server=fake_api)
    mark = telegram.mark()
    telegram.push_update(command(luca, "/start"))
    # Known after the restart: half-way through onboarding, so the question comes back.
    assert "Riprendiamo" in _reply_to(fake_api, 502, mark)
    # A new database: one line per migration; a restart: none. Alembic's own chatter never.
    assert "database migration applied 0001: Users." in first.output
    assert "database migration" not in second.output
    for output in (first.output, second.output):
        assert "alembic" not in output
        assert "setup plugin" not in output


def test_token_never_reaches_the_log_even_at_debug(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    token = fake_api.telegram.token
    bot = start_bot(
        bots, tmp_path, base_env(fake_api, tmp_path, LOG_LEVEL="DEBUG"), server=fake_api
    )
    telegram = fake_api.telegram
    # A failing getUpdates and a failing send make the bot log errors too.
    telegram.fail("getUpdates", 500, times=1)
    telegram.fail("sendMessage", 400, description="Bad Request: chat not found", times=1)
    mark = telegram.mark()
    telegram.push_update(command(make_user(503, "Eva"), "/start"))
    telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark, count=2)
    assert bot.stop() == 0
    output = bot.output
    assert "DEBUG" in output, "the bot should have logged at DEBUG"
    assert token not in output
    assert token.split(":", 1)[1] not in output
    # PTB logs its API URL at DEBUG: the redaction, not silence, is what kept it out.
    assert "[REDACTED]" in output


def test_rate_limit_answer_is_honoured(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    telegram.fail("sendMessage", 429, retry_after=1, times=1)
    mark = telegram.mark()
    telegram.push_update(command(make_user(504, "Sara"), "/start"))
    calls = telegram.wait_for(
        "sendMessage", lambda c: c.chat_id == 504, timeout=REPLY_TIMEOUT, since=mark, count=2
    )
    assert calls[0].status == 429
    assert calls[1].ok
    assert calls[1].at - calls[0].at >= 0.9


def test_without_token_it_explains_botfather_and_exits_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = run_cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    # The commands as a user can type them from the clone, not a bare "postcoach".
    assert "make review FILE=bozza.txt" in result.stderr
    assert ".venv/bin/postcoach review draft.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": "mysql://x/y"}
    result = run_cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("postcoach: DATABASE_URL: ")


def test_help_lists_subcommands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0
    for name in ("run", "review", "migrate"):
        assert name in result.stdout
