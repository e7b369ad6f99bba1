"""The fact guard: figures, names and links in a rewrite that its draft does not have.

A language model asked to improve a post may "improve" the facts too. This module compares
the two texts and lists what the rewrite brings in: numbers (25%, 1.000, 3,5, 9:30), links,
e-mail addresses, @handles, #hashtags, and capitalised words that are not at the start of a
sentence (names of people, places, firms). It is pure and deliberately plain: it points at
what the user should check, it does not judge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

FactKind = Literal["number", "link", "handle", "hashtag", "name"]

_TRAILING = ".,;:!?)]}>\"'»”’…"
_BARE_TLDS = "com|it|org|net|io|eu|dev|co|uk|app|ly|me|info|biz|ai|ch|de|fr|es|edu|gov|tv|us|ca|au"
# Links first, so the numbers and names inside them are not counted twice.
_LINK = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.(?:{_BARE_TLDS})\b(?:/\S*)?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w.@])@\w{2,}")
_HASHTAG = re.compile(r"(?<![\w&#])#\w*[^\W\d_]\w*")
_NUMBER = re.compile(
    r"(?<![\w.,])\d+(?:[.,:]\d+)*(?:\s?%|\s(?:per\s?cento|percent|per\scent)\b)?",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(?:%|per\s?cento|percent|per\scent)$", re.IGNORECASE)
# A list marker at the start of a line ("1. ", "2) ") is layout, not a figure.
_LIST_MARKER = re.compile(r"^[ \t]*\d{1,2}[.)][ \t]", re.MULTILINE)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_END = frozenset(".!?…:;\n")
# A full stop after these abbreviations ("ing. Rossi", "Dr. Smith") does not end a sentence.
_ABBREVIATIONS = frozenset(
    {"ing", "dott", "dr", "arch", "geom", "avv", "prof", "sig", "sigg", "mr", "mrs", "ms", "st"}
)
# Words that are capitalised for grammar, not because they name something.
_NOT_NAMES = frozenset({"i", "i'm", "i've", "i'd", "i'll"})
_THOUSANDS = {".": re.compile(r"\d{1,3}(?:\.\d{3})+"), ",": re.compile(r"\d{1,3}(?:,\d{3})+")}


@dataclass(frozen=True)
class Fact:
    """One figure, link, handle, hashtag or name, as written in the text."""

    kind: FactKind
    text: str


def _strip_link(link: str) -> str:
    return link.rstrip(_TRAILING)


def _link_key(link: str) -> str:
    key = link.casefold()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key)
    return key.rstrip("/")


def number_values(token: str) -> frozenset[object]:
    """Every value a written number can mean (1.000 is a thousand in Italian, one in English).

    Percentages keep a "%" so that 25% only matches another 25%; times and dotted codes
    (9:30, 1.2.3) match only themselves.
    """
    percent = bool(_PERCENT.search(token))
    digits = _digits(token)
    values: set[object] = set()
    if ":" in digits:
        values.add(digits)
    elif "." in digits and "," in digits:
        # The last separator is the decimal one, the others group thousands.
        decimal_mark = "." if digits.rfind(".") > digits.rfind(",") else ","
        grouping = "," if decimal_mark == "." else "."
        values.add(_decimal(digits.replace(grouping, "").replace(decimal_mark, ".")))
    else:
        for mark in (".", ","):
            if mark not in digits:
                continue
            if _THOUSANDS[mark].fullmatch(digits):
                values.add(_decimal(digits.replace(mark, "")))
            if digits.count(mark) == 1:
                values.add(_decimal(digits.replace(mark, ".")))
        if not values:
            values.add(_decimal(digits) if digits.isdigit() else digits)
    values.discard(None)
    if percent:
        return frozenset(("%", value) for value in values)
    return frozenset(values)


def _digits(token: str) -> str:
    """The figure of a number token without its percent sign or words."""
    return _PERCENT.sub("", token).strip()


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text).normalize()
    except InvalidOperation:
        return None


def _remove(text: str, spans: Iterable[tuple[int, int]]) -> str:
    # Blanks of the same length keep every other offset valid.
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _links(text: str) -> tuple[list[tuple[int, str]], str]:
    found = []
    spans = []
    for match in _LINK.finditer(text):
        link = _strip_link(match.group())
        if link:
            found.append((match.start(), link))
            spans.append((match.start(), match.start() + len(link)))
    return found, _remove(text, spans)


def _at_sentence_start(text: str, start: int) -> bool:
    index = start - 1
    # Skip spaces, quotes, bullets and emoji back to the last character that says something.
    while index >= 0 and not (text[index].isalnum() or text[index] in _SENTENCE_END):
        if text[index] == ",":
            return False
        index -= 1
    if index < 0:
        return True
    if text[index] == ".":
        before = re.search(r"(\w+)$", text[:index])
        return not (before and before.group(1).casefold() in _ABBREVIATIONS)
    return text[index] in _SENTENCE_END


def _names(text: str) -> Iterator[tuple[int, str]]:
    """Runs of capitalised words that do not open a sentence ("Mario Rossi", "Modena")."""
    run: list[str] = []
    run_start = run_end = -1
    for match in _WORD.finditer(text):
        word = match.group()
        capitalised = (
            word[0].isupper()
            and len(word) > 1
            and word.casefold() not in _NOT_NAMES
            and word.casefold() not in _ABBREVIATIONS
        )
        # A run goes on across single spaces only: "Mario Rossi", not "Mario, Rossi".
        if run and capitalised and text[run_end : match.start()] == " ":
            run.append(word)
            run_end = match.end()
            continue
        if run:
            yield run_start, " ".join(run)
            run = []
        if capitalised and not _at_sentence_start(text, match.start()):
            run = [word]
            run_start, run_end = match.start(), match.end()
    if run:
        yield run_start, " ".join(run)


def _words(text: str) -> frozenset[str]:
    return frozenset(word.casefold() for word in _WORD.findall(text))


def _numbers(text: str) -> Iterator[tuple[int, str]]:
    text = _remove(text, (match.span() for match in _LIST_MARKER.finditer(text)))
    for match in _NUMBER.finditer(text):
        yield match.start(), " ".join(match.group().split())


def facts(text: str) -> list[Fact]:
    """The facts of a text, in order of appearance (repeats included)."""
    links, rest = _links(text)
    found: list[tuple[int, Fact]] = [(at, Fact("link", link)) for at, link in links]
    tags = [*_HANDLE.finditer(rest), *_HASHTAG.finditer(rest)]
    found += [
        (m.start(), Fact("handle" if m.group().startswith("@") else "hashtag", m.group()))
        for m in tags
    ]
    rest = _remove(rest, (m.span() for m in tags))
    found += [(at, Fact("number", number)) for at, number in _numbers(rest)]
    found += [(at, Fact("name", name)) for at, name in _names(rest)]
    found.sort(key=lambda pair: pair[0])
    return [fact for _, fact in found]


def new_facts(draft: str, rewrite: str, known: Iterable[str] = ()) -> tuple[Fact, ...]:
    """What the rewrite states that the draft does not: each fact once, in the rewrite's order.

    `known` are words the rewrite may use freely (the platform's name, say). A name counts as
    present when each of its words appears anywhere in the draft, in any case.
    """
    draft_facts = facts(draft)
    links = {_link_key(f.text) for f in draft_facts if f.kind == "link"}
    tags = {f.text.casefold() for f in draft_facts if f.kind in ("handle", "hashtag")}
    numbers: set[object] = set()
    for fact in draft_facts:
        if fact.kind == "number":
            numbers |= number_values(fact.text)
            # A bare figure in the rewrite may repeat a percentage of the draft.
            numbers |= number_values(_digits(fact.text))
    words = _words(draft) | _words(" ".join(known))
    reported: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for fact in facts(rewrite):
        if fact.kind == "link":
            present = _link_key(fact.text) in links
        elif fact.kind in ("handle", "hashtag"):
            present = fact.text.casefold() in tags
        elif fact.kind == "number":
            present = bool(number_values(fact.text) & numbers)
        else:
            present = all(word.casefold() in words for word in _WORD.findall(fact.text))
        key = (fact.kind, fact.text.casefold())
        if not present and key not in seen:
            seen.add(key)
            reported.append(fact)
    return tuple(reported)
