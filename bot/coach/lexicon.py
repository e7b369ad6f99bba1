"""Word lists from the rule files, compiled once and matched against a draft's `Tokens`.

A plain entry is a word or a phrase matched as whole words, case-insensitively:

- `parola` matches that form only; `~parola` any form of it (by lemma, every word of a
  phrase: `~pompa di calore` matches "pompe di calore", `~consegnare` "consegnato");
- a trailing `*` matches any ending (`progett*`), a leading `*` any word with that
  ending and at least two letters before it (`*iamo`), a lone `*` any word (`ho *`);
- spaces match any run of white space, an apostrophe matches ' or ’, a hyphen a hyphen;
  the first word of a phrase is written out.

A pattern entry is a mapping `{re: '...', examples: [...], counterexamples: [...]}`: a
regular expression matched case-insensitively as written (no word boundaries are added:
write `\\b` where one is meant), with the texts it must match and must not match. The
loader runs every example, so a pattern that can never match stops the start.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.coach.config import PatternTerm, Term
from bot.coach.tokens import APOSTROPHES, Tokens
from bot.coach.vocabulary import Vocabulary

PLAIN_PART_RE = re.compile(r"\*[^\W\d_]*|[^\W\d_]+\*?")
SUFFIX_MIN_STEM = 2  # letters a `*ending` entry needs before the ending
PATTERN_FLAGS = re.IGNORECASE | re.MULTILINE
EDGE_PUNCTUATION = " \t\n,;:.!?–—-"


Window = tuple[int, int]  # characters [start, end) of a text


class Hit(NamedTuple):
    """One match: its characters in the text, and the first word at or after its start."""

    start: int
    end: int
    first: int


@dataclass(frozen=True)
class _Part:
    kind: str  # "form", "lemma", "prefix", "suffix", "any"
    value: str
    written: str = ""  # a lemma part as written: its lemma may be another word's

    def matches(self, key: str, lemma: str) -> bool:
        if self.kind == "form":
            return key == self.value
        if self.kind == "lemma":
            # "porta" (a door) has the lemma "portare": "porte" (lemma "porta") matches.
            return lemma in (self.value, self.written) or key == self.written
        if self.kind == "prefix":
            return key.startswith(self.value)
        if self.kind == "suffix":
            return len(key) >= len(self.value) + SUFFIX_MIN_STEM and key.endswith(self.value)
        return True


@dataclass(frozen=True)
class _Phrase:
    """Words after the first, and the separator before each (" " or "'")."""

    rest: tuple[_Part, ...]
    separators: tuple[str, ...]
    # What the second word can be (its key or its lemma), None for a wildcard: a quick
    # test before the whole phrase is checked.
    second: frozenset[str] | None = None

    @classmethod
    def of(cls, rest: tuple[_Part, ...], separators: tuple[str, ...]) -> _Phrase:
        """A phrase with its quick test."""
        head = rest[0]
        second: frozenset[str] | None = None
        if head.kind == "form":
            second = frozenset({head.value})
        elif head.kind == "lemma":
            second = frozenset({head.value, head.written})
        return cls(rest, separators, second)


def _split_plain(term: str) -> tuple[list[str], list[str]] | None:
    """Words and separators of a plain entry, or None when it is not one."""
    words: list[str] = []
    separators: list[str] = []
    term = term.strip().lower()
    position = 1 if term.startswith("~") else 0
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
        elif term[position] == "-":
            separators.append("-")
            position += 1
        elif term[position].isspace():
            separators.append(" ")
            while position < len(term) and term[position].isspace():
                position += 1
        else:
            return None
    if not words:
        return None
    return words, separators


def check_plain(term: str) -> None:
    """Raise ValueError for an entry that is neither a plain word nor a plain phrase."""
    split = _split_plain(term)
    if split is None:
        raise ValueError(
            f"entry {term!r}: only letters, spaces, apostrophes, hyphens, ~ and * are allowed "
            "(write a pattern as {re: ..., examples: [...]})"
        )
    words, _ = split
    if len(words) > 1 and words[0].startswith("*"):
        raise ValueError(f"entry {term!r}: a phrase must start with a written-out word")


def _case_free(pattern: str) -> bool:
    """Whether a pattern has no upper-case letter of its own (escapes like \\S aside), so
    it matches the lower-cased text without IGNORECASE exactly as the text with it."""
    if "(?-i" in pattern:
        return False
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char.isupper():
            return False
        position += 1
    return True


_ZERO_WIDTH = {"AT", "ASSERT", "ASSERT_NOT"}


def _parse(pattern: str) -> Any:
    """CPython's own parse of a pattern: used for quick tests, never needed to match."""
    parser: Any = importlib.import_module("re._parser")
    return parser.parse(pattern).data


