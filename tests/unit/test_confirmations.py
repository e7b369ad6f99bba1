"""Send outcomes are written in batches: by count, by age, and all at the end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from bot.nudges.service import Confirmations, NudgeService


class RecordingNudges:
    def __init__(self) -> None:
        self.batches: list[tuple[list[int], list[int]]] = []

    async def confirm_many(self, delivered: Sequence[int], failed: Sequence[int] = ()) -> None:
        self.batches.append((list(delivered), list(failed)))


def _confirmations(nudges: RecordingNudges, clock: list[float], **options: Any) -> Confirmations:
    return Confirmations(cast(NudgeService, nudges), monotonic=lambda: clock[0], **options)


async def test_a_full_batch_is_written_at_once() -> None:
    nudges, clock = RecordingNudges(), [0.0]
    confirmations = _confirmations(nudges, clock, flush_every=3, max_age=10)
    await confirmations.add(1, delivered=True)
    await confirmations.add(2, delivered=False)
    assert nudges.batches == []
    await confirmations.add(3, delivered=True)
    assert nudges.batches == [([1, 3], [2])]


async def test_an_old_batch_is_written_with_the_next_outcome() -> None:
    nudges, clock = RecordingNudges(), [0.0]
    confirmations = _confirmations(nudges, clock, flush_every=100, max_age=0.25)
    await confirmations.add(1, delivered=True)
    clock[0] = 0.3
    await confirmations.add(2, delivered=True)
    assert nudges.batches == [([1, 2], [])]
    # The age counts from the oldest outcome of the new batch.
    clock[0] = 0.4
    await confirmations.add(3, delivered=True)
    assert len(nudges.batches) == 1


async def test_flush_writes_what_is_left() -> None:
    nudges, clock = RecordingNudges(), [0.0]
    confirmations = _confirmations(nudges, clock)
    await confirmations.add(7, delivered=True)
    await confirmations.flush()
    assert nudges.batches == [([7], [])]
