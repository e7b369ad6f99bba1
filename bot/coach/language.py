"""Is a draft Italian or English? py3langid's model restricted to the two, function words as
fallback.

py3langid ships its model (nothing is downloaded). Its model is LZMA-compressed:
decompressing it takes about a second and ~50 MB, and py3langid scores with numpy (~10 MB
imported for a sum over a few hundred features). So the first start keeps a copy in a
cache folder (CACHE_DIR), trimmed to our two languages and laid out as flat arrays to be
mapped from disk; every start after that opens it in a millisecond, scores a draft in plain
Python (`_Model.classify`, py3langid's own algorithm) and reads into memory only the pages
of the tokenizer a draft walks through. py3langid and numpy are imported only to build the
copy. Short or low-confidence texts are decided by counting Italian and English function
words; so are texts whose function words leave no doubt (the model is then not asked at
all), and function words clearly of the other language overrule a confident model (an
Italian post full of English loanwords is Italian).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import mmap
import os
import re
import struct
import tempfile
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

    # What the DFA walk indexes: a memoryview of the mapped file, or an array in memory.
    Ints = memoryview[int] | array[int]
    Floats = memoryview[float] | array[float]

logger = logging.getLogger(__name__)

WORD_RE = re.compile(r"[^\W\d_]+")
DECISIVE_VOTES = 8  # function words of one language that decide without the model...
DECISIVE_RATIO = 4  # ...when the other language has at most a quarter as many
GRAMMAR_MIN_VOTES = 4  # function words of another language that overrule the model...
GRAMMAR_RATIO = 2  # ...when they are at least this many times the model's language's
# The arrays file: this line, the header's length (4 bytes) and the header (JSON), padded
# to 8 bytes; then rowbase (uint32 per state), output (int32 per state) and ptc (float32
# per feature and class). Native byte order: the cache never leaves the machine.
MAGIC = b"postcoach-langid-arrays-1\n"
_HEADER_LENGTH = struct.Struct("<I")
_ALIGN = 8


def _encode(text: str) -> bytes:
    """The bytes py3langid walks: NFC, UTF-8, and all-caps text lowered first."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


