"""Next-occurrence maths for weekly nudges, in the user's own time zone.

A rule says "these weekdays at this wall-clock time in this IANA zone". Every instant that
leaves this module is aware and in UTC (what the database stores); every comparison with a
rule happens in local wall-clock time, so 09:00 stays 09:00 across daylight-saving changes.

Daylight saving, decided once here:

- a local time that does not exist that day (the spring-forward gap) is sent at the wall-clock
  time shifted forward by the gap (02:30 becomes 03:30 in Europe/Rome), once; where a zone
  springs forward at midnight (America/Nuuk: 23:00 → 00:00) that lands on the next day;
- a local time that occurs twice (fall back) is sent once, at its first (fold=0) occurrence.

Both follow from PEP 495: a naive time combined with ``fold=0`` maps a gap time through the
offset in force before the transition, and an ambiguous time to its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Keys that ZoneInfo loads from the host's zoneinfo directory but that name no IANA zone:
# a rule stored with one of them would mean different things on different machines.
_HOST_ONLY_KEYS = frozenset({"localtime", "posixrules"})

# Looking one day back and eight ahead covers a whole week whatever the offset changes, and
# odd calendars (a local day skipped or repeated) cannot push the answer out of the window.
_SEARCH_DAYS = range(-1, 9)

# "9", "09:30", "9.30", "9 30", "21h", "21h30", "0930", "9am", "9:30 pm": hours, optional
# minutes, an optional suffix. ASCII digits only: int() would also read other scripts' digits.
_TIME_PATTERN = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:(?:[:.h]|\s)\s*(?P<minute>[0-9]{2}))?\s*(?P<suffix>h|am|pm)?"
    r"|(?P<hhmm>[0-9]{4})",
    re.ASCII,
)
_MAX_TIME_TEXT = 20


def load_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError when it does not load."""
    if name in _HOST_ONLY_KEYS:
        raise ValueError(f"not an IANA time zone: {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error


def _require_naive(value: time, field: str) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"{field} must be a naive wall-clock time")


