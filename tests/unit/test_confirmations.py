"""Send outcomes are written in batches: by count, by age, and all at the end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.claims import Batch, Claimed, Confirmations, Outcome


class RecordingSource:
    """A ledger that only records what it is asked to settle."""

    renew_every = 1.0

    def __init__(self) -> None:
        self.batches: list[tuple[list[int], list[int], list[int]]] = []

    async def claim_batch(self, *, tick_started: datetime) -> Batch[Claimed]:
        return Batch([], 0)

    async def renew(self, send_ids: Sequence[int]) -> None:
        pass

    async def settle(
        self, sent: Sequence[int], failed: Sequence[int], released: Sequence[int]
    ) -> None:
        self.batches.append((list(sent), list(failed), list(released)))


def _confirmations(source: RecordingSource, clock: list[float], **options: Any) -> Confirmations:
    return Confirmations(source, monotonic=lambda: clock[0], **options)


async def test_a_full_batch_is_written_at_once() -> None:
    source, clock = RecordingSource(), [0.0]
    confirmations = _confirmations(source, clock, flush_every=3, max_age=10)
    await confirmations.add(1, Outcome.SENT)
    await confirmations.add(2, Outcome.FAILED)
    assert source.batches == []
    await confirmations.add(3, Outcome.RELEASED)
    assert source.batches == [([1], [2], [3])]


async def test_a_kept_claim_is_not_written() -> None:
    source, clock = RecordingSource(), [0.0]
    confirmations = _confirmations(source, clock, flush_every=1)
    await confirmations.add(4, Outcome.KEPT)
    assert confirmations.pending == []
    await confirmations.flush()
    assert source.batches == []


async def test_an_old_batch_is_written_with_the_next_outcome() -> None:
    source, clock = RecordingSource(), [0.0]
    confirmations = _confirmations(source, clock, flush_every=100, max_age=0.25)
    await confirmations.add(1, Outcome.SENT)
    clock[0] = 0.3
    await confirmations.add(2, Outcome.SENT)
    assert source.batches == [([1, 2], [], [])]
    # The age counts from the oldest outcome of the new batch.
    clock[0] = 0.4
    await confirmations.add(3, Outcome.SENT)
    assert len(source.batches) == 1
    assert confirmations.pending == [3]


async def test_flush_writes_what_is_left() -> None:
    source, clock = RecordingSource(), [0.0]
    confirmations = _confirmations(source, clock)
    await confirmations.add(7, Outcome.SENT)
    await confirmations.flush()
    assert source.batches == [([7], [], [])]
