"""Every number the app shows about people's follow-through, defined once — and where the
numbers about requests are.

The seeker's track record on the connector's vetting page, the connector's record, the
coach's dashboard (page, drill-down and CSV exports), the coach's weekly summary, the daily
digest, the offers page and the reminder sweep's nudges all read these definitions; none
counts for itself. Each takes the moment it is "as of" (`now`) rather than reading the
clock, so a page and the export made in the same minute agree.

Numbers about requests (requested, approved, accepted, introduced, met, outcome reported,
offers and hires, stepped back, chains) are read from the requests' stage stamps and are
defined in `intros.numbers`, one layer down, because the vetting page and the connector's
record live in `intros` and may not import this app.

Numbers about follow-through, defined here:

- **thank-yous** — the seeker's "thank the connector" and "thank the target" follow-ups. One
  counts once it is settled: *done* (at the moment it was ticked off, early, on time or
  late), or *missed* (still open after its due date, at that date). One that is open and
  not yet due counts neither way, nor does a skipped one (the app skips them when an
  introduction ends before they were done). The rate is done ÷ (done + missed); "—" when
  nothing is settled. Over a period, those settled in the period (up to now).
- **first outreach within the time asked** — the seeker's "reach out" follow-ups, settled
  the same way: done on or before the due date ÷ (done + missed). Skipped ones do not count.
- **days from introduction to first outreach** — for each request introduced (in the
  period), the days from the introduction to the seeker's first logged outreach on it
  (0 if logged earlier); requests without outreach yet are left out; the median per seeker.
- **boundary breaches** — outreach logged although it broke what the target asked for
  (their window, their "I'll write first"), counted by when the attempt was made.
- **overdue follow-ups** — `FollowUp.objects.overdue(now)`: open and due before now.
- **stale offers** — an offer ("I can introduce you to…") not acted on — neither taken up
  (contacting them oneself, asking for the introduction), marked done nor dismissed — for
  OFFER_STALE_AFTER since it was recorded. Computed from the dates, so the offers page, the
  dashboard, its CSV, the weekly summary and the sweep agree even while the sweep is behind;
  the sweep's flip of the stored status to "stale" is bookkeeping (it stops looking at the
  offer) and follows the same definition.
- **offer nudges** — an offer not acted on nudges its seeker OFFER_NUDGE_AFTER after it was
  recorded (day 3, day 10). A sweep that is behind sends only the latest nudge that is due,
  never one for an offer that has gone stale, and never two within NUDGE_SPACING.

And one rule over every nudge (offer nudges, follow-up reminders, the daily digest, the
coach's note): never two about one thing within NUDGE_SPACING (a day) — see
`ReminderLog.objects.nudged_within`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, QuerySet

from intros.models import IntroRequest

from .models import NUDGE_SPACING, FollowUp, Offer

__all__ = ["NUDGE_SPACING"]

OFFER_NUDGE_AFTER = (dt.timedelta(days=3), dt.timedelta(days=10))
OFFER_STALE_AFTER = dt.timedelta(days=14)
THANK_KINDS = (FollowUp.Kind.THANK_CONNECTOR, FollowUp.Kind.THANK_TARGET)
# An offer nobody did anything with yet. "Stale" is stored by the sweep, and is still not acted on.
NOT_ACTED_ON = (Offer.Status.OPEN, Offer.Status.STALE)


# --- settled follow-ups (thank-yous, first outreach) ---------------------------------------------


def _within(field: str, start: dt.datetime | None, end: dt.datetime) -> Q:
    condition = Q(**{f"{field}__lt": end})
    return condition & Q(**{f"{field}__gte": start}) if start is not None else condition


def settled_done(*, now: dt.datetime, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Q:
    """Done, at a moment in [start, min(end, now))."""
    return Q(status=FollowUp.Status.DONE) & _within("done_at", start, min(end or now, now))


def settled_missed(*, now: dt.datetime, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Q:
    """Still open, its due date in [start, min(end, now)): missed so far."""
    return Q(status=FollowUp.Status.OPEN) & _within("due_at", start, min(end or now, now))


def settled(*, now: dt.datetime, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Q:
    """Done or missed in the period: what a rate counts (skipped ones and those not yet due never)."""
    return settled_done(now=now, start=start, end=end) | settled_missed(now=now, start=start, end=end)


THANK_YOU = Q(kind__in=THANK_KINDS)
REACH_OUT = Q(kind=FollowUp.Kind.REACH_OUT)


def _thank_you_counts(*, now: dt.datetime, start=None, end=None) -> dict[str, Count]:
    return {
        "thanks_done": Count("pk", filter=THANK_YOU & settled_done(now=now, start=start, end=end)),
        "thanks_settled": Count("pk", filter=THANK_YOU & settled(now=now, start=start, end=end)),
    }


def _reach_out_counts(*, now: dt.datetime) -> dict[str, Count]:
    return {
        "reach_outs_on_time": Count("pk", filter=REACH_OUT & settled_done(now=now) & Q(done_at__lte=F("due_at"))),
        "reach_outs_settled": Count("pk", filter=REACH_OUT & settled(now=now)),
    }


def follow_through(followups: QuerySet[FollowUp], *, now: dt.datetime) -> dict[str, int]:
    """Thank-yous (done, settled) and first outreach (on time, settled) among `followups`,
    over all time up to now, in one query (the seeker's track record)."""
    return followups.aggregate(**_thank_you_counts(now=now), **_reach_out_counts(now=now))


# --- outreach -------------------------------------------------------------------------------------


def breaches(*, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Q:
    """Outreach logged as a boundary breach, attempted in [start, end) (all of it without a period)."""
    condition = Q(is_breach=True)
    if start is not None:
        condition &= Q(at__gte=start)
    if end is not None:
        condition &= Q(at__lt=end)
    return condition


def days_to_first_outreach(introduced: QuerySet[IntroRequest]) -> dict[int, float]:
    """Per seeker, the median days from introduction to their first outreach over `introduced`
    (requests already filtered to those introduced in the period), in one query."""
    # One join and one grouping rather than a lookup per request: a cohort's month holds
    # thousands of introductions at the benchmark's scale (bench: issue 17, the dashboard).
    # The wait itself is taken in SQL: one duration a request to read back, not two datetimes.
    waits = (
        introduced.filter(introduced_at__isnull=False)
        .order_by()
        .values("pk", "seeker_id", "introduced_at")
        .annotate(first_outreach=Min("outreaches__at", filter=Q(outreaches__seeker=F("seeker"))))
        .filter(first_outreach__isnull=False)  # not yet reached out: left out
        .annotate(wait=ExpressionWrapper(F("first_outreach") - F("introduced_at"), output_field=DurationField()))
        .values_list("seeker_id", "wait")
    )
    days: dict[int, list[float]] = defaultdict(list)
    for seeker_id, wait in waits:
        # An attempt logged with an earlier time than the introduction counts as immediate.
        days[seeker_id].append(max(0.0, wait.total_seconds() / 86400))
    return {seeker_id: statistics.median(values) for seeker_id, values in days.items()}


# --- offers ----------------------------------------------------------------------------------------


def stale_offers(*, now: dt.datetime) -> Q:
    """Offers not acted on, recorded OFFER_STALE_AFTER or longer before `now`."""
    return Q(status__in=NOT_ACTED_ON, created_at__lte=now - OFFER_STALE_AFTER)


def offer_is_stale(offer: Offer, *, now: dt.datetime) -> bool:
    """The same as `stale_offers`, for one offer in hand."""
    return offer.status in NOT_ACTED_ON and offer.created_at <= now - OFFER_STALE_AFTER


def offer_nudge_due(offer: Offer, *, now: dt.datetime) -> int | None:
    """Which nudge (1, 2) is due for `offer` at `now`: the latest whose time has come and that
    was not sent yet; None when none is, when the offer was acted on, or when it is stale."""
    if offer.status not in NOT_ACTED_ON or offer_is_stale(offer, now=now):
        return None
    due = [n for n, after in enumerate(OFFER_NUDGE_AFTER, start=1) if offer.created_at + after <= now]
    return due[-1] if due and due[-1] > offer.nudges_sent else None


def offer_next_moment(offer: Offer) -> dt.datetime:
    """When the offer next needs the sweep: its next nudge not yet sent, or going stale."""
    for n, after in enumerate(OFFER_NUDGE_AFTER, start=1):
        if n > offer.nudges_sent:
            return offer.created_at + after
    return offer.created_at + OFFER_STALE_AFTER
