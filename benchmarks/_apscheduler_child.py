"""The baseline for `benchmarks.scale_users`: one APScheduler cron job per user, in a process.

This is the design postcoach does not use (architecture.md: "No job per user lives in
APScheduler"): at start the process reads every user's nudge rule (weekdays, local time,
IANA zone) from the same SQLite file, registers one `CronTrigger` job per user on an
`AsyncIOScheduler` (APScheduler 3, the one under PTB's JobQueue) and starts it. It prints a
JSON progress line every `PROGRESS_EVERY` jobs and a final "ready" line with its resident
memory; the parent measures the time and stops it at its deadline.

Usage (the benchmark does this): `python -m benchmarks._apscheduler_child SQLITE_PATH`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from zoneinfo import ZoneInfo

import psutil
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROGRESS_EVERY = 5_000


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


async def send_nudge(user_id: int) -> None:
    """What each job would run (never reached: the benchmark stops before any is due)."""


async def _register(path: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rules = connection.execute(
            "SELECT user_id, weekdays, local_time, timezone FROM nudge_schedules "
            "WHERE kind = 'nudge' ORDER BY user_id"
        ).fetchall()
    scheduler = AsyncIOScheduler()
    scheduler.start()
    for count, (user_id, weekdays, local_time, zone) in enumerate(rules, start=1):
        hour, minute = (int(part) for part in local_time.split(":"))
        trigger = CronTrigger(
            day_of_week=",".join(DAY_NAMES[day] for day in json.loads(weekdays)),
            hour=hour,
            minute=minute,
            timezone=ZoneInfo(zone),
        )
        scheduler.add_job(send_nudge, trigger, args=[user_id], id=str(user_id))
        if count % PROGRESS_EVERY == 0:
            print(json.dumps({"event": "progress", "jobs": count}), flush=True)
            # Let the scheduler's wake-ups run, as they would in a live process.
            await asyncio.sleep(0)
    await asyncio.sleep(0)
    jobs = len(scheduler.get_jobs())
    print(json.dumps({"event": "ready", "jobs": jobs, "rss_mb": _rss_mb()}), flush=True)
    scheduler.shutdown(wait=False)


def main() -> None:
    """Register the jobs of the users in the SQLite file at argv[1]; print JSON lines."""
    asyncio.run(_register(sys.argv[1]))


if __name__ == "__main__":
    main()
