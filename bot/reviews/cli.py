"""`postcoach review FILE [FILE ...]`: the checklist on the command line, as text, JSON or
JSON lines (one object per draft, for reviewing a whole corpus in one process)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bot.coach import Checklist, Review
from bot.settings import LANGUAGES, Settings
from bot.texts.catalog import Texts

MAX_CHARS = 100_000
# UTF-8 needs at most four bytes a character; reading one byte more tells "too long".
MAX_BYTES = MAX_CHARS * 4 + 1
EXIT_BAD_INPUT = 2


class DraftFileError(Exception):
    """The draft cannot be read; `reason` names the cli text to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_draft(name: str) -> str:
    """The draft's text from a file (or `-` for standard input), checked and bounded."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_BYTES)
        else:
            with Path(name).open("rb") as handle:
                data = handle.read(MAX_BYTES)
    except FileNotFoundError:
        raise DraftFileError("missing_file") from None
    except IsADirectoryError:
        raise DraftFileError("directory_file") from None
    except PermissionError:
        raise DraftFileError("denied_file") from None
    except OSError:
        raise DraftFileError("unreadable_file") from None
    if b"\x00" in data:
        raise DraftFileError("binary_file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DraftFileError("binary_file") from None
    if len(text) > MAX_CHARS:
        raise DraftFileError("too_long_file")
    if not text.strip():
        raise DraftFileError("empty_file")
    return text


def format_review(review: Review, texts: Texts, lang: str) -> str:
    """The review as plain text for a terminal."""
    lines = [
        texts.plain(
            lang,
            "cli.review_header",
            score=review.score,
            platform=texts.raw(lang, f"platforms.{review.platform}"),
            language=texts.raw(lang, f"languages.{review.language}"),
        ),
        "",
    ]
    for item in review.items:
        lines.append(
            texts.plain(
                lang,
                "cli.review_item",
                status=texts.raw(lang, f"statuses.{item.status}"),
                item=texts.raw(lang, f"items.{item.id}"),
                reason=item.reason,
            )
        )
        if item.status in ("fail", "warn"):
            lines.append(
                texts.plain(
                    lang,
                    "cli.review_suggestion",
                    suggestion=item.suggestion,
                    source=texts.source(lang, item.source),
                )
            )
    if review.top_fixes:
        names = ", ".join(texts.raw(lang, f"items.{item_id}") for item_id in review.top_fixes)
        lines += ["", texts.plain(lang, "cli.review_top_fixes", items=names)]
    return "\n".join(lines)


def console_language(default: str) -> str:
    """The language of the terminal (LC_ALL, LC_MESSAGES, LANG) if postcoach speaks it."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            return code if code in LANGUAGES else default
    return default


def _error(texts: Texts, lang: str, name: str, error: DraftFileError) -> str:
    return texts.plain(lang, f"cli.{error.reason}", file=name, limit=MAX_CHARS)


def review_file(
    args: argparse.Namespace, settings: Settings, texts: Texts, checklist: Checklist
) -> int:
    """Run the review subcommand; 0 on success, 2 if any file could not be reviewed.

    Every file is reviewed even when one fails: its error goes to stderr (and, with
    --jsonl, on its own line as {"file", "error"}), the others are printed. Without
    --lang, each review answers in its draft's language."""
    # What is not about one draft (a file that cannot be read) follows the terminal's language.
    lang = args.lang or console_language(settings.default_language)
    platform = args.platform or "linkedin"
    names: list[str] = args.files
    several = len(names) > 1
    failed = False
    documents: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        try:
            text = read_draft(name)
        except DraftFileError as error:
            failed = True
            message = _error(texts, lang, name, error)
            print(f"postcoach: {message}", file=sys.stderr)
            if args.jsonl:
                print(json.dumps({"file": name, "error": message}, ensure_ascii=False))
            continue
        detected = checklist.detect_language(text)
        reply = args.lang or detected
        review = checklist.review(
            text, platform=platform, reply_language=reply, draft_language=detected
        )
        if args.jsonl:
            print(json.dumps({"file": name, **review.to_dict()}, ensure_ascii=False), flush=True)
        elif args.json:
            documents.append({"file": name, **review.to_dict()} if several else review.to_dict())
        else:
            if several:
                print(("\n" if index else "") + texts.plain(reply, "cli.review_file", file=name))
            print(format_review(review, texts, reply))
    if args.json and documents:
        shown: Any = documents if several else documents[0]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    return EXIT_BAD_INPUT if failed else 0
