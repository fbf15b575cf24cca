"""The coach's weekly cohort summary: last week's funnel and who needs attention.

`followups.digests` schedules and sends it (once per coach and week, in the coach's
own hours; `workflows.digests` names it); this module, which may read every app, writes what
it says.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from followups import digests
from followups.models import DigestSchedule
from lib.outbox.services import outbox_enqueue

from .dashboard import cohort_dashboard
from .models import Cohort

WEEK = dt.timedelta(days=7)


def weekly_summary(schedule: DigestSchedule, now: dt.datetime) -> bool:
    coach = schedule.user
    cohorts = list(Cohort.objects.coached_by(coach).order_by("name"))
    if not cohorts:
        return False
    sections = []
    for cohort in cohorts:
        board = cohort_dashboard(cohort=cohort, start=now - WEEK, end=now, now=now)
        sections.append(
            {
                "cohort": cohort,
                "funnel": board.funnel,
                "attention": board.needing_attention,
                "url": settings.SITE_URL + reverse("cohorts:dashboard", args=[cohort.pk]),
            }
        )
    needing = sum(len(s["attention"]) for s in sections)
    outbox_enqueue(
        to=[coach.email],
        subject=f"Your cohorts this week: {needing} member{'s' if needing != 1 else ''} need{'s' if needing == 1 else ''} attention",
        template="coach_weekly",
        context={"coach": coach, "sections": sections},
    )
    return True


@receiver(post_save, sender=Cohort)
def schedule_weekly_summary(sender, instance: Cohort, created: bool, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    if (
        created
        or not DigestSchedule.objects.filter(user=instance.coach, kind=DigestSchedule.Kind.COACH_WEEKLY).exists()
    ):
        digests.schedule_for(instance.coach, DigestSchedule.Kind.COACH_WEEKLY, timezone.now())
