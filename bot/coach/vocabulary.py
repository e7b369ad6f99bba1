"""Lemmas and word frequencies for Italian and English, kept small enough to load at start.

Lemmas come from simplemma, frequencies from wordfreq (Zipf scale: 7 for "the", 3 for a
word met once in a million, 1 for the rarest it lists). Both libraries load their whole
data as Python dicts: ~75 MB each for the two languages. So the first start builds
MARISA tries (marisa-trie, as simplemma's own `TrieDictionaryFactory` does) into the
cache folder, and later starts read ~3 MB per language in a few milliseconds. wordfreq is
imported only to build its trie. Without a cache folder the tries are built in memory
each time the process starts (about a second).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path

import marisa_trie
from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import TrieDictionaryFactory

logger = logging.getLogger(__name__)

ZIPF_SCALE = 10  # a frequency is kept as round(zipf * 10) in one byte
WORD_CACHE_MAX = 20_000  # words remembered per language between reviews
FREQUENCY_FORMAT = "<B"


def _atomic_save(trie: marisa_trie.RecordTrie, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        trie.save(name)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _frequency_items(language: str) -> Iterable[tuple[str, tuple[int]]]:
    import wordfreq

    for word, frequency in wordfreq.get_frequency_dict(language, wordlist="large").items():
        zipf = wordfreq.freq_to_zipf(frequency)
        yield word, (max(0, min(255, round(zipf * ZIPF_SCALE))),)


def _frequency_trie(language: str, cache_dir: Path | None) -> marisa_trie.RecordTrie:
    if cache_dir is None:
        return marisa_trie.RecordTrie(FREQUENCY_FORMAT, _frequency_items(language))
    path = cache_dir / f"wordfreq-{version('wordfreq')}-{language}.marisa"
    if path.exists():
        try:
            return marisa_trie.RecordTrie(FREQUENCY_FORMAT).mmap(str(path))
        except (OSError, RuntimeError, ValueError) as exc:
            logger.warning("word frequencies unreadable in %s, rebuilding: %s", path, exc)
    trie = marisa_trie.RecordTrie(FREQUENCY_FORMAT, _frequency_items(language))
    try:
        _atomic_save(trie, path)
    except OSError as exc:
        # A read-only disk costs a slower start, nothing else.
        logger.warning("word frequencies not cached in %s: %s", cache_dir, exc)
    return trie


class Vocabulary:
    """What the rules know of a word: its lemma and how common it is, per language."""

    def __init__(self, languages: Sequence[str], cache_dir: Path | None) -> None:
        self._languages = tuple(languages)
        factory = (
            TrieDictionaryFactory(use_disk_cache=False)
            if cache_dir is None
            else TrieDictionaryFactory(
                disk_cache_dir=str(cache_dir / f"simplemma-{version('simplemma')}")
            )
        )
        # simplemma's own cache is per process and unbounded in words kept; ours is.
        self._lemmatizer = Lemmatizer(
            cache_max_size=0, lemmatization_strategy=DefaultStrategy(dictionary_factory=factory)
        )
        self._frequencies = {
            language: _frequency_trie(language, cache_dir) for language in self._languages
        }
        self._words: dict[str, dict[str, tuple[str, float]]] = {
            language: {} for language in self._languages
        }
        for language in self._languages:
            self._lemmatizer.lemmatize("a", language)  # loads the language's trie now

    def word(self, key: str, language: str) -> tuple[str, float]:
        """The lemma and the Zipf frequency of a lower-case word (0.0 when unknown)."""
        known = self._words[language]
        found = known.get(key)
        if found is not None:
            return found
        lemma = self._lemmatizer.lemmatize(key, language).lower()
        record = self._frequencies[language].get(key)
        zipf = record[0][0] / ZIPF_SCALE if record else 0.0
        if lemma != key:
            # A rare inflection of a common word is as readable as the word.
            lemma_record = self._frequencies[language].get(lemma)
            if lemma_record:
                zipf = max(zipf, lemma_record[0][0] / ZIPF_SCALE)
        if len(known) >= WORD_CACHE_MAX:
            known.clear()
        found = known[key] = (lemma, zipf)
        return found

    def lemma(self, key: str, language: str) -> str:
        """The lemma of a lower-case word (the word itself when simplemma has none)."""
        return self.word(key, language)[0]

    def zipf(self, key: str, language: str) -> float:
        """How common a lower-case word is, on wordfreq's Zipf scale (0.0 when unknown)."""
        return self.word(key, language)[1]


@cache
def vocabulary(languages: tuple[str, ...], cache_dir: Path | None) -> Vocabulary:
    """One vocabulary per process and cache folder: the tries are read once."""
    return Vocabulary(languages, cache_dir)
