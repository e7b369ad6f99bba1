"""Does postcoach's start-up, memory and tick stay flat as users grow? And APScheduler's?

What is measured, for N = 1,000, 10,000 and 100,000 users (each with a nudge schedule and a
weekly review schedule, bulk-inserted into one SQLite file that grows between sizes):

- postcoach, in a fresh process each time (`benchmarks._startup_child`): the start-up time,
  from spawning the process to the Application built, initialized and started the way
  `postcoach run` does it (migrations applied, command menus set, the JobQueue running its
  one tick), against a fake Bot API on 127.0.0.1 (`tests.fakebot.FakeBotServer`); its
  resident memory (psutil RSS) at that point; and the tick's claim query,
  `storage.repositories.nudges.due_schedules(now, CLAIM_BATCH, False)` executed and fetched
  through the bot's engine, timed `--repeat` times (or for 15 s, whichever ends first) with
  a `now` at which no schedule is due (the usual tick), one at which about 200 are due, and
  10 times with every schedule due (a backlog after downtime).
- the baseline, also in a fresh process (`benchmarks._apscheduler_child`): one APScheduler
  `CronTrigger` job per user (weekdays, local time, zone read from the same file) on an
  `AsyncIOScheduler`, its start-up time and RSS. It is stopped after `--baseline-limit`
  seconds and then reported as "> limit" with its memory at that moment.

For the largest N the claim query's SQLite plan (EXPLAIN QUERY PLAN) is printed, with the
raw SQLite time of the same statement (no ORM, no aiosqlite), and the same timed on a copy
of the database with each candidate index added; the product's database is not changed.

Run from the repository root: `python -m benchmarks.scale_users [--sizes 1000,10000,100000]`.
Targets: start-up under 3 s and RSS under 150 MB at 100,000 users, not growing with N; claim
query p99 under 50 ms. The last line is `scale_users_claim_p99_ms: X` (the worst p99 of the
no-backlog cases at the largest N).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection

from benchmarks._process import Child
from benchmarks._users import add_users, create_database, next_due_instants
from bot.coach import load_checklist
from bot.nudges.service import CLAIM_BATCH
from storage.models import utcnow
from storage.repositories.nudges import due_schedules
from tests.fakebot import FakeBotServer

SIZES = (1_000, 10_000, 100_000)
STARTUP_LIMIT = 90.0
QUERY_LIMIT = 240.0
# Indexes the lead could add in a migration; each is tried on a copy of the database. None
# at the moment: paused_until got its index in 0007, and the claim reads next_due_at,
# snooze_due_at and paused_until each in its own index's order, so an index on
# coalesce(snooze_due_at, next_due_at) has nothing left to serve.
CANDIDATE_INDEXES: dict[str, str] = {}
NO_BACKLOG = ("none due", "~200 due")


@dataclass
class Postcoach:
    """One fresh postcoach process's figures."""

    startup: float
    rss_mb: float
    jobs: list[str]
    claims: dict[str, tuple[int, list[float]]]
    rss_after_mb: float


@dataclass
class Baseline:
    """One fresh APScheduler process's figures; `finished` False when stopped at the limit."""

    seconds: float
    rss_mb: float
    jobs: int
    finished: bool


def run_postcoach(
    server: FakeBotServer,
    database_url: str,
    cache_dir: Path,
    instants: dict[str, str],
    repeat: dict[str, int],
) -> Postcoach:
    """Start postcoach in a fresh process; return its start-up, memory and claim timings."""
    env = {
        **os.environ,
        **server.env(),
        "DATABASE_URL": database_url,
        "CACHE_DIR": str(cache_dir),
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_TICK_SECONDS": "20",
    }
    config = json.dumps({"instants": instants, "repeat": repeat})
    with tempfile.TemporaryFile("w+") as stderr:
        child = Child("benchmarks._startup_child", [config], env, stderr)
        try:
            ready = child.next_event(child.started + STARTUP_LIMIT)
            startup = time.perf_counter() - child.started
            if ready is None or ready.get("event") != "ready":
                sys.stderr.write(child.stderr_tail())
                raise SystemExit("postcoach did not start")
            done = child.next_event(time.perf_counter() + QUERY_LIMIT)
            if done is None or done.get("event") != "done":
                sys.stderr.write(child.stderr_tail())
                raise SystemExit("postcoach's claim timings did not finish")
        finally:
            child.stop()
    claims = {name: (int(v["rows"]), list(v["ms"])) for name, v in done["claims"].items()}
    return Postcoach(
        startup, float(ready["rss_mb"]), list(ready["jobs"]), claims, float(done["rss_after_mb"])
    )


