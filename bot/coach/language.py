"""Is a draft Italian or English? py3langid restricted to the two, function words as fallback.

py3langid ships its model (nothing is downloaded) and classifies a post in about 0.1 ms.
Its model takes about a second to load, so it is loaded once per process and shared.
Short or low-confidence texts are decided by counting Italian and English function words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

WORD_RE = re.compile(r"[^\W\d_]+")


@cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    # set_languages keeps the full 97-language table (about 28 MB) for a later reset;
    # we never reset, so let it go. Guarded: it is py3langid's private slot.
    if hasattr(identifier, "_full_model"):
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
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
    ) -> None:
        self._languages = tuple(languages)
        self._function_words = function_words
        self._min_letters = model_min_letters
        self._min_confidence = model_min_confidence
        self._max_chars = model_max_chars

    def warm_up(self) -> None:
        """Load the model now rather than on the first draft."""
        _identifier(self._languages)

    def detect(self, text: str) -> str:
        """The draft's language; `text` should have links and hashtags removed already."""
        words = [word.casefold() for word in WORD_RE.findall(text)]
        letters = sum(len(word) for word in words)
        votes = {
            lang: sum(1 for word in words if word in self._function_words[lang])
            for lang in self._languages
        }
        model_choice: str | None = None
        # py3langid walks the text byte by byte in Python: the opening is enough.
        sample = text[: self._max_chars]
        if letters >= self._min_letters:
            language, confidence = _identifier(self._languages).classify(sample)
            if confidence >= self._min_confidence:
                return str(language)
            model_choice = str(language)
        best = max(votes.values(), default=0)
        leaders = [lang for lang in self._languages if votes[lang] == best]
        if best > 0 and len(leaders) == 1:
            return leaders[0]
        if model_choice is None and letters > 0:
            # Too short for the model's threshold, and function words do not decide.
            language, _ = _identifier(self._languages).classify(sample)
            model_choice = str(language)
        return model_choice or self._languages[0]