def _require_aware(instant: datetime, field: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{field} must be an aware datetime")


@dataclass(frozen=True)
class WeeklyRule:
    """Some weekdays (0 = Monday) at one wall-clock time in one IANA zone."""

    weekdays: frozenset[int]
    local_time: time
    zone: str

    def __post_init__(self) -> None:
        # Accept any iterable of ints from callers, but keep the stored value hashable.
        weekdays = frozenset(self.weekdays)
        if not weekdays:
            raise ValueError("a weekly rule needs at least one weekday")
        if any(isinstance(day, bool) or day not in range(7) for day in weekdays):
            raise ValueError(f"weekdays must be 0 (Monday) to 6 (Sunday): {sorted(weekdays)}")
        _require_naive(self.local_time, "local_time")
        load_zone(self.zone)
        object.__setattr__(self, "weekdays", weekdays)
        # fold=1 on the rule would silently pick the second of a repeated hour.
        object.__setattr__(self, "local_time", self.local_time.replace(fold=0))

    @property
    def tz(self) -> ZoneInfo:
        """The rule's zone as a tzinfo."""
        return load_zone(self.zone)


@dataclass(frozen=True)
class QuietHours:
    """A daily local window with no nudges, [start, end); it may wrap midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        _require_naive(self.start, "start")
        _require_naive(self.end, "end")

    @property
    def empty(self) -> bool:
        """True when start == end, which means no quiet hours at all."""
        return _wall(self.start) == _wall(self.end)


def _wall(value: time) -> time:
    """The wall-clock part of a time, fold and zone dropped, for comparisons."""
    return value.replace(tzinfo=None, fold=0)


def _local_instant(day: date, at: time, tz: tzinfo, fold: int = 0) -> datetime:
    """The UTC instant of a wall-clock time on a local day (gap times shift forward)."""
    return datetime.combine(day, _wall(at), tzinfo=tz).replace(fold=fold).astimezone(UTC)


def next_occurrence(rule: WeeklyRule, after: datetime) -> datetime:
    """The first instant the rule is due strictly after `after`, in UTC."""
    _require_aware(after, "after")
    tz = rule.tz
    after_utc = after.astimezone(UTC)
    today = after_utc.astimezone(tz).date()
    candidates = (
        _local_instant(day, rule.local_time, tz)
        for day in (today + timedelta(days=offset) for offset in _SEARCH_DAYS)
        if day.weekday() in rule.weekdays
    )
    # The minimum, not the first found: with a skipped or repeated local day the candidates
    # of neighbouring days need not come in order.
    return min(instant for instant in candidates if instant > after_utc)


def occurrences(rule: WeeklyRule, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every instant the rule is due in [start, end), in UTC and in order."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    # next_occurrence is strictly after its argument; one microsecond back makes start count.
    instant = next_occurrence(rule, start - timedelta(microseconds=1))
    while instant < end:
        yield instant
        instant = next_occurrence(rule, instant)


def is_quiet(instant: datetime, zone: str, quiet: QuietHours) -> bool:
    """Whether the instant falls inside the quiet hours, in the zone's wall-clock time."""
    _require_aware(instant, "instant")
    if quiet.empty:
        return False
    local = _wall(instant.astimezone(load_zone(zone)).time())
    start, end = _wall(quiet.start), _wall(quiet.end)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def defer_past_quiet(instant: datetime, zone: str, quiet: QuietHours) -> datetime:
    """The instant itself if not quiet, else the end of its quiet window; both in UTC."""
    _require_aware(instant, "instant")
    deferred = instant.astimezone(UTC)
    # One step is enough for any sane window. A window whose only free minutes fall in a
    # spring-forward gap has no free time that day: its end lands inside the next window.
    for _ in range(3):
        if not is_quiet(deferred, zone, quiet):
            break
        deferred = _end_of_quiet_window(deferred, load_zone(zone), quiet)
    return deferred


def _end_of_quiet_window(instant: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """The first instant after the quiet window that holds `instant`, in UTC."""
    local = instant.astimezone(tz)
    end_day = local.date()
    if _wall(quiet.start) > _wall(quiet.end) and _wall(local.time()) >= _wall(quiet.start):
        # The evening part of a window that wraps midnight ends tomorrow.
        end_day += timedelta(days=1)
    # Normally fold=0 is the end. If the end time is repeated (fall back) and we are already
    # in its second pass, the first occurrence is behind us and the second one is the end.
    for fold in (0, 1):
        end = _local_instant(end_day, quiet.end, tz, fold)
        if end > instant:
            return end
    return _local_instant(end_day + timedelta(days=1), quiet.end, tz)


def week_start(instant: datetime, zone: str) -> datetime:
    """Monday 00:00 local of the instant's week, in UTC."""
    _require_aware(instant, "instant")
    tz = load_zone(zone)
    local_day = instant.astimezone(tz).date()
    monday = local_day - timedelta(days=local_day.weekday())
    return _local_instant(monday, time(0), tz)


def parse_local_time(text: str) -> time | None:
    """A wall-clock time typed by a user ("9", "09:30", "9.30", "21h", "9pm"), or None."""
    cleaned = text.strip().casefold()
    if not cleaned or len(cleaned) > _MAX_TIME_TEXT:
        return None
    match = _TIME_PATTERN.fullmatch(cleaned)
    if match is None:
        return None
    if match["hhmm"] is not None:
        hour, minute = int(match["hhmm"][:2]), int(match["hhmm"][2:])
    else:
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
    suffix = match["suffix"]
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        # 12am is midnight and 12pm is noon.
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


MAX_PAUSE_DAYS = 366
_PAUSE_DATE_TEXT = 20
_QUIET_TEXT = 40


class InvalidValueError(ValueError):
    """A value typed with a command that cannot be: `reason` names the text that says so,
    `value` is what the user typed (to quote it back)."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


def parse_pause_date(text: str, zone: str, now: datetime) -> datetime:
    """ "15/12", "15/12/2026" or "2026-12-15": local midnight after that day, as UTC.

    Raises InvalidValueError: not_a_date, no_such_day (31/02), in_the_past, too_far."""
    text = text.strip()[:_PAUSE_DATE_TEXT]
    day = month = year = None
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        year, month, day = (int(g) for g in match.groups())
    elif match := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?", text):
        day, month = int(match[1]), int(match[2])
        year = int(match[3]) if match[3] else None
    if day is None or month is None:
        raise InvalidValueError("not_a_date", text)
    tz = load_zone(zone)
    local_now = now.astimezone(tz)
    if year is not None and year < 100:
        year += 2000
    try:
        target = datetime(year or local_now.year, month, day, tzinfo=tz)
    except ValueError:
        raise InvalidValueError("no_such_day", text) from None
    if year is None and target.date() < local_now.date():
        target = target.replace(year=local_now.year + 1)
    until = datetime.combine(target.date() + timedelta(days=1), time(0), tzinfo=tz)
    if until <= now:
        raise InvalidValueError("in_the_past", text)
    if until > now + timedelta(days=MAX_PAUSE_DAYS):
        raise InvalidValueError("too_far", text)
    return until


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """ "21:00-08:00" (or "21 8"): the start and end of the quiet window.

    Raises InvalidValueError: not_a_range (not two times), not_a_time (quoting the part
    that is no time), same_time (a window of nothing)."""
    cleaned = text[:_QUIET_TEXT].strip()
    parts = [part for part in re.split(r"\s*[-–]\s*|\s+", cleaned) if part]
    if len(parts) != 2:
        raise InvalidValueError("not_a_range", cleaned)
    start, end = parse_local_time(parts[0]), parse_local_time(parts[1])
    if start is None:
        raise InvalidValueError("not_a_time", parts[0])
    if end is None:
        raise InvalidValueError("not_a_time", parts[1])
    if start == end:
        raise InvalidValueError("same_time", parts[0])
    return start, end
