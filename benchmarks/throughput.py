"""Drafts per second and update-to-reply latency of the whole bot in webhook mode.

Run from the repository root: `python -m benchmarks.throughput`. Two bots run side by side,
each as its own process in webhook mode on loopback with its own fake Bot API:

1. postcoach (`python -m bot run`: SQLite, scheduler off, everything else as in production);
2. a bare python-telegram-bot echo bot (one MessageHandler replying with the text), served by
   the same webhook code (bot/transport/webhook.py: secret check, body limit, update_queue)
   without the duplicate check, with the same concurrency (64 updates at a time), the same
   event loop and no rate limiter.

CHATS private chats (50) post drafts from the labelled corpus to a bot's webhook, with the
secret header, from one httpx AsyncClient; the fake Bot API (tests/fakebot) runs in this
process and says when each chat's reply arrived. Latency runs from just before the POST to
the fake answering the reply's first sendMessage; both are this process's time.monotonic().
Each bot gets one warm-up draft per chat (first contact creates the user), then:

- saturated: each chat posts its next draft as soon as the last reply is complete: the
  drafts per second are the bot's capacity; latency there is mostly queueing (by Little's
  law, 50 chats in a closed loop wait about 50 / rate seconds each). It comes in ROUNDS (4)
  rounds, postcoach then echo in turn, and the ratio is the median of the rounds' ratios:
  on a shared machine the CPU one gets drifts by ±20% within a minute, and two bots
  measured one after the other would mostly measure that drift;
- paced: each chat pauses THINK seconds (5, jittered x0.5-1.5) after each reply, as a
  person reading the review would: the latency of a bot that is busy but not saturated.

Bounded by time: SECONDS (60 s) saturated per bot, split into equal rounds (a round of the
same length for both bots, so the few seconds a closed loop takes to drain at the end weigh
alike), and PACED_SECONDS (20 s) paced; --drafts caps each phase's drafts if wanted.

postcoach's outgoing rate limiter (TELEGRAM_MAX_RATE, 30 msg/s in production, as Telegram
allows) is set to --max-rate (1000 by default) so that it is not what is measured; pass
--max-rate 30 to see the production cap instead.

Targets: saturated, postcoach at least 0.5 of the echo bot's drafts per second; paced,
postcoach's p95 under 100 ms. The figures are wall-clock on whatever else the machine is
doing (the load generator, the fake API and the bot share its CPUs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "unit" / "corpus"
CHATS = 50
# No cap by default: the phases end by time.
DRAFTS = 1_000_000
SECONDS = 60.0
PACED_SECONDS = 20.0
# The saturated load comes in rounds, the two bots in turn.
ROUNDS = 4
# A person reads the review before sending the next draft; 5 s is already a hurried one.
THINK = 5.0
SECRET = "bench_Secret-0123456789"
WEBHOOK_URL = "https://bench.example.invalid/telegram"
FIRST_CHAT_ID = 900_000_000
START_TIMEOUT = 60.0
REPLY_TIMEOUT = 30.0

if str(ROOT) not in sys.path:
    # Run as a script, Python puts benchmarks/ on the path, not the repository root.
    sys.path.insert(0, str(ROOT))

from tests.fakebot import FakeBotServer, FakeTelegram, make_user, private_text  # noqa: E402
from tests.fakebot.core import Upload  # noqa: E402


@dataclass
class Phase:
    """One load phase: drafts answered, how long it took, and each draft's latency."""

    drafts: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        """Drafts answered per second."""
        return self.drafts / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """A latency percentile in ms (nearest rank)."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]

    def describe(self) -> str:
        """Rate and latency percentiles on one line."""
        return (
            f"{self.drafts} drafts in {self.seconds:.1f} s = {self.rate:.1f} drafts/s; "
            f"latency p50 {self.percentile(0.5):.0f} ms, p95 {self.percentile(0.95):.0f} ms, "
            f"p99 {self.percentile(0.99):.0f} ms"
        )


@dataclass
class RunningBot:
    """One bot process in webhook mode, its fake Bot API and the load aimed at it."""

    name: str
    load: Load
    client: httpx.AsyncClient
    exit_code: int | None = None

    async def replies_within(self, bound: str = "0.1") -> tuple[float, float]:
        """The bot's own latency histogram: (replies within ``bound`` s, all replies)."""
        return _histogram((await self.client.get("/metrics")).text, bound)


