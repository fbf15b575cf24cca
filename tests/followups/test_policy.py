"""The reminder policy: examples from the stories, every clock change of 2026–2027, and properties.

No database: `contacts.policy` is pure, so these tests only build `Window`s and datetimes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.policy import (
    Violation,
    WindowNeverOpens,
    is_allowed,
    next_allowed,
    violations,
    window_intervals,
)
from contacts.windows import Window

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
QUARTER = dt.timedelta(minutes=15)

# Both sides of the date line (+14 and −11), half-hour offsets, a 30-minute DST (Lord Howe),
# southern-hemisphere DST, a zone that dropped DST (São Paulo) and the northern ones.
ZONES = [
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "America/St_Johns",
]
YEARS_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
YEARS_END = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)


def _transitions(name: str) -> list[dt.datetime]:
    """Every UTC instant in 2026–2027 at which the zone's offset changes, to the minute."""
    zone = ZoneInfo(name)
    found = []
    hour = YEARS_START
    offset = hour.astimezone(zone).utcoffset()
    while hour < YEARS_END:
        following = hour + dt.timedelta(hours=1)
        if following.astimezone(zone).utcoffset() != offset:
            change = next(
                hour + m * MINUTE for m in range(1, 61) if (hour + m * MINUTE).astimezone(zone).utcoffset() != offset
            )
            found.append(change)
            offset = following.astimezone(zone).utcoffset()
        hour = following
    return found


TRANSITIONS = {name: _transitions(name) for name in ZONES}
ALL_TRANSITIONS = [(name, change) for name, changes in TRANSITIONS.items() for change in changes]
QUARTER_HOURS = [dt.time(h, m) for h in range(24) for m in (0, 15, 30, 45)]


def test_every_dst_change_of_2026_and_2027_is_found():
    counts = {name: len(changes) for name, changes in TRANSITIONS.items()}
    with_dst = {
        "Pacific/Auckland",
        "Australia/Lord_Howe",
        "America/New_York",
        "Europe/London",
        "Europe/Berlin",
        "America/St_Johns",
    }
    assert counts == {name: 4 if name in with_dst else 0 for name in ZONES}
    assert dt.datetime(2026, 3, 8, 7, tzinfo=dt.UTC) in TRANSITIONS["America/New_York"]
    assert dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC) in TRANSITIONS["America/New_York"]


# --- the earliest-moment check shared by the examples and the properties ----------------------


def _gap_end(window: Window) -> dt.datetime | None:
    if window.last_contact_at is None:
        return None
    # 24-hour days: add in UTC, not on the wall clock of whatever zone the contact was logged in.
    return window.last_contact_at.astimezone(dt.UTC) + dt.timedelta(days=window.min_days_between)


def _lower_bound(wanted: dt.datetime, now: dt.datetime, window: Window) -> dt.datetime:
    # In UTC: max() over datetimes sharing a ZoneInfo compares wall times and ignores fold.
    bounds = [wanted, now, window.unavailable_until, _gap_end(window)]
    return max(b.astimezone(dt.UTC) for b in bounds if b is not None)


