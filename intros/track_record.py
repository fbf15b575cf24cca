"""A seeker's track record, for the connector deciding whether to vouch: the lines about
their requests and the targets' feedback. Follow-through, thank-yous and boundary breaches
live in `followups` (`followups.track_record`); `workflows.track_record` puts both together.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import numbers


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    concern: bool = False  # shown with a warning mark


def rate(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "—"


def request_lines(seeker) -> list[Line]:
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
