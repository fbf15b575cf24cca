"""The availability window as plain data: no Django, so `contacts.policy` stays pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """When a person may be contacted, in their own time zone.

    `hours_end <= hours_start` means the hours wrap past midnight (22:00–02:00); a
    wrapped stretch belongs to the weekday on which it starts. Users' quiet hours
    become such a window (the hours outside them).
    """

    time_zone: str
    weekdays: frozenset[int]  # 0 = Monday
    hours_start: dt.time
    hours_end: dt.time
    unavailable_until: dt.datetime | None = None  # aware; nothing before it
    min_days_between: int = 0
    last_contact_at: dt.datetime | None = None
    do_not_contact: bool = False


# --- a window in words (pages and emails) -------------------------------------------------------

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def days_in_words(weekdays: frozenset[int]) -> str:
    """{0, 1, 2, 3, 4} -> 'Monday–Friday'; {0, 2, 4} -> 'Monday, Wednesday and Friday'; all -> 'every day'."""
    if weekdays >= frozenset(range(7)):
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(weekdays):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) > 2:
            parts.append(f"{WEEKDAY_NAMES[run[0]]}–{WEEKDAY_NAMES[run[-1]]}")
        else:
            parts += [WEEKDAY_NAMES[day] for day in run]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def zone_in_words(name: str) -> str:
    """'America/Chicago' -> 'Chicago time', 'America/Argentina/Buenos_Aires' -> 'Buenos Aires time';
    UTC and the fixed 'Etc/…' offsets keep their names."""
    if name in {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"}:
        return "UTC"
    if "/" not in name or name.startswith("Etc/"):
        return name
    return f"{name.rsplit('/', 1)[-1].replace('_', ' ')} time"


def day_in_words(moment: dt.datetime | dt.date, *, year: bool = False) -> str:
    """'Wed 9 Dec' (with ' 2027' when `year`); names spelled here so the locale cannot change them."""
    text = f"{_SHORT_DAYS[moment.weekday()]} {moment.day} {_SHORT_MONTHS[moment.month - 1]}"
    return f"{text} {moment.year}" if year else text