def run_baseline(path: Path, limit: float) -> Baseline:
    """Register one cron job per user in a fresh process; stop it after `limit` seconds."""
    with tempfile.TemporaryFile("w+") as stderr:
        child = Child("benchmarks._apscheduler_child", [str(path)], None, stderr)
        jobs = 0
        try:
            while True:
                event = child.next_event(child.started + limit)
                elapsed = time.perf_counter() - child.started
                if event is None:
                    if child.failed():
                        sys.stderr.write(child.stderr_tail())
                        raise SystemExit("the APScheduler baseline failed")
                    # The limit: take the memory it holds now, then stop it.
                    return Baseline(elapsed, child.rss_mb(), jobs, finished=False)
                jobs = int(event["jobs"])
                if event["event"] == "ready":
                    return Baseline(elapsed, float(event["rss_mb"]), jobs, finished=True)
        finally:
            child.stop()


def claim_instants(path: Path) -> dict[str, str]:
    """Instants at which no schedule, about 200, and every schedule is due (ISO, UTC)."""
    instants = [instant.replace(tzinfo=UTC) for instant in next_due_instants(path)]
    return {
        "none due": (instants[0] - timedelta(seconds=1)).isoformat(),
        "~200 due": instants[min(len(instants), CLAIM_BATCH) - 1].isoformat(),
        "all due (backlog)": (instants[-1] + timedelta(seconds=1)).isoformat(),
    }


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _claim_sql(path: Path, now: datetime) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters SQLAlchemy sends to SQLite for the claim query."""
    captured: list[tuple[str, tuple[Any, ...]]] = []
    engine = create_engine(f"sqlite:///{path}")

    def capture(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, tuple(parameters)))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as connection:
            connection.execute(due_schedules(now, CLAIM_BATCH, False)).all()
    finally:
        engine.dispose()
    return captured[-1]


def _raw_timings(path: Path, sql: str, params: tuple[Any, ...], rounds: int) -> list[float]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            connection.execute(sql, params).fetchall()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def explain_claim(path: Path, instants: dict[str, str], folder: Path) -> None:
    """Print the claim query's plan and raw SQLite timings, then with each candidate index."""
    cases = {
        name: _claim_sql(path, datetime.fromisoformat(text)) for name, text in instants.items()
    }
    sql, params = cases["none due"]
    with contextlib.closing(sqlite3.connect(path)) as connection:
        plan = connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    print("claim query (as SQLAlchemy sends it):")
    print("  " + " ".join(sql.split()))
    print("EXPLAIN QUERY PLAN:")
    for row in plan:
        print(f"  {row[-1]}")

    def report(label: str, database: Path) -> None:
        parts = []
        for name, (case_sql, case_params) in cases.items():
            rounds = 3 if "backlog" in name else 20
            samples = _raw_timings(database, case_sql, case_params, rounds)
            parts.append(
                f"{name}: median {statistics.median(samples):.1f} ms, "
                f"p99 {_percentile(samples, 0.99):.1f} ms"
            )
        print(f"  {label}: " + "; ".join(parts))

    print("raw SQLite time of the same statement (sqlite3, no ORM, no aiosqlite):")
    report("as migrated", path)
    for name, ddl in CANDIDATE_INDEXES.items():
        copy = folder / f"try-{name}.sqlite3"
        shutil.copyfile(path, copy)
        with contextlib.closing(sqlite3.connect(copy)) as connection:
            # No ANALYZE: the bot never runs it, so the planner works without statistics.
            connection.execute(ddl)
            plan = connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        report(f"with {ddl} (on a copy)", copy)
        print("    plan: " + " / ".join(str(row[-1]) for row in plan))
        copy.unlink()


def _ratio(ours: float, theirs: float, finished: bool) -> str:
    return f"{ours / theirs:.2f}" if finished else f"< {ours / theirs:.2f}"


