"""The bot side of `benchmarks.nudge_dispatch`, run as its own process.

It builds the real Application (`build_application`: AIORateLimiter, per-chat pacer, real
HTTP to the fake Bot API, the real clock), initializes it and calls the dispatch
(`send_due_nudges`, the nudge half of the scheduler's tick) until a pass finds nothing due.
It prints a JSON line when the dispatch starts and one with the timings at the end; logs go
to stderr. The parent kills it if it runs past its deadline.

Usage (the benchmark does this): `python -m benchmarks._dispatch_child CONFIG_JSON`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import Counter
from typing import Any

from bot.app import build_application, settle_heap
from bot.context import CoachContext
from bot.logs import configure_logging
from bot.nudges.dispatch import send_due_nudges
from bot.runtime import use_fast_event_loop
from bot.settings import Settings


class _CountingHandler(logging.Handler):
    """Counts log records by logger and level, so the retries and failures can be reported."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name} {record.levelname}"] += 1


async def _run(config: dict[str, Any]) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        bot_token=config["token"],
        database_url=config["database_url"],
        telegram_base_url=config["base_url"],
        telegram_base_file_url=config["base_file_url"],
        telegram_max_rate=config["rate"],
        # The benchmark is the tick: it calls the dispatch itself, back to back.
        scheduler_tick_seconds=0,
        log_level="INFO",
    )
    configure_logging(settings.log_level_number, settings.secrets)
    # Production's handler, but only warnings reach stderr; INFO records are just counted
    # (AIORateLimiter reports each retry after a 429 at INFO).
    logging.getLogger().handlers[0].setLevel(logging.WARNING)
    counter = _CountingHandler()
    logging.getLogger().addHandler(counter)

    application = build_application(settings)
    await application.initialize()
    settle_heap()  # as `postcoach run` does once the application is built
    try:
        context = CoachContext(application)
        passes: list[int] = []
        cpu_start = time.process_time()
        _emit({"event": "started", "cpu": cpu_start})
        start = time.perf_counter()
        last_work = start
        while (sent := await send_due_nudges(context)) > 0:
            passes.append(sent)
            last_work = time.perf_counter()
        passes.append(sent)
        cpu = time.process_time() - cpu_start
    finally:
        await application.shutdown()
    return {
        "event": "done",
        "elapsed": last_work - start,
        "passes": passes,
        "cpu": cpu,
        "log_counts": dict(counter.counts),
    }


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def main() -> None:
    """Run the dispatch described by the JSON argument; print JSON lines as it goes."""
    use_fast_event_loop()  # as `postcoach run` does
    _emit(asyncio.run(_run(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
