"""Child processes for the benchmarks: spawn one, read its JSON lines with a deadline, stop it.

Each measured process is a fresh `python -m benchmarks._something` started from the
repository root. It reports on stdout, one JSON object a line; a thread reads them so the
parent can wait with a deadline, and stopping kills only that one process (by its pid).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


class Child:
    """A child process whose stdout JSON lines are read by a thread."""

    def __init__(
        self, module: str, args: list[str], env: dict[str, str] | None, stderr: IO[str]
    ) -> None:
        """Start `python -m module args...` in the repository root; stderr goes to `stderr`."""
        self._stderr = stderr
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for line in stdout:
            if line.startswith("{"):
                self._lines.put(line)
        self._lines.put(None)

    def next_event(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON line, or None at the deadline (perf_counter) or when the child ends."""
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.perf_counter()))
        except queue.Empty:
            return None
        if line is None:
            return None
        event: dict[str, Any] = json.loads(line)
        return event

    def failed(self) -> bool:
        """Whether the child has ended with an error."""
        return self.process.poll() not in (None, 0)

    def rss_mb(self) -> float:
        """The child's resident memory now."""
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        """The CPU time (user + system, all threads) the child has used so far."""
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stderr_tail(self, chars: int = 5000) -> str:
        """The end of what the child wrote on stderr."""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-chars:]

    def stop(self) -> None:
        """Kill the child if it still runs (only this process), and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
