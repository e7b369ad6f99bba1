"""How close to Telegram's rate limit do nudges go out, and does each go out exactly once?

What is measured: N users (10,000 by default) whose nudge is due in the same minute (their
schedules' next_due_at just passed) are bulk-inserted into a fresh, migrated SQLite file. A
fake Bot API (`tests.fakebot.FakeBotServer`, loopback HTTP) answers 429 with retry_after to
any send above R messages a second (`FakeTelegram.rate_limit(per_second=R)`). The bot runs
in its own process, as in production: the real Application from `build_application` with
`telegram_max_rate=R` (PTB's AIORateLimiter) and the per-chat pacer, the real clock, real
HTTP; it calls the dispatch (`send_due_nudges`) until a pass finds nothing due.

Printed: the elapsed time (first claim to the end of the last pass that sent something),
the messages Telegram accepted, the achieved rate and its share of R, the 429 answers, the
duplicates (accepted messages beyond the first to the same chat, from the fake's records:
each user has exactly one nudge due), the lost users (no accepted nudge) and the
nudge_sends status counts from the database.

R is a stand-in: Telegram's real limit is about 30 messages a second; the default R = 100
keeps the run short, and the share of R is the figure that matters. A second, smaller run
(600 users at 30/s by default) shows the real rate; `--small-users 0` skips it. Each
dispatch is cut after `--timeout` seconds (`--small-timeout` for the small run); the users
it did not reach are counted as lost and split into claimed-but-unconfirmed and
never-claimed.
The machine's load average is printed with each run: on a shared machine the bot process
competes for the CPU, and its CPU use is printed too.

Run from the repository root: `python -m benchmarks.nudge_dispatch [--users 10000 --rate 100]`.
Targets: share >= 0.9, zero duplicates, zero lost. The last line is `nudge_dispatch_share: X`.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect

from benchmarks._process import Child
from benchmarks._users import (
    add_users,
    create_database,
    send_status_by_user,
    send_statuses,
    user_ids,
)
from tests.fakebot import FakeBotServer, FakeTelegram, SentMessage, make_user, private_chat

# Interpreter start, imports and initialize() in the child, before the dispatch starts.
_START_LIMIT = 90.0


@dataclass(frozen=True)
class Outcome:
    """The figures of one run."""

    users: int
    rate: float
    elapsed: float
    delivered: int
    rate_limited: int
    duplicates: int
    lost: int
    statuses: Counter[str]

    @property
    def achieved(self) -> float:
        """Messages accepted per second of dispatch."""
        return self.delivered / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def share(self) -> float:
        """The achieved rate as a share of the allowed one."""
        return self.achieved / self.rate


def _nudge_key(message: SentMessage) -> tuple[int, str]:
    """(chat, send id): the send id is in every button's callback data, nudge.write:ID."""
    markup = message.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith("nudge.write:"):
                return message.chat_id, data.split(":", 1)[1]
    return message.chat_id, "?"


def _busiest_second(stamps: list[float]) -> int:
    """The most messages accepted within any one-second window."""
    window: deque[float] = deque()
    busiest = 0
    for stamp in sorted(stamps):
        window.append(stamp)
        while window[0] <= stamp - 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    return busiest


class _ClientDisconnectFilter(logging.Filter):
    """Drops the server's reports of a client that went away mid-request."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ClientDisconnect)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _run_bot(config: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run the bot process; past `timeout` seconds of dispatch, kill it and say so."""
    with tempfile.TemporaryFile("w+") as stderr:
        child = Child("benchmarks._dispatch_child", [json.dumps(config)], None, stderr)
        try:
            started = child.next_event(child.started + _START_LIMIT)
            if started is None or started.get("event") != "started":
                sys.stderr.write(child.stderr_tail())
                raise SystemExit("the bot process did not start")
            dispatch_start = time.perf_counter()
            result = child.next_event(dispatch_start + timeout)
            if result is None:
                if child.failed():
                    sys.stderr.write(child.stderr_tail())
                    raise SystemExit("the bot process failed")
                # The deadline: what Telegram accepted so far is what counts.
                result = {
                    "event": "cut",
                    "elapsed": time.perf_counter() - dispatch_start,
                    "cpu": child.cpu_seconds() - float(started["cpu"]),
                    "passes": [],
                    "log_counts": {},
                }
        finally:
            child.stop()
        warnings = [line for line in child.stderr_tail(10**7).splitlines() if " WARNING " in line]
    if warnings:
        print(f"  bot warnings: {len(warnings)}, e.g. {warnings[0][-100:]!r}")
    return result


