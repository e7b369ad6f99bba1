"""A fresh process for `benchmarks.review_speed`: how long the checklist takes to load, and
how much memory its word data (lemmas, frequencies, thesaurus) adds.

It imports what the checklist needed before the word data existed (hyphenation, emoji,
YAML, pydantic; the language model needs no library of its own once it is in CACHE_DIR)
and reads its resident memory; then it builds the
vocabulary (simplemma and wordfreq tries from CACHE_DIR) and the thesaurus, and reads it
again; then it times `load_checklist` as the bot calls it. The last stdout line is a JSON
object with the figures.

Usage: `python -m benchmarks._checklist_child CACHE_DIR`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def main() -> None:
    """Print {"before_mb", "data_mb", "data_ms", "load_ms", "total_mb"} as JSON."""
    cache = Path(sys.argv[1])
    import emoji  # noqa: F401 - what the checklist imported before the word data
    import pydantic  # noqa: F401
    import pyphen  # noqa: F401
    import yaml  # noqa: F401

    before = _rss_mb()
    start = time.perf_counter()
    from bot.coach.config import ThesaurusFile, read_model
    from bot.coach.engine import default_directory
    from bot.coach.review import LANGUAGES
    from bot.coach.thesaurus import Thesaurus
    from bot.coach.tokens import Negation
    from bot.coach.vocabulary import vocabulary

    words = vocabulary(LANGUAGES, cache)
    negation = {lang: Negation(frozenset(), 4, frozenset()) for lang in LANGUAGES}
    thesaurus_file = read_model(default_directory(), "thesaurus.yaml", ThesaurusFile)
    Thesaurus(thesaurus_file, words, negation, {lang: 4.4 for lang in LANGUAGES})
    data_ms = (time.perf_counter() - start) * 1000
    after = _rss_mb()

    from bot.coach import load_checklist

    start = time.perf_counter()
    load_checklist(model_cache=cache)
    load_ms = (time.perf_counter() - start) * 1000
    print(
        json.dumps(
            {
                "before_mb": round(before, 1),
                "data_mb": round(after - before, 1),
                "data_ms": round(data_ms),
                "load_ms": round(load_ms),
                "total_mb": round(_rss_mb(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
