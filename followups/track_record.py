"""Follow-through, thank-yous and boundary breaches, added to the seeker's track record."""

from __future__ import annotations

from django.utils import timezone

from intros.track_record import Line, rate

from . import numbers
from .models import FollowUp, Outreach


def followup_lines(seeker) -> list[Line]:
    """Each number as `followups.numbers` defines it, over the seeker's whole history."""
    now = timezone.now()
    counts = numbers.follow_through(FollowUp.objects.filter(owner=seeker), now=now)
    breaches = Outreach.objects.filter(numbers.breaches(), seeker=seeker).count()
    return [
        Line("First outreach within the time asked", rate(counts["reach_outs_on_time"], counts["reach_outs_settled"])),
        Line("Thank-yous sent", rate(counts["thanks_done"], counts["thanks_settled"])),
        Line("Boundary breaches (wrote outside a target's window)", str(breaches), concern=breaches > 0),
    ]
