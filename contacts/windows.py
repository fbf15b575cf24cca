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
