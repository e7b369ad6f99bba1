"""One user flooding the bot with drafts: how much it delays another user, and what the
flooding user gets back.

Run from the repository root: `python -m benchmarks.flood`. postcoach runs as in
production (webhook mode on loopback, SQLite, TELEGRAM_MAX_RATE 30, DRAFTS_PER_MINUTE
at its default of 10) against the fake Bot API. Other users send a draft every half
second between them (each a different user, each well within their own pace) and wait
for each review; first alone (baseline), then while user A sends 200 drafts in 10
seconds without waiting for any answer. Their latency runs from the POST of the update to
the fake API answering the review's first sendMessage.

Targets: the others' replies delayed by at most a second by the flood (p95 during the
flood minus p95 alone, and the worst reply during the flood minus the worst alone); A
gets at most DRAFTS_PER_MINUTE reviews and one short "slow down" answer, never 200
reviews, and every draft is either reviewed or covered by that answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from benchmarks.throughput import SECRET, TimedTelegram, _drafts, running
from tests.fakebot import make_user, private_text

FLOOD_DRAFTS = 200
FLOOD_SECONDS = 10.0
B_EVERY = 0.5
SETTLE = 10.0  # seconds to let A's last answers arrive
FLOODER_ID = 800_000_001
FIRST_OTHER_ID = 800_000_100
OTHERS = 20  # a different user for each of the 20 drafts of a 10-second phase


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _post(client: Any, telegram: TimedTelegram, update: dict[str, Any]) -> None:
    response = await client.post(
        "/telegram",
        json=telegram.observe(update),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    response.raise_for_status()


async def _others(
    client: Any, telegram: TimedTelegram, texts: list[str], seconds: float
) -> list[float]:
    """Every B_EVERY seconds another user sends a draft; their reply latencies, in ms."""
    users = [make_user(FIRST_OTHER_ID + n, f"Bea{n}", language_code="it") for n in range(OTHERS)]
    count = round(seconds / B_EVERY)

    async def one(index: int) -> float:
        await asyncio.sleep(index * B_EVERY)
        user = users[index % len(users)]
        reply = telegram.expect_reply(int(user["id"]))
        started = time.monotonic()
        await _post(client, telegram, private_text(user, texts[index % len(texts)]))
        first = await asyncio.wait_for(reply, 30)
        return (first - started) * 1000

    return list(await asyncio.gather(*(one(index) for index in range(count))))


async def _user_a(client: Any, telegram: TimedTelegram, texts: list[str]) -> None:
    user = make_user(FLOODER_ID, "Aldo", language_code="it")
    interval = FLOOD_SECONDS / FLOOD_DRAFTS
    start = time.monotonic()
    for n in range(FLOOD_DRAFTS):
        await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        await _post(client, telegram, private_text(user, texts[(n * 7) % len(texts)]))


async def _main(args: argparse.Namespace) -> None:
    texts = _drafts()
    # DRAFTS_PER_MINUTE at its default, unlike the capacity benchmark.
    async with running("postcoach", args, texts, {"DRAFTS_PER_MINUTE": "10"}) as bot:
        telegram = bot.load._telegram
        client = bot.client
        # First contact (the accounts are created), not counted.
        await _others(client, telegram, texts, FLOOD_SECONDS)
        alone = await _others(client, telegram, texts, FLOOD_SECONDS)
        flood_started = time.monotonic()
        during, _ = await asyncio.gather(
            _others(client, telegram, texts, FLOOD_SECONDS), _user_a(client, telegram, texts)
        )
        flood_seconds = time.monotonic() - flood_started
        await asyncio.sleep(SETTLE)
        to_a = [m for m in telegram.sent_messages() if m.chat_id == FLOODER_ID]
    reviews = sum(1 for m in to_a if m.reply_markup)
    slow_down = sum(1 for m in to_a if "Piano" in (m.plain_text or ""))
    other = len(to_a) - reviews - slow_down
    p95_alone, p95_during = _percentile(alone, 0.95), _percentile(during, 0.95)
    added_p95 = p95_during - p95_alone
    added_max = max(during) - max(alone)
    print(
        f"other users alone:      {len(alone)} drafts, latency p50 "
        f"{statistics.median(alone):.0f} ms, p95 {p95_alone:.0f} ms, max {max(alone):.0f} ms"
    )
    print(
        f"other users with flood: {len(during)} drafts, latency p50 "
        f"{statistics.median(during):.0f} ms, p95 {p95_during:.0f} ms, max {max(during):.0f} ms"
    )
    print(
        f"added by the flood: p95 {added_p95:+.0f} ms, max {added_max:+.0f} ms (target <= 1000 ms)"
    )
    print(
        f"user A: {FLOOD_DRAFTS} drafts in {flood_seconds:.1f} s -> {reviews} reviews, "
        f"{slow_down} 'slow down' answer(s), {other} other messages; "
        f"{FLOOD_DRAFTS - reviews} drafts not reviewed, covered by the slow-down answer"
    )
    met = added_p95 <= 1000 and added_max <= 1000 and slow_down == 1 and reviews <= 10
    print(f"targets: {'met' if met else 'MISSED'}")
    print(f"exit code after SIGTERM: {bot.exit_code}")


def main(argv: list[str] | None = None) -> None:
    """Run the flood and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max-rate", type=float, default=30, help="TELEGRAM_MAX_RATE")
    args = parser.parse_args(argv)
    args.chats = 1
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
