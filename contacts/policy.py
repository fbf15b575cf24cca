"""When may a person next be contacted? The reminder policy, as pure functions.

Datetimes and a `Window` in, aware UTC datetimes out. No ORM and no clock: the caller
passes `now`, so the sweep, the views and the tests all ask the same question the same way.

Local hours are wall-clock times in the window's zone, and a clock change moves them:

- A local time that does not exist (a spring-forward gap) is read as the instant the clock
  jumps. A stretch whose start falls in the gap starts at the first real instant after it;
  one whose end falls in the gap ends where the gap starts — the same instant. So 02:00–03:00
  on the night New York goes 02:00 → 03:00 is empty, and 02:30–04:00 starts at 03:00.
- A local time that happens twice (a fall-back overlap) means its last occurrence (fold=1)
  when it starts a stretch and its first occurrence (fold=0) when it ends one, so the hours
  outside a stretch hold both times the clock reads them. Quiet hours and "not before" are
  promises not to disturb: Havana, quiet 00:00–08:00, on the night its clock goes 01:00 → 00:00,
  is quiet from the first 00:00 on, through the repeated hour. So 01:00–02:00 on the night New
  York goes 02:00 → 01:00 is one hour, the second time round, and 01:30–03:00 opens at the
  second 01:30.

Wrapped hours (`hours_end <= hours_start`, e.g. 22:00–02:00) run from the start on day D to
the end on day D+1 and count as day D's, so Saturday 01:00 belongs to Friday night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .windows import Window

_DAY = dt.timedelta(days=1)
_SECOND = dt.timedelta(seconds=1)
# A weekly window opens within 8 days of any moment; the rest is room for the week whose only
# stretch a DST gap swallowed (Sundays 02:00–03:00 in New York), so the search stays bounded.
_SEARCH_DAYS = 16
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class WindowNeverOpens(ValueError):
    """The window has no moment in it at all: an error when it is saved, never a silent 'never'."""


@dataclass(frozen=True)
class Violation:
    code: str  # "do_not_contact" | "unavailable" | "outside_days" | "outside_hours" | "too_soon"
    message: str  # for a person, in the recipient's own time zone


def next_allowed(*, wanted: dt.datetime, window: Window, now: dt.datetime) -> dt.datetime | None:
    """Earliest aware UTC datetime t >= max(wanted, now, unavailable_until, last_contact_at + gap)
    whose local time (in window.time_zone) is inside the hours on an allowed weekday.

    None when do_not_contact (checked before the window's shape: such a person is never contacted,
    whatever their hours say). Raises WindowNeverOpens for a window that can never open and
    ValueError for a naive datetime.
    """
    _require_aware(wanted=wanted, now=now)
    _require_aware_window(window)
    if window.do_not_contact:
        return None
    zone = _checked_zone(window)
    lower = _latest(wanted, now, _not_before(window))
    # Two days back: yesterday's wrapped stretch may still be open, and a fall-back at midnight
    # can put the start of "today's" stretch before the local date of `lower`.
    first_day = lower.astimezone(zone).date() - 2 * _DAY
    # Stretches come in order of their start (a day's worth of wall clock apart, more than any
    # clock change), so the first one still open at `lower` holds the answer.
    for start, end in _stretches(window, zone, first_day, _SEARCH_DAYS + 2):
        if end > lower:
            return max(start, lower)
    raise WindowNeverOpens(f"The window never opens within {_SEARCH_DAYS} days in {window.time_zone}.")


def is_allowed(moment: dt.datetime, window: Window) -> bool:
    """moment is inside the hours on an allowed weekday, not before unavailable_until and not sooner
    than the minimum gap; False if do_not_contact."""
    return not _broken_rules(moment, window)


def violations(moment: dt.datetime, window: Window) -> list[Violation]:
    """Every rule `moment` breaks (empty list = allowed), in a fixed order: do_not_contact,
    unavailable, outside_days, outside_hours, too_soon. Used to warn a seeker before an outreach."""
    return [Violation(code, _message(code, moment, window)) for code in _broken_rules(moment, window)]


def _broken_rules(moment: dt.datetime, window: Window) -> list[str]:
    """The codes of the rules `moment` breaks; the messages are only written when someone reads them."""
    _require_aware(moment=moment)
    _require_aware_window(window)
    broken: list[str] = []
    if window.do_not_contact:
        broken.append("do_not_contact")
        try:
            zone = _checked_zone(window)
        except WindowNeverOpens:
            return broken  # nothing else to say about hours that were never going to matter
    else:
        zone = _checked_zone(window)
    # Compare in UTC: two datetimes sharing one tzinfo compare by wall time, ignoring fold, which
    # is wrong in a fall-back's repeated hour.
    moment = moment.astimezone(dt.UTC)
    if window.unavailable_until is not None and moment < window.unavailable_until.astimezone(dt.UTC):
        broken.append("unavailable")
    wall = moment.astimezone(zone).replace(tzinfo=None)
    # Which days' stretches the moment falls in, weekdays aside; a wrapped stretch or a fall-back
    # at midnight can make that the day before or after the local date.
    in_hours_of = [
        day
        for day in (wall.date() - _DAY, wall.date(), wall.date() + _DAY)
        if _inside_hours(moment, wall, day, window, zone)
    ]
    if not any(day.weekday() in window.weekdays for day in in_hours_of):
        # Inside the hours of a day they do not take: the day is wrong. Outside all hours: the
        # hours are, and the day too when it is not one of theirs.
        if in_hours_of or wall.weekday() not in window.weekdays:
            broken.append("outside_days")
        if not in_hours_of:
            broken.append("outside_hours")
    if (gap_ends := _gap_ends(window)) is not None and moment < gap_ends:
        broken.append("too_soon")
    return broken


def _message(code: str, moment: dt.datetime, window: Window) -> str:
    if code == "do_not_contact":  # the only message that needs no (possibly unknown) time zone
        return "They asked not to be contacted at all."
    zone = ZoneInfo(window.time_zone)
    seen_as = f"That is {_when(moment, zone)} in {window.time_zone}"
    match code:
        case "unavailable":
            return (
                f"They asked not to be contacted before {_when(window.unavailable_until, zone)} ({window.time_zone})."
            )
        case "outside_days":
            return f"{seen_as}; they take messages only on {_day_list(sorted(window.weekdays))}."
        case "outside_hours":
            return f"{seen_as}, outside their hours ({window.hours_start:%H:%M}–{window.hours_end:%H:%M})."
        case _:  # too_soon
            days = window.min_days_between
            return (
                f"They were last contacted {_when(window.last_contact_at, zone)} and want at least "
                f"{days} day{'s' if days != 1 else ''} between contacts: wait until {_when(_gap_ends(window), zone)} "
                f"({window.time_zone})."
            )


def window_intervals(window: Window, start: dt.datetime, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """The allowed [from, to) stretches in UTC between `start` and `start + days` (24 h each),
    clipped to that span and to unavailable_until / the minimum gap; [] if do_not_contact."""
    _require_aware(start=start)
    _require_aware_window(window)
    if window.do_not_contact or days <= 0:
        return []
    zone = _checked_zone(window)
    lower = _latest(start, _not_before(window))
    upper = (start + days * _DAY).astimezone(dt.UTC)
    first_day = lower.astimezone(zone).date() - 2 * _DAY
    span = (upper.astimezone(zone).date() - first_day).days + 1
    # Clipped to [lower, upper): a "not before" past the end of the span leaves nothing, never
    # a stretch that ends before it starts.
    clipped = ((max(s, lower), min(e, upper)) for s, e in _stretches(window, zone, first_day, span))
    return [(s, e) for s, e in clipped if s < e]


# --- building stretches (used by next_allowed and window_intervals) ---------------------------


def _stretches(
    window: Window, zone: ZoneInfo, first_day: dt.date, days: int
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The non-empty [start, end) stretches in UTC of the allowed days first_day, first_day+1, …"""
    wraps = window.hours_end <= window.hours_start
    for offset in range(days):
        day = first_day + offset * _DAY
        if day.weekday() not in window.weekdays:
            continue
        start = wall_to_utc(dt.datetime.combine(day, window.hours_start), zone, last=True)
        end_day = day + _DAY if wraps else day
        end = wall_to_utc(dt.datetime.combine(end_day, window.hours_end), zone, last=False)
        # 02:00–03:00 on a spring-forward night is empty; so is 01:15–01:45 on a fall-back night,
        # which opens at the second 01:15 after it closed at the first 01:45.
        if start < end:
            yield start, end