def main(argv: list[str] | None = None) -> None:
    """Print the table and ratios; the last line is `scale_users_claim_p99_ms: X`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(str(size) for size in SIZES), help="user counts, ascending"
    )
    parser.add_argument("--repeat", type=int, default=200, help="claim queries per case")
    parser.add_argument(
        "--baseline-limit", type=float, default=120.0, help="stop the baseline after (s)"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    repeat = {"none due": args.repeat, "~200 due": args.repeat, "all due (backlog)": 10}

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    results: list[tuple[int, Postcoach, Baseline]] = []
    with (
        tempfile.TemporaryDirectory(prefix="postcoach-scale-") as folder_name,
        FakeBotServer() as server,
    ):
        folder = Path(folder_name)
        path = folder / "postcoach.sqlite3"
        database_url = create_database(path)
        # The first start of a deployment unpacks the language model into CACHE_DIR; every
        # later start (the one measured) maps it.
        cache_dir = folder / "cache"
        start = time.perf_counter()
        load_checklist(model_cache=cache_dir)
        print(
            f"language model unpacked into CACHE_DIR (a deployment's first start only) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        now = utcnow()
        have = 0
        instants: dict[str, str] = {}
        for size in sizes:
            start = time.perf_counter()
            add_users(path, size - have, now=now, first=have)
            print(
                f"\nN = {size}: {size - have} users added in {time.perf_counter() - start:.1f} s"
            )
            have = size
            instants = claim_instants(path)
            ours = run_postcoach(server, database_url, cache_dir, instants, repeat)
            print(
                f"  postcoach: start-up {ours.startup:.2f} s, RSS {ours.rss_mb:.0f} MB "
                f"(jobs: {', '.join(ours.jobs) or 'none'}; RSS after the queries "
                f"{ours.rss_after_mb:.0f} MB)"
            )
            for name, (rows, samples) in ours.claims.items():
                print(
                    f"  claim query, {name}: {rows} rows, median "
                    f"{statistics.median(samples):.1f} ms, p99 {_percentile(samples, 0.99):.1f} ms"
                    f" ({len(samples)} runs)"
                )
            theirs = run_baseline(path, args.baseline_limit)
            state = "" if theirs.finished else f" STOPPED at the limit after {theirs.jobs} jobs"
            print(
                f"  APScheduler baseline: start-up {theirs.seconds:.2f} s, "
                f"RSS {theirs.rss_mb:.0f} MB{state}"
            )
            results.append((size, ours, theirs))
        print()
        explain_claim(path, instants, folder)

    print()
    header = (
        f"{'users':>8} | {'start-up s':>10} {'RSS MB':>7} {'claim p50/p99 ms':>17} "
        f"{'~200 due p50/p99':>17} | {'APS start-up s':>14} {'APS RSS MB':>10} | "
        f"{'start-up ratio':>14} {'RSS ratio':>9}"
    )
    print(header)
    print("-" * len(header))
    for size, ours, theirs in results:
        none = ours.claims["none due"][1]
        due = ours.claims["~200 due"][1]
        aps_time = f"{theirs.seconds:.2f}" if theirs.finished else f">{theirs.seconds:.0f}"
        print(
            f"{size:>8} | {ours.startup:>10.2f} {ours.rss_mb:>7.0f} "
            f"{statistics.median(none):>8.1f}/{_percentile(none, 0.99):<8.1f} "
            f"{statistics.median(due):>8.1f}/{_percentile(due, 0.99):<8.1f} | "
            f"{aps_time:>14} {theirs.rss_mb:>10.0f} | "
            f"{_ratio(ours.startup, theirs.seconds, theirs.finished):>14} "
            f"{ours.rss_mb / theirs.rss_mb:>9.2f}"
        )
    print("ratios are postcoach / baseline (below 1: postcoach is faster or smaller)")
    first, last = results[0][1], results[-1][1]
    print(
        f"postcoach growth from {results[0][0]} to {results[-1][0]} users: start-up "
        f"{last.startup - first.startup:+.2f} s, RSS {last.rss_mb - first.rss_mb:+.0f} MB"
    )
    worst = max(_percentile(last.claims[name][1], 0.99) for name in NO_BACKLOG)
    backlog = _percentile(last.claims["all due (backlog)"][1], 0.99)
    print(
        "targets at the largest N: start-up < 3 s "
        f"({'met' if last.startup < 3 else 'MISSED'}), RSS < 150 MB "
        f"({'met' if last.rss_mb < 150 else 'MISSED'}), claim p99 < 50 ms "
        f"({'met' if worst < 50 else 'MISSED'}; backlog p99 {backlog:.1f} ms)"
    )
    print(f"machine: load average {os.getloadavg()[0]:.2f} at the end")
    print(f"scale_users_claim_p99_ms: {worst:.1f}")


if __name__ == "__main__":
    main()
