"""The coach dashboard's numbers, for a cohort and a period [start, end).

Plain functions of (cohort, start, end, now) returning dataclasses, so the page, the
CSV exports and the weekly coach summary email all read the same numbers. Every
function runs a fixed number of queries however many members and requests there are:
the per-member numbers are correlated subqueries on one membership query, and the
median is taken in Python over one query's (introduced, first outreach) pairs.

The coach sees counts, dates and statuses only. Nothing here reads a target's email
or notes, a request's preparation, or an outreach note; the lists behind the numbers
load only names, organisations, titles, statuses and dates (`.only()`).

Every number is defined once, in `followups.numbers` (thank-yous, outreach, breaches,
overdue follow-ups, stale offers) and `intros.numbers` (the stages a request reached, from
its stage stamps); the track records, the offers page, the digests and the sweep read the
same definitions. Here they are taken over a cohort and a period. A "member" is a current
member of the cohort, counted as seeker.

The funnel
- requested: the members' requests first submitted in [start, end).
- approved / accepted / introduced / met / offer or hired: of those, how many reached the
  stage before `end`.
- conversion: a stage's count ÷ the previous stage's count ("—" when that is 0).

Per member
- open requests: requests in an open state other than draft, now.
- median days from introduction to first outreach: over the member's requests introduced
  in the period; "—" when none has outreach yet.
- thank-you rate: thank-yous settled (done, or missed: open past their due date) in the
  period, up to now: done ÷ settled; "—" when none.
- outcomes reported: of the member's requests met in the period, how many have an
  outcome reported ("2 of 3").
- overdue follow-ups: the member's open follow-ups due before now.
- boundary breaches: the member's outreach attempted in the period and logged as a breach.
- stale offers: offers made to the member that are stale now.
- last activity: the later of the member's latest intro event (as any actor) and their
  latest logged outreach.

Flags (who needs attention, and why)
- any boundary breach in the period ("3 boundary breaches"), shown as serious;
- any overdue follow-up ("2 overdue follow-ups");
- any stale offer ("1 stale offer");
- introduced at least STUCK_AFTER ago, the seeker to write first, and no outreach yet
  ("introduced 10 days ago, no outreach yet", the oldest such request);
- no activity for INACTIVE_AFTER ("no activity for 21 days"), or none since joining
  that long ago.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from followups import numbers
from followups.models import FollowUp, Offer, Outreach
from intros import numbers as request_numbers
from intros.models import LIST_FIELDS, IntroEvent, IntroRequest
from intros.states import OPEN_STATES, Status
from lib.search import search_key
from lib.spreadsheet import neutralise

from . import snapshots
from .models import Cohort, Membership

INACTIVE_AFTER = dt.timedelta(days=14)
STUCK_AFTER = dt.timedelta(days=7)
OPEN_REQUEST_STATES = sorted(OPEN_STATES - {Status.DRAFT})
STAGES, STAGE_KEYS, STAGE_LABELS = request_numbers.STAGES, request_numbers.STAGE_KEYS, request_numbers.STAGE_LABELS

# Fields a drill-down or export may load: a list row's (names, states, dates; never the
# target's email or notes, nor the preparation), with when the request was made and the
# target's role.
SAFE_REQUEST_FIELDS = (*LIST_FIELDS, "created_at", "target__title")


# --- the period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime
    key: str  # "30", "90" or "custom"
    label: str
    first_day: dt.date | None = None  # the custom period's dates, as the coach typed them
    last_day: dt.date | None = None


ROLLING_PERIODS = {"30": 30, "90": 90}


def rolling_period(key: str, *, now: dt.datetime) -> Period:
    days = ROLLING_PERIODS[key]
    return Period(start=now - dt.timedelta(days=days), end=now, key=key, label=f"the last {days} days")


def custom_period(first_day: dt.date, last_day: dt.date, *, tz: dt.tzinfo) -> Period:
    """From the start of `first_day` to the end of `last_day`, in the coach's time zone."""
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    label = f"{first_day:%-d %b %Y} – {last_day:%-d %b %Y}"
    return Period(start=start, end=end, key="custom", label=label, first_day=first_day, last_day=last_day)


# --- the funnel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    count: int
    previous: int | None  # the previous stage's count; None for the first stage
    requested: int

    @property
    def rate(self) -> float | None:
        """Conversion from the previous stage, 0–1; None for the first stage or after a 0."""
        if self.previous is None or self.previous == 0:
            return None
        return self.count / self.previous

    @property
    def rate_percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)

    @property
    def share(self) -> float:
        """This stage as a share of all requests, 0–1: the bar's length."""
        return self.count / self.requested if self.requested else 0.0

    @property
    def share_percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class Funnel:
    stages: list[Stage]

    @property
    def requested(self) -> int:
        return self.stages[0].count

    def count(self, key: str) -> int:
        return next(s.count for s in self.stages if s.key == key)

    def stage(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)