def wall_to_utc(wall: dt.datetime, zone: ZoneInfo, *, last: bool) -> dt.datetime:
    """The UTC instant at which the clock in `zone` reads the naive `wall`: the first or `last`
    occurrence in an overlap, the instant the clock jumps when `wall` falls in a gap."""
    # Convert through UTC and keep only readings that round-trip: arithmetic on aware local
    # datetimes ignores clock changes, and zoneinfo quietly maps a gap time to some other hour.
    real = [
        instant
        for instant in (wall.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC) for fold in (0, 1))
        if instant.astimezone(zone).replace(tzinfo=None) == wall
    ]
    if real:
        return max(real) if last else min(real)
    return _gap_instant(wall, zone)


def _gap_instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant the clock jumps over the non-existent local time `wall`."""
    # Read with the offset from after the jump, `wall` lands before it; with the one from before,
    # after it. Halve the distance (about 12 steps for an hour) until the change is pinned.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    new_offset = after.astimezone(zone).utcoffset()
    low, high = 0, round((after - before) / _SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * _SECOND).astimezone(zone).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return before + high * _SECOND


# --- checking one moment (used by violations / is_allowed) -------------------------------------


def _inside_hours(moment: dt.datetime, wall: dt.datetime, day: dt.date, window: Window, zone: ZoneInfo) -> bool:
    """Whether `moment` (local wall time `wall`) is inside the hours of the stretch of local `day`.

    Deliberately not built from `_stretches`: the wall clock decides, and instants are consulted
    only where it reads the same time twice, so the two paths check each other in the tests.
    """
    opens = dt.datetime.combine(day, window.hours_start)
    wraps = window.hours_end <= window.hours_start
    closes = dt.datetime.combine(day + _DAY if wraps else day, window.hours_end)
    # In a fall-back's repeated hour the clock reads `opens` twice and the stretch opens at the
    # second reading; it reads `closes` twice and the stretch is closed from the first. A gap
    # needs no care: the clock reads past it exactly when the jump has happened.
    opened = wall >= opens and opens.replace(tzinfo=zone, fold=1) <= moment
    not_closed = wall < closes and closes.replace(tzinfo=zone, fold=0) > moment
    return opened and not_closed


# --- small helpers ------------------------------------------------------------------------------


def _checked_zone(window: Window) -> ZoneInfo:
    if not window.weekdays:
        raise WindowNeverOpens("The window has no weekdays.")
    if not window.weekdays <= set(range(7)):
        raise WindowNeverOpens(f"Weekdays run from 0 (Monday) to 6 (Sunday), not {sorted(window.weekdays)}.")
    if window.hours_start == window.hours_end:
        raise WindowNeverOpens("The hours start and end at the same time.")
    try:
        return ZoneInfo(window.time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: a directory such as "America"
        raise WindowNeverOpens(f"Unknown time zone {window.time_zone!r}.") from error


def _gap_ends(window: Window) -> dt.datetime | None:
    if window.last_contact_at is None or window.min_days_between <= 0:
        return None
    # 24 h days, so add in UTC: arithmetic on a local aware datetime would add calendar days.
    return window.last_contact_at.astimezone(dt.UTC) + window.min_days_between * _DAY


def _not_before(window: Window) -> dt.datetime | None:
    bounds = [t for t in (window.unavailable_until, _gap_ends(window)) if t is not None]
    return _latest(*bounds) if bounds else None


def _latest(*moments: dt.datetime | None) -> dt.datetime:
    # In UTC: max() of datetimes sharing one tzinfo compares wall times and ignores fold, so
    # 01:00 EST (fold=1) would lose to 01:01 EDT although it comes an hour later.
    return max(t.astimezone(dt.UTC) for t in moments if t is not None)


def _require_aware(**moments: dt.datetime) -> None:
    for name, moment in moments.items():
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime, got naive {moment!r}.")


def _require_aware_window(window: Window) -> None:
    _require_aware(
        **{
            name: value
            for name, value in (
                ("unavailable_until", window.unavailable_until),
                ("last_contact_at", window.last_contact_at),
            )
            if value is not None
        }
    )


def _when(moment: dt.datetime, zone: ZoneInfo) -> str:
    """'Fri 27 Nov, 00:00' in the recipient's zone; names spelled here so the locale cannot change them."""
    local = moment.astimezone(zone)
    return f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]}, {local:%H:%M}"


def _day_list(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] -> 'Mon–Fri'; [0, 2, 4] -> 'Mon, Wed, Fri'."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{_DAY_NAMES[run[0]]}–{_DAY_NAMES[run[-1]]}" if len(run) > 2 else ", ".join(_DAY_NAMES[d] for d in run)
        for run in runs
    ]
    return ", ".join(parts)