PREFIX_MAX_CHARS = 12
PREFILTER_MIN_CHARS = 3  # shorter literals ("è", "is") are in nearly every text


def _leading_literals(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    """The literal texts one of which every match of a parsed pattern starts with, or None
    when that cannot be told (a class, a repeat, an empty branch)."""
    position = 0
    while position < len(items) and str(items[position][0]) in _ZERO_WIDTH:
        position += 1
    if position == len(items):
        return None
    op, value = items[position]
    name = str(op)
    if name == "LITERAL":
        text = ""
        while (
            position < len(items)
            and str(items[position][0]) == "LITERAL"
            and len(text) < PREFIX_MAX_CHARS
        ):
            text += chr(items[position][1])
            position += 1
        return {text}
    if name == "SUBPATTERN":
        return _leading_literals(list(value[-1]))
    if name == "BRANCH":
        found: set[str] = set()
        for branch in value[1]:
            literals = _leading_literals(list(branch))
            if literals is None:
                return None
            found |= literals
        return found
    return None


def _required_sets(items: Sequence[tuple[Any, Any]]) -> list[set[str]]:
    """For each required part of a parsed pattern, the literals one of which it holds."""
    found: list[set[str]] = []
    position = 0
    while position < len(items):
        op, value = items[position]
        name = str(op)
        if name == "LITERAL":
            run = ""
            while position < len(items) and str(items[position][0]) == "LITERAL":
                run += chr(items[position][1])
                position += 1
            found.append({run})
            continue
        if name in ("SUBPATTERN", "BRANCH"):
            literals = _leading_literals([items[position]])
            if literals is not None:
                found.append(literals)
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and value[0] >= 1:
            literals = _leading_literals(list(value[2]))
            if literals is not None:
                found.append(literals)
        position += 1
    return found


def split_alternatives(pattern: str) -> list[str]:
    """A pattern's top-level alternatives ("a|b(c|d)" is "a", "b(c|d)"), so each can be
    tested on its own; the pattern itself when it has none."""
    parts: list[str] = []
    depth = 0
    in_class = False
    start = 0
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[position + 1 : position + 2] == "]":
                position += 1  # "[]...]": the first ] is a member
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:position])
            start = position + 1
        position += 1
    parts.append(pattern[start:])
    return parts if len(parts) > 1 and all(parts) else [pattern]


def _needs(pattern: str) -> tuple[bool, bool]:
    """Whether every match of a pattern holds a digit, and whether a non-ASCII character."""
    try:
        items = list(_parse(pattern))
    except Exception:
        return False, False
    digit = non_ascii = False
    for op, value in items:
        if str(op) == "IN":
            members: list[tuple[str, Any]] = [(str(kind), member) for kind, member in value]
            if [(kind, str(member)) for kind, member in members] == [
                ("CATEGORY", "CATEGORY_DIGIT")
            ]:
                digit = True
            elif members and all(
                (kind == "LITERAL" and member > 127) or (kind == "RANGE" and member[0] > 127)
                for kind, member in members
            ):
                non_ascii = True
        elif str(op) == "LITERAL" and value > 127:
            non_ascii = True
    return digit, non_ascii