def member_ids(cohort: Cohort) -> QuerySet:
    return Membership.objects.filter(cohort=cohort).values("user_id")


def requests_in_period(cohort: Cohort, start: dt.datetime, end: dt.datetime) -> QuerySet[IntroRequest]:
    """The members' requests first submitted in [start, end): the funnel's first stage."""
    return IntroRequest.objects.filter(
        seeker__in=member_ids(cohort), first_submitted_at__gte=start, first_submitted_at__lt=end
    )


def reached(stage: str, end: dt.datetime) -> Q:
    """A request reached `stage` before `end` (to filter or count requests by)."""
    return request_numbers.reached(stage, end)


def stage_reached_at(stage: str, end: dt.datetime):
    """When a request first reached `stage` before `end` (None if it did not)."""
    return request_numbers.reached_at(stage, end)


def funnel(cohort: Cohort, start: dt.datetime, end: dt.datetime) -> Funnel:
    """The funnel in one query."""
    counts = request_numbers.request_counts(requests_in_period(cohort, start, end), before=end)
    requested = counts["requested"]
    stages, previous = [], None
    for key, label, _ in STAGES:
        stages.append(Stage(key=key, label=label, count=counts[key], previous=previous, requested=requested))
        previous = counts[key]
    return Funnel(stages=stages)


# --- the members --------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    level: str  # "bad" or "warn": the colour beside the words


@dataclass
class MemberRow:
    user_id: int
    name: str
    joined_at: dt.datetime
    open_requests: int = 0
    median_days_to_outreach: float | None = None
    thanks_done: int = 0
    thanks_due: int = 0
    outcomes_reported: int = 0
    intros_met: int = 0
    overdue_followups: int = 0
    boundary_breaches: int = 0
    stale_offers: int = 0
    last_activity: dt.datetime | None = None
    waiting_since: dt.datetime | None = None  # the oldest introduction still without outreach
    flags: list[Flag] = field(default_factory=list)

    @property
    def thank_rate(self) -> float | None:
        return self.thanks_done / self.thanks_due if self.thanks_due else None

    @property
    def thank_rate_percent(self) -> int | None:
        return None if self.thank_rate is None else round(self.thank_rate * 100)

    @property
    def outcome_rate(self) -> float | None:
        return self.outcomes_reported / self.intros_met if self.intros_met else None

    @property
    def median_days_display(self) -> str:
        return "—" if self.median_days_to_outreach is None else f"{self.median_days_to_outreach:.1f}"

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags)

    @property
    def attention(self) -> tuple[int, int]:
        return (sum(f.level == "bad" for f in self.flags), len(self.flags))


def _count(queryset: QuerySet, member_field: str):
    """How many rows of `queryset` belong to the membership's user (0 when none).

    COUNT(*), not COUNT(id): a count that reads only indexed columns is answered from the
    index alone (an index-only scan), without a visit to each row; at the benchmark's scale
    that is ~0.01 ms a member instead of ~0.2 ms (bench: issue 17, the dashboard's numbers)."""
    return Coalesce(
        Subquery(
            queryset.filter(**{member_field: OuterRef("user_id")})
            .order_by()
            .values(member_field)
            .annotate(n=Count("*"))
            .values("n")
        ),
        0,
    )


def _latest(queryset: QuerySet, member_field: str, date_field: str, *, earliest: bool = False) -> Subquery:
    order = date_field if earliest else f"-{date_field}"
    return Subquery(queryset.filter(**{member_field: OuterRef("user_id")}).order_by(order, "pk").values(date_field)[:1])


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _days(delta: dt.timedelta) -> str:
    return _plural(delta.days, "day")


def flags_for(row: MemberRow, now: dt.datetime) -> list[Flag]:
    flags = []
    if row.boundary_breaches:
        flags.append(Flag("breaches", _plural(row.boundary_breaches, "boundary breach", "boundary breaches"), "bad"))
    if row.overdue_followups:
        flags.append(Flag("overdue", _plural(row.overdue_followups, "overdue follow-up"), "warn"))
    if row.stale_offers:
        flags.append(Flag("stale", _plural(row.stale_offers, "stale offer"), "warn"))
    if row.waiting_since is not None and now - row.waiting_since >= STUCK_AFTER:
        flags.append(Flag("no_outreach", f"introduced {_days(now - row.waiting_since)} ago, no outreach yet", "warn"))
    if row.last_activity is not None:
        if now - row.last_activity >= INACTIVE_AFTER:
            flags.append(Flag("inactive", f"no activity for {_days(now - row.last_activity)}", "warn"))
    elif now - row.joined_at >= INACTIVE_AFTER:
        flags.append(Flag("inactive", f"no activity since joining {_days(now - row.joined_at)} ago", "warn"))
    return flags


