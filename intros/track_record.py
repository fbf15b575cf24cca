"""A seeker's track record, for the connector deciding whether to vouch.

`intros` knows requests and the targets' feedback; follow-through, thank-yous and
boundary breaches live in `followups`, which sits above this app and adds its lines
through `register` (in its AppConfig.ready), so no import runs the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import numbers


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    concern: bool = False  # shown with a warning mark


_PROVIDERS: list[Callable[[object], list[Line]]] = []


def register(provider: Callable[[object], list[Line]]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def rate(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "—"


def _requests(seeker) -> list[Line]:
    """The seeker's requests, as `intros.numbers` defines each number."""
    record = numbers.seeker_record(seeker)
    rated, average = record["feedback_count"], record["feedback_average"]
    return [
        Line("Requests sent", str(record["requested"])),
        Line("Approved by connectors", str(record["approved"])),
        Line("Introduced", str(record["introduced"])),
        Line("Outcomes reported after meeting", rate(record["outcome_reported"], record["met"])),
        Line("Offers and hires", str(record["offer_hired"])),
        Line("Targets who stepped back", str(record["stepped_back"]), concern=record["stepped_back"] > 0),
        Line(
            "Feedback from earlier targets",
            f"{average:.1f} of 5 over {rated} meeting{'s' if rated != 1 else ''}" if rated else "none yet",
            concern=bool(rated) and average < 3,
        ),
    ]


def track_record(seeker) -> list[Line]:
    lines = _requests(seeker)
    for provider in _PROVIDERS:
        lines.extend(provider(seeker))
    return lines