def required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Lower-case texts one of which must occur for the pattern to match anywhere, so a
    text without any of them is skipped without running the regex; None: always run.
    Of the pattern's required parts, the one with the longest literals is chosen."""
    try:
        sets = _required_sets(list(_parse(pattern)))
    except Exception:
        return None
    usable = [
        literals
        for literals in sets
        if literals and all(text and text.isascii() for text in literals)
    ]
    if not usable:
        return None
    best = max(usable, key=lambda literals: min(len(text) for text in literals))
    if min(len(text) for text in best) < PREFILTER_MIN_CHARS:
        return None
    return tuple(sorted({text.lower() for text in best}))


def compile_pattern(term: PatternTerm) -> re.Pattern[str]:
    """The compiled pattern of an entry; raises re.error for a bad one."""
    return re.compile(term.pattern, PATTERN_FLAGS)


def pattern_problems(term: PatternTerm) -> list[str]:
    """What is wrong with a pattern's examples: the ones it misses or wrongly matches."""
    regex = compile_pattern(term)
    problems = [
        f"does not match its example {text!r}" for text in term.examples if not regex.search(text)
    ]
    problems += [
        f"matches its counterexample {text!r}"
        for text in term.counterexamples
        if regex.search(text)
    ]
    return problems


@dataclass(frozen=True)
class _Scan:
    """One pattern of a word list, compiled for the fastest way to run it."""

    regex: re.Pattern[str]  # case-insensitive, on the text
    lower: re.Pattern[str] | None  # case-sensitive, on the lower-cased text
    prefixes: tuple[str, ...] | None  # one of these must be in the text to match
    digit: bool  # every match holds a digit
    non_ascii: bool  # every match holds a character beyond ASCII (an emoji, a mark)

    @classmethod
    def of(cls, pattern: str) -> list[_Scan]:
        """One scan per top-level alternative: each gets its own quick test."""
        scans = []
        for part in split_alternatives(pattern):
            # IGNORECASE makes Python's re several times slower: a pattern without capitals
            # of its own runs on the lower-cased text instead.
            lower = re.compile(part, re.MULTILINE) if _case_free(part) else None
            digit, non_ascii = _needs(part)
            scans.append(
                cls(
                    re.compile(part, PATTERN_FLAGS),
                    lower,
                    required_prefixes(part),
                    digit,
                    non_ascii,
                )
            )
        return scans

    def may_match(self, tokens: Tokens, lowered: str) -> bool:
        """False when the text lacks what every match needs."""
        if self.digit and not tokens.digits:
            return False
        if self.non_ascii and tokens.ascii:
            return False
        return self.prefixes is None or any(text in lowered for text in self.prefixes)