class _Model:
    """py3langid's classifier (version 0.4, `norm_probs=True`) over flat arrays, without
    numpy: a byte-level DFA finds the features, naive Bayes scores them, and a softmax
    tempered by the text's length in bytes gives the confidence."""

    def __init__(
        self,
        classes: Sequence[str],
        pc: Sequence[float],
        ptc: Floats,
        nextmove: Ints,
        rowbase: Ints,
        output: Ints,
    ) -> None:
        self.classes = tuple(classes)
        self._pc = tuple(pc)
        self._ptc = ptc  # one row per feature, one weight per class
        self.nextmove = nextmove
        self._rowbase = rowbase  # a state's row in nextmove, times 256
        self._output = output  # the feature a state completes, or -1

    def classify(self, text: str) -> tuple[str, float]:
        """The most likely language and its probability, as py3langid's `classify`."""
        data = _encode(text)
        nextmove, rowbase, output = self.nextmove, self._rowbase, self._output
        state = 0
        features = []
        for byte in data:
            state = nextmove[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                features.append(feature)
        width = len(self.classes)
        scores = [0.0] * width
        if features:
            scores = list(self._pc)
            ptc = self._ptc
            for feature, count in Counter(features).items():
                weight = math.log1p(count)
                row = feature * width
                for column in range(width):
                    scores[column] += weight * ptc[row + column]
        temperature = 1.0 / math.sqrt(len(data) or 1)
        top = max(scores) * temperature
        exponentials = [math.exp(score * temperature - top) for score in scores]
        total = sum(exponentials)
        # The first of equal scores wins, as numpy's argmax.
        best = max(range(width), key=exponentials.__getitem__)
        return self.classes[best], exponentials[best] / total


def _cache_files(folder: Path, languages: tuple[str, ...]) -> tuple[Path, Path]:
    stem = f"py3langid-{version('py3langid')}-{'-'.join(sorted(languages))}"
    return folder / f"{stem}.table", folder / f"{stem}.arrays"


def _fresh(languages: tuple[str, ...]) -> LanguageIdentifier:
    """py3langid's own identifier, from its packaged model (imports numpy)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    if len(set(identifier.nb_classes)) != len(identifier.nb_classes):
        raise ValueError(f"languages {languages} share a label in py3langid's model")
    return identifier


def _model_from(identifier: LanguageIdentifier) -> _Model:
    """The identifier's model as flat arrays, in memory."""
    import numpy as np

    ptc = array("f")
    ptc.frombytes(np.ascontiguousarray(identifier.nb_ptc, dtype=np.float32).tobytes())
    return _Model(
        [str(label) for label in identifier.nb_classes],
        [float(value) for value in identifier.nb_pc],
        ptc,
        # Unsigned 32-bit whatever py3langid chose: the states number about 100,000.
        array("I", identifier.tk_nextmove),
        array("I", (row << 8 for row in identifier.tk_row)),
        array("i", identifier.tk_output),
    )


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


def _write_arrays(file: BinaryIO, header: dict[str, Any], parts: Sequence[array[Any]]) -> None:
    encoded = json.dumps(header).encode()
    start = len(MAGIC) + _HEADER_LENGTH.size + len(encoded)
    file.write(MAGIC + _HEADER_LENGTH.pack(len(encoded)) + encoded)
    file.write(b"\0" * (-start % _ALIGN))
    for part in parts:
        part.tofile(file)


def _save(model: _Model, table: Path, arrays: Path) -> None:
    assert isinstance(model.nextmove, array)
    table.parent.mkdir(parents=True, exist_ok=True)
    # The table first: the arrays file says the table is complete.
    _atomic_write(table, model.nextmove.tofile)
    header = {
        "classes": list(model.classes),
        "pc": list(model._pc),
        "table_length": len(model.nextmove),
        "states": len(model._rowbase),
        "features": len(model._ptc) // len(model.classes),
    }
    parts = [model._rowbase, model._output, model._ptc]
    _atomic_write(arrays, lambda file: _write_arrays(file, header, parts))  # type: ignore[arg-type]


def _map(path: Path) -> memoryview:
    with path.open("rb") as file:
        return memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))


def _open(table: Path, arrays: Path) -> _Model:
    """The model mapped from the cache files; ValueError when they do not fit together."""
    mapped = _map(arrays)
    if mapped[: len(MAGIC)] != MAGIC:
        raise ValueError(f"{arrays.name}: not a language model arrays file")
    (length,) = _HEADER_LENGTH.unpack_from(mapped, len(MAGIC))
    start = len(MAGIC) + _HEADER_LENGTH.size
    header = json.loads(bytes(mapped[start : start + length]))
    classes, states = list(header["classes"]), int(header["states"])
    offset = start + length + (-(start + length) % _ALIGN)
    sizes = (4 * states, 4 * states, 4 * int(header["features"]) * len(classes))
    if offset + sum(sizes) != len(mapped):
        raise ValueError(f"{arrays.name}: {len(mapped)} bytes, expected {offset + sum(sizes)}")
    rowbase = mapped[offset : offset + sizes[0]].cast("I")
    offset += sizes[0]
    output = mapped[offset : offset + sizes[1]].cast("i")
    offset += sizes[1]
    ptc = mapped[offset : offset + sizes[2]].cast("f")
    nextmove = _map(table).cast("I")
    if len(nextmove) != header["table_length"]:
        raise ValueError(
            f"{table.name}: {len(nextmove)} entries, expected {header['table_length']}"
        )
    return _Model(
        classes, [float(value) for value in header["pc"]], ptc, nextmove, rowbase, output
    )


@cache
def _identifier(languages: tuple[str, ...], cache_dir: Path | None) -> _Model:
    if cache_dir is None:
        return _model_from(_fresh(languages))
    table, arrays = _cache_files(cache_dir, languages)
    if table.exists() and arrays.exists():
        try:
            return _open(table, arrays)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("language model cache unreadable, rebuilding it: %s", exc)
    model = _model_from(_fresh(languages))
    try:
        _save(model, table, arrays)
        return _open(table, arrays)
    except OSError as exc:
        # A read-only disk costs a slower start, nothing else.
        logger.warning("language model not cached in %s: %s", cache_dir, exc)
        return model


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
