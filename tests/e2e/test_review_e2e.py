"""Draft review through the real process: in chat over HTTP, and on the command line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.e2e.conftest import POSTCOACH, BotProcess, base_env, run_cli, start_bot
from tests.fakebot import FakeBotServer, callback, inline_buttons, make_user, private_text

DRAFT = (
    "Last month our team cut a client's cloud bill by 40% by moving batch jobs to spot "
    "instances.\nI think most small firms overpay for idle servers.\n"
    "How do you keep your infrastructure costs in check?"
)
CLI_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def test_draft_review_and_platform_button_over_http(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    john = make_user(601, "John", language_code="en")
    mark = telegram.mark()
    telegram.push_update(private_text(john, DRAFT))
    [reply] = telegram.wait_for("sendMessage", timeout=30, since=mark)
    assert reply.ok, reply.description
    assert re.search(r"\b\d{1,3}/100\b", reply.text or "")
    assert "draft in English" in (reply.text or "")
    buttons = dict(
        (data.split(":")[0] + ":" + data.split(":")[-1], data)
        for _, data in inline_buttons(reply.result)
    )
    mark = telegram.mark()
    telegram.push_update(callback(john, reply.result, buttons["review.platform:x"]))
    [edit] = telegram.wait_for("editMessageText", timeout=30, since=mark)
    assert edit.ok, edit.description
    assert "· X ·" in (edit.text or "")


def test_cli_review_json_for_x(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    result = run_cli("review", "--json", "--platform", "x", str(draft), cwd=tmp_path, env=CLI_ENV)
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    assert set(review) == {"language", "platform", "score", "items", "top_fixes"}
    assert review["platform"] == "x"
    assert review["language"] == "en"
    assert 0 <= review["score"] <= 100
    assert len(review["items"]) == 11
    assert set(review["items"][0]) == {"id", "status", "reason", "suggestion", "source"}


def test_cli_review_reads_standard_input_in_english(tmp_path: Path) -> None:
    result = run_cli("review", "--lang", "en", "-", cwd=tmp_path, env=CLI_ENV, stdin=DRAFT)
    assert result.returncode == 0, result.stderr
    assert "/100" in result.stdout
    assert "draft in English" in result.stdout


def test_cli_review_answers_in_the_drafts_language_without_lang(tmp_path: Path) -> None:
    english = tmp_path / "english.txt"
    english.write_text(DRAFT, encoding="utf-8")
    italian = tmp_path / "italiano.txt"
    italian.write_text(
        "Il mese scorso abbiamo rifatto il tetto di una scuola a Cuneo: 600 m² in tre "
        "settimane, senza chiudere le aule. Voi come organizzate i cantieri nelle scuole?",
        encoding="utf-8",
    )
    result = run_cli("review", str(english), str(italian), cwd=tmp_path, env=CLI_ENV)
    assert result.returncode == 0, result.stderr
    english_part, italian_part = result.stdout.split(f"=== {italian}")
    assert "draft in English" in english_part
    assert "Bozza" not in english_part
    assert "bozza in italiano" in italian_part


def test_cli_rejects_bad_files_with_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    huge = tmp_path / "huge.txt"
    huge.write_text("parola " * 15_000, encoding="utf-8")
    for path, words in (
        (empty, "vuoto"),
        (binary, "testo"),
        (huge, "100000"),
        (tmp_path / "nope", "nope non esiste"),
        (tmp_path, "è una cartella"),
    ):
        result = run_cli("review", str(path), cwd=tmp_path, env=CLI_ENV)
        assert result.returncode == 2, path
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert words in lines[0]
        assert result.stdout == ""


def test_cli_says_why_in_the_terminals_language(tmp_path: Path) -> None:
    english = {**CLI_ENV, "LANG": "en_GB.UTF-8"}
    result = run_cli("review", "missing.txt", cwd=tmp_path, env=english)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "postcoach: missing.txt does not exist: check the name and the folder you run the "
        "command from."
    )


def test_cli_output_cut_short_by_a_pipe_ends_quietly(tmp_path: Path) -> None:
    """`postcoach review --json *.txt | head -c 20`: the reader goes away early."""
    files = []
    for n in range(40):
        (tmp_path / f"d{n:02d}.txt").write_text(DRAFT, encoding="utf-8")
        files.append(f"d{n:02d}.txt")
    process = subprocess.Popen(
        [POSTCOACH, "review", "--json", *files],
        cwd=tmp_path,
        env=CLI_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    head = process.stdout.read(20)
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert head.startswith(b"[")
    assert errors == ""


def test_cli_rejects_unknown_platform(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    result = run_cli("review", "--platform", "myspace", str(draft), cwd=tmp_path, env=CLI_ENV)
    assert result.returncode == 2
    assert "myspace" in result.stderr
