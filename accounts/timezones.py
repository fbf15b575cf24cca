"""Time zone names, checked once; used by users' and contacts' windows.

Any name the IANA database knows is valid (`all_time_zones`), so a stored alias such as
`US/Eastern` or a browser's `Asia/Calcutta` still validates. What the lists offer is smaller:
the canonical zones (`canonical_time_zones`), one per place people live, as the database's own
`zone.tab` lists them per country (no links such as `Zulu`, `W-SU` or `localtime`, nothing
under `Etc/`), plus UTC, grouped by region. The browser's own zone is put first by
static/js/app.js, which also makes the list searchable.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError

from .widgets import TimeZoneSelect

# Where zone.tab is: the tzdata package (a dependency), else the system's database.
_ZONE_TAB_PLACES = ("tzdata", *zoneinfo.TZPATH)
# A name with a region and a place, as `Area/Location` (and `America/Argentina/Salta`).
_REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@cache
def all_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone_tab() -> str | None:
    for place in _ZONE_TAB_PLACES:
        try:
            if place == "tzdata":
                return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
            return Path(place, "zone.tab").read_text(encoding="utf-8")
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            continue
    return None


@cache
def canonical_time_zones() -> tuple[str, ...]:
    """The zones to offer: zone.tab's, one or more per country, and UTC. Without zone.tab, every
    `Region/Place` name that is not an old alias (those are all a single word or outside the
    regions, such as `US/Eastern`)."""
    known = all_time_zones()
    table = _zone_tab()
    if table is not None:
        names = {
            line.split("\t")[2].strip()
            for line in table.splitlines()
            if line and not line.startswith("#") and line.count("\t") >= 2
        }
    else:
        names = {name for name in known if name.split("/", 1)[0] in _REGIONS and "/" in name}
    return tuple(sorted((names & known) | {"UTC"}))


def zone_label(name: str) -> str:
    """How a zone reads in a list under its region: `America/Argentina/Buenos_Aires` → `Argentina / Buenos Aires`."""
    parts = name.split("/")
    place = parts[1:] if len(parts) > 1 and parts[0] in _REGIONS else parts
    return " / ".join(part.replace("_", " ") for part in place)


def zone_name(name: str) -> str:
    """A zone's full name in words: `Europe/London` → `Europe / London`."""
    return name.replace("_", " ").replace("/", " / ")


@cache
def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    """The canonical zones grouped by region (for <optgroup>), UTC first on its own."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in canonical_time_zones():
        region = name.split("/", 1)[0]
        if name != "UTC":
            groups.setdefault(region, []).append((name, zone_label(name)))
    return [("UTC", "UTC"), *((region, options) for region, options in sorted(groups.items()))]


def validate_time_zone(value: str) -> None:
    if value not in all_time_zones():
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Pick one from the list, such as Europe/London.",
            code="unknown_time_zone",
            params={"value": value},
        )


class TimeZoneField(forms.ChoiceField):
    """A time zone chosen from the canonical list; any name the database knows is accepted (a
    stored alias, a browser's old name), and a current value not in the list is shown first."""

    widget = TimeZoneSelect
    default_error_messages = {
        "invalid_choice": "“%(value)s” is not a time zone we know. Pick one from the list, such as Europe/London.",
    }

    def __init__(self, *, blank: str | None = None, **kwargs):
        kwargs.setdefault("choices", time_zone_choices)
        super().__init__(**kwargs)
        self.blank = blank
        if blank is not None:
            self.choices = [("", blank), *time_zone_choices()]

    def valid_value(self, value: str) -> bool:
        return value in all_time_zones() or (self.blank is not None and value == "")
