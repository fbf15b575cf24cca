"""Follow-through, thank-yous and boundary breaches, added to the seeker's track record."""

from __future__ import annotations

from django.utils import timezone

from intros.track_record import Line, rate

from . import numbers
from .models import FollowUp, Outreach


def followup_lines(seeker) -> list[Line]:
    """Each number as `followups.numbers` defines it, over the seeker's whole history."""
    now = timezone.now()
    mine = FollowUp.objects.filter(owner=seeker)
    on_time, reached_out = numbers.reach_outs(mine, now=now)
    thanked, thanks_settled = numbers.thank_yous(mine, now=now)
    breaches = Outreach.objects.filter(numbers.breaches(), seeker=seeker).count()
    return [
        Line("First outreach within the time asked", rate(on_time, reached_out)),
        Line("Thank-yous sent", rate(thanked, thanks_settled)),
        Line("Boundary breaches (wrote outside a target's window)", str(breaches), concern=breaches > 0),
    ]
