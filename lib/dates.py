"""Dates people type: ISO values in every date input, and one range per kind of date.

A browser's date input reads and sends `YYYY-MM-DD` whatever the page's language; a value in
any other shape (the en-GB `05/12/2026` Django would write) is thrown away and the field shows
empty. So every date input here is `DateInput` (and every date-and-time one
`DateTimeLocalInput`), which always write ISO.

Every kind of date has one range, defined once below and used by each form that asks for it:
a "busy through" at most two years ahead, a meeting not before the request and not in the
future, an outreach not before the introduction, and so on. Bounds are relative to "today" in
the zone of the person whose calendar it is, or to the request's own dates, and are passed in
by the form, so this module never reads the clock. A date outside its range is refused beside
its field, in words that name the bound; the browser's date picker gets the same bounds as
`min` and `max`. The ends of the calendar (year 1, year 9999) are thereby refused before
anything adds a day to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

ISO_DATE = "%Y-%m-%d"
ISO_MINUTE = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    """`<input type="date">` with its value always as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or ISO_DATE)


class DateTimeLocalInput(forms.DateTimeInput):
    """`<input type="datetime-local">` with its value as YYYY-MM-DDTHH:MM in the active zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or ISO_MINUTE)

    def format_value(self, value):
        if value is None or isinstance(value, str):
            return value
        # DateTimeField.prepare_value already turns an aware value into naive local time.
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime(self.format)


def local_moment(day: dt.date, hour: int, zone: dt.tzinfo) -> dt.datetime:
    """`hour`:00 local on `day`, as a real instant even on a DST change day."""
    naive = dt.datetime.combine(day, dt.time(hour))
    # Round-trip through UTC: a wall time inside a spring-forward gap lands just after it.
    return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def end_of_today(now: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The first instant of tomorrow in `zone` (the active time zone by default): what is due
    "today" is due before it. The one definition for home, the follow-up list and the digest."""
    zone = zone or timezone.get_current_timezone()
    return local_moment(now.astimezone(zone).date() + dt.timedelta(days=1), 0, zone)


def in_words(value: dt.date) -> str:
    """5 December 2026 (and 14:30 for a moment, in the active zone)."""
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{local.day} {local:%B %Y}, {local:%H:%M}"
    return f"{value.day} {value:%B %Y}"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Range:
    """The dates (or moments) a field accepts, both ends included, and what to say outside them.
    The messages may name the bounds: `{earliest}` and `{latest}`, in words."""

    earliest: dt.date | None
    latest: dt.date | None
    too_early: str = "Choose {earliest} or later."
    too_late: str = "Choose {latest} or earlier."

    def check(self, value: dt.date) -> None:
        words = {
            "earliest": in_words(self.earliest) if self.earliest else "",
            "latest": in_words(self.latest) if self.latest else "",
        }
        if self.earliest is not None and value < self.earliest:
            raise ValidationError(self.too_early.format(**words), code="too_early")
        if self.latest is not None and value > self.latest:
            raise ValidationError(self.too_late.format(**words), code="too_late")


# --- the ranges, one per kind of date -----------------------------------------------------------


def busy_through(today: dt.date, *, free_now: str) -> Range:
    """A contact's or target's "busy through": today at the earliest (free from tomorrow), two
    years ahead at the latest. `today` is in that person's zone."""
    return Range(
        today,
        add_years(today, 2),
        too_early=f"That date has passed: leave it empty if {free_now}.",
        too_late="Choose a date within two years, by {latest}.",
    )


def ask_again_after(today: dt.date) -> Range:
    """A target's "not now, ask me after": tomorrow to a year from now, in the target's zone."""
    return Range(
        today + dt.timedelta(days=1),
        today + dt.timedelta(days=365),
        too_early="Choose a date after today.",
        too_late="Choose a date within the next year, by {latest}.",
    )


def connected_since(today: dt.date) -> Range:
    """When two people got to know each other: in the last hundred years, not after today."""
    return Range(
        add_years(today, -100),
        today,
        too_early="Choose a date in the last hundred years, from {earliest}.",
        too_late="That date is still to come: choose today or earlier.",
    )


def meeting_day(*, requested: dt.date, today: dt.date) -> Range:
    """The day an introduction's meeting took place: not before the request, not in the future."""
    return Range(
        min(requested, today),
        today,
        too_early="You asked for this introduction on {earliest}: the meeting can't be before that.",
        too_late="The meeting date can't be in the future.",
    )


# An outreach logged a few minutes ahead of the clock (a phone a little fast) is still now.
OUTREACH_CLOCK_SLACK = dt.timedelta(minutes=5)


def outreach_moment(*, introduced: dt.datetime, now: dt.datetime) -> Range:
    """When a seeker wrote to the person they were introduced to: from the minute of the
    introduction (the input has minutes only) until now."""
    earliest = introduced.replace(second=0, microsecond=0)
    return Range(
        min(earliest, now),
        now + OUTREACH_CLOCK_SLACK,
        too_early="You were introduced on {earliest}: log the attempts made since then.",
        too_late="Log an attempt once it has happened: this time is in the future.",
    )


DASHBOARD_YEARS_BACK = 10


def dashboard_day(today: dt.date, *, end: str) -> Range:
    """Either `end` ("start" or "end") of a coach's custom period: in the last ten years, up to
    today in the coach's zone (nothing has happened after it)."""
    return Range(
        add_years(today, -DASHBOARD_YEARS_BACK),
        today,
        too_early=f"The {end} date is more than ten years ago: choose {{earliest}} or later.",
        too_late=f"The {end} date is still to come: choose today, {{latest}}, or earlier.",
    )


# --- form fields that carry a range ------------------------------------------------------------


class _Bounded:
    """Mixin for a date or date-time field: `limit()` sets its range (and the picker's min and
    max); a value equal to `unchanged` (what is stored already) passes, so a form saved with an
    old date left as it was is not refused for it."""

    range: Range | None = None
    unchanged = None

    def limit(self, range_: Range, *, unchanged=None) -> None:
        self.range = range_
        self.unchanged = unchanged
        low, high = range_.earliest, range_.latest
        if unchanged is not None:
            low = min(low, unchanged) if low is not None else None
            high = max(high, unchanged) if high is not None else None
        for name, bound in (("min", low), ("max", high)):
            if bound is None:
                self.widget.attrs.pop(name, None)
            else:
                self.widget.attrs[name] = self.widget.format_value(bound)

    def validate(self, value) -> None:
        super().validate(value)
        if value not in self.empty_values and self.range is not None and value != self.unchanged:
            self.range.check(value)


class DateField(_Bounded, forms.DateField):
    """A date typed into `<input type="date">`: ISO in and out (also 5/12/2026 as en-GB writes it)."""

    widget = DateInput
    input_formats = [ISO_DATE, "%d/%m/%Y"]
    default_error_messages = {"invalid": "Enter a real date, e.g. 2026-12-05."}


class DateTimeField(_Bounded, forms.DateTimeField):
    """A moment typed into `<input type="datetime-local">`, in the active zone."""

    widget = DateTimeLocalInput
    input_formats = [ISO_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
    default_error_messages = {"invalid": "Enter a real date and time, e.g. 2026-12-05 14:30."}

    def limit(self, range_: Range, *, unchanged=None) -> None:
        super().limit(range_, unchanged=unchanged)
        if range_.latest is not None:
            # The picker allows the whole of the last day: a "now" bound in the page would
            # refuse the current time once the form has been open a few minutes.
            last = timezone.localtime(range_.latest).replace(hour=23, minute=59)
            self.widget.attrs["max"] = last.strftime(ISO_MINUTE)