class Lexicon:
    """A compiled word list for one language: find its entries in a draft's words."""

    __slots__ = (
        "_acronyms",
        "_forms",
        "_lemmas",
        "_phrases_by_form",
        "_phrases_by_lemma",
        "_prefixes",
        "_scans",
        "_suffixes",
    )

    def __init__(self, terms: Sequence[Term], language: str, vocabulary: Vocabulary) -> None:
        forms: set[str] = set()
        acronyms: set[str] = set()  # written in capitals: match only words in capitals
        lemmas: set[str] = set()
        prefixes: list[str] = []
        suffixes: list[str] = []
        by_form: dict[str, list[_Phrase]] = {}
        by_lemma_table: dict[str, list[_Phrase]] = {}
        scans: list[_Scan] = []
        for term in terms:
            if isinstance(term, PatternTerm):
                scans.extend(_Scan.of(term.pattern))
                continue
            check_plain(term)
            split = _split_plain(term)
            assert split is not None  # checked just above
            words, separators = split
            by_lemma = term.strip().startswith("~")
            parts = [self._part(word, by_lemma, language, vocabulary) for word in words]
            written = term.strip().lstrip("~")
            if len(parts) == 1 and len(written) >= 2 and written.isupper() and written.isalpha():
                acronyms.add(words[0])  # "CI", "VIA", "APE": not "ci", "via", "ape"
                continue
            if len(parts) == 1:
                part = parts[0]
                if part.kind == "any":
                    scans.extend(_Scan.of(r"\b[^\W\d_]+\b"))
                elif part.kind == "form":
                    forms.add(part.value)
                elif part.kind == "lemma":
                    lemmas.update((part.value, part.written))
                    forms.add(words[0])
                elif part.kind == "prefix":
                    prefixes.append(part.value)
                else:
                    suffixes.append(part.value)
                continue
            phrase = _Phrase.of(tuple(parts[1:]), tuple(separators))
            head = parts[0]
            if head.kind == "lemma":
                for lemma in {head.value, head.written}:
                    by_lemma_table.setdefault(lemma, []).append(phrase)
                by_form.setdefault(words[0], []).append(phrase)
            else:
                by_form.setdefault(head.value, []).append(phrase)
        for table in (by_form, by_lemma_table):
            for candidates in table.values():
                # Longest first, as a reader would: "secondo me" before "secondo".
                candidates.sort(key=lambda phrase: len(phrase.rest), reverse=True)
        self._forms = frozenset(forms)
        self._acronyms = frozenset(acronyms)
        self._lemmas = frozenset(lemmas)
        self._prefixes = tuple(prefixes)
        self._suffixes = tuple(suffixes)
        self._phrases_by_form = by_form
        self._phrases_by_lemma = by_lemma_table
        self._scans = tuple(scans)

    @staticmethod
    def _part(word: str, by_lemma: bool, language: str, vocabulary: Vocabulary) -> _Part:
        if word == "*":
            return _Part("any", "")
        if word.startswith("*"):
            return _Part("suffix", word[1:])
        if word.endswith("*"):
            return _Part("prefix", word[:-1])
        if by_lemma:
            return _Part("lemma", vocabulary.lemma(word, language), word)
        return _Part("form", word)

    def _phrase_end(self, tokens: Tokens, first: int, phrase: _Phrase) -> int | None:
        last = first + len(phrase.rest)
        if last >= len(tokens.keys):
            return None
        for offset, (part, separator) in enumerate(
            zip(phrase.rest, phrase.separators, strict=True), start=1
        ):
            position = first + offset
            gap = tokens.text[tokens.spans[position - 1][1] : tokens.spans[position][0]]
            if separator == "'" and gap not in APOSTROPHES:
                return None
            if separator == "-" and gap != "-":
                return None
            if separator == " " and (not gap or not gap.isspace()):
                return None
            if not part.matches(tokens.keys[position], tokens.lemmas[position]):
                return None
        return last

    def _phrase_hits(
        self, tokens: Tokens, table: dict[str, list[_Phrase]], index: dict[str, list[int]]
    ) -> Iterable[Hit]:
        keys, lemmas = tokens.keys, tokens.lemmas
        for head in table.keys() & index.keys():
            for position in index[head]:
                if position + 1 >= len(keys):
                    continue
                key, lemma = keys[position + 1], lemmas[position + 1]
                for phrase in table[head]:
                    second = phrase.second
                    if second is not None and key not in second and lemma not in second:
                        continue
                    last = self._phrase_end(tokens, position, phrase)
                    if last is not None:
                        yield Hit(tokens.spans[position][0], tokens.spans[last][1], position)
                        break

    def hits(self, tokens: Tokens, within: Window | None = None) -> list[Hit]:
        """Every match in order of appearance; overlapping ones count once (the longest).

        within: only the matches inside these characters (the text's opening line)."""
        key = (id(self), within)
        known = tokens.memo.get(key)
        if known is None:
            known = tokens.memo[key] = self._hits(tokens, within)
        return known

    def _patterns(self, tokens: Tokens, within: Window | None) -> list[Hit]:
        found: list[Hit] = []
        begin, end = (0, len(tokens.text)) if within is None else within
        lowered = tokens.lowered if tokens.lowered is not None else tokens.text.lower()
        for scan in self._scans:
            if not scan.may_match(tokens, lowered):
                continue
            if scan.lower is not None and tokens.lowered is not None:
                matches = scan.lower.finditer(tokens.lowered, begin, end)
            else:
                matches = scan.regex.finditer(tokens.text, begin, end)
            found.extend(
                Hit(match.start(), match.end(), tokens.position(match.start()))
                for match in matches
                if match.end() > match.start()
            )
        return found

    def _hits(self, tokens: Tokens, within: Window | None) -> list[Hit]:
        found: list[Hit] = []
        spans = tokens.spans
        for key in self._forms & tokens.index.keys():
            found.extend(Hit(*spans[position], position) for position in tokens.index[key])
        for key in self._acronyms & tokens.index.keys():
            found.extend(
                Hit(*spans[position], position)
                for position in tokens.index[key]
                if tokens.text[spans[position][0] : spans[position][1]].isupper()
            )
        for lemma in self._lemmas & tokens.lemma_index.keys():
            found.extend(Hit(*spans[position], position) for position in tokens.lemma_index[lemma])
        if self._prefixes:
            found.extend(
                Hit(*spans[position], position)
                for position, key in enumerate(tokens.keys)
                if key.startswith(self._prefixes)
            )
        if self._suffixes:
            found.extend(
                Hit(*spans[position], position)
                for position, key in enumerate(tokens.keys)
                if key.endswith(self._suffixes)
                and any(
                    len(key) >= len(suffix) + SUFFIX_MIN_STEM and key.endswith(suffix)
                    for suffix in self._suffixes
                )
            )
        if self._phrases_by_form:
            found.extend(self._phrase_hits(tokens, self._phrases_by_form, tokens.index))
        if self._phrases_by_lemma:
            found.extend(self._phrase_hits(tokens, self._phrases_by_lemma, tokens.lemma_index))
        if within is not None:
            found = [hit for hit in found if within[0] <= hit.start and hit.end <= within[1]]
        if self._scans:
            found.extend(self._patterns(tokens, within))
        found.sort(key=lambda hit: (hit.start, -hit.end))
        kept: list[Hit] = []
        for hit in found:
            if not kept or hit.start >= kept[-1].end:
                kept.append(hit)
        return kept

    def find(
        self,
        tokens: Tokens,
        *,
        own: bool = False,
        affirmed: bool = False,
        sentences: Collection[int] | None = None,
        within: Window | None = None,
    ) -> list[str]:
        """The matches as the user wrote them.

        own: leave out matches inside quotations (someone else's words);
        affirmed: leave out matches under a negation ("no drawings");
        sentences: only matches in these sentences;
        within: only matches inside these characters.
        """
        hits = self.select(tokens, own=own, affirmed=affirmed, sentences=sentences, within=within)
        # A pattern may take in the punctuation around the words (", non dal"): not shown.
        return [tokens.text[hit.start : hit.end].strip(EDGE_PUNCTUATION) for hit in hits]

    def select(
        self,
        tokens: Tokens,
        *,
        own: bool = False,
        affirmed: bool = False,
        sentences: Collection[int] | None = None,
        within: Window | None = None,
    ) -> list[Hit]:
        """The hits that pass the filters of `find`."""
        kept = []
        for hit in self.hits(tokens, within):
            if own and tokens.in_quote(hit.start):
                continue
            inside = hit.first < len(tokens.keys)
            if affirmed and inside and tokens.negated[hit.first]:
                continue
            if sentences is not None and tokens.sentence_at(hit.start) not in sentences:
                continue
            kept.append(hit)
        return kept

    def search(self, tokens: Tokens, *, own: bool = False, within: Window | None = None) -> bool:
        """Whether any entry occurs in the text (inside `within`, if given)."""
        return bool(self.select(tokens, own=own, within=within))


def compile_prefix(terms: Sequence[Term]) -> re.Pattern[str] | None:
    """One regex for entries that must open a text (greetings, fillers); None if empty."""
    if not terms:
        return None
    alternatives = []
    for term in terms:
        if isinstance(term, PatternTerm):
            alternatives.append(f"(?:{term.pattern})")
            continue
        check_plain(term)
        parts: list[str] = []
        for char in term.strip():
            if char.isspace():
                if not parts or parts[-1] != r"\s+":
                    parts.append(r"\s+")
            elif char in APOSTROPHES:
                parts.append("['’]")
            elif char in "~*":
                continue
            else:
                parts.append(re.escape(char))
        alternatives.append("".join(parts))
    alternatives.sort(key=len, reverse=True)
    return re.compile(rf"^(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


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
