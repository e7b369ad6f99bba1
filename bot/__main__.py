"""The `postcoach` command line: run the bot, review a draft, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.settings import LANGUAGES, Settings, SettingsError, load_settings
from bot.texts import Texts, TextsError, load_texts

if TYPE_CHECKING:
    from bot.coach import Checklist

EXIT_USAGE = 2


class StartupError(Exception):
    """Something the process needs at start is invalid (e.g. a checklist file)."""


def _fail(message: str) -> int:
    print(f"postcoach: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load() -> tuple[Settings, Texts]:
    settings = load_settings()
    return settings, load_texts(settings.default_language)


def _checklist(settings: Settings) -> Checklist:
    from bot.coach import ChecklistError, load_checklist

    try:
        return load_checklist(model_cache=settings.cache_dir)
    except ChecklistError as exc:
        raise StartupError(str(exc)) from None


def run(_: argparse.Namespace) -> int:
    """Start the bot: long polling, or a webhook server when WEBHOOK_URL is set."""
    from bot.logs import configure_logging
    from bot.runtime import use_fast_event_loop

    settings, texts = _load()
    if settings.token is None:
        # Whoever reads this may not have chosen a language yet: say it in both.
        others = [lang for lang in LANGUAGES if lang != settings.default_language]
        for lang in (settings.default_language, *others):
            print(texts.plain(lang, "cli.no_token") + "\n", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level_number, settings.secrets, settings.log_format)
    use_fast_event_loop()
    from telegram.error import InvalidToken

    url, secret = settings.webhook_url, settings.webhook_secret_value
    try:
        if url is not None and secret is not None:  # the settings never have one without the other
            return _run_webhook(settings, texts, url, secret)
        return _run_polling(settings, texts)
    except InvalidToken:
        # Refused after the start-up check let it through (revoked in between): PTB's error
        # names the token, so it must not reach the default excepthook.
        _say_token_rejected(settings, texts)
        return EXIT_USAGE


def _telegram_accepts_the_token(settings: Settings, texts: Texts) -> bool:
    """Wait until Telegram answers (an outage is logged one line per retry); False, after
    one clear line in each language, when it refuses the token (no traceback)."""
    from bot.transport.outage import wait_for_telegram

    token = settings.token
    assert token is not None  # checked by run()
    if asyncio.run(wait_for_telegram(token, settings.telegram_base_url)):
        return True
    _say_token_rejected(settings, texts)
    return False


def _say_token_rejected(settings: Settings, texts: Texts) -> None:
    """One line in each language, the default first: Telegram refuses the token."""
    others = [lang for lang in LANGUAGES if lang != settings.default_language]
    for lang in (settings.default_language, *others):
        print("postcoach: " + texts.plain(lang, "cli.token_rejected"), file=sys.stderr)


def _run_polling(settings: Settings, texts: Texts) -> int:
    """Migrate, then long-poll until SIGTERM or SIGINT."""
    from telegram import Update

    from bot.app import build_application, settle_heap
    from storage.migrate import upgrade

    if not _telegram_accepts_the_token(settings, texts):
        return EXIT_USAGE
    upgrade(settings.database_url)
    application = build_application(settings, texts=texts, checklist=_checklist(settings))
    settle_heap()
    # PTB stops on SIGTERM/SIGINT: polling ends, queued updates, jobs and sends finish.
    application.run_polling(
        allowed_updates=Update.ALL_TYPES,
        timeout=settings.polling_timeout,
        close_loop=False,
        # Telegram answered a moment ago; should it fail again, keep trying.
        bootstrap_retries=-1,
    )
    return 0


def _run_webhook(settings: Settings, texts: Texts, url: str, secret: str) -> int:
    """Listen, migrate, then serve the webhook until SIGTERM or SIGINT."""
    from bot.webhook import WebhookError, bind, serve

    try:
        # Bound before the database and the bot, so a port already taken fails at once.
        sock = bind(settings.webhook_listen, settings.webhook_port)
    except WebhookError as exc:
        raise StartupError(f"WEBHOOK_PORT: {exc}") from None
    from bot.app import build_application, build_webhook_app, settle_heap
    from storage.migrate import upgrade

    with sock:
        if not _telegram_accepts_the_token(settings, texts):
            return EXIT_USAGE
        upgrade(settings.database_url)
        application = build_application(settings, texts=texts, checklist=_checklist(settings))
        web_app = build_webhook_app(application, settings)
        settle_heap()
        serving = serve(
            application,
            web_app,
            sock,
            url=url,
            secret=secret,
            access_log=settings.log_level == "DEBUG",
        )
        try:
            asyncio.run(serving)
        except WebhookError as exc:
            print(f"postcoach: {exc}", file=sys.stderr)
            return 1
    return 0


def migrate(args: argparse.Namespace) -> int:
    """Apply (or revert to) a database migration."""
    from storage.migrate import downgrade, upgrade

    settings = load_settings()
    if args.downgrade:
        downgrade(settings.database_url, args.revision)
    else:
        upgrade(settings.database_url, args.revision)
    return 0


def health(_: argparse.Namespace) -> int:
    """Say whether the bot configured here is alive (exit 0) or not (exit 1)."""
    from bot.cli_review import console_language
    from bot.health import check_health

    settings, texts = _load()
    report = check_health(settings)
    line = texts.plain(
        console_language(settings.default_language), f"cli.{report.reason}", **report.values
    )
    if report.healthy:
        print(f"postcoach: {line}")
        return 0
    print(f"postcoach: {line}", file=sys.stderr)
    return 1


def review(args: argparse.Namespace) -> int:
    """Review draft files against the checklist, without Telegram."""
    from bot.cli_review import review_file

    settings, texts = _load()
    return review_file(args, settings, texts, _checklist(settings))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="postcoach",
        description="postcoach: a Telegram coach for professionals who post on social networks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_parser = commands.add_parser(
        "run", help="start the Telegram bot (long polling, or a webhook if WEBHOOK_URL is set)"
    )
    run_parser.set_defaults(handler=run)

    review_parser = commands.add_parser(
        "review", help="review a draft against the checklist, without Telegram"
    )
    review_parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="the drafts (text files, - for stdin), reviewed in one process",
    )
    output = review_parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help="print the review as JSON (an array with a file name each, for several files)",
    )
    output.add_argument(
        "--jsonl",
        action="store_true",
        help="print one JSON object per line per draft, with its file name",
    )
    review_parser.add_argument(
        "--platform",
        choices=("linkedin", "x", "instagram", "facebook", "threads"),
        default=None,
        help="the platform to check against (default: linkedin)",
    )
    review_parser.add_argument(
        "--lang", choices=("it", "en"), default=None, help="language of the review's texts"
    )
    review_parser.set_defaults(handler=review)

    health_parser = commands.add_parser(
        "health",
        help="exit 0 if the running bot answers (webhook: /healthz; polling: HEARTBEAT_FILE)",
    )
    health_parser.set_defaults(handler=health)

    migrate_parser = commands.add_parser("migrate", help="apply the database migrations")
    migrate_parser.add_argument("revision", nargs="?", default="head", help="target (head)")
    migrate_parser.add_argument(
        "--downgrade", action="store_true", help="revert down to REVISION instead"
    )
    migrate_parser.set_defaults(handler=migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (SettingsError, TextsError, StartupError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`postcoach review *.txt | head`): stop quietly.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces the closed pipe
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
