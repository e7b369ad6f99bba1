"""A user's whole story through the real process: onboarding across a crash, a review,
"I posted it", the results question, /stats with its picture, /export and /delete."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.buttons import button
from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.e2e.sql import LONG_AGO, run_sql
from tests.fakebot import FakeBotServer, callback, command, make_user, private_text
from tests.fakebot.core import ApiCall, JsonDict

TIMEOUT = 30.0
DRAFT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena.\n"
    "Secondo me conviene più di quanto si pensi. Voi che ne pensate?"
)


def _send(
    server: FakeBotServer, update: dict[str, object], method: str = "sendMessage", count: int = 1
) -> list[ApiCall]:
    telegram = server.telegram
    mark = telegram.mark()
    telegram.push_update(update)
    calls = telegram.wait_for(method, timeout=TIMEOUT, since=mark, count=count)
    assert all(call.ok for call in calls), [call.description for call in calls]
    return calls


def _skip(server: FakeBotServer, user: JsonDict) -> ApiCall:
    """/skip, then the next question (the one with buttons) or the closing message."""
    telegram = server.telegram
    mark = telegram.mark()
    telegram.push_update(command(user, "/skip"))
    [question] = telegram.wait_for(
        "sendMessage",
        lambda c: (
            "inline_keyboard" in str(c.params.get("reply_markup"))
            or "profilo è pronto" in (c.text or "")
        ),
        timeout=TIMEOUT,
        since=mark,
    )
    return question


def test_a_users_story(fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path) -> None:
    env = base_env(fake_api, tmp_path, SCHEDULER_TICK_SECONDS="0.5")
    anna = make_user(801, "Anna", language_code="it")

    first = start_bot(bots, tmp_path, env, "first", server=fake_api)
    *_, question = _send(fake_api, command(anna, "/start"), count=3)
    assert "lingua" in (question.text or "")
    [question] = _send(fake_api, callback(anna, question.result, "profile.set:language:it"))
    assert "lavoro" in (question.text or "")
    [question] = _send(fake_api, private_text(anna, "Ingegnera energetica"))
    assert "temi" in (question.text or "")

    # A crash in the middle of onboarding: nothing is lost.
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    start_bot(bots, tmp_path, env, "second", server=fake_api)
    resume, question = _send(fake_api, command(anna, "/start"), count=2)
    assert "Riprendiamo" in (resume.text or "")
    assert "temi" in (question.text or "")
    understood, question = _send(
        fake_api, private_text(anna, "efficienza energetica, scuole"), count=2
    )
    assert "«efficienza energetica»: per esempio" in (understood.text or "")
    for _ in range(6):
        question = _skip(fake_api, anna)
    assert "profilo è pronto" in (question.text or "")

    [review] = _send(fake_api, private_text(anna, DRAFT))
    assert "/100" in (review.text or "")
    [confirmation] = _send(
        fake_api, callback(anna, review.result, button(review.result, "review.posted:"))
    )
    assert "Registrato" in (confirmation.text or "")
    _send(fake_api, command(anna, "/skip"))

    # Time moves forward: the post's results are now due.
    run_sql(env["DATABASE_URL"], "UPDATE posts SET results_due_at = :t", {"t": LONG_AGO})
    [results] = fake_api.telegram.wait_for(
        "sendMessage", lambda c: "reazioni" in (c.text or ""), timeout=TIMEOUT
    )
    [question] = _send(
        fake_api,
        callback(
            anna, results.result, button(results.result, "results.set:").rsplit(":", 1)[0] + ":25"
        ),
    )
    assert "commenti" in (question.text or "")
    _send(fake_api, private_text(anna, "3 1"))
    [thanks] = _send(fake_api, private_text(anna, "no"))
    assert "/stats" in (thanks.text or "")

    [photo] = _send(fake_api, command(anna, "/stats"), method="sendPhoto")
    stats_text = fake_api.telegram.sent_messages(801)[-2].plain_text or ""
    assert "25 reazioni" in stats_text
    [sent_photo] = [m for m in fake_api.telegram.sent_messages(801) if m.method == "sendPhoto"]
    assert sent_photo.content is not None
    assert sent_photo.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert photo.ok

    [document] = _send(fake_api, command(anna, "/export"), method="sendDocument")
    [sent_document] = [
        m for m in fake_api.telegram.sent_messages(801) if m.method == "sendDocument"
    ]
    assert sent_document.content is not None
    exported = json.loads(sent_document.content)
    assert "Ingegnera energetica" in json.dumps(exported, ensure_ascii=False)
    assert document.ok

    [confirm] = _send(fake_api, command(anna, "/delete"))
    _send(fake_api, callback(anna, confirm.result, "privacy.delete:yes"), method="editMessageText")
    for table in ("users", "profiles", "drafts", "reviews", "posts", "post_results"):
        column = "id" if table == "users" else "user_id"
        [(count,)] = run_sql(
            env["DATABASE_URL"],
            f"SELECT COUNT(*) FROM {table} WHERE {column} = 801",  # noqa: S608
        )
        assert count == 0, table
