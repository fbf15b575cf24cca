"""A seeker's track record, for the connector deciding whether to vouch (the vetting page):
their requests, as `intros.numbers` counts them, then their follow-through, thank-yous and
boundary breaches, as `followups.numbers` counts them."""

from __future__ import annotations

from followups.track_record import followup_lines
from intros.track_record import Line, request_lines


def track_record(seeker) -> list[Line]:
    return [*request_lines(seeker), *followup_lines(seeker)]
