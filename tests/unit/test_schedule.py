"""Next-occurrence maths: daylight saving in Rome and New York, quiet hours, typed times."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.localtime.schedule import (
    QuietHours,
    WeeklyRule,
    defer_past_quiet,
    is_quiet,
    next_occurrence,
    occurrences,
    parse_local_time,
    week_start,
)

ROME = "Europe/Rome"
NEW_YORK = "America/New_York"
EVERY_DAY = frozenset(range(7))
SUNDAY = frozenset({6})
NIGHT = QuietHours(start=time(21), end=time(8))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    """The instant on the zone's wall clock."""
    return instant.astimezone(ZoneInfo(zone))


def rule(weekdays: frozenset[int], at: time, zone: str = ROME) -> WeeklyRule:
    """A weekly rule, briefly."""
    return WeeklyRule(weekdays=weekdays, local_time=at, zone=zone)


# Rome, spring forward: 29 March 2026, 02:00 CET becomes 03:00 CEST.


def test_nine_oclock_stays_nine_across_spring_forward_in_rome() -> None:
    due = list(occurrences(rule(EVERY_DAY, time(9)), utc(2026, 3, 27), utc(2026, 3, 31)))
    assert due == [
        utc(2026, 3, 27, 8),
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
    ]
    assert {local(instant, ROME).time() for instant in due} == {time(9)}


def test_time_in_the_spring_gap_is_sent_once_an_hour_later_in_rome() -> None:
    sunday_half_past_two = rule(SUNDAY, time(2, 30))
    first = next_occurrence(sunday_half_past_two, utc(2026, 3, 28, 12))
    assert first == utc(2026, 3, 29, 1, 30)
    assert local(first, ROME).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    assert next_occurrence(sunday_half_past_two, first) == utc(2026, 4, 5, 0, 30)


def test_spring_gap_time_is_not_sent_again_from_inside_the_shifted_hour() -> None:
    sunday_half_past_two = rule(SUNDAY, time(2, 30))
    assert next_occurrence(sunday_half_past_two, utc(2026, 3, 29, 1, 15)) == utc(
        2026, 3, 29, 1, 30
    )
    assert next_occurrence(sunday_half_past_two, utc(2026, 3, 29, 1, 45)) == utc(2026, 4, 5, 0, 30)


# Rome, fall back: 25 October 2026, 03:00 CEST becomes 02:00 CET.


def test_nine_oclock_stays_nine_across_fall_back_in_rome() -> None:
    due = list(occurrences(rule(EVERY_DAY, time(9)), utc(2026, 10, 24), utc(2026, 10, 27)))
    assert due == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)]


