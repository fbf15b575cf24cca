"""The numbers about introduction requests, defined once.

Every page, export and email that counts requests reads these: the seeker's track record on
the connector's vetting page, the connector's own record, the coach's funnel and member
table, their CSV exports and the coach's weekly summary. The numbers about what happens
around a request (thank-yous, outreach, boundary breaches, offers, nudges) need the
`followups` app, one layer up, and are defined in `followups.numbers`; that module is the
catalogue of every number and points here for these.

A request's history is read from its stage stamps (`first_submitted_at`, `approved_at`,
`accepted_at`, `introduced_at`, `met_at`, `outcome_recorded_at`), set once, the first time
the request reaches the stage (`intros.services.transition`, from `STAGE_STAMPS`). A stamp
means "it got this far", whatever happened after: a target who stepped back after the
introduction does not undo the introduction, a request sent back for changes and submitted
again is one request, and a target who said "not now" and accepted later has accepted. The
current status is read only for states that end a request (stepped back, withdrawn).

The definitions:

- **requested** — the request was submitted at least once. A draft that was withdrawn
  before it was ever submitted is not a request anyone was asked for, and never counts.
- **approved** — a connector approved it and vouched.
- **accepted** — the target accepted. A mention-my-name request needs no acceptance (the
  connector lets the seeker write directly), so it counts as accepted when the connector
  approved it that way: every stage counts a subset of the one before.
- **introduced** — the introduction was made (the email to both, or mention-my-name).
- **met** — the seeker recorded the meeting.
- **outcome reported** — the seeker reported what the meeting led to.
- **offers**, **hires** — an outcome reported as a job offer, as a hire.
- **offer or hired** — either of those (the funnel's last stage, the records' "Offers and hires").
- **stepped back** — the target stepped back from the introduction (`dropped_by_target`).
- **chains started** — requests whose outcome started the next request in a referral chain.

`before`: with a moment, a stage counts only if it was reached before that moment (the
coach's period); without one, if it was reached at all.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Case, Count, DateTimeField, Exists, F, OuterRef, Q, QuerySet, When

from .models import IntroRequest
from .states import Outcome, Status

SUCCESS_OUTCOMES = (Outcome.OFFER, Outcome.HIRED)

# The stages in order: key, label (the coach's funnel), the stamp of when a request first reached it.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("requested", "Requested", "first_submitted_at"),
    ("approved", "Approved", "approved_at"),
    ("accepted", "Accepted", "accepted_at"),
    ("introduced", "Introduced", "introduced_at"),
    ("met", "Met", "met_at"),
    ("offer_hired", "Offer or hired", "outcome_recorded_at"),
)
STAGE_KEYS = tuple(key for key, _, _ in STAGES)
STAGE_LABELS = {key: label for key, label, _ in STAGES}
STAGE_STAMP = {key: stamp for key, _, stamp in STAGES} | {"outcome_reported": "outcome_recorded_at"}


def reached(stage: str, before: dt.datetime | None = None) -> Q:
    """The request reached `stage` (one of STAGE_KEYS, or "outcome_reported"), before `before` if given."""
    stamp = STAGE_STAMP[stage]
    condition = Q(**{f"{stamp}__lt": before}) if before is not None else Q(**{f"{stamp}__isnull": False})
    if stage == "offer_hired":
        condition &= Q(outcome__in=SUCCESS_OUTCOMES)
    return condition


def reached_at(stage: str, before: dt.datetime) -> Case:
    """When the request first reached `stage` before `before` (None if it did not), to annotate."""
    stamp = STAGE_STAMP[stage]
    return Case(When(**{f"{stamp}__lt": before}, then=F(stamp)), default=None, output_field=DateTimeField())


def outcome(value: str, before: dt.datetime | None = None) -> Q:
    """An outcome of this kind was reported (before `before` if given)."""
    return reached("outcome_reported", before) & Q(outcome=value)


STEPPED_BACK = Q(status=Status.DROPPED_BY_TARGET)


def request_counts(requests: QuerySet[IntroRequest], before: dt.datetime | None = None) -> dict[str, int]:
    """Each number above over `requests`, in one query."""
    return requests.aggregate(**_aggregates(before))


def _aggregates(before: dt.datetime | None) -> dict[str, Count]:
    # Rows counted by their seeker (never empty, so the same as counting them) rather than
    # their id: with nothing but the seeker, the stamps, outcome and status read, PostgreSQL
    # answers the coach's funnel from intro_seeker_submitted_idx alone (an index-only scan).
    # COUNT(*) would do as well, but Django allows no filter on it.
    return {
        **{key: Count("seeker", filter=reached(key, before)) for key in (*STAGE_KEYS, "outcome_reported")},
        "offers": Count("seeker", filter=outcome(Outcome.OFFER, before)),
        "hires": Count("seeker", filter=outcome(Outcome.HIRED, before)),
        "stepped_back": Count("seeker", filter=STEPPED_BACK),
    }


def seeker_record(seeker) -> dict[str, int | float | None]:
    """The seeker's requests, for the connector deciding whether to vouch (the vetting page).

    Besides the counts above: `feedback_count` and `feedback_average`, the targets' ratings of
    the match after meeting (1–5; None when nobody rated yet)."""
    requests = IntroRequest.objects.filter(seeker=seeker)
    counts: dict = request_counts(requests)
    feedback = requests.filter(target_feedback_rating__isnull=False).aggregate(
        feedback_count=Count("pk"), feedback_average=Avg("target_feedback_rating")
    )
    return counts | feedback


def introductions_made(connector) -> QuerySet[IntroRequest]:
    """The requests a connector approved and vouched for: the introductions they made."""
    return IntroRequest.objects.filter(connector=connector).filter(reached("approved"))


def connector_record(connector) -> dict[str, int]:
    """The connector's record: the counts above over the introductions they made, and
    `chains`, how many of them started the next request in a referral chain."""
    started_next = Exists(IntroRequest.objects.filter(parent=OuterRef("pk")))
    return (
        introductions_made(connector)
        .annotate(started_next=started_next)
        .aggregate(**_aggregates(None), chains=Count("pk", filter=Q(started_next=True)))
    )
