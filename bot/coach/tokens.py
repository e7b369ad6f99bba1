"""A text split into words once per review: spans, lemmas, rarity, quotes, negation.

Every word list and every structural signal reads the same `Tokens`. Words are runs of
letters (an apostrophe separates them: "l'acqua" is "l" and "acqua", "don't" is "don"
and "t"). Each word knows:

- its lemma and Zipf frequency (bot.coach.vocabulary), so rules match "pompe" to
  "pompa" and call a word rare without a list of rare words;
- whether it sits inside a quotation («…», “…”, "…", „…“, ‘…’): words inside someone
  else's quote are not the author's stance, voice or bait;
- whether a negation governs it ("no drawings", "niente cantiere", "not a project"):
  from a negator to the end of its clause, at most a few words on;
- which sentence it belongs to (sentences end at . ! ? … and at line breaks).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.coach.vocabulary import Vocabulary

TOKEN_RE = re.compile(r"[^\W\d_]+")
DIGIT_RE = re.compile(r"\d")
QUOTE_RE = re.compile(
    r"«[^«»]{1,600}»|“[^“”]{1,600}”|„[^„“”]{1,600}[“”]|‘[^‘’\n]{1,300}’|\"[^\"\n]{1,600}\""
)
SENTENCE_BREAK_RE = re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+|\n")
CLAUSE_END_RE = re.compile(r"[,.;:!?()\[\]\n«»“”\"—–]")
APOSTROPHES = ("'", "’")


@dataclass(frozen=True)
class Negation:
    """The words that negate what follows them, and how far a negation reaches."""

    negators: frozenset[str]
    window: int  # words after the negator
    breakers: frozenset[str]  # words that end a negated clause ("ma", "but")


@dataclass(frozen=True)
class Tokens:
    """A text's words (letters only) and what is known of each, in parallel lists."""

    text: str
    lowered: str | None  # text.lower() when it keeps every position (it nearly always does)
    digits: bool  # the text has a digit
    ascii: bool  # the text is plain ASCII
    language: str
    spans: list[tuple[int, int]]
    starts: list[int]  # where each word starts
    keys: list[str]  # lower case
    lemmas: list[str]
    zipf: list[float]
    quoted: list[bool]
    negated: list[bool]
    sentence: list[int]  # index of the sentence holding the word
    breaks: list[int]  # where each sentence after the first starts
    quotes: list[tuple[int, int]]  # spans of quotation contents, marks included
    index: dict[str, list[int]]  # key -> positions
    lemma_index: dict[str, list[int]]  # lemma -> positions
    # What each word list found in this text, so rules sharing a list scan it once.
    memo: dict[tuple[int, tuple[int, int] | None], list[Any]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.keys)

    def in_quote(self, position: int) -> bool:
        """Whether a character position of the text lies inside a quotation."""
        return _inside(self.quotes, position)

    def position(self, char: int) -> int:
        """The index of the first word that starts at or after a character position."""
        return bisect_right(self.starts, char - 1)

    def sentence_at(self, char: int) -> int:
        """The index of the sentence holding a character position."""
        return bisect_right(self.breaks, char)


def _inside(spans: Sequence[tuple[int, int]], position: int) -> bool:
    for start, end in spans:
        if start <= position < end:
            return True
        if start > position:
            return False
    return False


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Where the quotations are (marks included), in order, without overlaps."""
    if not any(mark in text for mark in '«“„‘"'):
        return []
    return [match.span() for match in QUOTE_RE.finditer(text)]


def _sentence_starts(text: str) -> list[int]:
    return [match.end() for match in SENTENCE_BREAK_RE.finditer(text)]


def _negated(
    text: str, spans: list[tuple[int, int]], keys: list[str], negation: Negation
) -> list[bool]:
    negated = [False] * len(keys)
    for position, key in enumerate(keys):
        is_negator = key in negation.negators or (
            # "don't", "isn't": the "t" after an apostrophe
            key == "t" and position > 0 and text[spans[position][0] - 1] in APOSTROPHES
        )
        if not is_negator:
            continue
        for following in range(position + 1, min(len(keys), position + 1 + negation.window)):
            if CLAUSE_END_RE.search(text, spans[following - 1][1], spans[following][0]):
                break
            if keys[following] in negation.breakers:
                break
            negated[following] = True
    return negated


def tokenize(text: str, language: str, vocabulary: Vocabulary, negation: Negation) -> Tokens:
    """Split a text into words and annotate each one."""
    spans = [match.span() for match in TOKEN_RE.finditer(text)]
    lowered = text.lower()
    if len(lowered) == len(text):
        keys = [lowered[start:end] for start, end in spans]
    else:  # a few characters grow when lowered (İ): slice first, then lower
        keys = [text[start:end].lower() for start, end in spans]
    lemmas: list[str] = []
    zipf: list[float] = []
    word = vocabulary.word
    for key in keys:
        lemma, frequency = word(key, language)
        lemmas.append(lemma)
        zipf.append(frequency)
    quotes = quote_spans(text)
    quoted = [_inside(quotes, start) for start, _ in spans] if quotes else [False] * len(spans)
    breaks = _sentence_starts(text)
    starts = [start for start, _ in spans]
    sentence = [bisect_right(breaks, start) for start in starts]
    index: dict[str, list[int]] = {}
    lemma_index: dict[str, list[int]] = {}
    for position, (key, lemma) in enumerate(zip(keys, lemmas, strict=True)):
        index.setdefault(key, []).append(position)
        lemma_index.setdefault(lemma, []).append(position)
    return Tokens(
        text=text,
        lowered=lowered if len(lowered) == len(text) else None,
        digits=DIGIT_RE.search(text) is not None,
        ascii=text.isascii(),
        language=language,
        spans=spans,
        starts=starts,
        keys=keys,
        lemmas=lemmas,
        zipf=zipf,
        quoted=quoted,
        negated=_negated(text, spans, keys, negation),
        sentence=sentence,
        breaks=breaks,
        quotes=quotes,
        index=index,
        lemma_index=lemma_index,
    )
