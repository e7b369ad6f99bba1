"""A draft taken apart once per review: links, hashtags, emoji, lines, sentences, words.

Every rule reads the same `Draft`, so the text is scanned a handful of times per review
instead of once per rule. Emoji are found with the `emoji` package's data through a
fast scanner (a candidate-character regex, then a longest-match look-up).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import emoji

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
HASHTAG_RE = re.compile(r"(?<![\w#&])#(?=\w*[^\W\d_])\w+")
MENTION_RE = re.compile(r"(?<![\w@])@\w+")
# A run of hashtags closing a line is a tag block, not part of a sentence.
TRAILING_TAGS_RE = re.compile(r"(?:[ \t]*(?<![\w#&])#(?=\w*[^\W\d_])\w+)+[ \t]*$", re.MULTILINE)
SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+")
URL_TRAILING_PUNCTUATION = ".,;:!?)]}>»\"'’”"
LETTER_RE = re.compile(r"[^\W\d_]")


KEYCAP_MARKS = "\ufe0f\u20e3"
KEYCAP_BASES = "0123456789#*"
CANDIDATE_GAP = 256  # code points; wider ranges mean fewer, faster-to-test ranges


def _ranges(code_points: list[int]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for code in code_points:
        if merged and code - merged[-1][1] <= CANDIDATE_GAP:
            merged[-1][1] = code
        else:
            merged.append([code, code])
    return [(low, high) for low, high in merged]


@cache
def _emoji_tables() -> tuple[frozenset[str], tuple[int, ...], re.Pattern[str]]:
    keys = frozenset(emoji.EMOJI_DATA)
    lengths = tuple(sorted({len(key) for key in keys}, reverse=True))
    firsts = sorted({ord(key[0]) for key in keys if not key[0].isascii()})
    # A few broad code-point ranges are a cheap filter (a class of 1,400 single
    # characters, or a look-ahead for keycaps, made the scan ten times slower); the
    # dictionary look-up below decides. A keycap is found from its FE0F/20E3 mark.
    ranges = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in _ranges(firsts)
    )
    candidate = re.compile(f"[{ranges}{KEYCAP_MARKS}]")
    return keys, lengths, candidate


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of every emoji (a whole ZWJ/skin-tone/flag sequence counts once)."""
    if text.isascii():
        return []
    keys, lengths, candidate = _emoji_tables()
    spans: list[tuple[int, int]] = []
    covered = 0
    for match in candidate.finditer(text):
        start = match.start()
        if match.group(0) in KEYCAP_MARKS:
            if start == 0 or text[start - 1] not in KEYCAP_BASES:
                continue
            start -= 1
        if start < covered:
            continue
        for length in lengths:
            if text[start : start + length] in keys:
                spans.append((start, start + length))
                covered = start + length
                break
    return spans


def url_pattern(bare_domain_tlds: Sequence[str]) -> re.Pattern[str]:
    """Links with a scheme or www., and bare domains on the listed top-level domains."""
    tlds = "|".join(sorted((re.escape(tld) for tld in bare_domain_tlds), key=len, reverse=True))
    bare = (
        rf"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{tlds})(?![\w\-])(?:/\S*)?"
        if tlds
        else r"(?!x)x"
    )
    return re.compile(rf"(?:https?://|www\.)\S+|{bare}", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A draft's text and the pieces the rules need, computed once."""

    text: str  # NFC-normalised, as the user wrote it
    body: str  # without links, mentions and closing hashtag blocks; inline tags lose '#'
    urls: tuple[str, ...]
    url_spans: tuple[tuple[int, int], ...]  # in `text`
    hashtags: tuple[str, ...]
    emoji: tuple[tuple[int, int], ...]  # spans in `text`
    sentences: tuple[str, ...]  # of the body; lines break sentences too
    words: tuple[str, ...]  # of the body; letters only, apostrophes keep a word whole

    @property
    def word_count(self) -> int:
        """How many words the body has."""
        return len(self.words)

    @property
    def emoji_count(self) -> int:
        """How many emoji (sequences) the draft has."""
        return len(self.emoji)


class Analyzer:
    """Builds `Draft`s; holds the one configurable pattern (bare-domain links)."""

    def __init__(self, bare_domain_tlds: Sequence[str]) -> None:
        self._url_re = url_pattern(bare_domain_tlds)

    def urls(self, text: str) -> list[tuple[int, int]]:
        """Spans of the links in the text, trailing punctuation left out."""
        spans = []
        for match in self._url_re.finditer(text):
            url = match.group(0).rstrip(URL_TRAILING_PUNCTUATION)
            if url:
                spans.append((match.start(), match.start() + len(url)))
        return spans

    def analyse(self, text: str) -> Draft:
        """Take the draft apart; never raises on any string."""
        text = unicodedata.normalize("NFC", text)
        url_spans = self.urls(text)
        urls = tuple(text[start:end] for start, end in url_spans)
        without_urls = _cut(text, url_spans)
        # The tag and mention patterns are only run when a # or @ is there at all.
        hashtags = tuple(HASHTAG_RE.findall(without_urls)) if "#" in without_urls else ()
        body = MENTION_RE.sub(" ", without_urls) if "@" in without_urls else without_urls
        if hashtags:
            body = TRAILING_TAGS_RE.sub("", body)
            body = HASHTAG_RE.sub(lambda match: match.group(0)[1:], body)
        sentences = tuple(
            sentence.strip()
            for line in body.splitlines()
            for sentence in SENTENCE_END_RE.split(line)
            if LETTER_RE.search(sentence)
        )
        return Draft(
            text=text,
            body=body,
            urls=urls,
            url_spans=tuple(url_spans),
            hashtags=hashtags,
            emoji=tuple(emoji_spans(text)),
            sentences=sentences,
            words=tuple(WORD_RE.findall(body)),
        )


def _cut(text: str, spans: Sequence[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(" ")
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


class WeightedCounter:
    """X's weighted length, as twitter-text v3 counts it.

    Links count `url_chars`, each emoji sequence `emoji_chars`, code points in the light
    ranges (Latin and common punctuation) 1, any other UTF-16 code unit `default_chars`
    (twitter-text walks UTF-16, so a character beyond the BMP is two units).
    """

    def __init__(
        self,
        *,
        url_chars: int,
        emoji_chars: int,
        default_chars: int,
        light_ranges: Sequence[tuple[int, int]],
    ) -> None:
        self._url_chars = url_chars
        self._emoji_chars = emoji_chars
        self._default_chars = default_chars
        light = "".join(
            f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in light_ranges
        )
        self._heavy = re.compile(f"[^{light}]")

    def _plain(self, segment: str) -> int:
        if segment.isascii():
            return len(segment)
        extra = sum(
            self._default_chars * (2 if ord(char) > 0xFFFF else 1) - 1
            for char in self._heavy.findall(segment)
        )
        return len(segment) + extra

    def length(self, draft: Draft) -> int:
        """The weighted length of an analysed draft (its text is NFC already)."""
        special = sorted(
            [(start, end, self._url_chars) for start, end in draft.url_spans]
            + [(start, end, self._emoji_chars) for start, end in draft.emoji]
        )
        total = 0
        position = 0
        for start, end, weight in special:
            if start < position:
                continue  # an emoji inside a link: the link already counted
            total += self._plain(draft.text[position:start]) + weight
            position = end
        return total + self._plain(draft.text[position:])
