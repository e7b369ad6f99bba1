"""A fresh postcoach process for `benchmarks.scale_users`: start-up, memory, claim query.

It starts the way `postcoach run` does, up to the point where polling would begin: settings
from the environment, texts, logging, migrations (`storage.migrate.upgrade`), the checklist
(its language model from CACHE_DIR), `build_application`, `settle_heap()`, then
`initialize()` (getMe), `post_init` (the command menus) and `start()` (the JobQueue with its
one tick). Then it prints a JSON line with its resident memory, and times the tick's claim
query (`storage.repositories.nudges.due_schedules(now, CLAIM_BATCH, False)`, executed and
fetched through the bot's own engine and session factory, after two warm-up runs) at the
instants the parent chose, `repeat` times or for `CASE_SECONDS`, whichever ends first. The
last stdout line is a JSON object with the timings.

Usage (the benchmark does this): `python -m benchmarks._startup_child CONFIG_JSON`, with
BOT_TOKEN, DATABASE_URL, TELEGRAM_BASE_URL and TELEGRAM_BASE_FILE_URL in the environment.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from datetime import datetime
from typing import Any

import psutil

from bot.app import CoachApplication, build_application, settle_heap
from bot.coach import load_checklist
from bot.logs import configure_logging
from bot.nudges.service import CLAIM_BATCH
from bot.runtime import use_fast_event_loop
from bot.settings import Settings
from bot.texts.catalog import load_texts
from storage.database import create_session_factory
from storage.migrate import upgrade
from storage.repositories.nudges import due_schedules

# The most time spent timing one case, so that a slow query cannot make the run unbounded.
CASE_SECONDS = 15.0


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


async def _time_claims(
    application: CoachApplication, instants: dict[str, str], repeat: dict[str, int]
) -> dict[str, Any]:
    sessions = create_session_factory(application.bot_data["engine"])
    timings: dict[str, Any] = {}
    for name, text in instants.items():
        statement = due_schedules(datetime.fromisoformat(text), CLAIM_BATCH, False)
        samples: list[float] = []
        rows = 0
        gc.collect()
        # Warm-up: the first run compiles the statement and opens a pooled connection,
        # which a running bot did long ago.
        for _ in range(2):
            async with sessions() as session:
                (await session.execute(statement)).all()
        case_deadline = time.perf_counter() + CASE_SECONDS
        for _ in range(repeat[name]):
            if samples and time.perf_counter() > case_deadline:
                break
            start = time.perf_counter()
            async with sessions() as session:
                rows = len((await session.execute(statement)).all())
            samples.append((time.perf_counter() - start) * 1000)
        timings[name] = {"rows": rows, "ms": samples}
    return timings


async def _serve(application: CoachApplication, config: dict[str, Any]) -> dict[str, Any]:
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    job_queue = application.job_queue
    jobs = [job.name for job in job_queue.jobs()] if job_queue is not None else []
    _emit({"event": "ready", "rss_mb": _rss_mb(), "jobs": jobs})
    # The tick would claim in the background from now on; stop it so it does not run
    # during the timings (the engine stays open until shutdown).
    await application.stop()
    try:
        timings = await _time_claims(application, config["instants"], config["repeat"])
    finally:
        await application.shutdown()
    return {"event": "done", "claims": timings, "rss_after_mb": _rss_mb()}


def main() -> None:
    """Start like `postcoach run`, report memory, time the claim query; print JSON lines."""
    config = json.loads(sys.argv[1])
    settings = Settings(_env_file=None)
    texts = load_texts(settings.default_language)
    configure_logging(settings.log_level_number, settings.secrets, settings.log_format)
    upgrade(settings.database_url)
    application = build_application(
        settings, texts=texts, checklist=load_checklist(model_cache=settings.cache_dir)
    )
    settle_heap()
    use_fast_event_loop()  # as `postcoach run` does
    _emit(asyncio.run(_serve(application, config)))


if __name__ == "__main__":
    main()