class TimedTelegram(FakeTelegram):
    """The fake Bot API, telling the load generator when each chat's reply arrived.

    ``handle`` runs in the fake server's thread; futures are resolved on the benchmark's loop.
    A reply may take several messages: ``first`` is the first sendMessage after the draft,
    and the reply is complete with the message carrying buttons (postcoach's review) or with
    the first message (the echo bot: ``complete_on_first``).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, complete_on_first: bool) -> None:
        super().__init__()
        self._loop = loop
        self._complete_on_first = complete_on_first
        self._waiting: dict[int, tuple[asyncio.Future[float], list[float]]] = {}

    def expect_reply(self, chat_id: int) -> asyncio.Future[float]:
        """A future for the chat's next reply; its value is the first message's time."""
        future: asyncio.Future[float] = self._loop.create_future()
        self._waiting[chat_id] = (future, [])
        return future

    def handle(
        self,
        token: str,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes | Upload] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer as the fake does, then note a sendMessage's arrival."""
        status, body = super().handle(token, method, params, files)
        if method.lower() == "sendmessage" and status == 200:
            at = time.monotonic()
            chat_id = int(body["result"]["chat"]["id"])
            complete = self._complete_on_first or "reply_markup" in params
            self._loop.call_soon_threadsafe(self._arrived, chat_id, at, complete)
        return status, body

    def _arrived(self, chat_id: int, at: float, complete: bool) -> None:
        waiting = self._waiting.get(chat_id)
        if waiting is None:
            return
        future, times = waiting
        times.append(at)
        if complete and not future.done():
            del self._waiting[chat_id]
            future.set_result(times[0])


def _drafts() -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        texts.extend(str(draft["text"]) for draft in yaml.safe_load(path.read_text())["drafts"])
    return texts


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _bot_command(name: str) -> list[str]:
    if name == "postcoach":
        return [sys.executable, "-m", "bot", "run"]
    return [sys.executable, "-m", "benchmarks.throughput", "--serve-echo"]


