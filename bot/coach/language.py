"""Is a draft Italian or English? py3langid restricted to the two, function words as fallback.

py3langid ships its model (nothing is downloaded) and classifies a post in about 0.1 ms.
Its model is LZMA-compressed: decompressing it takes about a second and ~50 MB at every
start. So the first start keeps a copy in a cache folder (CACHE_DIR), trimmed to our two
languages and laid out to be mapped from disk: later starts open it in milliseconds, and
only the pages of the tokenizer a draft walks through are ever read into memory.
Short or low-confidence texts are decided by counting Italian and English function words;
so are texts whose function words leave no doubt (the model is then not asked at all),
and function words clearly of the other language overrule a confident model (an Italian
post full of English loanwords is Italian).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import re
import tempfile
from array import array
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

logger = logging.getLogger(__name__)

WORD_RE = re.compile(r"[^\W\d_]+")
DECISIVE_VOTES = 8  # function words of one language that decide without the model...
DECISIVE_RATIO = 4  # ...when the other language has at most a quarter as many
GRAMMAR_MIN_VOTES = 4  # function words of another language that overrule the model...
GRAMMAR_RATIO = 2  # ...when they are at least this many times the model's language's


def _cache_files(folder: Path, languages: tuple[str, ...]) -> tuple[Path, Path]:
    stem = f"py3langid-{version('py3langid')}-{'-'.join(sorted(languages))}"
    return folder / f"{stem}.table", folder / f"{stem}.npz"


def _fresh(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    # set_languages keeps the full 97-language table (about 28 MB) for a later reset;
    # we never reset, so let it go. Guarded: it is py3langid's private slot.
    if hasattr(identifier, "_full_model"):
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _save(identifier: LanguageIdentifier, table: Path, arrays: Path) -> None:
    # Unsigned 32-bit whatever py3langid chose: the states number about 100,000.
    nextmove = array("I", identifier.tk_nextmove)
    table.parent.mkdir(parents=True, exist_ok=True)
    # The table first: the arrays file says the table is complete.
    _atomic_write(table, nextmove.tofile)
    _atomic_write(
        arrays,
        lambda file: np.savez(
            file,
            ptc=identifier.nb_ptc,
            pc=identifier.nb_pc,
            classes=np.array(identifier.nb_classes),
            row=np.asarray(identifier.tk_row, dtype=np.int64),
            output=np.asarray(identifier.tk_output, dtype=np.int64),
            table_length=np.array(len(nextmove)),
        ),
    )


def _open(table: Path, arrays: Path) -> LanguageIdentifier:
    with np.load(arrays, allow_pickle=False) as data:
        length = int(data["table_length"])
        ptc, pc = data["ptc"], data["pc"]
        classes = [str(value) for value in data["classes"]]
        row = data["row"].tolist()
        output = array("q", data["output"].tobytes())
    with table.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    nextmove = memoryview(mapped).cast("I")
    if len(nextmove) != length:
        raise ValueError(f"{table.name}: {len(nextmove)} entries, expected {length}")
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


@cache
def _identifier(languages: tuple[str, ...], cache_dir: Path | None) -> LanguageIdentifier:
    if cache_dir is None:
        return _fresh(languages)
    table, arrays = _cache_files(cache_dir, languages)
    if table.exists() and arrays.exists():
        try:
            return _open(table, arrays)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("language model cache unreadable, rebuilding it: %s", exc)
    identifier = _fresh(languages)
    try:
        _save(identifier, table, arrays)
        return _open(table, arrays)
    except OSError as exc:
        # A read-only disk costs a slower start, nothing else.
        logger.warning("language model not cached in %s: %s", cache_dir, exc)
        return identifier


class LanguageDetector:
    """Chooses among a fixed set of languages; the first one is the default."""

    def __init__(
        self,
        languages: Sequence[str],
        function_words: dict[str, frozenset[str]],
        *,
        model_min_letters: int,
        model_min_confidence: float,
        model_max_chars: int,
        model_cache: Path | None = None,
    ) -> None:
        self._languages = tuple(languages)
        self._model_cache = model_cache
        self._function_words = function_words
        self._min_letters = model_min_letters
        self._min_confidence = model_min_confidence
        self._max_chars = model_max_chars

    def warm_up(self) -> None:
        """Load the model now rather than on the first draft."""
        _identifier(self._languages, self._model_cache)

    @staticmethod
    def _decided_by_grammar(votes: dict[str, int]) -> str | None:
        """The language whose function words leave no doubt, or None."""
        ranked = sorted(votes.items(), key=lambda vote: vote[1], reverse=True)
        if len(ranked) < 2:
            return None
        (leader, most), (_, second) = ranked[0], ranked[1]
        if most >= DECISIVE_VOTES and most >= DECISIVE_RATIO * second:
            return leader
        return None

    @staticmethod
    def _grammar_disagrees(language: str, votes: dict[str, int]) -> bool:
        """Function words clearly of another language: an Italian post full of English
        loanwords ("framework", "workflow", "kick-off") is still Italian."""
        mine = votes.get(language, 0)
        return any(
            other != language and count >= GRAMMAR_MIN_VOTES and count >= GRAMMAR_RATIO * mine
            for other, count in votes.items()
        )

    def detect(self, text: str) -> str:
        """The draft's language; `text` should have links and hashtags removed already."""
        words = [word.casefold() for word in WORD_RE.findall(text)]
        letters = sum(len(word) for word in words)
        votes = {
            lang: sum(1 for word in words if word in self._function_words[lang])
            for lang in self._languages
        }
        model_choice: str | None = None
        decided = self._decided_by_grammar(votes)
        if decided is not None:
            return decided  # the model walks bytes in Python: no need to ask it
        # py3langid walks the text byte by byte in Python: the opening is enough.
        sample = text[: self._max_chars]
        if letters >= self._min_letters:
            language, confidence = _identifier(self._languages, self._model_cache).classify(sample)
            if confidence >= self._min_confidence and not self._grammar_disagrees(
                str(language), votes
            ):
                return str(language)
            model_choice = str(language)
        best = max(votes.values(), default=0)
        leaders = [lang for lang in self._languages if votes[lang] == best]
        if best > 0 and len(leaders) == 1:
            return leaders[0]
        if model_choice is None and letters > 0:
            # Too short for the model's threshold, and function words do not decide.
            language, _ = _identifier(self._languages, self._model_cache).classify(sample)
            model_choice = str(language)
        return model_choice or self._languages[0]
