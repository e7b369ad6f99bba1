"""The `postcoach` command line: run the bot, review a draft, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.settings import LANGUAGES, Settings, SettingsError, load_settings
from bot.texts.catalog import Texts, load_texts
from bot.texts.schema import TextsError

if TYPE_CHECKING:
    from bot.app import CoachApplication
    from bot.coach import Checklist

logger = logging.getLogger("bot.main")

EXIT_USAGE = 2
# The bot stopped itself (a fatal storage fault): the restart policy should start it again.
EXIT_FAULT = 1
# Between tries of a database that does not answer at start: doubling, up to this.
DATABASE_RETRY_MAX_SECONDS = 10.0


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


def _migrate(settings: Settings) -> bool:
    """Apply the migrations, trying a database that does not answer again for up to
    DATABASE_WAIT_SECONDS, one line a try; False, after one line saying why, if it never does."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from storage.migrate import upgrade

    unreachable: tuple[type[Exception], ...] = (OSError, OperationalError, InterfaceError)
    with contextlib.suppress(ImportError):
        from asyncpg.exceptions import (  # type: ignore[import-untyped]
            CannotConnectNowError,
            TooManyConnectionsError,
        )

        # PostgreSQL starting up, or full for now: it will answer.
        unreachable = (*unreachable, CannotConnectNowError, TooManyConnectionsError)
    deadline = time.monotonic() + settings.database_wait_seconds
    delay = 1.0
    while True:
        try:
            upgrade(settings.database_url)
        except unreachable as exc:
            # The URL carries the password: the reason is the error's class and first line.
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            left = deadline - time.monotonic()
            if left <= 0:
                logger.error(
                    "The database does not answer after %.0f s (%s); giving up",
                    settings.database_wait_seconds,
                    reason,
                )
                return False
            delay = min(delay, left)
            logger.warning(
                "The database does not answer (%s); trying again in %.0f s", reason, delay
            )
            time.sleep(delay)
            delay = min(delay * 2, DATABASE_RETRY_MAX_SECONDS)
            continue
        return True


def _bind_health(settings: Settings) -> socket.socket | None:
    """The health port's socket when HEALTH_PORT is set, bound before anything else."""
    from bot.transport.webhook import WebhookError, bind

    if settings.health_port is None:
        return None
    try:
        return bind(settings.health_listen, settings.health_port)
    except WebhookError as exc:
        raise StartupError(f"HEALTH_PORT: {exc}") from None


def _serve_health(application: CoachApplication, sock: socket.socket) -> None:
    """Run /healthz and /metrics on their own port while polling runs."""
    from bot.transport.webhook import HealthServer

    bot_data = application.bot_data
    server = HealthServer(
        sock, bot_data["engine"], bot_data.get("database_file"), bot_data["storage_watch"]
    )
    on_startup = application.post_init

    async def post_init(app: CoachApplication) -> None:
        if on_startup is not None:
            await on_startup(app)
        await server.start()

    async def post_stop(_: CoachApplication) -> None:
        await server.stop()

    application.post_init = post_init
    application.post_stop = post_stop


def _run_polling(settings: Settings, texts: Texts) -> int:
    """Migrate, then long-poll until SIGTERM or SIGINT."""
    from telegram import Update

    from bot.app import build_application, settle_heap

    health_sock = _bind_health(settings)
    with health_sock or contextlib.nullcontext():
        if not _telegram_accepts_the_token(settings, texts):
            return EXIT_USAGE
        if not _migrate(settings):
            return EXIT_USAGE
        application = build_application(settings, texts=texts, checklist=_checklist(settings))
        if health_sock is not None:
            _serve_health(application, health_sock)
        settle_heap()
        # PTB stops on SIGTERM/SIGINT: polling ends, queued updates, jobs and sends finish.
        application.run_polling(
            allowed_updates=Update.ALL_TYPES,
            timeout=settings.polling_timeout,
            close_loop=False,
            # Telegram answered a moment ago; should it fail again, keep trying.
            bootstrap_retries=-1,
        )
    return EXIT_FAULT if application.bot_data["storage_watch"].fatal else 0


def _run_webhook(settings: Settings, texts: Texts, url: str, secret: str) -> int:
    """Listen, migrate, then serve the webhook until SIGTERM or SIGINT."""
    from bot.transport.webhook import HealthServer, WebhookError, bind, serve

    try:
        # Bound before the database and the bot, so a port already taken fails at once.
        sock = bind(settings.webhook_listen, settings.webhook_port)
    except WebhookError as exc:
        raise StartupError(f"WEBHOOK_PORT: {exc}") from None
    from bot.app import build_application, build_webhook_app, settle_heap

    with sock, _bind_health(settings) or contextlib.nullcontext() as health_sock:
        if not _telegram_accepts_the_token(settings, texts):
            return EXIT_USAGE
        if not _migrate(settings):
            return EXIT_USAGE
        application = build_application(settings, texts=texts, checklist=_checklist(settings))
        web_app = build_webhook_app(application, settings)
        health = None
        if health_sock is not None:
            health = HealthServer(
                health_sock,
                application.bot_data["engine"],
                application.bot_data.get("database_file"),
                application.bot_data["storage_watch"],
            )
        settle_heap()
        serving = serve(
            application,
            web_app,
            sock,
            url=url,
            secret=secret,
            access_log=settings.log_level == "DEBUG",
            health=health,
        )
        try:
            asyncio.run(serving)
        except WebhookError as exc:
            print(f"postcoach: {exc}", file=sys.stderr)
            return 1
    return EXIT_FAULT if application.bot_data["storage_watch"].fatal else 0


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
    from bot.reviews.cli import console_language
    from bot.transport.health import check_health

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
    from bot.reviews.cli import review_file

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
