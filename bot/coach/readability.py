"""Offline readability: Gulpease for Italian, Flesch reading ease for English.

Syllables come from pyphen's hyphenation dictionary (en_US, margins of one letter).
textstat was measured and left out: for English it loads NLTK's CMU dictionary, which
is not shipped and would be downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import pyphen


@cache
def _hyphenator() -> pyphen.Pyphen:
    # Margins of one letter let "a-bout" split; the default (2, 2) undercounts short words.
    return pyphen.Pyphen(lang="en_US", left=1, right=1)


@lru_cache(maxsize=8192)
def english_syllables(word: str) -> int:
    """Syllables of one English word (hyphenation points + 1, at least 1)."""
    return len(_hyphenator().positions(word.lower())) + 1


def gulpease(sentences: int, words: int, letters: int) -> float:
    """Gulpease index: 89 + (300 x sentences - 10 x letters) / words; 0..100, higher is easier."""
    if words == 0:
        return 100.0
    return 89 + (300 * sentences - 10 * letters) / words


def flesch(sentences: int, words: Sequence[str]) -> float:
    """Flesch reading ease: 206.835 - 1.015 words/sentence - 84.6 syllables/word."""
    if not words:
        return 100.0
    syllables = sum(english_syllables(word) for word in words)
    return 206.835 - 1.015 * len(words) / max(sentences, 1) - 84.6 * syllables / len(words)


def italian_counts(words: Sequence[str]) -> tuple[int, int]:
    """Words and letters as Gulpease counts them: an elision ("l'acqua") is two words."""
    count = 0
    letters = 0
    for word in words:
        parts = word.replace("’", "'").split("'")
        count += len(parts)
        letters += sum(len(part) for part in parts)
    return count, letters
