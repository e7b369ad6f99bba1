"""How fast is `Checklist.review`, how long does the checklist load, how much memory does
its word data take? Times every corpus draft, and proselint for comparison.

Run from the repository root: `python benchmarks/review_speed.py` (or
`python -m benchmarks.review_speed`). Language detection is part of each review. For
each English draft the time of a review is divided by the time proselint 0.16 takes to
run all its checks on the same text. The load and the memory are measured in fresh
processes (benchmarks/_checklist_child.py): the first with an empty cache folder (the
tries are built), the second with the one it left (as every later start of the bot).
The last line is `review_median_ms: X`.

Targets: median <= 1 ms, p99 <= 5 ms per draft, ratio (postcoach / proselint) <= 0.5;
the checklist's load <= 600 ms from a filled cache; the word data <= 30 MB of RSS.
The figures are wall-clock times on whatever else the machine is doing: run it on a
quiet machine for numbers to compare.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "unit" / "corpus"


def _drafts() -> list[dict[str, Any]]:
    drafts: list[dict[str, Any]] = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        drafts.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["drafts"])
    return drafts


def _time_ms(run: Callable[[], object], rounds: int) -> list[float]:
    # Like timeit, the garbage collector is paused while timing, so a collection
    # triggered by earlier allocations does not land on one unlucky draft.
    gc.collect()
    gc.disable()
    try:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter_ns()
            run()
            samples.append((time.perf_counter_ns() - start) / 1e6)
        return samples
    finally:
        gc.enable()


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _load_figures(cache: Path) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks._checklist_child", str(cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def _print_load() -> None:
    with tempfile.TemporaryDirectory() as folder:
        cold = _load_figures(Path(folder))
        warm = _load_figures(Path(folder))
    for name, figures in (("empty cache", cold), ("filled cache", warm)):
        print(
            f"checklist load, {name}: {figures['data_ms'] + figures['load_ms']:.0f} ms "
            f"(word data {figures['data_ms']:.0f} ms, the rest {figures['load_ms']:.0f} ms); "
            f"word data (lemmas, frequencies, thesaurus) +{figures['data_mb']:.1f} MB RSS "
            f"(from {figures['before_mb']:.0f} MB; {figures['total_mb']:.0f} MB with the whole "
            "checklist)"
        )
    print("targets: load <= 600 ms (filled cache), word data <= 30 MB")


def main(argv: list[str] | None = None) -> None:
    """Print the timings; the last line is `review_median_ms: X`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="reviews per draft")
    parser.add_argument("--proselint-rounds", type=int, default=5, help="lints per draft")
    args = parser.parse_args(argv)

    # Run as a script, Python puts benchmarks/ on the path, not the repository root.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from proselint.checks import __register__
    from proselint.registry import CheckRegistry
    from proselint.tools import LintFile

    from bot.coach import load_checklist

    drafts = _drafts()
    _print_load()
    checklist = load_checklist()

    def reviewer(draft: dict[str, Any]) -> Callable[[], object]:
        return lambda: checklist.review(
            draft["text"], platform=draft["platform"], topics=draft.get("topics", ())
        )

    for draft in drafts:  # warm-up: caches (syllables, regex internals) filled once
        reviewer(draft)()
    per_draft = {draft["id"]: _time_ms(reviewer(draft), args.rounds) for draft in drafts}
    samples = [sample for values in per_draft.values() for sample in values]
    median = statistics.median(samples)
    print(f"postcoach review: {len(drafts)} drafts x {args.rounds} rounds = {len(samples)} runs")
    print(
        f"  median {median:.3f} ms   p99 {_percentile(samples, 0.99):.3f} ms   "
        f"max {max(samples):.3f} ms"
    )

    CheckRegistry().register_many(__register__)
    english = [draft for draft in drafts if draft["language"] == "en"]

    def linter(text: str) -> Callable[[], object]:
        return lambda: LintFile("<draft>", text).lint()

    for draft in english:
        linter(draft["text"])()
    ratios = []
    postcoach_total = proselint_total = 0.0
    for draft in english:
        ours = statistics.median(per_draft[draft["id"]])
        theirs = statistics.median(_time_ms(linter(draft["text"]), args.proselint_rounds))
        ratios.append(ours / theirs)
        postcoach_total += ours
        proselint_total += theirs
    print(
        f"proselint 0.16, all checks: {len(english)} English drafts, "
        f"median {proselint_total / len(english):.3f} ms per draft (mean of medians)"
    )
    print(
        f"ratio postcoach/proselint per English draft: median {statistics.median(ratios):.3f}"
        f"   max {max(ratios):.3f}   overall {postcoach_total / proselint_total:.3f}"
    )
    print("targets: median <= 1 ms, p99 <= 5 ms, ratio <= 0.5")
    print(f"review_median_ms: {median:.3f}")


if __name__ == "__main__":
    main()