def run_once(users: int, rate: float, timeout: float) -> Outcome:
    """Populate, serve, dispatch and count; print the figures of this run."""
    with tempfile.TemporaryDirectory(prefix="postcoach-dispatch-") as folder:
        path = Path(folder) / "postcoach.sqlite3"
        database_url = create_database(path)
        now = datetime.now(UTC)
        due_at = now - timedelta(seconds=1)
        started = time.perf_counter()
        add_users(path, users, now=now, due_at=due_at)
        setup = time.perf_counter() - started

        telegram = FakeTelegram()
        for user_id in user_ids(users):
            telegram.register_chat(private_chat(make_user(user_id, f"User{user_id}")))
        telegram.rate_limit(per_second=rate)
        # The fake stands in for Telegram, which does not pause for Python's collector:
        # the 10,000 chats just registered stay out of its sight.
        gc.freeze()
        with FakeBotServer(telegram) as server:
            result = _run_bot(
                {
                    "token": telegram.token,
                    "database_url": database_url,
                    "base_url": server.base_url,
                    "base_file_url": server.base_file_url,
                    "rate": rate,
                    "timeout": timeout,
                },
                timeout,
            )
        statuses = send_statuses(path)
        status_by_user = send_status_by_user(path)

    nudges = [m for m in telegram.sent_messages() if m.method == "sendMessage"]
    per_nudge = Counter(_nudge_key(message) for message in nudges)
    per_chat = Counter(message.chat_id for message in nudges)
    reached = set(per_chat) & set(user_ids(users))
    calls = telegram.calls("sendMessage")
    answers = Counter(call.status for call in calls)
    outcome = Outcome(
        users=users,
        rate=rate,
        elapsed=float(result["elapsed"]),
        delivered=len(nudges),
        rate_limited=telegram.rate_limited_count,
        # Each user has one nudge due: any second message to a chat is a duplicate.
        duplicates=sum(count - 1 for count in per_chat.values()),
        lost=users - len(reached),
        statuses=statuses,
    )
    span = nudges[-1].at - nudges[0].at if len(nudges) > 1 else 0.0
    cut = result["event"] == "cut"
    retries = (
        "n/a (cut short)"
        if cut
        else sum(count for name, count in result["log_counts"].items() if "AIORateLimiter" in name)
    )
    print(f"users: {users} (nudges due at {due_at:%H:%M:%S} UTC; set up in {setup:.1f} s)")
    if cut:
        print(f"  CUT SHORT: the bot process was stopped at the {timeout:g} s deadline")
    print(
        f"allowed rate: {rate:g} msg/s (the fake answers 429 above it; telegram_max_rate={rate:g})"
    )
    span_text = "first claim to the deadline" if cut else "first claim to the end of the last pass"
    print(f"elapsed: {outcome.elapsed:.1f} s ({span_text})")
    print(f"messages delivered: {outcome.delivered}")
    print(f"achieved rate: {outcome.achieved:.1f} msg/s")
    print(f"share of the allowed rate: {outcome.share:.3f}")
    print(
        f"  at the fake: first to last accepted message {span:.1f} s "
        f"({(len(nudges) - 1) / span if span else 0:.1f} msg/s), "
        f"busiest second {_busiest_second([m.at for m in nudges])} messages"
    )
    print(f"429 answers: {outcome.rate_limited}")
    print(
        f"  sendMessage answers by status: {dict(sorted(answers.items()))}; "
        f"retries logged by AIORateLimiter: {retries}"
    )
    print(f"duplicates: {outcome.duplicates} (accepted messages beyond one per chat)")
    print(
        f"  same nudge (send id) accepted twice: {sum(count - 1 for count in per_nudge.values())}"
    )
    print(f"lost: {outcome.lost} (users with no accepted nudge)")
    if outcome.lost:
        unreached = Counter(
            status_by_user.get(user_id, "never claimed")
            for user_id in user_ids(users)
            if user_id not in reached
        )
        print(
            f"  their nudge_sends status: {dict(sorted(unreached.items()))} ('claimed': a later "
            "tick takes it over after the 2-minute lease and sends it, marked late)"
        )
    print(f"nudge_sends statuses: {dict(sorted(outcome.statuses.items()))}")
    unconfirmed = sum(1 for user_id in reached if status_by_user.get(user_id) == "claimed")
    print(
        f"  accepted by Telegram but still 'claimed' in the database: {unconfirmed} "
        "(after a crash at this moment, sent again once the lease expires)"
    )
    print(
        f"  bot process: CPU {result['cpu']:.1f} s over {outcome.elapsed:.1f} s "
        f"({result['cpu'] / outcome.elapsed if outcome.elapsed else 0:.0%} of one core); "
        f"sent per pass: {result['passes'] if not cut else 'n/a (cut short)'}"
    )
    print(f"  machine: {os.cpu_count()} CPUs, load average {_load()} at the end of the run")
    return outcome


def main(argv: list[str] | None = None) -> None:
    """Run the dispatch benchmark; the last line is `nudge_dispatch_share: X`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="users due in the same minute")
    parser.add_argument("--rate", type=float, default=100.0, help="allowed messages per second")
    parser.add_argument(
        "--small-users", type=int, default=600, help="users in the 30/s run (0 skips it)"
    )
    parser.add_argument("--small-rate", type=float, default=30.0, help="rate of the small run")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="stop dispatching after this many seconds"
    )
    parser.add_argument(
        "--small-timeout", type=float, default=60.0, help="the same for the small run"
    )
    args = parser.parse_args(argv)
    # A bot process killed at its deadline leaves requests half read; the fake's server would
    # log a traceback for each.
    logging.getLogger("uvicorn.error").addFilter(_ClientDisconnectFilter())

    print(f"machine: {os.cpu_count()} CPUs, load average {_load()} before the runs")
    print(
        f"== nudge dispatch: {args.users} users at R = {args.rate:g} msg/s "
        "(R stands in for Telegram's ~30/s to keep the run short; the share of R matters)"
    )
    main_run = run_once(args.users, args.rate, args.timeout)
    if args.small_users > 0:
        print(
            f"\n== the same at Telegram's real rate: {args.small_users} users at R = "
            f"{args.small_rate:g} msg/s"
        )
        run_once(args.small_users, args.small_rate, args.small_timeout)
    print()
    print("targets: share >= 0.9, duplicates 0, lost 0")
    print(
        f"main run: share {main_run.share:.3f}, duplicates {main_run.duplicates}, "
        f"lost {main_run.lost}"
    )
    print(f"nudge_dispatch_share: {main_run.share:.3f}")


if __name__ == "__main__":
    main()