def _median_days(cohort: Cohort, start: dt.datetime, end: dt.datetime, user_ids=None) -> dict[int, float]:
    """Per member, the median days from introduction to first outreach, in one query."""
    introduced = IntroRequest.objects.filter(
        seeker__in=member_ids(cohort), introduced_at__gte=start, introduced_at__lt=end
    )
    if user_ids is not None:
        introduced = introduced.filter(seeker__in=user_ids)
    return numbers.days_to_first_outreach(introduced)


# The per-member counts, as MemberRow's fields and the member query's annotations.
COUNTED = (
    "open_requests",
    "thanks_done",
    "thanks_due",
    "outcomes_reported",
    "intros_met",
    "overdue_followups",
    "boundary_breaches",
    "stale_offers",
)


def member_rows(
    cohort: Cohort, start: dt.datetime, end: dt.datetime, now: dt.datetime, *, user_ids=None
) -> list[MemberRow]:
    """One row per member, in name order, with flags. Two queries, whatever the size."""
    thanks = FollowUp.objects.filter(numbers.THANK_YOU)
    met_in_period = IntroRequest.objects.filter(met_at__gte=start, met_at__lt=end)
    waiting = (
        IntroRequest.objects.filter(status=Status.INTRODUCED, introduced_at__lte=now)
        .filter(Q(target_writes_first=False) | Q(target_writes_first__isnull=True))
        .exclude(Exists(Outreach.objects.filter(intro=OuterRef("pk"))))
    )
    # Plain values, not model instances: 200 rows of numbers need no Membership or User objects.
    memberships = (
        Membership.objects.filter(cohort=cohort)
        .annotate(
            open_requests=_count(IntroRequest.objects.filter(status__in=OPEN_REQUEST_STATES), "seeker"),
            thanks_due=_count(thanks.filter(numbers.settled(now=now, start=start, end=end)), "owner"),
            thanks_done=_count(thanks.filter(numbers.settled_done(now=now, start=start, end=end)), "owner"),
            intros_met=_count(met_in_period, "seeker"),
            outcomes_reported=_count(met_in_period.filter(reached("outcome_reported", now)), "seeker"),
            overdue_followups=_count(FollowUp.objects.overdue(now), "owner"),
            boundary_breaches=_count(Outreach.objects.filter(numbers.breaches(start=start, end=end)), "seeker"),
            stale_offers=_count(Offer.objects.filter(numbers.stale_offers(now=now)), "seeker"),
            last_event=_latest(IntroEvent.objects.filter(created_at__lte=now), "actor", "created_at"),
            last_outreach=_latest(Outreach.objects.filter(at__lte=now), "seeker", "at"),
            waiting_since=_latest(waiting, "seeker", "introduced_at", earliest=True),
        )
        .order_by("user__full_name", "user__email", "pk")
        .values("user_id", "joined_at", "user__full_name", *COUNTED, "last_event", "last_outreach", "waiting_since")
    )
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=user_ids)
    medians = _median_days(cohort, start, end, user_ids)
    rows = []
    for m in memberships:
        row = MemberRow(
            user_id=m["user_id"],
            name=m["user__full_name"] or "A member",
            joined_at=m["joined_at"],
            median_days_to_outreach=medians.get(m["user_id"]),
            last_activity=max((t for t in (m["last_event"], m["last_outreach"]) if t is not None), default=None),
            waiting_since=m["waiting_since"],
            **{name: m[name] for name in COUNTED},
        )
        row.flags = flags_for(row, now)
        rows.append(row)
    return rows


# --- sorting --------------------------------------------------------------------------------

# Column key → (label, value of a row, the first direction a click sorts in).
COLUMNS: dict[str, tuple[str, object, str]] = {
    "name": ("Member", lambda r: search_key(r.name), "asc"),  # "Álvarez" among the As
    "open": ("Open requests", lambda r: r.open_requests, "desc"),
    "median": ("Median days to first outreach", lambda r: r.median_days_to_outreach, "desc"),
    "thanks": ("Thank-you rate", lambda r: r.thank_rate, "asc"),
    "outcomes": ("Outcomes reported", lambda r: r.outcome_rate, "asc"),
    "overdue": ("Overdue follow-ups", lambda r: r.overdue_followups, "desc"),
    "breaches": ("Boundary breaches", lambda r: r.boundary_breaches, "desc"),
    "stale": ("Stale offers", lambda r: r.stale_offers, "desc"),
    "activity": ("Last activity", lambda r: r.last_activity, "desc"),
    "attention": ("Needs attention", lambda r: r.attention, "desc"),
}
DEFAULT_SORT = ("attention", "desc")