def assert_earliest(result: dt.datetime | None, *, wanted: dt.datetime, now: dt.datetime, window: Window) -> None:
    """`result` is allowed, respects every bound, and nothing allowed comes between the bound and it."""
    assert result is not None
    assert result.tzinfo is dt.UTC
    lower = _lower_bound(wanted, now, window)
    assert result >= wanted
    assert result >= now
    if window.unavailable_until is not None:
        assert result >= window.unavailable_until
    if window.last_contact_at is not None:
        assert result >= _gap_end(window)
    assert is_allowed(result, window), violations(result, window)
    if result == lower:
        return
    # Every stretch starts on the UTC quarter-hour grid (hours on a 15-minute grid, offsets and
    # clock changes in whole quarter hours), so an earlier allowed moment would show up at the
    # bound itself or at one of these.
    earlier = {lower, result - MINUTE, result - dt.timedelta(seconds=1)}
    tick = lower.replace(minute=lower.minute // 15 * 15, second=0, microsecond=0)
    while tick < result:
        earlier.add(tick)
        tick += QUARTER
    for moment in sorted(m for m in earlier if lower <= m < result):
        assert not is_allowed(moment, window), f"{moment} is allowed but the answer was {result}"


def _window(zone: str = "Asia/Tokyo", **changes) -> Window:
    fields = {"weekdays": WEEKDAYS, "hours_start": dt.time(9), "hours_end": dt.time(17)} | changes
    return Window(time_zone=zone, **fields)


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# --- examples --------------------------------------------------------------------------------


def test_story_6_friday_evening_in_new_york_waits_for_monday_morning_in_tokyo():
    window = _window("Asia/Tokyo")
    wanted = dt.datetime(2026, 11, 20, 18, tzinfo=NEW_YORK)  # Saturday 08:00 in Tokyo
    result = next_allowed(wanted=wanted, window=window, now=wanted)
    assert result == dt.datetime(2026, 11, 23, 9, tzinfo=TOKYO)
    assert result.tzinfo is dt.UTC
    assert_earliest(result, wanted=wanted, now=wanted, window=window)


def test_inside_the_window_the_wanted_time_itself_is_the_answer():
    window = _window("Asia/Tokyo")
    wanted = dt.datetime(2026, 11, 24, 10, 17, 5, tzinfo=TOKYO)
    assert next_allowed(wanted=wanted, window=window, now=wanted - dt.timedelta(days=1)) == wanted


def test_now_later_than_wanted_wins():
    window = _window("America/New_York")
    wanted = dt.datetime(2026, 11, 23, 10, tzinfo=NEW_YORK)
    now = dt.datetime(2026, 11, 23, 17, 30, tzinfo=NEW_YORK)
    assert next_allowed(wanted=wanted, window=window, now=now) == dt.datetime(2026, 11, 24, 9, tzinfo=NEW_YORK)


def test_four_days_away_means_nothing_before_they_are_back():
    away_until = dt.datetime(2026, 11, 27, tzinfo=NEW_YORK)  # four days from Monday
    window = _window("America/New_York", unavailable_until=away_until)
    wanted = dt.datetime(2026, 11, 23, 10, tzinfo=NEW_YORK)
    result = next_allowed(wanted=wanted, window=window, now=wanted)
    assert result == dt.datetime(2026, 11, 27, 9, tzinfo=NEW_YORK)
    assert_earliest(result, wanted=wanted, now=wanted, window=window)


def test_minimum_gap_of_seven_days_after_the_last_contact():
    last = dt.datetime(2026, 11, 17, 10, 30, tzinfo=NEW_YORK)
    window = _window("America/New_York", last_contact_at=last, min_days_between=7)
    wanted = dt.datetime(2026, 11, 19, 9, tzinfo=NEW_YORK)
    assert next_allowed(wanted=wanted, window=window, now=wanted) == dt.datetime(2026, 11, 24, 10, 30, tzinfo=NEW_YORK)
    # A gap that ends after hours carries over to the next morning.
    late = _window("America/New_York", last_contact_at=last.replace(hour=16, minute=59), min_days_between=7)
    result = next_allowed(wanted=wanted, window=late, now=wanted)
    assert result == dt.datetime(2026, 11, 24, 16, 59, tzinfo=NEW_YORK)
    late = _window("America/New_York", last_contact_at=last.replace(hour=17, minute=30), min_days_between=7)
    assert next_allowed(wanted=wanted, window=late, now=wanted) == dt.datetime(2026, 11, 25, 9, tzinfo=NEW_YORK)


def test_times_in_the_repeated_hour_are_ordered_by_instant_not_wall_clock():
    # Datetimes sharing a ZoneInfo compare by wall time and ignore fold: 01:01 EDT looks later
    # than 01:00 EST though it is 59 minutes earlier. The policy must not take it for the later one.
    window = _window("America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(0), hours_end=dt.time(23))
    wanted = dt.datetime(2026, 11, 1, 1, fold=1, tzinfo=NEW_YORK)  # 06:00 UTC
    now = dt.datetime(2026, 11, 1, 1, 1, tzinfo=NEW_YORK)  # 05:01 UTC
    assert next_allowed(wanted=wanted, window=window, now=now) == _utc(2026, 11, 1, 6)
    away = _window(
        "America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(0), hours_end=dt.time(23), unavailable_until=wanted
    )
    assert [v.code for v in violations(now, away)] == ["unavailable"]


def test_the_minimum_gap_counts_24_hour_days_across_a_clock_change():
    last = dt.datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)  # EST; the clocks go forward that night
    window = _window(
        "America/New_York",
        weekdays=EVERY_DAY,
        hours_start=dt.time(0),
        hours_end=dt.time(23, 45),
        last_contact_at=last,
        min_days_between=1,
    )
    wanted = dt.datetime(2026, 3, 8, 9, tzinfo=NEW_YORK)
    assert next_allowed(wanted=wanted, window=window, now=wanted) == dt.datetime(2026, 3, 8, 13, tzinfo=NEW_YORK)


def test_gap_without_a_last_contact_is_ignored():
    window = _window("Asia/Tokyo", min_days_between=30)
    wanted = dt.datetime(2026, 11, 24, 10, tzinfo=TOKYO)
    assert next_allowed(wanted=wanted, window=window, now=wanted) == wanted


def test_do_not_contact_means_never():
    window = _window("Asia/Tokyo", do_not_contact=True)
    wanted = dt.datetime(2026, 11, 24, 10, tzinfo=TOKYO)
    assert next_allowed(wanted=wanted, window=window, now=wanted) is None
    assert not is_allowed(wanted, window)
    assert [v.code for v in violations(wanted, window)] == ["do_not_contact"]
    assert window_intervals(window, wanted, 7) == []
    # Even with hours that could never open, the answer is simply "never".
    broken = _window("Nowhere/Atlantis", weekdays=frozenset(), do_not_contact=True)
    assert next_allowed(wanted=wanted, window=broken, now=wanted) is None
    assert [v.code for v in violations(wanted, broken)] == ["do_not_contact"]


def test_wrapped_hours_belong_to_the_day_they_start_on():
    friday_nights = _window("Europe/Berlin", weekdays=frozenset({4}), hours_start=dt.time(22), hours_end=dt.time(2))
    saturday_1am = dt.datetime(2026, 11, 21, 1, tzinfo=BERLIN)
    assert next_allowed(wanted=saturday_1am, window=friday_nights, now=saturday_1am) == saturday_1am
    saturday_2am = dt.datetime(2026, 11, 21, 2, tzinfo=BERLIN)
    assert next_allowed(wanted=saturday_2am, window=friday_nights, now=saturday_2am) == dt.datetime(
        2026, 11, 27, 22, tzinfo=BERLIN
    )
    friday_9pm = dt.datetime(2026, 11, 20, 21, tzinfo=BERLIN)
    assert next_allowed(wanted=friday_9pm, window=friday_nights, now=friday_9pm) == dt.datetime(
        2026, 11, 20, 22, tzinfo=BERLIN
    )
    # Saturday 01:00 is Friday night's, so a Saturday-nights window is not open then.
    saturday_nights = _window("Europe/Berlin", weekdays=frozenset({5}), hours_start=dt.time(22), hours_end=dt.time(2))
    assert not is_allowed(saturday_1am, saturday_nights)
    assert [v.code for v in violations(saturday_1am, saturday_nights)] == ["outside_days"]
    result = next_allowed(wanted=saturday_1am, window=saturday_nights, now=saturday_1am)
    assert result == dt.datetime(2026, 11, 21, 22, tzinfo=BERLIN)
    assert_earliest(result, wanted=saturday_1am, now=saturday_1am, window=saturday_nights)


def test_hours_ending_at_midnight_wrap_to_the_next_day():
    window = _window("Asia/Tokyo", weekdays=EVERY_DAY, hours_start=dt.time(18), hours_end=dt.time(0))
    assert window_intervals(window, dt.datetime(2026, 11, 20, tzinfo=TOKYO), 1) == [
        (dt.datetime(2026, 11, 20, 18, tzinfo=TOKYO), dt.datetime(2026, 11, 21, tzinfo=TOKYO))
    ]


def test_spring_forward_hours_inside_the_gap_are_empty_that_day():
    # New York, Sunday 2026-03-08: the clock goes 02:00 → 03:00, so 02:00–03:00 never happens.
    window = _window("America/New_York", weekdays=frozenset({6}), hours_start=dt.time(2), hours_end=dt.time(3))
    wanted = dt.datetime(2026, 3, 8, tzinfo=NEW_YORK)
    result = next_allowed(wanted=wanted, window=window, now=wanted)
    assert result == dt.datetime(2026, 3, 15, 2, tzinfo=NEW_YORK)
    assert_earliest(result, wanted=wanted, now=wanted, window=window)
    assert window_intervals(window, wanted, 1) == []
    assert not is_allowed(_utc(2026, 3, 8, 7), window)  # 03:00 EDT, the first instant after the gap


def test_spring_forward_start_in_the_gap_starts_when_the_clock_jumps():
    window = _window("America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(2, 30), hours_end=dt.time(4))
    wanted = dt.datetime(2026, 3, 8, tzinfo=NEW_YORK)
    result = next_allowed(wanted=wanted, window=window, now=wanted)
    assert result == _utc(2026, 3, 8, 7)  # 03:00 EDT
    assert result.astimezone(NEW_YORK).time() == dt.time(3)
    assert_earliest(result, wanted=wanted, now=wanted, window=window)


def test_spring_forward_end_in_the_gap_ends_where_the_gap_starts():
    window = _window("America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(1), hours_end=dt.time(2, 30))
    assert window_intervals(window, dt.datetime(2026, 3, 8, tzinfo=NEW_YORK), 1) == [
        (_utc(2026, 3, 8, 6), _utc(2026, 3, 8, 7))  # 01:00 EST to the jump: one hour, not an hour and a half
    ]
    assert is_allowed(_utc(2026, 3, 8, 6, 59), window)
    assert not is_allowed(_utc(2026, 3, 8, 7), window)


def test_lord_howe_half_hour_gap_and_overlap():
    gap_day = dt.datetime(2026, 10, 4, tzinfo=LORD_HOWE)  # 02:00 → 02:30
    inside = _window("Australia/Lord_Howe", weekdays=EVERY_DAY, hours_start=dt.time(2), hours_end=dt.time(2, 30))
    assert window_intervals(inside, gap_day, 1) == []
    straddling = _window("Australia/Lord_Howe", weekdays=EVERY_DAY, hours_start=dt.time(2, 15), hours_end=dt.time(3))
    [(start, end)] = window_intervals(straddling, gap_day, 1)
    assert start.astimezone(LORD_HOWE).time() == dt.time(2, 30)
    assert end - start == dt.timedelta(minutes=30)
    overlap_day = dt.datetime(2026, 4, 5, tzinfo=LORD_HOWE)  # 02:00 → 01:30
    repeated = _window("Australia/Lord_Howe", weekdays=EVERY_DAY, hours_start=dt.time(1, 30), hours_end=dt.time(2))
    [(start, end)] = window_intervals(repeated, overlap_day, 1)
    # The second time round only: the first reading of 01:30–02:00 is followed by the clock
    # reading 01:30 again, and a stretch opens at the last reading of its start.
    assert end - start == dt.timedelta(minutes=30)
    assert start == _utc(2026, 4, 4, 15)  # 01:30 at +10:30


def test_fall_back_hours_in_the_repeated_hour_are_open_the_second_time_round():
    # New York, Sunday 2026-11-01: the clock goes 02:00 → 01:00, so 01:00–02:00 is read twice.
    window = _window("America/New_York", weekdays=frozenset({6}), hours_start=dt.time(1), hours_end=dt.time(2))
    [(start, end)] = window_intervals(window, dt.datetime(2026, 11, 1, tzinfo=NEW_YORK), 1)
    assert (start, end) == (_utc(2026, 11, 1, 6), _utc(2026, 11, 1, 7))  # 01:00 EST to 02:00 EST
    for minutes in range(0, 60, 5):
        assert is_allowed(start + minutes * MINUTE, window)
        assert not is_allowed(start - (60 - minutes) * MINUTE, window)  # the same reading, EDT
    assert not is_allowed(end, window)
    first_time_round = _utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert next_allowed(wanted=first_time_round, window=window, now=first_time_round) == start


def test_fall_back_start_in_the_repeated_hour_is_its_last_reading():
    window = _window("America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(1, 30), hours_end=dt.time(3))
    [(start, end)] = window_intervals(window, dt.datetime(2026, 11, 1, tzinfo=NEW_YORK), 1)
    assert start == _utc(2026, 11, 1, 6, 30)  # 01:30 EST
    assert end == _utc(2026, 11, 1, 8)  # 03:00 EST
    # 01:45 EDT reads later than 01:30, but the clock will read 01:15 again: not open yet.
    assert not is_allowed(_utc(2026, 11, 1, 5, 45), window)
    assert not is_allowed(_utc(2026, 11, 1, 6, 15), window)  # 01:15 EST reads before 01:30
    assert is_allowed(_utc(2026, 11, 1, 6, 45), window)  # 01:45 EST


def test_fall_back_end_in_the_repeated_hour_is_its_first_reading():
    window = _window("America/New_York", weekdays=EVERY_DAY, hours_start=dt.time(22), hours_end=dt.time(1, 30))
    saturday = dt.datetime(2026, 10, 31, 12, tzinfo=NEW_YORK)
    [(start, end), *_] = window_intervals(window, saturday, 1)
    assert (start, end) == (_utc(2026, 11, 1, 2), _utc(2026, 11, 1, 5, 30))  # 22:00 EDT to the first 01:30
    assert not is_allowed(_utc(2026, 11, 1, 6, 15), window)  # 01:15 EST, after the first 01:30


def test_quiet_hours_hold_through_the_repeated_hour_havana():
    # Havana goes back from 01:00 to 00:00 on Sunday 2026-11-01: 00:00–01:00 is read twice.
    # Quiet 00:00–08:00 (a user's own hours are the rest of the day: 08:00–00:00, wrapped).
    havana = ZoneInfo("America/Havana")
    awake = Window("America/Havana", EVERY_DAY, hours_start=dt.time(8), hours_end=dt.time(0))
    first_half_past_midnight = _utc(2026, 11, 1, 4, 30)
    second_half_past_midnight = _utc(2026, 11, 1, 5, 30)
    assert first_half_past_midnight.astimezone(havana).time() == dt.time(0, 30)
    assert second_half_past_midnight.astimezone(havana).time() == dt.time(0, 30)
    assert not is_allowed(first_half_past_midnight, awake)
    assert not is_allowed(second_half_past_midnight, awake)
    assert [v.code for v in violations(first_half_past_midnight, awake)] == ["outside_hours"]
    assert is_allowed(_utc(2026, 11, 1, 3, 59), awake)  # Saturday 23:59
    assert not is_allowed(_utc(2026, 11, 1, 4), awake)  # the first midnight
    wanted = first_half_past_midnight
    assert next_allowed(wanted=wanted, window=awake, now=wanted) == dt.datetime(2026, 11, 1, 8, tzinfo=havana)
    saturday = dt.datetime(2026, 10, 31, tzinfo=havana)
    assert window_intervals(awake, saturday, 1)[-1] == (
        dt.datetime(2026, 10, 31, 8, tzinfo=havana),
        _utc(2026, 11, 1, 4),
    )


def test_busy_through_holds_until_the_second_midnight():
    from contacts.models import Contact  # an unsaved instance: no database

    havana = Contact(time_zone="America/Havana", unavailable_until=dt.date(2026, 10, 31))
    assert havana.unavailable_until_moment() == _utc(2026, 11, 1, 5)  # the second 00:00 (CST)
    new_york = Contact(time_zone="America/New_York", unavailable_until=dt.date(2026, 11, 26))
    assert new_york.unavailable_until_moment() == dt.datetime(2026, 11, 27, tzinfo=NEW_YORK)


def test_intervals_are_empty_when_not_before_falls_after_the_span():
    busy = dt.datetime(2026, 11, 24, 10, tzinfo=NEW_YORK)
    window = _window("America/New_York", hours_start=dt.time(8), unavailable_until=busy)
    assert window_intervals(window, dt.datetime(2026, 11, 23, 9, tzinfo=NEW_YORK), 1) == []
    gap = _window("America/New_York", hours_start=dt.time(8), last_contact_at=busy - 7 * DAY, min_days_between=7)
    assert window_intervals(gap, dt.datetime(2026, 11, 23, 9, tzinfo=NEW_YORK), 1) == []
    # The next day holds the rest of Tuesday's hours, after the bound.
    assert window_intervals(window, dt.datetime(2026, 11, 23, 9, tzinfo=NEW_YORK), 2) == [
        (busy, dt.datetime(2026, 11, 24, 17, tzinfo=NEW_YORK)),
        (dt.datetime(2026, 11, 25, 8, tzinfo=NEW_YORK), dt.datetime(2026, 11, 25, 9, tzinfo=NEW_YORK)),
    ]


@pytest.mark.parametrize(
    "window",
    [
        _window(weekdays=frozenset()),
        _window(hours_start=dt.time(9), hours_end=dt.time(9)),
        _window(zone="Mars/Olympus_Mons"),
        _window(zone="America"),
        _window(zone=""),
        _window(weekdays=frozenset({7})),
    ],
    ids=["no-weekdays", "equal-hours", "unknown-zone", "zone-directory", "empty-zone", "weekday-7"],
)
def test_a_window_that_can_never_open_is_an_error(window):
    moment = _utc(2026, 11, 23, 1)
    with pytest.raises(WindowNeverOpens):
        next_allowed(wanted=moment, window=window, now=moment)
    with pytest.raises(WindowNeverOpens):
        violations(moment, window)
    with pytest.raises(ValueError):  # WindowNeverOpens is a ValueError, for callers that validate
        is_allowed(moment, window)


def test_naive_datetimes_are_refused():
    aware = _utc(2026, 11, 23, 1)
    naive = dt.datetime(2026, 11, 23, 1)
    window = _window()
    with pytest.raises(ValueError, match="wanted"):
        next_allowed(wanted=naive, window=window, now=aware)
    with pytest.raises(ValueError, match="now"):
        next_allowed(wanted=aware, window=window, now=naive)
    with pytest.raises(ValueError, match="unavailable_until"):
        next_allowed(wanted=aware, window=_window(unavailable_until=naive), now=aware)
    with pytest.raises(ValueError, match="last_contact_at"):
        next_allowed(wanted=aware, window=_window(last_contact_at=naive, min_days_between=3), now=aware)
    with pytest.raises(ValueError, match="moment"):
        is_allowed(naive, window)
    with pytest.raises(ValueError):
        window_intervals(window, naive, 3)


def test_violations_name_each_rule_in_words():
    window = _window(
        "America/New_York",
        weekdays=frozenset({0, 1, 2, 3, 4}),
        unavailable_until=dt.datetime(2026, 11, 27, tzinfo=NEW_YORK),
        last_contact_at=dt.datetime(2026, 11, 20, 10, tzinfo=NEW_YORK),
        min_days_between=7,
    )
    saturday_8am = dt.datetime(2026, 11, 21, 8, tzinfo=NEW_YORK)
    found = violations(saturday_8am, window)
    assert [v.code for v in found] == ["unavailable", "outside_days", "outside_hours", "too_soon"]
    messages = {v.code: v.message for v in found}
    assert messages["unavailable"] == "They asked not to be contacted before Fri 27 Nov, 00:00 (America/New_York)."
    assert (
        messages["outside_days"] == "That is Sat 21 Nov, 08:00 in America/New_York; they take messages only on Mon–Fri."
    )
    assert (
        messages["outside_hours"] == "That is Sat 21 Nov, 08:00 in America/New_York, outside their hours (09:00–17:00)."
    )
    assert messages["too_soon"] == (
        "They were last contacted Fri 20 Nov, 10:00 and want at least 7 days between contacts: "
        "wait until Fri 27 Nov, 10:00 (America/New_York)."
    )
    assert not is_allowed(saturday_8am, window)

    # One rule at a time.
    monday_8am = dt.datetime(2026, 11, 30, 8, tzinfo=NEW_YORK)
    assert [v.code for v in violations(monday_8am, window)] == ["outside_hours"]
    saturday_10am = dt.datetime(2026, 11, 28, 10, tzinfo=NEW_YORK)
    assert [v.code for v in violations(saturday_10am, window)] == ["outside_days"]
    away_only = _window("America/New_York", unavailable_until=dt.datetime(2026, 11, 27, tzinfo=NEW_YORK))
    thursday_10am = dt.datetime(2026, 11, 26, 10, tzinfo=NEW_YORK)
    assert [v.code for v in violations(thursday_10am, away_only)] == ["unavailable"]
    gap_only = _window(
        "America/New_York", last_contact_at=dt.datetime(2026, 11, 20, 10, tzinfo=NEW_YORK), min_days_between=1
    )
    assert violations(dt.datetime(2026, 11, 20, 16, tzinfo=NEW_YORK), gap_only) == [
        Violation(
            "too_soon",
            "They were last contacted Fri 20 Nov, 10:00 and want at least 1 day between contacts: "
            "wait until Sat 21 Nov, 10:00 (America/New_York).",
        )
    ]
    friday_10am = dt.datetime(2026, 11, 27, 10, tzinfo=NEW_YORK)
    assert violations(friday_10am, window) == []
    assert is_allowed(friday_10am, window)
    assert [
        v.message for v in violations(friday_10am, _window("America/New_York", weekdays=frozenset({0, 2, 3, 5})))
    ] == ["That is Fri 27 Nov, 10:00 in America/New_York; they take messages only on Mon, Wed, Thu, Sat."]


@pytest.mark.parametrize(("zone", "change"), ALL_TRANSITIONS, ids=[f"{z}-{c:%Y-%m-%d}" for z, c in ALL_TRANSITIONS])
def test_around_every_clock_change_of_2026_and_2027_the_answer_is_allowed_and_nothing_earlier_is(zone, change):
    """Hours that start and end around the local times of each change, wanted around the change."""
    tz = ZoneInfo(zone)
    before = (change - MINUTE).astimezone(tz)  # what the clock read just before it moved
    after = change.astimezone(tz)
    edges = sorted(
        {
            (dt.datetime.combine(dt.date(2000, 1, 1), t) + delta).time()
            for t in (before.time(), after.time())
            for delta in (dt.timedelta(minutes=-29), dt.timedelta(minutes=1), dt.timedelta(minutes=16))
        }
        | {dt.time(before.hour, before.minute // 15 * 15), dt.time(after.hour, after.minute // 15 * 15)}
    )
    edges = sorted({dt.time(t.hour, t.minute // 15 * 15) for t in edges})
    for hours_start in edges:
        for hours_end in edges:
            if hours_start == hours_end:
                continue
            window = Window(tz.key, EVERY_DAY, hours_start, hours_end)
            for minutes in range(-120, 121, 30):
                wanted = change + minutes * MINUTE
                result = next_allowed(wanted=wanted, window=window, now=wanted)
                assert result is not None
                assert result >= wanted
                assert is_allowed(result, window), (hours_start, hours_end, wanted, result)
                if result > wanted:
                    for earlier in (wanted, result - MINUTE, *_quarters(wanted, result)):
                        assert not is_allowed(earlier, window), (hours_start, hours_end, wanted, result, earlier)


def _quarters(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    first = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
    return [first + n * QUARTER for n in range(1, int((end - first) / QUARTER) + 1) if first + n * QUARTER < end]


# --- properties --------------------------------------------------------------------------------

SPAN_MINUTES = int((YEARS_END - YEARS_START) / MINUTE)
THREE_DAYS_MINUTES = 3 * 24 * 60
seconds = st.one_of(st.just(0), st.integers(0, 59))
input_zones = st.sampled_from([*ZONES, "UTC"])


def _hours_near(change: dt.datetime, zone: str) -> list[dt.time]:
    """The quarter hours the clock skips or repeats at `change`, and one on either side."""
    tz = ZoneInfo(zone)
    walls = sorted(w.replace(tzinfo=None) for w in ((change - MINUTE).astimezone(tz), change.astimezone(tz)))
    first, last = walls[0] - QUARTER, walls[1] + QUARTER
    return sorted(
        {
            (first + n * QUARTER).time().replace(minute=(first + n * QUARTER).minute // 15 * 15)
            for n in range(int((last - first) / QUARTER) + 1)
        }
    )


@st.composite
def cases(draw) -> tuple[Window, dt.datetime, dt.datetime]:
    """A window in one of ZONES, and wanted/now near one of its clock changes or anywhere in
    2026–2027, written in any zone. Near a change, the hours often start or end at the clock times
    it skips or repeats, and `wanted` often falls within hours of it, so the gaps and overlaps
    themselves are hit rather than only the days around them."""
    zone = draw(st.sampled_from(ZONES))
    changes = TRANSITIONS[zone]
    hours = st.sampled_from(QUARTER_HOURS)
    if changes and draw(st.booleans()):
        change = draw(st.sampled_from(changes))
        reach = draw(st.sampled_from([THREE_DAYS_MINUTES, 3 * 60, 60]))
        wanted = change + draw(st.integers(-reach, reach)) * MINUTE
        near = st.sampled_from(_hours_near(change, zone))
        hours = st.one_of(near, near, hours)
    else:
        wanted = YEARS_START + draw(st.integers(0, SPAN_MINUTES)) * MINUTE
    wanted = (wanted + draw(seconds) * dt.timedelta(seconds=1)).astimezone(ZoneInfo(draw(input_zones)))
    # Arithmetic on a local aware datetime moves the wall clock; either way it is a valid input.
    # Each of the other bounds is usually absent, so that `wanted` itself is often the bound and
    # lands in the skipped or repeated hour.
    now = wanted
    if draw(st.integers(0, 3)) == 0:
        now = wanted + draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)) * MINUTE
    unavailable_until = last_contact_at = None
    if draw(st.integers(0, 3)) == 0:
        unavailable_until = wanted + draw(st.integers(-3 * 24 * 60, 6 * 24 * 60)) * MINUTE
    if draw(st.integers(0, 3)) == 0:
        last_contact_at = wanted + draw(st.integers(-15 * 24 * 60, 0)) * MINUTE
    hours_start = draw(hours)
    window = Window(
        time_zone=zone,
        weekdays=draw(st.one_of(st.just(EVERY_DAY), st.frozensets(st.integers(0, 6), min_size=1))),
        hours_start=hours_start,
        hours_end=draw(hours.filter(lambda t: t != hours_start)),
        unavailable_until=unavailable_until,
        min_days_between=draw(st.integers(0, 10)),
        last_contact_at=last_contact_at,
    )
    return window, wanted, now


@settings(max_examples=300, deadline=None)
@given(cases())
def test_next_allowed_is_the_earliest_allowed_moment(case):
    window, wanted, now = case
    result = next_allowed(wanted=wanted, window=window, now=now)
    assert_earliest(result, wanted=wanted, now=now, window=window)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_moment_is_allowed_exactly_when_it_is_its_own_answer(case):
    window, moment, _ = case
    allowed = is_allowed(moment, window)
    # Compared in UTC: an ambiguous local time (fold=1) never equals a datetime in another zone.
    in_utc = moment.astimezone(dt.UTC)
    assert allowed == (violations(moment, window) == [])
    assert allowed == (next_allowed(wanted=moment, window=window, now=moment) == in_utc)
    inside_an_interval = any(
        start <= moment < end for start, end in window_intervals(window, moment - dt.timedelta(days=2), 4)
    )
    assert allowed == inside_an_interval


@settings(max_examples=300, deadline=None)
@given(cases(), input_zones)
def test_the_answer_does_not_depend_on_the_zone_the_inputs_are_written_in(case, other_zone):
    window, wanted, now = case
    other = ZoneInfo(other_zone)
    result = next_allowed(wanted=wanted, window=window, now=now)
    assert next_allowed(wanted=wanted.astimezone(other), window=window, now=now.astimezone(other)) == result
    assert result.tzinfo is dt.UTC


def _reads_inside_the_hours(moment: dt.datetime, window: Window) -> bool:
    """What the clock reads at `moment`, by the wall clock alone: inside the hours of an allowed day."""
    wall = moment.astimezone(ZoneInfo(window.time_zone)).replace(tzinfo=None)
    wraps = window.hours_end <= window.hours_start
    for day in (wall.date() - DAY, wall.date()):
        opens = dt.datetime.combine(day, window.hours_start)
        closes = dt.datetime.combine(day + DAY if wraps else day, window.hours_end)
        if day.weekday() in window.weekdays and opens <= wall < closes:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(cases())
def test_an_allowed_moment_reads_inside_the_hours_both_times_round(case):
    """The hours outside a window hold each time the clock reads them: in a repeated hour, neither
    reading of a time outside the hours is allowed, and no interval holds one."""
    window, moment, _ = case
    if is_allowed(moment, window):
        assert _reads_inside_the_hours(moment, window)
    for start, end in window_intervals(window, moment - 2 * DAY, 4):
        assert _reads_inside_the_hours(start, window), (start, end)
        assert _reads_inside_the_hours(end - dt.timedelta(seconds=1), window), (start, end)


QUIET_ZONES = ["America/Havana", "America/New_York", "Australia/Lord_Howe", "Europe/London", "America/Santiago"]
QUIET_TRANSITIONS = [(name, change) for name in QUIET_ZONES for change in _transitions(name)]


@st.composite
def quiet_nights(draw) -> tuple[Window, dt.datetime]:
    """A user's quiet hours starting or ending at the clock times a change skips or repeats, and a
    moment within three hours of that change."""
    zone, change = draw(st.sampled_from(QUIET_TRANSITIONS))
    near = st.sampled_from(_hours_near(change, zone))
    quiet_start = draw(st.one_of(near, st.sampled_from(QUARTER_HOURS)))
    quiet_end = draw(st.one_of(near, st.sampled_from(QUARTER_HOURS)).filter(lambda t: t != quiet_start))
    # As followups.services.user_window builds it: every day, the hours outside the quiet ones.
    awake = Window(time_zone=zone, weekdays=EVERY_DAY, hours_start=quiet_end, hours_end=quiet_start)
    moment = change + draw(st.integers(-180, 180)) * MINUTE + draw(seconds) * dt.timedelta(seconds=1)
    return awake, moment


@settings(max_examples=500, deadline=None)
@given(quiet_nights())
def test_quiet_hours_hold_both_times_the_clock_reads_them(case):
    awake, moment = case
    if not _reads_inside_the_hours(moment, awake):  # the clock reads a quiet time
        assert not is_allowed(moment, awake)
        result = next_allowed(wanted=moment, window=awake, now=moment)
        assert result > moment and _reads_inside_the_hours(result, awake)
    assert_earliest(next_allowed(wanted=moment, window=awake, now=moment), wanted=moment, now=moment, window=awake)


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(0, 4))
def test_intervals_lie_in_the_span_after_every_bound_and_never_end_before_they_start(case, days):
    window, start, _ = case
    lower = _lower_bound(start, start, window)
    upper = start + days * DAY
    intervals = window_intervals(window, start, days)
    for s, e in intervals:
        assert lower <= s < e <= upper, (s, e, lower, upper)
        assert is_allowed(s, window) and is_allowed(e - dt.timedelta(seconds=1), window)
    assert all(e <= s for (_, e), (s, _) in itertools.pairwise(intervals))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([*ZONES, *QUIET_ZONES, "Asia/Beirut", "America/Asuncion"]), st.integers(0, 729))
def test_busy_through_holds_until_the_clock_has_left_the_date_for_good(zone, day):
    from contacts.models import Contact  # an unsaved instance: no database

    busy = dt.date(2026, 1, 1) + day * DAY
    ends = Contact(time_zone=zone, unavailable_until=busy).unavailable_until_moment()
    tz = ZoneInfo(zone)
    assert (ends - dt.timedelta(seconds=1)).astimezone(tz).date() <= busy
    for minutes in range(0, 4 * 60, 15):
        assert (ends + minutes * MINUTE).astimezone(tz).date() > busy