def test_repeated_time_is_sent_once_at_its_first_occurrence_in_rome() -> None:
    sunday_half_past_two = rule(SUNDAY, time(2, 30))
    first = next_occurrence(sunday_half_past_two, utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first pass
    # From the first pass, and from inside the repeated hour, the next one is a week away.
    assert next_occurrence(sunday_half_past_two, first) == utc(2026, 11, 1, 1, 30)
    assert next_occurrence(sunday_half_past_two, utc(2026, 10, 25, 1, 10)) == utc(
        2026, 11, 1, 1, 30
    )


# New York: spring forward 8 March 2026 (02:00 EST → 03:00 EDT), fall back 1 November 2026
# (02:00 EDT → 01:00 EST).


def test_nine_oclock_stays_nine_across_both_changes_in_new_york() -> None:
    nine = rule(EVERY_DAY, time(9), NEW_YORK)
    assert list(occurrences(nine, utc(2026, 3, 7), utc(2026, 3, 9))) == [
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
    ]
    assert list(occurrences(nine, utc(2026, 10, 31), utc(2026, 11, 2))) == [
        utc(2026, 10, 31, 13),
        utc(2026, 11, 1, 14),
    ]


def test_time_in_the_spring_gap_is_sent_once_an_hour_later_in_new_york() -> None:
    sunday_half_past_two = rule(SUNDAY, time(2, 30), NEW_YORK)
    first = next_occurrence(sunday_half_past_two, utc(2026, 3, 7))
    assert first == utc(2026, 3, 8, 7, 30)
    assert local(first, NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)
    assert next_occurrence(sunday_half_past_two, first) == utc(2026, 3, 15, 6, 30)


def test_repeated_time_is_sent_once_at_its_first_occurrence_in_new_york() -> None:
    sunday_half_past_one = rule(SUNDAY, time(1, 30), NEW_YORK)
    first = next_occurrence(sunday_half_past_one, utc(2026, 10, 31))
    assert first == utc(2026, 11, 1, 5, 30)  # 01:30 EDT; 01:30 EST (06:30Z) is skipped
    assert next_occurrence(sunday_half_past_one, first) == utc(2026, 11, 8, 6, 30)


# The rule and its edges.


def test_an_instant_exactly_due_is_not_returned_again() -> None:
    nine = rule(EVERY_DAY, time(9))
    assert next_occurrence(nine, utc(2026, 1, 5, 8)) == utc(2026, 1, 6, 8)


def test_next_occurrence_accepts_any_aware_zone_and_answers_in_utc() -> None:
    monday_nine = rule(frozenset({0}), time(9))
    after = datetime(2026, 1, 5, 8, 59, tzinfo=ZoneInfo(ROME))  # Monday 08:59 in Rome
    due = next_occurrence(monday_nine, after)
    assert due == utc(2026, 1, 5, 8)
    assert due.tzinfo is UTC


def test_occurrences_include_start_and_exclude_end() -> None:
    nine = rule(EVERY_DAY, time(9))
    assert list(occurrences(nine, utc(2026, 1, 5, 8), utc(2026, 1, 7, 8))) == [
        utc(2026, 1, 5, 8),
        utc(2026, 1, 6, 8),
    ]


def test_naive_instants_are_refused() -> None:
    naive = datetime(2026, 1, 5, 8)
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(rule(EVERY_DAY, time(9)), naive)
    with pytest.raises(ValueError, match="aware"):
        defer_past_quiet(naive, ROME, NIGHT)
    with pytest.raises(ValueError, match="aware"):
        week_start(naive, ROME)


@pytest.mark.parametrize(
    ("weekdays", "at", "zone"),
    [
        (frozenset(), time(9), ROME),
        (frozenset({7}), time(9), ROME),
        (frozenset({-1}), time(9), ROME),
        (frozenset({0}), time(9, tzinfo=UTC), ROME),
        (frozenset({0}), time(9), "Europe/Atlantis"),
        (frozenset({0}), time(9), ""),
        (frozenset({0}), time(9), "../etc/passwd"),
        (frozenset({0}), time(9), "localtime"),
    ],
)
def test_invalid_rules_are_refused(weekdays: frozenset[int], at: time, zone: str) -> None:
    with pytest.raises(ValueError, match=r"weekday|naive|time zone"):
        WeeklyRule(weekdays=weekdays, local_time=at, zone=zone)


def test_rule_keeps_weekdays_as_a_frozenset() -> None:
    built = WeeklyRule(weekdays={0, 2}, local_time=time(9), zone=ROME)  # type: ignore[arg-type]
    assert built.weekdays == frozenset({0, 2})
    assert hash(built) == hash(rule(frozenset({0, 2}), time(9)))


# Week boundaries for "posts this week".


def test_week_starts_on_monday_midnight_local_time() -> None:
    assert week_start(utc(2026, 1, 8, 12), ROME) == utc(2026, 1, 4, 23)  # Mon 5 Jan 00:00 CET


def test_sunday_late_evening_local_belongs_to_its_own_week() -> None:
    sunday_late = utc(2026, 3, 29, 21, 30)  # Sunday 23:30 CEST
    assert week_start(sunday_late, ROME) == utc(2026, 3, 22, 23)  # Mon 23 Mar 00:00 CET


def test_monday_just_after_midnight_local_starts_a_new_week() -> None:
    monday_early = utc(2026, 3, 29, 22, 30)  # Monday 00:30 CEST, still Sunday in UTC
    assert week_start(monday_early, ROME) == utc(2026, 3, 29, 22)


def test_week_start_in_new_york_across_fall_back() -> None:
    sunday_afternoon = utc(2026, 11, 1, 20)  # 15:00 EST, the last day of a week begun in EDT
    assert week_start(sunday_afternoon, NEW_YORK) == utc(2026, 10, 26, 4)  # 00:00 EDT
    tuesday_evening = utc(2026, 11, 4, 3)  # Tuesday 3 November 22:00 EST
    assert week_start(tuesday_evening, NEW_YORK) == utc(2026, 11, 2, 5)  # 00:00 EST


# Quiet hours.


def rome_at(day: int, hour: int, minute: int = 0) -> datetime:
    """A January 2026 wall-clock time in Rome (CET, UTC+1), as UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=ZoneInfo(ROME)).astimezone(UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (20, 59, False),
        (21, 0, True),  # the start is inside
        (23, 30, True),
        (0, 0, True),
        (3, 0, True),
        (7, 59, True),
        (8, 0, False),  # the end is outside
        (12, 0, False),
    ],
)
def test_quiet_hours_wrapping_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert is_quiet(rome_at(12, hour, minute), ROME, NIGHT) is quiet


def test_quiet_hours_within_one_day() -> None:
    lunch = QuietHours(start=time(13), end=time(14))
    assert not is_quiet(rome_at(12, 12, 59), ROME, lunch)
    assert is_quiet(rome_at(12, 13), ROME, lunch)
    assert not is_quiet(rome_at(12, 14), ROME, lunch)


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    none = QuietHours(start=time(22), end=time(22))
    assert not any(is_quiet(rome_at(12, hour), ROME, none) for hour in range(24))


def test_quiet_hours_are_read_on_the_users_wall_clock() -> None:
    # 21:30 UTC is 22:30 in Rome (quiet) and 16:30 in New York (not quiet).
    assert is_quiet(utc(2026, 1, 12, 21, 30), ROME, NIGHT)
    assert not is_quiet(utc(2026, 1, 12, 21, 30), NEW_YORK, NIGHT)


def test_a_nudge_outside_quiet_hours_is_not_moved() -> None:
    noon = rome_at(12, 12)
    assert defer_past_quiet(noon, ROME, NIGHT) == noon


def test_a_late_evening_nudge_waits_for_the_morning() -> None:
    assert defer_past_quiet(rome_at(12, 22), ROME, NIGHT) == rome_at(13, 8)


def test_an_early_morning_nudge_waits_until_the_end_of_the_same_night() -> None:
    assert defer_past_quiet(rome_at(13, 6), ROME, NIGHT) == rome_at(13, 8)


def test_deferring_answers_in_utc() -> None:
    deferred = defer_past_quiet(datetime(2026, 1, 12, 22, tzinfo=ZoneInfo(ROME)), ROME, NIGHT)
    assert deferred.tzinfo is UTC


def test_deferring_over_spring_forward_keeps_the_local_end() -> None:
    saturday_night = utc(2026, 3, 28, 21)  # 22:00 CET
    assert defer_past_quiet(saturday_night, ROME, NIGHT) == utc(2026, 3, 29, 6)  # 08:00 CEST


def test_deferring_inside_a_repeated_hour_ends_at_the_right_pass() -> None:
    until_half_past_two = QuietHours(start=time(0), end=time(2, 30))
    first_pass = utc(2026, 10, 25, 0, 10)  # 02:10 CEST
    second_pass = utc(2026, 10, 25, 1, 10)  # 02:10 CET
    assert defer_past_quiet(first_pass, ROME, until_half_past_two) == utc(2026, 10, 25, 0, 30)
    assert defer_past_quiet(second_pass, ROME, until_half_past_two) == utc(2026, 10, 25, 1, 30)


# Typed times.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", time(9)),
        ("09:30", time(9, 30)),
        ("9.30", time(9, 30)),
        ("21h", time(21)),
        ("21h30", time(21, 30)),
        (" 7:05 ", time(7, 5)),
        ("0930", time(9, 30)),
        ("0", time(0)),
        ("23:59", time(23, 59)),
        ("9am", time(9)),
        ("9:30 PM", time(21, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
    ],
)
def test_parse_local_time_understands_common_spellings(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["25:70", "abc", "", "   ", "24:00", "9:5", "13pm", "0am", "-1", "9:30:00", "٩", "9" * 50],
)
def test_parse_local_time_refuses_the_rest(text: str) -> None:
    assert parse_local_time(text) is None


# Properties over many zones, rules and instants.

ZONES = st.sampled_from(
    [
        ROME,
        NEW_YORK,
        "UTC",
        "Europe/London",
        "Europe/Dublin",  # negative DST in the tz database
        "Australia/Sydney",
        "Australia/Lord_Howe",  # 30-minute DST
        "Pacific/Chatham",
        "Asia/Kolkata",
        "America/Santiago",  # changes at midnight
        "America/Havana",
        "Africa/Casablanca",  # DST suspended each Ramadan
        "Asia/Tehran",
    ]
)
WEEKDAYS = st.frozensets(st.integers(min_value=0, max_value=6), min_size=1)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
TIMES = st.times()


def _is_wall_time(day: date, at: time, zone: str) -> bool:
    """Whether the wall-clock time exists on that day (it is not in a spring gap)."""
    tz = ZoneInfo(zone)
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz).replace(
        tzinfo=None
    ) == datetime.combine(day, at)


def _days_to_next_due(day: date, weekdays: frozenset[int]) -> int:
    """Days from one due day to the following one."""
    return next(step for step in range(1, 8) if (day.weekday() + step) % 7 in weekdays)


@settings(deadline=None)
@given(zone=ZONES, weekdays=WEEKDAYS, at=TIMES, after=INSTANTS)
def test_next_occurrence_is_soon_after_on_a_due_weekday_at_the_wall_time(
    zone: str, weekdays: frozenset[int], at: time, after: datetime
) -> None:
    due = next_occurrence(rule(weekdays, at, zone), after)
    assert due.tzinfo is UTC
    assert after < due <= after + timedelta(days=7, hours=1)
    on_the_wall = local(due, zone)
    assert on_the_wall.weekday() in weekdays
    # The wall-clock time is kept, unless it does not exist that day (then it moves later).
    if _is_wall_time(on_the_wall.date(), at, zone):
        assert on_the_wall.time() == at.replace(fold=0)
    else:
        assert on_the_wall.time() > at


@settings(deadline=None, max_examples=60)
@given(zone=ZONES, weekdays=WEEKDAYS, at=TIMES, after=INSTANTS)
def test_iterating_never_repeats_and_never_skips_a_due_day(
    zone: str, weekdays: frozenset[int], at: time, after: datetime
) -> None:
    weekly = rule(weekdays, at, zone)
    tz = ZoneInfo(zone)
    first = next_occurrence(weekly, after)
    # Nothing due between `after` and the first answer was skipped.
    after_day, first_day = local(after, zone).date(), local(first, zone).date()
    day = after_day
    while day < first_day:
        if day.weekday() in weekdays:
            assert day == after_day
            assert datetime.combine(day, at, tzinfo=tz).astimezone(UTC) <= after
        day += timedelta(days=1)
    # Each next answer is strictly later and falls on the very next due day.
    dues = [first]
    for _ in range(15):
        dues.append(next_occurrence(weekly, dues[-1]))
    for earlier, later in itertools.pairwise(dues):
        assert later > earlier
        earlier_day, later_day = local(earlier, zone).date(), local(later, zone).date()
        assert (later_day - earlier_day).days == _days_to_next_due(earlier_day, weekdays)


@settings(deadline=None)
@given(
    zone=ZONES,
    start=TIMES,
    end=TIMES,
    instant=INSTANTS,
)
def test_deferred_instants_are_never_quiet_and_never_earlier(
    zone: str, start: time, end: time, instant: datetime
) -> None:
    quiet = QuietHours(start=start, end=end)
    deferred = defer_past_quiet(instant, zone, quiet)
    assert instant <= deferred <= instant + timedelta(days=2, hours=1)
    assert not is_quiet(deferred, zone, quiet)
