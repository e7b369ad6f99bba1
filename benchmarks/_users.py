"""Bulk-created users, profiles and nudge schedules in an SQLite file, for the benchmarks.

Rows go in with SQLAlchemy Core executemany on a synchronous connection, in one transaction
per call, through the ORM tables (so the column types store values exactly as the bot does).
Every user gets what `NudgeService.sync_from_profile` would create: a "nudge" schedule for
their days and time, and a "weekly" review schedule (Monday 09:00 local); the next due
instants come from the product's own `next_due`.
"""

from __future__ import annotations

import contextlib
import functools
import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert

from bot.nudges.service import DEFAULT_QUIET, NUDGE, WEEKLY, WEEKLY_DAYS, WEEKLY_TIME, next_due
from storage.migrate import upgrade
from storage.models import NudgeSchedule, Profile, User

FIRST_USER_ID = 100_000_000
ZONES = ("Europe/Rome", "Europe/London", "Europe/Madrid", "America/New_York", "Asia/Tokyo")
AUDIENCES = ("clients", "colleagues", "recruiters", "companies", "public_admin")
PLATFORMS = ("linkedin", "x", "instagram", "facebook", "threads")
TOPICS = ("sismica", "impianti", "contabilità", "design", "cloud", "fisco")
# The day sets people pick most (0 = Monday); times are on a 15-minute grid, 08:00-18:45.
DAY_PATTERNS = ((0,), (1,), (2,), (3,), (0, 3), (1, 3), (0, 2, 4), (1, 2, 3), (0, 1, 2, 3, 4))
_CHUNK = 10_000


def async_url(path: Path) -> str:
    """The bot's DATABASE_URL for an SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def create_database(path: Path) -> str:
    """Create and migrate an SQLite file with the product's migrations; return its URL."""
    url = async_url(path)
    upgrade(url)
    return url


def user_ids(count: int, first: int = 0) -> range:
    """The Telegram ids of the users numbered first .. first + count - 1."""
    return range(FIRST_USER_ID + first, FIRST_USER_ID + first + count)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


@functools.lru_cache(maxsize=65_536)
def _next_due(kind: str, days: tuple[int, ...], at: str, zone: str, after: datetime) -> datetime:
    # Users share rules (days, time, zone), so the maths runs once per distinct rule.
    schedule = NudgeSchedule(
        kind=kind,
        weekdays=list(days),
        local_time=at,
        timezone=zone,
        quiet_start=DEFAULT_QUIET[0],
        quiet_end=DEFAULT_QUIET[1],
    )
    due = next_due(schedule, after)
    assert due is not None
    return due


def _schedule(
    user_id: int, kind: str, days: list[int], at: str, zone: str, after: datetime
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "kind": kind,
        "weekdays": days,
        "local_time": at,
        "timezone": zone,
        "quiet_start": DEFAULT_QUIET[0],
        "quiet_end": DEFAULT_QUIET[1],
        "next_due_at": _next_due(kind, tuple(days), at, zone, after),
        "snooze_due_at": None,
        "paused": False,
        "paused_until": None,
        "last_idea": None,
    }


def add_users(
    path: Path, count: int, *, now: datetime, first: int = 0, due_at: datetime | None = None
) -> None:
    """Insert `count` onboarded users numbered from `first`, with both schedules each.

    With `due_at`, every nudge schedule is due at that instant (its rule is that local minute
    on that weekday, plus a few more days); otherwise each user has random days and a random
    time between 08:00 and 18:45, and the schedule is due at its next occurrence after `now`.
    """
    rng = random.Random(first)  # reproducible data
    users: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    for number, user_id in enumerate(user_ids(count, first)):
        zone = ZONES[number % len(ZONES)]
        language = "it" if number % 3 else "en"
        if due_at is not None:
            local = due_at.astimezone(ZoneInfo(zone))
            days = sorted({local.weekday(), *rng.sample(range(7), 2)})
            at = local.strftime("%H:%M")
        else:
            days = list(rng.choice(DAY_PATTERNS))
            at = f"{rng.randint(8, 18):02d}:{rng.randrange(0, 60, 15):02d}"
        users.append(
            {
                "id": user_id,
                "language": language,
                "telegram_language": language,
                "first_name": f"User{number}",
                "last_name": None,
                "username": None,
                "created_at": now,
                "last_seen_at": now,
                "is_active": True,
                "dialogue": None,
                "dialogue_data": None,
            }
        )
        profiles.append(
            {
                "user_id": user_id,
                "role": "ingegnere",
                "topics": rng.sample(TOPICS, 2),
                "audience": [rng.choice(AUDIENCES)],
                "platforms": ["linkedin"],
                "main_platform": rng.choice(PLATFORMS),
                "weekly_goal": rng.randint(1, 4),
                "timezone": zone,
                "nudge_days": days,
                "nudge_time": at,
                "onboarded_at": now,
                "updated_at": now,
            }
        )
        nudge = _schedule(user_id, NUDGE, days, at, zone, now)
        if due_at is not None:
            nudge["next_due_at"] = due_at
        schedules.append(nudge)
        schedules.append(_schedule(user_id, WEEKLY, sorted(WEEKLY_DAYS), WEEKLY_TIME, zone, now))
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            for table, rows in ((User, users), (Profile, profiles), (NudgeSchedule, schedules)):
                for chunk in _chunks(rows):
                    connection.execute(insert(table), chunk)
    finally:
        engine.dispose()


def next_due_instants(path: Path) -> list[datetime]:
    """Every schedule's next due instant (UTC, naive as SQLite keeps them), sorted."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT next_due_at FROM nudge_schedules WHERE next_due_at IS NOT NULL "
            "ORDER BY next_due_at"
        ).fetchall()
    return [datetime.fromisoformat(value) for (value,) in rows]


def send_statuses(path: Path) -> Counter[str]:
    """How many nudge_sends rows have each status."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT status, count(*) FROM nudge_sends GROUP BY status")
        return Counter({status: count for status, count in rows})


def send_status_by_user(path: Path) -> dict[int, str]:
    """The status of each user's nudge_sends row (the latest, if there are several)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT user_id, status FROM nudge_sends ORDER BY id")
        return {int(user_id): str(status) for user_id, status in rows}
