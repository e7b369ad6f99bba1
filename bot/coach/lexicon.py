"""Word lists from the rule files, compiled once and matched against a tokenised text.

An entry is a word or a phrase matched as whole words, case-insensitively: spaces in a
phrase match any run of white space, an apostrophe matches ' or ’, a trailing `*`
matches any word ending (`progett*`), a leading `*` any word with that ending and at
least two letters before it (`*iamo`), and a lone `*` any word (`ho *`). The first
word of a phrase is written out. An entry starting with `re:` is a raw regular
expression, and so is any entry with characters other than letters, spaces and
apostrophes (`like4like`, `best-in-class`).

Plain entries are matched through set look-ups on the text's words (tokenised once per
text and cached), which is several times faster than one big case-insensitive regex
per list; the raw entries of a list share one compiled regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

RAW_PREFIX = "re:"
TOKEN_RE = re.compile(r"[^\W\d_]+")
PLAIN_PART_RE = re.compile(r"\*[^\W\d_]*|[^\W\d_]+\*?")
SUFFIX_MIN_STEM = 2  # letters a `*ending` entry needs before the ending
APOSTROPHES = ("'", "’")


@dataclass(frozen=True)
class Tokens:
    """A text's words (letters only), their spans and lower-case keys."""

    text: str
    spans: list[tuple[int, int]]
    keys: list[str]
    index: dict[str, list[int]]


@lru_cache(maxsize=64)
def tokenize(text: str) -> Tokens:
    """Split a text into words once; every word list looks them up."""
    spans = [match.span() for match in TOKEN_RE.finditer(text)]
    lowered = text.lower()
    if len(lowered) == len(text):
        keys = [lowered[start:end] for start, end in spans]
    else:  # a few characters grow when lowered (İ): slice first, then lower
        keys = [text[start:end].lower() for start, end in spans]
    index: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        index.setdefault(key, []).append(position)
    return Tokens(text, spans, keys, index)


def _part_matches(key: str, part: str) -> bool:
    if part.startswith("*"):
        return len(key) >= len(part) - 1 + SUFFIX_MIN_STEM and key.endswith(part[1:])
    if part.endswith("*"):
        return key.startswith(part[:-1])
    return key == part


@dataclass(frozen=True)
class _Phrase:
    """Words after the first (maybe with wildcards), the separator before each."""

    rest: tuple[str, ...]
    separators: tuple[str, ...]


def _split_plain(term: str) -> tuple[list[str], list[str]] | None:
    """Words and separators of a plain entry, or None when it needs a regex."""
    words: list[str] = []
    separators: list[str] = []
    position = 0
    term = term.strip().lower()
    while position < len(term):
        match = PLAIN_PART_RE.match(term, position)
        if match is None:
            return None
        words.append(match.group(0))
        position = match.end()
        if position == len(term):
            break
        if term[position] in APOSTROPHES:
            separators.append("'")
            position += 1
        elif term[position].isspace():
            separators.append(" ")
            while position < len(term) and term[position].isspace():
                position += 1
        else:
            return None
    if not words or (len(words) > 1 and "*" in words[0]):
        return None
    if any(word.startswith("*") and word.endswith("*") and word != "*" for word in words):
        return None
    return words, separators


def _phrase_regex(term: str) -> str:
    """A plain-looking entry with other characters (like4like, best-in-class*)."""
    stem, wildcard = (term[:-1], True) if term.endswith("*") else (term, False)
    parts: list[str] = []
    for char in stem.strip():
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        elif char in APOSTROPHES:
            parts.append("['’]")
        else:
            parts.append(re.escape(char))
    return "".join(parts) + (r"\w*" if wildcard else "")


