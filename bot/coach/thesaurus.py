"""Topics by meaning: our users' professions, from prompts/checklist/thesaurus.yaml.

A user declares topics in their own words («impianti HVAC», «efficienza energetica»).
Each topic is expanded to the concepts it names (by lemma: «pompe di calore» names the
concept whose terms include "pompa di calore"), and a draft is on topic when it uses the
concepts' words in either language: a heat-pump post is on topic for «impianti HVAC»
without the word "HVAC". A topic that names no concept falls back to its own words,
matched by lemma («solai» matches "solaio", never "sola").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.coach.config import Term, ThesaurusFile
from bot.coach.lexicon import Lexicon, check_plain
from bot.coach.review import LANGUAGES
from bot.coach.tokens import Negation, tokenize
from bot.coach.vocabulary import Vocabulary

LITERAL_DROP_RE = re.compile(r"[^\w\s'’-]|[\d_]")
TOPIC_CACHE = 1024  # compiled topics kept; a user has at most a handful
SHOWN_TERMS = 6  # words of a concept shown back to the user when the profile is saved


@dataclass(frozen=True)
class TopicExpansion:
    """What a declared topic was understood as: its concepts and some of their words."""

    topic: str
    concepts: tuple[str, ...]
    terms: tuple[str, ...]  # in the reply language, for the user to read


class Thesaurus:
    """The concepts, compiled per language; topics are expanded and cached."""

    def __init__(
        self,
        data: ThesaurusFile,
        vocabulary: Vocabulary,
        negation: dict[str, Negation],
        technical_zipf: dict[str, float],
    ) -> None:
        self._data = data
        self._vocabulary = vocabulary
        self._negation = negation
        # A concept is recognised in a topic by any of its names or terms, in any language.
        self._recognisers = {
            language: {
                concept_id: Lexicon(
                    [*concept.names.get(language), *concept.terms.get(language)],
                    language,
                    vocabulary,
                )
                for concept_id, concept in data.concepts.items()
            }
            for language in LANGUAGES
        }
        # Single words as common as "strada" or "window" say little of the work itself.
        self._technical = {
            language: Lexicon(
                [
                    term
                    for concept in data.concepts.values()
                    for term in (*concept.names.get(language), *concept.terms.get(language))
                    if self._technical_term(term, language, technical_zipf[language])
                ],
                language,
                vocabulary,
            )
            for language in LANGUAGES
        }
        self.topic_lexicon = lru_cache(maxsize=TOPIC_CACHE)(self._topic_lexicon)
        self.literal_lexicon = lru_cache(maxsize=TOPIC_CACHE)(self._literal_lexicon)
        self.concepts_of = lru_cache(maxsize=TOPIC_CACHE)(self._concepts_of)

    def _technical_term(self, term: Term, language: str, limit: float) -> bool:
        if not isinstance(term, str):
            return True
        words = term.lstrip("~").split()
        if len(words) > 1 or term.lstrip("~").isupper():
            return True
        return self._vocabulary.zipf(words[0].lower(), language) < limit

    def terms(self, language: str) -> Lexicon:
        """The concepts' technical words in one language: specific work, not small talk."""
        return self._technical[language]

    def _concepts_of(self, topic: str) -> tuple[str, ...]:
        """The concepts a declared topic names, in thesaurus order."""
        found: list[str] = []
        for language in LANGUAGES:
            tokens = tokenize(topic, language, self._vocabulary, self._negation[language])
            for concept_id, recogniser in self._recognisers[language].items():
                if concept_id not in found and recogniser.search(tokens):
                    found.append(concept_id)
        order = list(self._data.concepts)
        return tuple(sorted(found, key=order.index))

    def _topic_lexicon(
        self, topic: str, language: str, ignore_words: Sequence[str]
    ) -> Lexicon | None:
        """The words that mean `topic` in a draft of `language`; None for an empty topic."""
        concepts = self.concepts_of(topic)
        terms: list[Term] = []
        for concept_id in concepts:
            concept = self._data.concepts[concept_id]
            terms.extend(concept.names.get(language))
            terms.extend(concept.terms.get(language))
        ignored = {word.casefold() for word in ignore_words}
        words = [
            word
            for word in (
                self._vocabulary.lemma(key, language)
                for key in tokenize(
                    topic, language, self._vocabulary, self._negation[language]
                ).keys
            )
            if word not in ignored and len(word) >= 3
        ]
        if not concepts:
            # An unknown topic: its own words, any form of each.
            terms.extend(f"~{word}" for word in words)
        if not terms:
            return None
        return Lexicon(terms, language, self._vocabulary)

    def _literal_lexicon(self, topic: str, language: str) -> Lexicon | None:
        """The topic as the user wrote it, any form of its words ("impianto HVAC")."""
        cleaned = " ".join(LITERAL_DROP_RE.sub(" ", topic).split()).strip("'’- ")
        try:
            check_plain(cleaned)
        except ValueError:
            return None
        return Lexicon(["~" + cleaned], language, self._vocabulary)

    def expand(self, topics: Iterable[str], language: str) -> tuple[TopicExpansion, ...]:
        """How each topic is understood, with a few of its words in `language`."""
        expansions = []
        for topic in topics:
            concepts = self.concepts_of(topic)
            shown: list[str] = []
            for concept_id in concepts:
                for term in self._data.concepts[concept_id].terms.get(language):
                    if isinstance(term, str) and len(shown) < SHOWN_TERMS:
                        shown.append(term.lstrip("~"))
            expansions.append(TopicExpansion(topic, concepts, tuple(shown)))
        return tuple(expansions)

    def audience(self, topics: Iterable[str], language: str) -> tuple[str, ...]:
        """Who reads posts on these topics: the concepts' stakeholders, in order."""
        seen: list[str] = []
        for topic in topics:
            for concept_id in self.concepts_of(topic):
                for group in self._data.concepts[concept_id].audience.get(language):
                    if group not in seen:
                        seen.append(group)
        return tuple(seen)
