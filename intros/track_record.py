"""A seeker's track record, for the connector deciding whether to vouch.

`intros` knows requests and the targets' feedback; follow-through, thank-yous and
boundary breaches live in `followups`, which sits above this app and adds its lines
through `register` (in its AppConfig.ready), so no import runs the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Avg, Count

from .models import IntroRequest


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
    counts = IntroRequest.objects.track_record(seeker)
    feedback = IntroRequest.objects.filter(seeker=seeker, target_feedback_rating__isnull=False).aggregate(
        n=Count("pk"), avg=Avg("target_feedback_rating")
    )
    return [
        Line("Requests sent", str(counts["requested"])),
        Line("Approved by connectors", str(counts["approved"])),
        Line("Introduced", str(counts["introduced"])),
        Line("Outcomes reported after meeting", rate(counts["outcomes_reported"], counts["met"])),
        Line("Offers and hires", str(counts["hires"])),
        Line("Targets who stepped back", str(counts["dropped_by_target"]), concern=counts["dropped_by_target"] > 0),
        Line(
            "Feedback from earlier targets",
            f"{feedback['avg']:.1f} of 5 over {feedback['n']} meeting{'s' if feedback['n'] != 1 else ''}"
            if feedback["n"]
            else "none yet",
            concern=bool(feedback["n"]) and feedback["avg"] < 3,
        ),
    ]


def track_record(seeker) -> list[Line]:
    lines = _requests(seeker)
    for provider in _PROVIDERS:
        lines.extend(provider(seeker))
    return lines
