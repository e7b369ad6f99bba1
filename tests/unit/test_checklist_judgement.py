"""The checklist reads the post, not its words: one behaviour per test.

Quotations, negation, dates, irony, contrast, topics by meaning, Italian verbs without a
pronoun, shouting that is no acronym, the score's caps, fixes by impact, advice drawn from
the draft, and how the user's words are quoted back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.coach import Checklist, ChecklistError, Review, load_checklist
from bot.coach.config import PatternTerm
from bot.coach.engine import default_directory
from bot.coach.lexicon import Lexicon
from bot.coach.tokens import Negation, tokenize
from bot.coach.vocabulary import Vocabulary

REPO = Path(__file__).resolve().parents[2]
PACKAGED = Path(str(default_directory()))


@pytest.fixture
def checklist(packaged_checklist: Checklist) -> Checklist:
    """The packaged checklist (tests/unit/conftest.py)."""
    return packaged_checklist


# --- every pattern can match: the examples next to it are its tests -------------------


def _patterns(node: object, where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, language, entry) for every pattern entry in a parsed YAML file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("it", "en") and isinstance(value, list):
                for entry in value:
                    if isinstance(entry, dict) and "re" in entry:
                        yield f"{where}.{key}", key, entry
            else:
                yield from _patterns(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _patterns(value, f"{where}[{index}]")


PATTERNS = [
    (f"{name}:{where}", language, entry)
    for name in ("rules.yaml", "thesaurus.yaml")
    for where, language, entry in _patterns(
        yaml.safe_load((PACKAGED / name).read_text(encoding="utf-8")), ""
    )
]


def test_the_data_has_patterns_to_check() -> None:
    assert len(PATTERNS) > 60


@pytest.mark.parametrize(("where", "language", "entry"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_every_pattern_matches_its_examples_as_the_engine_runs_it(
    checklist: Checklist, where: str, language: str, entry: dict[str, Any]
) -> None:
    term = PatternTerm.model_validate(entry)
    lexicon = Lexicon([term], language, checklist.vocabulary)
    negation = Negation(frozenset(), 1, frozenset())
    for example in term.examples:
        tokens = tokenize(example, language, checklist.vocabulary, negation)
        assert lexicon.hits(tokens), f"{where}: {term.pattern!r} misses {example!r}"
    for counter in term.counterexamples:
        tokens = tokenize(counter, language, checklist.vocabulary, negation)
        assert not lexicon.hits(tokens), f"{where}: {term.pattern!r} matches {counter!r}"


def test_a_pattern_that_misses_its_example_stops_the_start(tmp_path: Path) -> None:
    copy = tmp_path / "checklist"
    shutil.copytree(PACKAGED, copy)
    rules = copy / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    # The old bug: "not after a word character" before a comma never matches after a word.
    broken = text.replace(
        r"[,;:–—-]\s*(?:e\s+)?non\s+(?:dal|",
        r"(?<!\w),\s*(?:e\s+)?non\s+(?:dal|",
        1,
    )
    assert broken != text
    rules.write_text(broken, encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"rules\.yaml: items\.point_of_view.*does not match"):
        load_checklist(copy)


def test_a_plain_entry_with_other_characters_stops_the_start(tmp_path: Path) -> None:
    copy = tmp_path / "checklist"
    shutil.copytree(PACKAGED, copy)
    rules = copy / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("        - metti like\n", "        - metti like!\n", 1), "utf-8")
    with pytest.raises(ChecklistError, match="metti like!"):
        load_checklist(copy)


# --- point of view from structure ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Dipende quasi sempre dai radiatori, non dal generatore. L'ho visto in 30 condomini.",
        "Il mio punto è questo: la sola verifica visiva non basta.",
        "It's a drainage problem, not an asphalt problem. We dug two trial pits to show it.",
        "Adoro i capitolati che scrivono «a regola d'arte» e nient'altro.",
        "Code reviews don't slow teams down. Vague tickets do.",
    ],
)
def test_a_stance_without_opinion_markers_passes_point_of_view(
    review: Callable[..., Review], text: str
) -> None:
    assert review(text).item("point_of_view").status == "pass"


def test_a_report_of_work_without_a_take_warns_and_asks_what_it_teaches(
    review: Callable[..., Review],
) -> None:
    text = (
        "Il mese scorso abbiamo consegnato il collaudo di un ponte a Trento: 64 m di campata, "
        "travi in acciaio corten, 9 mesi di cantiere."
    )
    item = review(text, reply_language="it").item("point_of_view")
    assert item.status == "warn"
    assert "«64 m di campata»" in item.suggestion


def test_an_opinion_inside_someone_elses_quote_is_not_the_authors(
    review: Callable[..., Review],
) -> None:
    text = (
        "Comunicato stampa. Inaugurata la passerella sul torrente Varone. «Secondo me è l'opera "
        "più importante del mandato», ha dichiarato il sindaco. «Penso che cambierà la città.»"
    )
    result = review(text)
    assert result.item("point_of_view").status != "pass"
    assert result.item("personal_voice").status == "fail"


# --- quotations and bait -------------------------------------------------------------


def test_bait_quoted_to_criticise_it_passes_relationships(review: Callable[..., Review]) -> None:
    text = (
        "Basta con i post «Metti like se anche tu sei ingegnere». Nel nostro gruppo li togliamo: "
        "chiedete invece un parere su un caso vero, con una foto e due righe di contesto."
    )
    assert review(text).item("relationships_not_likes").status == "pass"


@pytest.mark.parametrize(
    "text",
    [
        "VOTA il nostro progetto per il premio Abitare Verde!",
        "Basta un like alla foto per sostenerci.",
        "Condividi con tutti i tuoi contatti, può salvare una vita!",
        "Tag a friend who still uses Excel for BIM 😂",
        "Drop a 🔥 if you agree.",
    ],
)
def test_bait_in_the_authors_voice_fails_relationships(
    review: Callable[..., Review], text: str
) -> None:
    item = review(text).item("relationships_not_likes")
    assert item.status == "fail"


def test_refused_bait_is_not_bait(review: Callable[..., Review]) -> None:
    text = (
        "One plain post about how we cut our CI build from 41 to 9 minutes. No giveaway, "
        "no «comment YES». It got two messages from CTOs."
    )
    assert review(text).item("relationships_not_likes").status == "pass"


# --- numbers, dates, negation, off-brand --------------------------------------------


def test_a_marathon_time_is_no_evidence_of_work(review: Callable[..., Review]) -> None:
    result = review("42,195 km in 3 ore e 58 minuti. Prima maratona finita, gambe distrutte!")
    assert result.item("visibility").status == "fail"
    assert result.item("relationships_not_likes").status == "warn"


def test_seasons_greetings_counts_are_no_evidence_of_work(review: Callable[..., Review]) -> None:
    result = review("12 mesi, 52 settimane, 365 giorni insieme. Buone feste da tutto lo studio!")
    assert result.item("visibility").status == "fail"
    assert result.item("hook").status != "pass"


def test_negated_work_words_are_no_evidence(review: Callable[..., Review]) -> None:
    text = "No drawings this week, no site visits, no emails. Just the coast road and the kids."
    result = review(text)
    assert result.item("visibility").status == "fail"
    item = result.item("relationships_not_likes")
    assert item.status == "warn"
    assert "professional" in item.suggestion or "work" in item.suggestion


def test_a_first_line_that_is_only_a_date_warns_the_hook(review: Callable[..., Review]) -> None:
    text = "3 febbraio 2026 — Trento\nPrimo getto del solaio: 38 m³ di calcestruzzo in 4 ore."
    item = review(text, reply_language="it").item("hook")
    assert item.status == "warn"
    assert "data" in item.reason
    assert "«38 m³ di calcestruzzo»" in item.suggestion


def test_a_birthday_with_nothing_professional_warns_off_brand(
    review: Callable[..., Review],
) -> None:
    item = review("Oggi compio 45 anni! Grazie a tutti per gli auguri 🎂").item(
        "relationships_not_likes"
    )
    assert item.status == "warn"


def test_a_birthday_with_a_professional_angle_is_not_off_brand(
    review: Callable[..., Review],
) -> None:
    text = (
        "Oggi compio 45 anni, e metà li ho passati sui ponteggi: 60 cantieri, due infortuni "
        "sfiorati. La lezione: la linea vita si controlla prima di salire, non dopo."
    )
    result = review(text)
    assert result.item("relationships_not_likes").status == "pass"
    assert result.item("personal_voice").status == "pass"


def test_a_vague_announcement_warns_visibility_with_the_questions_that_fix_it(
    review: Callable[..., Review],
) -> None:
    item = review("Nuovo progetto completato! Grazie al team 💪", reply_language="it").item(
        "visibility"
    )
    assert item.status == "warn"
    assert "quale progetto" in item.suggestion


# --- topics by meaning ---------------------------------------------------------------


def test_a_heat_pump_post_is_on_topic_for_hvac_and_quotes_its_words(
    review: Callable[..., Review],
) -> None:
    text = (
        "In una villetta degli anni '70 i radiatori esistenti bastavano per la pompa di calore: "
        "temperatura di mandata a 45 gradi, due termosifoni più grandi in bagno."
    )
    item = review(text, topics=["impianti HVAC", "efficienza energetica"]).item("reputation_focus")
    assert item.status == "pass"
    assert "radiatori" in item.reason


def test_a_look_alike_word_is_not_a_topic(review: Callable[..., Review]) -> None:
    text = "Un anno da sola: niente soci, niente segretaria, solo io e il portatile."
    item = review(text, topics=["solai"]).item("reputation_focus")
    assert item.status == "fail"


def test_declared_topics_are_expanded_with_the_thesaurus(checklist: Checklist) -> None:
    [hvac, unknown] = checklist.expand_topics(["impianti HVAC", "apicoltura"], "it")
    assert "hvac" in hvac.concepts
    assert "pompa di calore" in hvac.terms
    assert unknown.concepts == ()
    assert unknown.terms == ()


# --- voice, shouting, jargon ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Oggi compio 45 anni e festeggio in cantiere.",
        "Sono stato in cantiere tutta la mattina a controllare i getti.",
        "Seguo da anni le gare di progettazione sotto i 140 mila euro.",
    ],
)
def test_italian_first_person_without_a_pronoun_is_a_personal_voice(
    review: Callable[..., Review], text: str
) -> None:
    assert review(text).item("personal_voice").status == "pass"


def test_shouted_words_are_not_acronyms(review: Callable[..., Review]) -> None:
    text = (
        "Chiamate SUBITO un tecnico, non PER forza me: LA sera stessa puntellate le crepe. "
        "Poi si decide con calma."
    )
    result = review(text, reply_language="it")
    assert "sigle" not in result.item("clarity").reason
    assert result.item("spam_hygiene").status == "warn"
    assert "SUBITO" in result.item("spam_hygiene").reason


def test_english_loanwords_in_an_italian_post_are_not_jargon(
    review: Callable[..., Review],
) -> None:
    text = (
        "La deadline del getto era venerdì. Nel meeting di lunedì il team ha chiesto un "
        "feedback: abbiamo spostato la consegna e rifatto il workflow delle verifiche."
    )
    assert review(text).item("clarity").status == "pass"


def test_a_wall_of_rare_technical_words_fails_clarity_and_comes_first(
    review: Callable[..., Review],
) -> None:
    text = (
        "Leveraging synergistic paradigms, our best-in-class cloud-native ecosystem empowers "
        "stakeholders to operationalize actionable insights across the end-to-end value chain, "
        "seamlessly unlocking scalable, data-driven digital transformation."
    )
    result = review(text)
    assert result.item("clarity").status == "fail"
    assert result.top_fixes[0] in ("clarity", "point_of_view", "visibility")
    assert "clarity" in result.top_fixes


# --- the score and the fixes ---------------------------------------------------------


def test_bait_caps_the_score_and_is_the_first_fix(review: Callable[..., Review]) -> None:
    text = (
        "Metti like se anche tu pensi che gli ingegneri siano sottopagati! Il mese scorso ho "
        "consegnato 3 progetti di villette in classe A: 140 m² l'una, in 9 mesi."
    )
    result = review(text)
    assert result.item("relationships_not_likes").status == "fail"
    assert result.score <= 25
    assert result.top_fixes[0] == "relationships_not_likes"


def test_a_hashtag_wall_scores_weak(review: Callable[..., Review]) -> None:
    text = "Nuovo render! 😍🏡✨ " + " ".join(f"#tag{letter}" for letter in "abcdefghijklmnopq")
    assert review(text, platform="instagram").score <= 35


def test_a_strong_post_scores_high(review: Callable[..., Review]) -> None:
    text = (
        "Un solaio in legno può reggere quanto uno in laterocemento? Sì, se lo progetti bene.\n"
        "Il mese scorso abbiamo chiuso il cantiere di una villetta a Trento: 140 m² su due "
        "piani, montata in 9 giorni invece dei 4 mesi previsti.\n"
        "Secondo me il legno in Italia è frenato più dai pregiudizi che dai numeri.\n"
        "Voi avete mai proposto il legno a un cliente scettico?"
    )
    assert review(text).score >= 80


# --- advice from the draft, quotes and numbers ---------------------------------------


def test_a_generic_hook_is_told_to_bring_the_drafts_own_figure_up(
    review: Callable[..., Review],
) -> None:
    text = (
        "Qualche riflessione sul cantiere appena chiuso con il nostro studio.\n"
        "Abbiamo varato un ponte pedonale con 64 m di campata in una sola notte."
    )
    item = review(text, reply_language="it").item("hook")
    assert item.status == "warn"
    assert "«64 m di campata»" in item.suggestion


def test_an_audience_suggestion_names_the_readers_of_the_users_topic(
    review: Callable[..., Review],
) -> None:
    text = "Sostituiti 12 radiatori in una villetta: consumi giù del 30%."
    item = review(text, reply_language="it", topics=["impianti HVAC"]).item("audience")
    assert item.status == "fail"
    assert "«impianti HVAC»" in item.suggestion
    assert "amministratori di condominio" in item.suggestion


def test_a_quoted_quotation_is_quoted_once_with_balanced_marks(
    review: Callable[..., Review],
) -> None:
    text = "«Metti like se anche tu sei ingegnere» e tagga 3 colleghi!"
    reason = review(text, reply_language="it").item("relationships_not_likes").reason
    assert "««" not in reason
    assert "»»" not in reason
    assert reason.count("«") == reason.count("»")


def test_numbers_are_written_in_the_readers_locale(review: Callable[..., Review]) -> None:
    text = "Abbiamo rifatto il tetto di una scuola a Cuneo: 600 m² in 3 settimane."
    italian = review(text, platform="facebook", reply_language="it").item("platform_fit")
    english = review(text, platform="facebook", reply_language="en").item("platform_fit")
    assert "63.206" in italian.reason
    assert "63,206" in english.reason


# --- the command line reviews a corpus in one process --------------------------------


def test_review_takes_several_files_and_prints_json_lines(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("We cut our build from 41 to 9 minutes. What would you cache?", "utf-8")
    bait = tmp_path / "bait.txt"
    bait.write_text("Like if you agree! Tag a friend 👇", "utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "review", str(good), str(bait), str(empty), "--jsonl"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CACHE_DIR": str(tmp_path / "cache")},
        check=False,
        timeout=120,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(good), str(bait), str(empty)]
    assert lines[0]["score"] > lines[1]["score"]
    assert list(lines[0])[1:] == ["language", "platform", "score", "items", "top_fixes"]
    assert "error" in lines[2]
    assert result.returncode == 2


# --- the word data is cached and read back -------------------------------------------


def test_the_word_data_is_kept_in_the_cache_folder_and_read_back(tmp_path: Path) -> None:
    first = Vocabulary(("it", "en"), tmp_path)
    files = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    assert any(name.startswith("wordfreq-") for name in files)
    assert {"it.dic", "en.dic"} <= set(files)
    second = Vocabulary(("it", "en"), tmp_path)
    for word in ("solai", "pompe", "radiatori"):
        assert second.word(word, "it") == first.word(word, "it")
    assert second.lemma("solai", "it") == "solaio"
    assert second.zipf("massetto", "it") < second.zipf("cantiere", "it")


def test_a_damaged_frequency_cache_is_rebuilt(tmp_path: Path) -> None:
    Vocabulary(("it",), tmp_path)
    [trie] = tmp_path.glob("wordfreq-*-it.marisa")
    trie.write_bytes(b"not a trie")
    rebuilt = Vocabulary(("it",), tmp_path)
    assert rebuilt.zipf("cantiere", "it") > 3


def test_an_italian_post_full_of_english_loanwords_is_italian(checklist: Checklist) -> None:
    text = (
        "Il nostro framework di project management agile per il design integra kick-off, "
        "sprint review, daily stand-up e deliverable tracking in un workflow end-to-end con "
        "KPI real-time per ogni stakeholder del team."
    )
    assert checklist.detect_language(text) == "it"


def test_function_words_that_leave_no_doubt_spare_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.coach import language

    detector = language.LanguageDetector(
        ("it", "en"),
        {"it": frozenset({"il", "di", "che", "la", "per", "non", "è", "un"}), "en": frozenset()},
        model_min_letters=24,
        model_min_confidence=0.9,
        model_max_chars=240,
    )

    def no_model(*_: object) -> object:
        raise AssertionError("the model was asked")

    monkeypatch.setattr(language, "_identifier", no_model)
    text = "Il punto è che la verifica di un solaio non si fa per sentito dire: il calcolo conta."
    assert detector.detect(text) == "it"
