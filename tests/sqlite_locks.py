"""Another connection holding SQLite's write lock, and a watch on how long the loop is held."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def write_lock_held_elsewhere(path: Path, seconds: float) -> Iterator[threading.Thread]:
    """Another connection (a backup, `sqlite3` in a shell) holds the write lock a while."""
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            other.execute("COMMIT")
        finally:
            other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5), "the other connection never took the lock"
        yield holder
    finally:
        holder.join()


class LoopLag:
    """How late a task that wakes every 10 ms is woken: how long the loop was held."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - started - 0.01)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        await asyncio.sleep(0)  # the watch has started and sleeps: a held loop shows
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