async def _wait_until_ready(
    telegram: FakeTelegram, client: httpx.AsyncClient, process: asyncio.subprocess.Process
) -> None:
    await telegram.wait_for_async("setWebhook", timeout=START_TIMEOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot's webhook server did not become healthy")


class Load:
    """The chats and their drafts, posted to one bot's webhook.

    Each chat has its own client and connection, as Telegram's servers would: httpcore
    walks every connection of a pool on each request, and one shared pool of 100 made the
    load generator, not the bot, the bottleneck (it halved the echo bot's rate).
    """

    def __init__(
        self, telegram: TimedTelegram, clients: list[httpx.AsyncClient], texts: list[str]
    ) -> None:
        self._telegram = telegram
        self._texts = texts
        self._users = [make_user(FIRST_CHAT_ID + n, f"Bench{n}") for n in range(len(clients))]
        self._clients = {
            int(user["id"]): client for user, client in zip(self._users, clients, strict=True)
        }
        self._next_text = itertools.count()

    async def _one_draft(self, user: dict[str, Any]) -> float:
        """Post one draft; return the latency to the first message of the reply, in ms."""
        text = self._texts[next(self._next_text) % len(self._texts)]
        update = self._telegram.observe(private_text(user, text))
        reply = self._telegram.expect_reply(int(user["id"]))
        sent_at = time.monotonic()
        response = await self._clients[int(user["id"])].post(
            "/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        response.raise_for_status()
        first = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        return (first - sent_at) * 1000

    async def warm_up(self) -> None:
        """Every chat's first contact (its account is created), not counted."""
        await asyncio.gather(*(self._one_draft(user) for user in self._users))

    async def run(self, *, drafts: int, seconds: float, think: float) -> Phase:
        """Every chat posts, waits for the reply, pauses ``think`` s (jittered), and again."""
        latencies: list[float] = []
        budget = iter(range(drafts))
        start = time.monotonic()
        deadline = start + seconds
        jitter = random.Random(7)

        async def chat(user: dict[str, Any], delay: float) -> None:
            # Staggered starts, so that paced chats do not all post at once.
            await asyncio.sleep(delay)
            while time.monotonic() < deadline and next(budget, None) is not None:
                latencies.append(await self._one_draft(user))
                if think:
                    pause = think * jitter.uniform(0.5, 1.5)
                    await asyncio.sleep(max(0.0, min(pause, deadline - time.monotonic())))

        await asyncio.gather(*(chat(user, think * jitter.random()) for user in self._users))
        return Phase(len(latencies), time.monotonic() - start, latencies)


def _histogram(metrics_text: str, bound: str = "0.1") -> tuple[float, float]:
    """From the bot's own latency histogram: (replies within ``bound`` seconds, all replies)."""
    within = total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(f'postcoach_update_reply_seconds_bucket{{le="{bound}"}}'):
            within = float(line.rsplit(" ", 1)[1])
        elif line.startswith("postcoach_update_reply_seconds_count"):
            total = float(line.rsplit(" ", 1)[1])
    return within, total


@contextlib.asynccontextmanager
async def running(
    name: str,
    args: argparse.Namespace,
    texts: list[str],
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[RunningBot]:
    """Start one bot against a fresh fake API and warm it up; stop it with SIGTERM after."""
    telegram = TimedTelegram(asyncio.get_running_loop(), complete_on_first=name == "echo")
    port = _free_port()
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir,
        FakeBotServer(telegram) as server,
    ):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": workdir,
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(ROOT),
            **server.env(),
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(workdir) / 'postcoach.sqlite3'}",
            "WEBHOOK_URL": WEBHOOK_URL,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "SCHEDULER_TICK_SECONDS": "0",
            "TELEGRAM_MAX_RATE": str(args.max_rate),
            # Each chat here wants a reply about twice a second, over Telegram's one: with the
            # overall limit raised, the per-chat pace is off too (it is not what is measured).
            "TELEGRAM_CHAT_RATE": "0" if args.max_rate > 30 else "1",
            # Capacity is measured here, not the per-user pace (benchmarks/flood.py).
            "DRAFTS_PER_MINUTE": "1000",
            **(extra_env or {}),
        }
        log_path = Path(workdir) / "bot.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *_bot_command(name), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                async with contextlib.AsyncExitStack() as stack:
                    client = await stack.enter_async_context(
                        httpx.AsyncClient(base_url=base_url, timeout=REPLY_TIMEOUT)
                    )
                    chats = [
                        await stack.enter_async_context(
                            httpx.AsyncClient(
                                base_url=base_url,
                                limits=httpx.Limits(max_connections=1),
                                timeout=REPLY_TIMEOUT,
                            )
                        )
                        for _ in range(args.chats)
                    ]
                    await _wait_until_ready(telegram, client, process)
                    bot = RunningBot(name, Load(telegram, chats, texts), client)
                    await bot.load.warm_up()
                    yield bot
            except BaseException:
                if process.returncode is None:
                    process.kill()
                await process.wait()
                print(log_path.read_text(errors="replace")[-4000:], file=sys.stderr)
                raise
            process.send_signal(signal.SIGTERM)
            bot.exit_code = await asyncio.wait_for(process.wait(), 30)


def _total(phases: list[Phase]) -> Phase:
    latencies = [latency for phase in phases for latency in phase.latencies_ms]
    return Phase(sum(p.drafts for p in phases), sum(p.seconds for p in phases), latencies)