def sort_rows(rows: list[MemberRow], key: str, direction: str) -> list[MemberRow]:
    """Sorted by a column; rows without a value ("—") come last either way, then by name."""
    value = COLUMNS[key][1]
    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    by_name = sorted(known, key=lambda r: (search_key(r.name), r.user_id))
    ordered = sorted(by_name, key=value, reverse=direction == "desc")
    return ordered + sorted(unknown, key=lambda r: (search_key(r.name), r.user_id))


def rows_named(rows: list[MemberRow], text: str) -> list[MemberRow]:
    """The members whose name holds these words, whatever their case and accents."""
    key = search_key(text)
    if not key:
        return rows
    return [row for row in rows if key in search_key(row.name)]


# --- the whole page, and what lies behind a number --------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    cohort: Cohort
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    funnel: Funnel
    members: list[MemberRow]

    @property
    def needing_attention(self) -> list[MemberRow]:
        return sort_rows([r for r in self.members if r.flags], *DEFAULT_SORT)


def cohort_dashboard(*, cohort: Cohort, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Dashboard:
    """The page's numbers; kept for up to a minute while nothing they count changes (cohorts.snapshots)."""
    member_ids = list(Membership.objects.filter(cohort=cohort).values_list("user_id", flat=True))
    numbers = snapshots.cached(
        cohort.pk,
        member_ids,
        (start.isoformat(), end.isoformat()),
        now,
        lambda: (funnel(cohort, start, end), member_rows(cohort, start, end, now)),
    )
    return Dashboard(cohort=cohort, start=start, end=end, now=now, funnel=numbers[0], members=numbers[1])


def stage_requests(cohort: Cohort, stage: str, start: dt.datetime, end: dt.datetime) -> QuerySet[IntroRequest]:
    """The requests behind a funnel stage, with the date of each stage, safe fields only."""
    return (
        requests_in_period(cohort, start, end)
        .filter(reached(stage, end))
        .select_related("seeker", "connector", "target")
        .only(*SAFE_REQUEST_FIELDS)
        .annotate(**{f"reached_{key}": stage_reached_at(key, end) for key in STAGE_KEYS})
        .order_by("seeker__full_name", "-created_at", "-pk")
    )


@dataclass(frozen=True)
class MemberDetail:
    row: MemberRow
    requests: list[IntroRequest]
    overdue_followups: list[FollowUp]
    breaches: list[Outreach]
    stale_offers: list[Offer]


MEMBER_REQUESTS_SHOWN = 200


def member_detail(
    *, cohort: Cohort, user_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> MemberDetail | None:
    """What lies behind one member's row. None when they are not a member of the cohort."""
    rows = member_rows(cohort, start, end, now, user_ids=[user_id])
    if not rows:
        return None
    in_period = Exists(IntroEvent.objects.filter(intro=OuterRef("pk"), created_at__gte=start, created_at__lt=end))
    requests = (
        IntroRequest.objects.filter(seeker_id=user_id)
        .exclude(status=Status.DRAFT)
        .filter(Q(status__in=OPEN_REQUEST_STATES) | in_period)
        .select_related("seeker", "connector", "target")
        .only(*SAFE_REQUEST_FIELDS)
        .annotate(
            reached_requested=stage_reached_at("requested", end), reached_introduced=stage_reached_at("introduced", end)
        )
        .order_by("-updated_at", "-pk")[:MEMBER_REQUESTS_SHOWN]
    )
    overdue = (
        FollowUp.objects.overdue(now)
        .filter(owner_id=user_id)
        .only("pk", "kind", "counterpart", "due_at", "status", "intro_id")
        .order_by("due_at", "pk")
    )
    breaches = (
        Outreach.objects.filter(numbers.breaches(start=start, end=end), seeker_id=user_id)
        .select_related("contact")
        .only("pk", "at", "channel", "intro_id", "contact__id", "contact__name", "contact__organisation")
        .order_by("-at", "-pk")
    )
    stale = (
        Offer.objects.filter(numbers.stale_offers(now=now), seeker_id=user_id)
        .only("pk", "offered_by_name", "contact_name", "contact_organisation", "contact_title", "created_at", "status")
        .order_by("-created_at", "-pk")
    )
    return MemberDetail(
        row=rows[0],
        requests=list(requests),
        overdue_followups=list(overdue),
        breaches=list(breaches),
        stale_offers=list(stale),
    )


# --- CSV --------------------------------------------------------------------------------------


def csv_cell(value) -> str:
    """A value as a spreadsheet cell that can never run as a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
    return neutralise(text)
