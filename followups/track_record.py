"""Follow-through, thank-yous and boundary breaches, added to the seeker's track record."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.utils import timezone

from intros.track_record import Line, rate

from .models import FollowUp, Outreach

THANKS = [FollowUp.Kind.THANK_CONNECTOR, FollowUp.Kind.THANK_TARGET]


def followup_lines(seeker) -> list[Line]:
    now = timezone.now()
    counts = FollowUp.objects.filter(owner=seeker).aggregate(
        reach_due=Count("pk", filter=Q(kind=FollowUp.Kind.REACH_OUT) & (Q(due_at__lte=now) | ~Q(status="open"))),
        reach_on_time=Count("pk", filter=Q(kind=FollowUp.Kind.REACH_OUT, status="done", done_at__lte=F("due_at"))),
        thanks_due=Count("pk", filter=Q(kind__in=THANKS) & (Q(due_at__lte=now) | Q(status="done"))),
        thanks_done=Count("pk", filter=Q(kind__in=THANKS, status="done")),
    )
    breaches = Outreach.objects.filter(seeker=seeker, is_breach=True).count()
    return [
        Line("First outreach within the time asked", rate(counts["reach_on_time"], counts["reach_due"])),
        Line("Thank-yous sent", rate(counts["thanks_done"], counts["thanks_due"])),
        Line("Boundary breaches (wrote outside a target's window)", str(breaches), concern=breaches > 0),
    ]
