"""Time zone names, checked once; used by users' and contacts' windows."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def all_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(all_time_zones())]


def validate_time_zone(value: str) -> None:
    if value not in all_time_zones():
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Pick one from the list, such as Europe/London.",
            code="unknown_time_zone",
            params={"value": value},
        )
