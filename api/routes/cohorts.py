"""A coach's cohorts and their numbers: the dashboard's own (cohorts.dashboard, which reads
intros.numbers and followups.numbers), counts, dates and statuses only: never a target's
email or notes, a request's preparation or an outreach note."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from cohorts import dashboard
from cohorts.forms import DashboardForm
from cohorts.models import Cohort

from ..common import form_data
from ..problems import Invalid

router = Router(tags=["Cohorts (coach)"])


class CohortOut(Schema):
    id: int
    name: str
    member_count: int


@router.get("/cohorts", response=list[CohortOut], url_name="cohort_list", summary="The cohorts I coach")
def cohort_list(request):
    cohorts = Cohort.objects.coached_by(request.user).with_member_count().order_by("name", "pk")
    return [{"id": c.pk, "name": c.name, "member_count": c.member_count} for c in cohorts]


class StageOut(Schema):
    key: str
    label: str
    count: int
    conversion: float | None = Field(description="This stage ÷ the previous one, 0–1; null for the first or after 0.")


class FlagOut(Schema):
    code: str
    message: str
    level: str = Field(description="`bad` or `warn`.")


class MemberOut(Schema):
    id: int
    name: str
    joined_at: dt.datetime
    open_requests: int
    median_days_to_first_outreach: float | None
    thanks_done: int
    thanks_due: int
    thank_rate: float | None
    outcomes_reported: int
    intros_met: int
    overdue_followups: int
    boundary_breaches: int
    stale_offers: int
    last_activity: dt.datetime | None
    flags: list[FlagOut]


class NumbersOut(Schema):
    cohort: CohortOut
    period_start: dt.datetime
    period_end: dt.datetime
    as_of: dt.datetime = Field(description="The numbers are as of this minute.")
    funnel: list[StageOut]
    members: list[MemberOut]


class PeriodQuery(Schema):
    period: str = Field("30", description="`30`, `90` (the last days) or `custom` (with start and end).")
    start: dt.date | None = None
    end: dt.date | None = Field(None, description="Inclusive.")


@router.get(
    "/cohorts/{cohort_id}/numbers", response=NumbersOut, url_name="cohort_numbers", summary="A cohort's numbers"
)
def cohort_numbers(request, cohort_id: int, query: Query[PeriodQuery]):
    """The funnel and each member's row, as the coach's dashboard shows them for the period."""
    cohort = get_object_or_404(Cohort.objects.coached_by(request.user).with_member_count(), pk=cohort_id)
    now = timezone.now().replace(second=0, microsecond=0)  # as the dashboard: as of the minute
    form = DashboardForm(form_data({k: v for k, v in query.dict().items() if v is not None}))
    if not form.is_valid():
        raise Invalid.from_form(form)
    period = form.period_for(now=now, tz=timezone.get_current_timezone())
    numbers = dashboard.cohort_dashboard(cohort=cohort, start=period.start, end=period.end, now=now)
    return {
        "cohort": {"id": cohort.pk, "name": cohort.name, "member_count": cohort.member_count},
        "period_start": period.start,
        "period_end": period.end,
        "as_of": now,
        "funnel": [
            {"key": s.key, "label": s.label, "count": s.count, "conversion": s.rate} for s in numbers.funnel.stages
        ],
        "members": [
            {
                "id": r.user_id,
                "name": r.name,
                "joined_at": r.joined_at,
                "open_requests": r.open_requests,
                "median_days_to_first_outreach": r.median_days_to_outreach,
                "thanks_done": r.thanks_done,
                "thanks_due": r.thanks_due,
                "thank_rate": r.thank_rate,
                "outcomes_reported": r.outcomes_reported,
                "intros_met": r.intros_met,
                "overdue_followups": r.overdue_followups,
                "boundary_breaches": r.boundary_breaches,
                "stale_offers": r.stale_offers,
                "last_activity": r.last_activity,
                "flags": [{"code": f.code, "message": f.message, "level": f.level} for f in r.flags],
            }
            for r in numbers.members
        ],
    }
