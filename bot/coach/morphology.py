"""Italian verbs in the first person, told from their lemma: "Seguo", "Ho chiuso", "Compio".

Italian drops the pronoun: "Sono stato in cantiere" has no "io" and is plainly about the
author. A regular verb in the first person is its stem plus a fixed ending, and the stem
is the lemma without -are/-ere/-ire: "seguo" is "segu" + "o" and its lemma is "seguire".
A participle never fits ("chiuso" is not "chiud" + "o"), nor does a noun whose lemma is
itself ("progetto"). Irregular forms (ho, so, faccio, abbiamo...) are listed in the data.
"""

from __future__ import annotations

from collections.abc import Collection

INFINITIVE_ENDINGS = ("are", "ere", "ire")
MIN_THEME_LEMMA = 6
# ending -> how it is built on the stem (lemma minus its last three letters) or on the
# lemma minus its last two letters (the theme vowel kept: "lavora-vo", "segui-vo").
SINGULAR_ON_STEM = ("o", "isco", "erò", "irò", "erei", "irei")
SINGULAR_ON_THEME = ("vo", "i")  # imperfect (lavoravo), passato remoto (lavorai, seguii)
PLURAL_ON_STEM = ("iamo", "eremo", "iremo", "eremmo", "iremmo")
PLURAL_ON_THEME = ("vamo", "mmo")  # imperfect (lavoravamo), passato remoto (lavorammo)


def _fits(key: str, lemma: str, on_stem: tuple[str, ...], on_theme: tuple[str, ...]) -> bool:
    if key == lemma or not lemma.endswith(INFINITIVE_ENDINGS) or len(lemma) < 4:
        return False
    stem, theme = lemma[:-3], lemma[:-2]
    # -care/-gare verbs keep their hard sound with an h: cercare -> cercherò.
    hard = stem + "h" if stem.endswith(("c", "g")) else stem
    if any(key in (stem + ending, hard + ending) for ending in on_stem):
        return True
    if stem.endswith("i") and any(key == stem[:-1] + ending for ending in on_stem):
        return True  # cominciare -> comincio, cominciamo
    # Short verbs collide with other persons: "stai", "fai" are "you", not "I".
    return len(lemma) >= MIN_THEME_LEMMA and any(key == theme + ending for ending in on_theme)


def first_person_singular(key: str, lemma: str, irregular: Collection[str]) -> bool:
    """Whether a lower-case Italian word is a verb in the first person singular."""
    return key in irregular or _fits(key, lemma, SINGULAR_ON_STEM, SINGULAR_ON_THEME)


def first_person_plural(key: str, lemma: str, irregular: Collection[str]) -> bool:
    """Whether a lower-case Italian word is a verb in the first person plural."""
    return key in irregular or _fits(key, lemma, PLURAL_ON_STEM, PLURAL_ON_THEME)
