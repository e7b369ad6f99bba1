"""Figures in a draft: which numbers measure work, and which are dates, times or scores.

"140 m² su due piani" and "montata in 9 giorni" show work; "42,195 km in 3 ore e 58
minuti" (a marathon), "12 mesi, 52 settimane, 365 giorni" (season's greetings) and
"12 marzo 2026" do not. A figure is a number with a unit. Units that measure technical
work (m², kWh, MPa) count wherever they are; units that anything can have (days, %, €,
km) count only in a sentence that shows work. Dates and times never count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.coach.tokens import Tokens

NUMBER_RE = re.compile(
    r"(?<![\w.,])(?:[$£€]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:mila|milioni|k|m(?=\s*[$£€]))\b)?"
)
UNIT_GAP_RE = re.compile(r"\s?")
# A word between a number and a noun of work: "12 nuovi appartamenti", "50 builders' sites".
WORD_GAP_RE = re.compile(r"[^\W\d_]+['’]?\s+")
WORDS_BEFORE_NOUN = 2
FIGURE_TAIL_RE = re.compile(r"\s+(?:di|del|della|dei|delle|of)\s+[^\W\d_]+")
CURRENCY = "$£€"
DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True)
class Figure:
    """A number with its unit, where it is, and whether it measures work by itself."""

    text: str  # as written, with a short tail ("64 m di campata")
    start: int
    end: int
    sentence: int
    measure: bool  # a technical unit: counts on its own


def _units(units: Sequence[str]) -> re.Pattern[str]:
    ordered = sorted({unit.lower() for unit in units}, key=len, reverse=True)
    alternatives = "|".join(re.escape(unit) for unit in ordered)
    # A unit ends the figure: "9 giorni", "140 m²", "30%" ("30 mesi" is not "30 m").
    return re.compile(rf"(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


class FigureFinder:
    """Finds figures in a draft's text, given the units of one language."""

    def __init__(
        self, measures: Sequence[str], work_counts: Sequence[str], counts: Sequence[str]
    ) -> None:
        self._measures = _units(measures)
        self._work = _units(work_counts) if work_counts else None
        self._counts = _units(counts) if counts else None

    def _work_unit(self, text: str, position: int) -> int | None:
        """Where a noun of work after the number ends ("3 revisioni", "50 local sites")."""
        if self._work is None:
            return None
        for _ in range(WORDS_BEFORE_NOUN + 1):
            found = self._work.match(text, position)
            if found is not None:
                return found.end()
            word = WORD_GAP_RE.match(text, position)
            if word is None:
                return None
            position = word.end()
        return None

    def find(self, tokens: Tokens, dates: Sequence[tuple[int, int]]) -> list[Figure]:
        """The figures of the text, dates and times left out."""
        text = tokens.text
        if DIGIT_RE.search(text) is None:
            return []
        figures: list[Figure] = []
        for match in NUMBER_RE.finditer(text):
            start, end = match.span()
            if any(low <= start < high for low, high in dates):
                continue
            number = match.group(0)
            measure = False
            unit_end = end
            if number[0] in CURRENCY:
                unit_end = end
            else:
                gap = UNIT_GAP_RE.match(text, end)
                position = gap.end() if gap else end
                unit = self._measures.match(text, position)
                work_end = self._work_unit(text, position) if unit is None else None
                if unit is not None:
                    measure, unit_end = True, unit.end()
                elif work_end is not None:
                    measure, unit_end = True, work_end
                elif self._counts is not None and (unit := self._counts.match(text, position)):
                    unit_end = unit.end()
                elif position < len(text) and text[position] in CURRENCY:
                    unit_end = position + 1
                else:
                    continue
            tail = FIGURE_TAIL_RE.match(text, unit_end)
            shown_end = tail.end() if tail else unit_end
            sentence = tokens.sentence_at(start)
            figures.append(Figure(text[start:shown_end], start, unit_end, sentence, measure))
        return figures