async def _main(args: argparse.Namespace) -> None:
    texts = _drafts()
    print(
        f"{args.chats} private chats on loopback, webhook mode; drafts from a corpus of "
        f"{len(texts)}; latency = POST of the update -> the fake API answering the reply's "
        "first sendMessage"
    )
    print(
        f"saturated: closed loop, no pause, {args.rounds} rounds of "
        f"{args.seconds / args.rounds:g} s per bot, the bots in turn; paced: each chat pauses "
        f"{args.think:g} s (x0.5-1.5) after each reply, {args.paced_seconds:g} s"
    )
    why = (
        "raised so that the rate limiter is not what is measured"
        if args.max_rate > 30
        else "the production cap"
    )
    print(f"postcoach TELEGRAM_MAX_RATE={args.max_rate:g} msg/s ({why}); echo bot: no limiter")
    async with running("postcoach", args, texts) as ours, running("echo", args, texts) as echo:
        saturated: dict[str, list[Phase]] = {"postcoach": [], "echo": []}
        ratios = []
        # In turn, so that whatever else the machine does weighs on both bots alike.
        for number in range(1, args.rounds + 1):
            for bot in (ours, echo):
                saturated[bot.name].append(
                    await bot.load.run(
                        drafts=args.drafts // args.rounds,
                        seconds=args.seconds / args.rounds,
                        think=0,
                    )
                )
            ours_rate, echo_rate = (saturated[name][-1].rate for name in ("postcoach", "echo"))
            ratios.append(ours_rate / echo_rate if echo_rate else math.nan)
            print(
                f"round {number}: postcoach {ours_rate:.1f} drafts/s, echo {echo_rate:.1f} "
                f"drafts/s, ratio {ratios[-1]:.2f}"
            )
        before = await ours.replies_within()
        paced = {
            bot.name: await bot.load.run(
                drafts=args.drafts, seconds=args.paced_seconds, think=args.think
            )
            for bot in (ours, echo)
        }
        after = await ours.replies_within()
    replies = after[1] - before[1]
    for bot in (ours, echo):
        print(f"{bot.name}:")
        print(f"  saturated: {_total(saturated[bot.name]).describe()}")
        print(f"  paced:     {paced[bot.name].describe()}")
        if bot is ours and replies:
            print(
                f"  paced, the bot's own histogram: {(after[0] - before[0]) / replies:.1%} of "
                "replies within 100 ms of receiving the update"
            )
        print(f"  exit code after SIGTERM: {bot.exit_code}")
    ratio = statistics.median(ratios)
    overall = _total(saturated["postcoach"]).rate / _total(saturated["echo"]).rate
    p95 = paced["postcoach"].percentile(0.95)
    print(
        f"ratio postcoach/echo, drafts per second saturated: {ratio:.2f} (median of the "
        f"rounds; all drafts together {overall:.2f}) (target >= 0.5)"
    )
    print(f"postcoach p95, paced: {p95:.0f} ms (target < 100 ms)")
    print(
        f"targets: rate {'met' if ratio >= 0.5 else 'MISSED'}, "
        f"p95 {'met' if p95 < 100 else 'MISSED'}"
    )


# ----------------------------------------------------------------------- the echo bot


def serve_echo() -> int:
    """The bare PTB echo bot in webhook mode, configured like postcoach from the environment."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    from bot.app import CONCURRENT_UPDATES
    from bot.logs import configure_logging
    from bot.runtime import use_fast_event_loop
    from bot.settings import load_settings
    from bot.transport.webhook import bind, create_app, serve

    settings = load_settings(None)
    token, secret, url = settings.token, settings.webhook_secret_value, settings.webhook_url
    if token is None or secret is None or url is None:
        print("the echo bot needs BOT_TOKEN, WEBHOOK_URL and WEBHOOK_SECRET", file=sys.stderr)
        return 2
    configure_logging(settings.log_level_number, settings.secrets)

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text)

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    sock = bind(settings.webhook_listen, settings.webhook_port)
    web_app = create_app(application, path=settings.webhook_path, secret=secret)
    use_fast_event_loop()  # the same loop as postcoach's, so only the bots differ
    asyncio.run(serve(application, web_app, sock, url=url, secret=secret))
    return 0


def main(argv: list[str] | None = None) -> None:
    """Run both bots under the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=CHATS, help="concurrent chats")
    parser.add_argument("--drafts", type=int, default=DRAFTS, help="drafts per phase, at most")
    parser.add_argument(
        "--seconds", type=float, default=SECONDS, help="saturated phase: seconds, at most"
    )
    parser.add_argument(
        "--paced-seconds", type=float, default=PACED_SECONDS, help="paced phase: seconds"
    )
    parser.add_argument(
        "--think", type=float, default=THINK, help="paced phase: mean pause after a reply (s)"
    )
    parser.add_argument(
        "--max-rate", type=float, default=1000, help="postcoach's TELEGRAM_MAX_RATE (msg/s)"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="saturated rounds per bot, taken in turn"
    )
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_echo:
        sys.exit(serve_echo())
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
