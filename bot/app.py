"""Composition root: builds the engine, the services and the Application. Nothing else does."""

from __future__ import annotations

import gc
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot import handlers
from bot.accounts.service import AccountService
from bot.coach import Checklist, load_checklist
from bot.context import CoachContext, Services
from bot.groups.service import GroupService
from bot.history.service import HistoryService
from bot.localtime.defaults import Clock
from bot.nudges.service import NudgeService
from bot.posts.service import PostService
from bot.privacy.service import PrivacyService
from bot.profiles.service import ProfileService
from bot.results.service import ResultsService
from bot.reviews.service import ReviewService
from bot.rewrite.client import ChatClient
from bot.rewrite.prompt import load_prompts
from bot.rewrite.service import RewriteService
from bot.settings import LANGUAGES, Settings
from bot.stats import StatsService
from bot.texts.catalog import Texts, load_texts
from bot.tick import send_due_work
from bot.transport.health import (
    BEAT_SECONDS,
    WATCH_SECONDS,
    DatabaseFile,
    StorageWatch,
    heartbeat,
    watch_storage,
    while_storage_holds,
)
from bot.transport.intake import CleanUpdates, RefusalWaits
from bot.transport.metrics import MeasuredRateLimiter, MeasuredUpdateProcessor
from bot.transport.outage import PatientRequest, Watched
from bot.transport.pacing import ChatPacer
from bot.transport.processing import PerChatUpdateProcessor
from bot.transport.sending import SkipUnreadAnswers
from storage.database import create_engine, create_session_factory
from storage.models import utcnow
from storage.uow import UnitOfWorkFactory, unit_of_work_factory

if TYPE_CHECKING:
    from starlette.applications import Starlette

logger = logging.getLogger(__name__)

CoachApplication = Application[Any, CoachContext, Any, Any, Any, Any]

# Commands shown in Telegram's menu, in this order; descriptions come from prompts/.
MENU_COMMANDS = (
    "start",
    "review",
    "posted",
    "stats",
    "history",
    "profile",
    "settings",
    "language",
    "privacy",
    "pause",
    "resume",
    "cancel",
    "help",
)
# The menu in groups: what members and admins can do there.
GROUP_MENU_COMMANDS = (
    "review",
    "leaderboard",
    "optout",
    "optin",
    "groupsettings",
    "theme",
    "help",
)
# Updates handled concurrently across chats (one chat's updates stay in order).
CONCURRENT_UPDATES = 64
# Connections to the Bot API. httpcore looks at every pooled connection (a system call
# each) whenever a request starts or ends, so PTB's 256 cost more than they bring: the
# rate limiter lets ~30 messages a second out, which a few connections carry. A send that
# finds them all busy waits for one, up to POOL_TIMEOUT seconds.
CONNECTION_POOL = 16
POOL_TIMEOUT = 10.0


