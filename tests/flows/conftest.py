"""The in-process bot: a real Application, a real database, a recording request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Update

from bot.app import CoachApplication, build_application
from bot.context import CoachContext
from bot.settings import Settings
from bot.texts.catalog import Texts
from bot.tick import send_due_work
from storage.database import create_session_factory
from storage.migrate import upgrade_engine
from tests.fakebot import DEFAULT_TOKEN, FakeTelegram, RecordingRequest, SentMessage, callback
from tests.fakebot.core import ApiCall

JsonDict = dict[str, Any]


class FakeClock:
    """A clock the test moves by hand: time never passes by itself."""

    def __init__(self, start: datetime = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self.now += delta


@dataclass
class Bot:
    """The bot under test, with the fake Telegram it talks to."""

    application: CoachApplication
    telegram: FakeTelegram
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock

    async def tick(self) -> list[SentMessage]:
        """Run the scheduler's tick once, now; return the messages it sent."""
        before = len(self.telegram.sent_messages())
        await send_due_work(CoachContext(self.application))
        return self.telegram.sent_messages()[before:]

    async def send(self, update: JsonDict) -> list[ApiCall]:
        """Deliver an update as Telegram would; return the Bot API calls it caused."""
        mark = self.telegram.mark()
        observed = self.telegram.observe(update)
        await self.application.process_update(Update.de_json(observed, self.application.bot))
        return self.telegram.calls()[mark:]

    async def burst(self, updates: list[JsonDict]) -> None:
        """Deliver updates at once through the app's update processor, as polling does."""
        processor = self.application.update_processor
        tasks = []
        for update in updates:
            parsed = Update.de_json(self.telegram.observe(update), self.application.bot)
            tasks.append(
                asyncio.create_task(
                    processor.process_update(parsed, self.application.process_update(parsed))
                )
            )
        await asyncio.gather(*tasks)

    async def replies(self, update: JsonDict) -> list[SentMessage]:
        """Deliver an update; return the messages the bot sent because of it."""
        before = len(self.telegram.sent_messages())
        await self.send(update)
        return self.telegram.sent_messages()[before:]

    async def press(self, user: JsonDict, message: JsonDict, data: str) -> list[ApiCall]:
        """The user presses a button with this data under a message the bot sent."""
        return await self.send(callback(user, message, data))


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test bot (no environment, no .env)."""
    values: dict[str, Any] = {
        "bot_token": DEFAULT_TOKEN,
        "database_url": database_url,
        "telegram_base_url": "http://127.0.0.1:9/bot",
        "telegram_base_file_url": "http://127.0.0.1:9/file/bot",
        # Tests run the tick themselves, with a clock they control.
        "scheduler_tick_seconds": 0,
        # tests/unit/test_health.py checks the heartbeat on its own.
        "heartbeat_file": None,
        # A story sends many messages to one chat: at Telegram's pace each would wait a
        # second. The pace is tested on its own (tests/flows/test_send_faults.py).
        "telegram_chat_rate": 0,
        # Stories set reminders and tick right away; the delay a new user gets before the
        # first one is tested on its own (tests/flows/test_nudges.py).
        "first_reminder_delay_hours": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def telegram() -> FakeTelegram:
    """An empty fake Telegram."""
    return FakeTelegram()


@asynccontextmanager
async def running_bot(
    database_url: str,
    telegram: FakeTelegram,
    texts: Texts,
    *,
    clock: FakeClock | None = None,
    request: RecordingRequest | None = None,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """A started Application built with these settings on a migrated database; its
    clock and its request for sends (not getUpdates) may be given."""
    clock = clock or FakeClock()
    application = build_application(
        settings_for(database_url, **overrides),
        texts=texts,
        request=request or RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
        clock=clock,
    )
    engine: AsyncEngine = application.bot_data["engine"]
    await upgrade_engine(engine)
    await application.initialize()
    try:
        yield Bot(application, telegram, create_session_factory(engine), clock)
    finally:
        rewrites = application.bot_data["services"].rewrites
        if rewrites is not None:
            await rewrites.aclose()
        await application.shutdown()
        await engine.dispose()


@pytest.fixture
async def bot(database_url: str, telegram: FakeTelegram, texts: Texts) -> AsyncIterator[Bot]:
    """A started Application on a migrated database."""
    async with running_bot(database_url, telegram, texts) as bot:
        yield bot