def compile_terms(terms: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word regex for entries (None if empty).

    Raises re.error for a bad `re:` entry; the loader turns it into a ChecklistError.
    """
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    alternatives = [
        f"(?:{term[len(RAW_PREFIX) :]})" if term.startswith(RAW_PREFIX) else _phrase_regex(term)
        for term in ordered
    ]
    body = "|".join(alternatives)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE | re.MULTILINE)


def compile_prefix(terms: Sequence[str]) -> re.Pattern[str] | None:
    """Like compile_terms, but an entry must open the text (greetings, fillers)."""
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    alternatives = [
        f"(?:{term[len(RAW_PREFIX) :]})" if term.startswith(RAW_PREFIX) else _phrase_regex(term)
        for term in ordered
    ]
    return re.compile(rf"^(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


class Lexicon:
    """A compiled word list: find its entries in a text, in order of appearance."""

    __slots__ = ("_heads", "_phrases", "_prefixes", "_regex", "_suffixes", "_words")

    def __init__(self, terms: Sequence[str]) -> None:
        words: set[str] = set()
        prefixes: list[str] = []
        suffixes: list[str] = []
        phrases: dict[str, list[_Phrase]] = {}
        raw: list[str] = []
        for term in terms:
            split = None if term.startswith(RAW_PREFIX) else _split_plain(term)
            if split is None:
                raw.append(term)
                continue
            parts, separators = split
            if len(parts) == 1:
                if parts[0] == "*":
                    raw.append(term)  # any word at all: let the regex say so
                elif parts[0].startswith("*"):
                    suffixes.append(parts[0][1:])
                elif parts[0].endswith("*"):
                    prefixes.append(parts[0][:-1])
                else:
                    words.add(parts[0])
                continue
            phrase = _Phrase(rest=tuple(parts[1:]), separators=tuple(separators))
            phrases.setdefault(parts[0], []).append(phrase)
        for candidates in phrases.values():
            # Longest first, as a reader would: "secondo me" before "secondo".
            candidates.sort(key=lambda phrase: len(phrase.rest), reverse=True)
        self._words = frozenset(words)
        self._prefixes = tuple(prefixes)
        self._suffixes = tuple(suffixes)
        self._phrases = phrases
        self._heads = frozenset(phrases)
        self._regex = compile_terms(raw)

    def _phrase_end(self, tokens: Tokens, first: int, phrase: _Phrase) -> int | None:
        last = first + len(phrase.rest)
        if last >= len(tokens.keys):
            return None
        for offset, (word, separator) in enumerate(
            zip(phrase.rest, phrase.separators, strict=True), start=1
        ):
            gap = tokens.text[
                tokens.spans[first + offset - 1][1] : tokens.spans[first + offset][0]
            ]
            if separator == "'" and gap not in APOSTROPHES:
                return None
            if separator == " " and (not gap or not gap.isspace()):
                return None
            if not _part_matches(tokens.keys[first + offset], word):
                return None
        return tokens.spans[last][1]

    def _spans(self, text: str) -> list[tuple[int, int]]:
        tokens = tokenize(text)
        found: list[tuple[int, int]] = []
        for word in self._words & tokens.index.keys():
            found.extend(tokens.spans[position] for position in tokens.index[word])
        if self._prefixes:
            found.extend(
                span
                for span, key in zip(tokens.spans, tokens.keys, strict=True)
                if key.startswith(self._prefixes)
            )
        if self._suffixes:
            found.extend(
                span
                for span, key in zip(tokens.spans, tokens.keys, strict=True)
                if key.endswith(self._suffixes)
                and any(_part_matches(key, f"*{suffix}") for suffix in self._suffixes)
            )
        for head in self._heads & tokens.index.keys():
            for position in tokens.index[head]:
                for phrase in self._phrases[head]:
                    end = self._phrase_end(tokens, position, phrase)
                    if end is not None:
                        found.append((tokens.spans[position][0], end))
                        break
        if self._regex is not None:
            found.extend(match.span() for match in self._regex.finditer(text))
        # Overlapping matches count once: the earliest, and the longest of those.
        found.sort(key=lambda span: (span[0], -span[1]))
        kept: list[tuple[int, int]] = []
        for start, end in found:
            if not kept or start >= kept[-1][1]:
                kept.append((start, end))
        return kept

    def find(self, text: str) -> list[str]:
        """Every match, in order of appearance, as the user wrote it."""
        if not text:
            return []
        return [text[start:end] for start, end in self._spans(text)]

    def search(self, text: str) -> bool:
        """Whether any entry occurs in the text."""
        return bool(text) and bool(self._spans(text))


def unique(found: Iterable[str]) -> tuple[str, ...]:
    """The matches without case-insensitive repeats, first spelling kept, in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for item in found:
        key = " ".join(item.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return tuple(kept)