def build_application(
    settings: Settings,
    *,
    texts: Texts | None = None,
    checklist: Checklist | None = None,
    clock: Clock = utcnow,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> CoachApplication:
    """Wire settings, database, services and handlers into a PTB Application."""
    token = settings.token
    if token is None:
        raise ValueError("BOT_TOKEN is required to build the application")
    texts = texts or load_texts(settings.default_language)
    engine = create_engine(settings.database_url, inline=settings.sqlite_inline_driver)
    uow = unit_of_work_factory(create_session_factory(engine))
    checklist = checklist or load_checklist(model_cache=settings.cache_dir)
    # One lease for every scheduled send's claims (bot/claims.py).
    lease = timedelta(seconds=settings.nudge_lease_seconds)
    services = Services(
        settings=settings,
        texts=texts,
        accounts=AccountService(uow, texts),
        reviews=ReviewService(uow, checklist, clock, settings.drafts_per_minute),
        profiles=ProfileService(uow, checklist),
        posts=PostService(uow, clock),
        results=ResultsService(uow, clock, lease),
        stats=StatsService(uow),
        history=HistoryService(uow),
        privacy=PrivacyService(uow),
        nudges=NudgeService(
            uow,
            clock,
            timedelta(minutes=settings.nudge_grace_minutes),
            lease,
            timedelta(hours=settings.first_reminder_delay_hours),
        ),
        pacer=ChatPacer(),
        groups=GroupService(uow, clock, lease=timedelta(seconds=settings.nudge_lease_seconds)),
        clock=clock,
        rewrites=build_rewrite_service(settings, uow, checklist, texts, clock),
    )

    async def on_startup(application: CoachApplication) -> None:
        await register_commands(application, texts)
        if application.job_queue is not None:
            # A job scheduled before the JobQueue starts cannot run at once (APScheduler
            # moves a start already past by a whole interval, as PTB's docs warn): the
            # heartbeat file appeared only BEAT_SECONDS after start. Beat now, as PTB advises.
            for job in application.job_queue.get_jobs_by_name("heartbeat"):
                await job.run(application)
        me = application.bot
        logger.info("postcoach started as @%s", me.username)

    async def on_shutdown(_: CoachApplication) -> None:
        if services.rewrites is not None:
            await services.rewrites.aclose()
        await engine.dispose()

    processor = PerChatUpdateProcessor(CONCURRENT_UPDATES)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=CoachContext))
        # Both measured: see bot/transport/metrics.py for how update-to-reply latency is taken.
        .rate_limiter(
            MeasuredRateLimiter(
                settings.telegram_max_rate,
                max_retries=3,
                chat_rate=settings.telegram_chat_rate or None,
            )
        )
        .concurrent_updates(MeasuredUpdateProcessor(processor))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
    )
    if request is None:
        request = HTTPXRequest(
            connection_pool_size=CONNECTION_POOL,
            pool_timeout=POOL_TIMEOUT,
            read_timeout=settings.telegram_read_timeout,
        )
    # Outermost, so it sees every call's outcome (bot/transport/outage.py).
    builder = builder.request(Watched(SkipUnreadAnswers(request)))
    # While Telegram is unreachable, polling waits and asks again by itself: PTB's loop
    # never sees the error, nor does the error handler.
    # Lone surrogates in what users wrote are replaced before PTB reads them, and a refused
    # token is waited out instead of ending polling for good (bot/transport/intake.py).
    polling = RefusalWaits(CleanUpdates(get_updates_request or HTTPXRequest()))
    builder = builder.get_updates_request(PatientRequest(polling))
    application: CoachApplication = builder.build()
    # Once it stops, updates still waiting for their chat's turn are dropped.
    processor.follow(application)
    application.bot_data["services"] = services
    application.bot_data["engine"] = engine

    def stop() -> None:
        # Webhook mode serves without PTB's runner and leaves its own way to stop in bot_data.
        application.bot_data.get("stop", application.stop_running)()

    # Every check reports here (bot/transport/health.py); a fatal fault stops the bot through it.
    application.bot_data["storage_watch"] = StorageWatch(stop)
    handlers.register(application)
    job_queue = application.job_queue
    if job_queue is not None and settings.scheduler_tick_seconds > 0:
        # While the database cannot keep what is sent, nothing is claimed or sent.
        job_queue.run_repeating(
            while_storage_holds(send_due_work),
            interval=settings.scheduler_tick_seconds,
            first=1,
            name="tick",
        )
    sqlite_path = settings.sqlite_path
    # Taken now, so that a file deleted or replaced under the process shows later.
    application.bot_data["database_file"] = (
        DatabaseFile.of(sqlite_path) if sqlite_path is not None and sqlite_path.exists() else None
    )
    if job_queue is not None:
        job_queue.run_repeating(
            watch_storage, interval=WATCH_SECONDS, first=WATCH_SECONDS, name="storage"
        )
    if job_queue is not None and settings.heartbeat_file is not None:
        # Webhook mode has /healthz; the file is what shows a polling bot alive.
        application.bot_data["heartbeat_file"] = settings.heartbeat_file
        # The first beat is on_startup's.
        job_queue.run_repeating(heartbeat, interval=BEAT_SECONDS, name="heartbeat")
    return application


def settle_heap() -> None:
    """Call once the application is built: start-up garbage is collected, and what remains
    (checklist, language model, time zones, texts, ...) lives as long as the process, so
    it is moved out of the collector's sight. A full collection then takes milliseconds
    instead of the ~100 ms that stalled every send in flight (benchmarks/nudge_dispatch).
    """
    gc.collect()
    gc.freeze()


def build_webhook_app(application: CoachApplication, settings: Settings) -> Starlette:
    """The webhook server's app (webhook route, /healthz, /metrics) for a built Application."""
    # Imported here, as bot/__main__.py does: a polling bot never loads starlette or uvicorn.
    from bot.transport.webhook import UpdateLedger, create_app

    secret = settings.webhook_secret_value
    if secret is None:
        raise ValueError("WEBHOOK_SECRET is required to build the webhook app")
    engine = application.bot_data["engine"]
    return create_app(
        application,
        path=settings.webhook_path,
        secret=secret,
        ledger=UpdateLedger(engine),
        engine=engine,
        # With a health port of their own, /healthz and /metrics leave the public server.
        health=settings.health_port is None,
        database=application.bot_data.get("database_file"),
        watch=application.bot_data["storage_watch"],
    )


async def register_commands(application: CoachApplication, texts: Texts) -> None:
    """Set the command menus (private chats and groups) and what the empty chat says about
    the bot, in every language and by default."""
    bot = application.bot
    for lang in (None, *LANGUAGES):
        text_lang = lang or texts.default
        await bot.set_my_description(
            texts.plain(text_lang, "about.description"), language_code=lang
        )
        await bot.set_my_short_description(
            texts.plain(text_lang, "about.short_description"), language_code=lang
        )
        for names, scope in (
            (MENU_COMMANDS, None),
            (GROUP_MENU_COMMANDS, BotCommandScopeAllGroupChats()),
        ):
            commands = [
                BotCommand(name, texts.plain(text_lang, f"commands.{name}")) for name in names
            ]
            await bot.set_my_commands(commands, scope=scope, language_code=lang)


def build_rewrite_service(
    settings: Settings,
    uow: UnitOfWorkFactory,
    checklist: Checklist,
    texts: Texts,
    clock: Clock = utcnow,
) -> RewriteService | None:
    """The rewrite service if a language model is configured; else None (no user hears of it)."""
    if settings.llm_base_url is None or settings.llm_model is None:
        return None
    client = ChatClient(
        settings.llm_base_url,
        settings.llm_model,
        api_key=settings.llm_api_key_value,
        timeout_seconds=settings.llm_timeout_seconds,
    )
    return RewriteService(
        uow,
        checklist,
        client,
        load_prompts(),
        texts,
        daily_limit=settings.llm_daily_limit,
        clock=clock,
    )
