"""The fact guard: what a rewrite states that its draft does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.rewrite.facts import Fact, facts, new_facts, number_values

DRAFT = (
    "Abbiamo ridotto del 30% i consumi di una scuola a Modena: 1.000 m² di cappotto, "
    "3,5 cm di isolante in più. Info su studio-rossi.it o da @studio_verdi #edilizia"
)


def _texts(found: tuple[Fact, ...]) -> list[str]:
    return [fact.text for fact in found]


def test_a_faithful_rewrite_brings_nothing_new() -> None:
    rewrite = (
        "Secondo me la riqualificazione conviene: a Modena abbiamo ridotto i consumi del 30%.\n"
        "1.000 m² di cappotto e 3,5 cm di isolante in più. Info: https://www.studio-rossi.it/ "
        "oppure @Studio_Verdi #Edilizia"
    )
    assert new_facts(DRAFT, rewrite) == ()


@pytest.mark.parametrize(
    ("rewrite", "invented"),
    [
        ("Abbiamo risparmiato 12.000 euro.", "12.000"),
        ("I consumi sono scesi del 25%.", "25%"),
        ("Con 2,5 cm di isolante.", "2,5"),
        ("Lavori finiti alle 9:30.", "9:30"),
        ("Scrivimi su https://example.com/contatti.", "https://example.com/contatti"),
        ("Scrivimi a anna@example.com oggi.", "anna@example.com"),
        ("Vedi www.altro-sito.it per i dettagli.", "www.altro-sito.it"),
        ("Grazie a @comune_modena per la fiducia.", "@comune_modena"),
        ("Un altro passo per la scuola. #energia", "#energia"),
        ("Lo abbiamo fatto con il Politecnico di Milano.", "Politecnico"),
        ("Ringrazio il prof. Mario Rossi per il supporto.", "Mario Rossi"),
        ("We did it with Mario Rossi, our partner.", "Mario Rossi"),
    ],
)
def test_invented_facts_are_reported(rewrite: str, invented: str) -> None:
    assert invented in _texts(new_facts(DRAFT, rewrite))


def test_the_same_figure_in_another_notation_is_not_new() -> None:
    draft = "Abbiamo posato 1.000 metri di tubo e speso 3,5 milioni."
    assert new_facts(draft, "We laid 1,000 metres of pipe and spent 3.5 million.") == ()
    assert new_facts(draft, "Abbiamo posato 1000 metri di tubo.") == ()


def test_a_percentage_must_match_a_percentage() -> None:
    draft = "In 30 giorni abbiamo ridotto i consumi."
    assert _texts(new_facts(draft, "Consumi giù del 30% in un mese.")) == ["30%"]
    assert new_facts("Consumi giù del 30 per cento.", "Consumi giù del 30%.") == ()
    # A bare figure may repeat a percentage of the draft.
    assert new_facts("Consumi giù del 30%.", "Trenta, anzi 30: i consumi sono scesi.") == ()


def test_list_markers_are_layout_not_figures() -> None:
    rewrite = "Tre lezioni:\n1. misurare\n2) confrontare\n3. raccontare"
    assert new_facts("Tre lezioni imparate.", rewrite) == ()


def test_words_at_the_start_of_a_sentence_are_not_names() -> None:
    rewrite = (
        "Secondo me conviene. Voi che ne pensate?\nScrivetemi!\n• Prima cosa: Misurare.\n"
        '"Partire" è metà del lavoro. I think so.'
    )
    assert new_facts("Una bozza qualsiasi.", rewrite) == ()


def test_a_name_in_the_draft_in_any_case_is_known() -> None:
    assert (
        new_facts("lavoro a modena e a reggio emilia", "Lavoro a Modena e a Reggio Emilia.") == ()
    )


def test_known_words_may_be_used_freely() -> None:
    rewrite = "Ne parlo anche su LinkedIn."
    assert _texts(new_facts("Ne parlo.", rewrite)) == ["LinkedIn"]
    assert new_facts("Ne parlo.", rewrite, known=["LinkedIn"]) == ()


def test_each_new_fact_is_reported_once_in_order() -> None:
    rewrite = "Con Acme abbiamo risparmiato 500 euro. Acme ha risparmiato 500 euro, dice Acme."
    assert new_facts("Una bozza.", rewrite) == (Fact("name", "Acme"), Fact("number", "500"))


def test_facts_are_listed_in_order_of_appearance() -> None:
    found = facts("Da Torino, il 12% in più con @anna e https://x.it #bim")
    assert [fact.kind for fact in found] == ["name", "number", "handle", "link", "hashtag"]


def test_numbers_inside_links_and_handles_are_not_figures() -> None:
    draft = "Tutto su https://example.com/2024/report e da @team2024."
    assert [fact.kind for fact in facts(draft)] == ["link", "handle"]


@pytest.mark.parametrize(
    ("token", "values"),
    [
        ("1.000", {Decimal(1000), Decimal(1)}),
        ("1,000", {Decimal(1000), Decimal(1)}),
        ("3,5", {Decimal("3.5")}),
        ("1.234,56", {Decimal("1234.56")}),
        ("1,234.56", {Decimal("1234.56")}),
        ("25 %", {("%", Decimal(25))}),
        ("9:30", {"9:30"}),
        ("1.2.3", {"1.2.3"}),
    ],
)
def test_number_values(token: str, values: set[object]) -> None:
    assert number_values(token) == values
