"""The page data set, written with COPY (psycopg 3) in one pass per table.

Every table gets explicit ids, so relations are known without reading anything back;
the identity sequences are moved past them at the end. Columns a generator does not
name take the model field's default, so a new column with a default needs no change here.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.models import User
from cohorts.models import Cohort, Membership
from contacts.models import Contact, Tag, search_keys
from followups.models import CalendarFeed, DigestSchedule, FollowUp, Outreach
from intros.models import STAGE_STAMP_FIELDS, STAGE_STAMPS, IntroEvent, IntroRequest
from intros.states import OPEN_STATES, Status

from .config import Scale

S = Status
# How a request reached its state: (transition, to_status, actor role), from draft.
_TO_TARGET = [
    ("submit", S.SUBMITTED, "seeker"),
    ("approve", S.APPROVED, "connector"),
    ("ask_target", S.AWAITING_TARGET, "system"),
]
_ACCEPTED = [*_TO_TARGET, ("target_accept", S.ACCEPTED, "target")]
_INTRODUCED = [*_ACCEPTED, ("introduce", S.INTRODUCED, "system")]
_MET = [*_INTRODUCED, ("record_meeting", S.MET, "seeker")]
_OUTCOME = [*_MET, ("record_outcome", S.OUTCOME, "seeker")]
PATHS: dict[str, list[tuple[str, str, str]]] = {
    S.DRAFT: [],
    S.SUBMITTED: [("submit", S.SUBMITTED, "seeker")],
    S.NEEDS_CHANGES: [("submit", S.SUBMITTED, "seeker"), ("request_changes", S.NEEDS_CHANGES, "connector")],
    S.DECLINED_BY_CONNECTOR: [("submit", S.SUBMITTED, "seeker"), ("decline", S.DECLINED_BY_CONNECTOR, "connector")],
    S.APPROVED: _TO_TARGET[:2],
    S.AWAITING_TARGET: _TO_TARGET,
    S.DEFERRED: [*_TO_TARGET, ("target_defer", S.DEFERRED, "target")],
    S.DECLINED_BY_TARGET: [*_TO_TARGET, ("target_decline", S.DECLINED_BY_TARGET, "target")],
    S.EXPIRED: [*_TO_TARGET, ("expire", S.EXPIRED, "system")],
    S.ACCEPTED: _ACCEPTED,
    S.INTRODUCED: _INTRODUCED,
    S.MET: _MET,
    S.OUTCOME: _OUTCOME,
    S.CLOSED: [*_OUTCOME, ("close", S.CLOSED, "seeker")],
    S.WITHDRAWN: [("submit", S.SUBMITTED, "seeker"), ("withdraw", S.WITHDRAWN, "seeker")],
    S.DROPPED_BY_TARGET: [*_ACCEPTED, ("target_step_back", S.DROPPED_BY_TARGET, "target")],
}
# Every state appears; most requests have ended, as in a cohort that has run for a while.
STATE_WEIGHTS = {
    S.DRAFT: 5, S.SUBMITTED: 5, S.NEEDS_CHANGES: 3, S.DECLINED_BY_CONNECTOR: 7, S.APPROVED: 2,
    S.AWAITING_TARGET: 5, S.DEFERRED: 3, S.DECLINED_BY_TARGET: 8, S.ACCEPTED: 2, S.INTRODUCED: 8,
    S.MET: 5, S.OUTCOME: 5, S.CLOSED: 25, S.WITHDRAWN: 7, S.EXPIRED: 7, S.DROPPED_BY_TARGET: 3,
}  # fmt: skip
ALL_STATES = list(STATE_WEIGHTS)
MEETING_OR_LATER = {S.MET, S.OUTCOME, S.CLOSED}
INTRODUCED_OR_LATER = {S.INTRODUCED, *MEETING_OR_LATER}
OUTCOMES = ["offer", "hired", "referred_on", "advice", "no_fit", "no_response"]

FIRST = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tao",
    "Uma",
    "Vic",
    "Wen",
    "Yara",
    "Zed",
]
LAST = [
    "Abara",
    "Brandt",
    "Costa",
    "Dubois",
    "Eklund",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quispe",
    "Rossi",
    "Sato",
    "Tanaka",
]
ORG_A = [
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
]
ORG_B = ["Robotics", "Health", "Labs", "Logistics", "Energy", "Studio", "Bank", "Foods", "Analytics", "Systems"]
TITLES = ["Engineering Manager", "Staff Engineer", "Head of Data", "Product Designer", "Recruiter", "CTO", "VP Sales", "Nurse Lead", "Analyst", "Founder"]  # fmt: skip
SEARCH_TERM = "northwind"  # one organisation word in twelve: the contact search and the warm-path search
PREP = (
    "I am moving from hospital logistics into supply-chain analytics and would value twenty minutes on how "
    "their team hires juniors, what they look for in a portfolio, and whether a short project would help."
)


@dataclass
class Dataset:
    """Who the pages are measured as, and what they look at."""

    now: dt.datetime
    coach: int
    large_cohort: int
    small_cohort: int
    # role -> user id, for the 200-member cohort and for the 10-member cohort.
    large: dict[str, int] = field(default_factory=dict)
    small: dict[str, int] = field(default_factory=dict)
    intro_large: int = 0
    intro_small: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _value(value):
    if isinstance(value, enum.Enum):
        return value.value
    return value


def copy_rows(model: type[models.Model], rows: Iterable[dict]) -> int:
    """COPY dicts of attname -> value into model's table; missing columns take the field default."""
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields]
    fixed: dict[str, object] = {}
    per_row: dict[str, models.Field] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fixed[f.attname] = now
        elif f.has_default():
            if callable(f.default) and f.unique:
                per_row[f.attname] = f
            else:
                fixed[f.attname] = f.get_default()
        elif f.null:
            fixed[f.attname] = None
        elif f.blank and isinstance(f, (models.CharField, models.TextField)):
            fixed[f.attname] = ""
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = []
            for name in names:
                if name in row:
                    value = row[name]
                elif name in per_row:
                    value = per_row[name].get_default()
                elif name in fixed:
                    value = fixed[name]
                else:
                    raise KeyError(f"{model.__name__}.{name} has no value and no default")
                value = _value(value)
                if name in json_fields and value is not None:
                    value = Jsonb(value)
                values.append(value)
            copy.write_row(values)
            count += 1
    return count


def _reset_sequences(*models_: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)",
                [table],
            )


def generate(scale: Scale, *, seed: int = 20261124) -> Dataset:
    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    counts: dict[str, int] = {}

    def timed(label: str, model, rows) -> None:
        t = time.perf_counter()
        counts[label] = copy_rows(model, rows)
        print(f"  {label}: {counts[label]:,} rows in {time.perf_counter() - t:.1f} s", flush=True)

    # --- people and cohorts -------------------------------------------------------------
    password = make_password("bench-password")  # one hash for everybody: PBKDF2 once, not a thousand times
    n_users = scale.users
    coach = n_users  # the last user coaches every cohort and belongs to none
    members = list(range(1, n_users))
    cohort_of: dict[int, int] = {}
    cohort_members: dict[int, list[int]] = defaultdict(list)
    large_ids = members[: scale.largest_cohort]
    small_ids = members[scale.largest_cohort : scale.largest_cohort + scale.small_cohort]
    rest = members[scale.largest_cohort + scale.small_cohort :]
    groups = [large_ids, small_ids] + [rest[i :: scale.cohorts - 2] for i in range(scale.cohorts - 2)]
    for cohort_id, group in enumerate(groups, start=1):
        for uid in group:
            cohort_of[uid] = cohort_id
            cohort_members[cohort_id].append(uid)
    ds = Dataset(now=now, coach=coach, large_cohort=1, small_cohort=2)
    ds.large = {"seeker": large_ids[0], "connector": large_ids[1]}
    ds.small = {"seeker": small_ids[0], "connector": small_ids[1]}

    def name_of(i: int) -> str:
        return f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i}"

    timed(
        "users",
        User,
        (
            {
                "id": i,
                "email": f"user{i}@bench.test",
                "full_name": "Coach Bench" if i == coach else name_of(i),
                "password": password,
                "date_joined": now - dt.timedelta(days=200),
            }
            for i in range(1, n_users + 1)
        ),
    )
    timed(
        "cohorts",
        Cohort,
        (
            {"id": c, "name": f"Cohort {c:02d}", "coach_id": coach, "created_at": now - dt.timedelta(days=200)}
            for c in range(1, len(groups) + 1)
        ),
    )
    timed(
        "memberships",
        Membership,
        (
            {"id": n, "cohort_id": c, "user_id": u, "joined_at": now - dt.timedelta(days=150)}
            for n, (u, c) in enumerate(sorted(cohort_of.items()), start=1)
        ),
    )

    # --- contacts and tags ----------------------------------------------------------------
    owners: list[int] = []
    power = {ds.large["connector"]: scale.power_contacts, ds.small["connector"]: max(20, scale.power_contacts // 10)}
    for uid, n in power.items():
        owners += [uid] * n
    for uid in members:
        if uid not in power:
            owners += [uid] * 3
    while len(owners) < scale.contacts:
        owners.append(rng.choice(members))
    contacts_of: dict[int, list[int]] = defaultdict(list)
    contact_rows = []
    for cid, owner in enumerate(owners, start=1):
        contacts_of[owner].append(cid)
        org = f"{ORG_A[cid % len(ORG_A)]} {ORG_B[(cid // len(ORG_A)) % len(ORG_B)]}"
        name, email, title = name_of(cid + 7919), f"contact{cid}@example.org", TITLES[cid % len(TITLES)]
        contact_rows.append(
            {
                "id": cid,
                "owner_id": owner,
                "name": name,
                "email": email,
                "organisation": org,
                "title": title,
                # COPY writes the columns as given: the search keys Contact's writes keep.
                **search_keys(name=name, organisation=org, title=title, email=email),
                "shareable": cid % 5 < 2,
                "how_we_know": "Worked together on the regional rollout.",
                "last_contacted_at": now - dt.timedelta(days=rng.randint(5, 400)),
            }
        )
    timed("contacts", Contact, contact_rows)
    tag_ids: dict[int, list[int]] = {}
    tag_rows = []
    for uid in sorted(contacts_of):
        tag_ids[uid] = []
        for name in ("recruiter", "former colleague", "alumni"):
            tag_rows.append({"id": len(tag_rows) + 1, "owner_id": uid, "name": name})
            tag_ids[uid].append(len(tag_rows))
    timed("tags", Tag, tag_rows)
    through = Contact.tags.through
    timed(
        "contact tags",
        through,
        (
            {"id": n, "contact_id": row["id"], "tag_id": tag_ids[row["owner_id"]][row["id"] % 3]}
            for n, row in enumerate((r for r in contact_rows if r["id"] % 3 == 0), start=1)
        ),
    )

    # --- requests ---------------------------------------------------------------------------
    weights = list(STATE_WEIGHTS.values())
    requests: list[dict] = []

    def add_request(seeker: int, connector: int, status: str) -> None:
        created = now - dt.timedelta(days=rng.uniform(1, 90))
        requests.append({"seeker": seeker, "connector": connector, "status": status, "created": created})

    def same_cohort_other(uid: int) -> int:
        group = cohort_members[cohort_of[uid]]
        while True:
            other = rng.choice(group)
            if other != uid:
                return other

    # The measured users see every state first (so both cohorts take the same template branches).
    for role_users, share in ((ds.large, 1.0), (ds.small, 0.5)):
        s, c = role_users["seeker"], role_users["connector"]
        n_seek = max(len(ALL_STATES) * 2, int(scale.seeker_requests * share))
        n_conn = max(len(ALL_STATES) * 2, int(scale.connector_requests * share))
        for k in range(n_seek):
            status = ALL_STATES[k % len(ALL_STATES)] if k < len(ALL_STATES) * 2 else rng.choices(ALL_STATES, weights)[0]
            add_request(s, c if k % 2 == 0 else same_cohort_other(s), status)
        for k in range(n_conn):
            status = ALL_STATES[k % len(ALL_STATES)] if k < len(ALL_STATES) * 2 else rng.choices(ALL_STATES, weights)[0]
            seeker = same_cohort_other(c)
            add_request(seeker, c, status)
    while len(requests) < scale.requests:
        seeker = rng.choice(members)
        add_request(seeker, same_cohort_other(seeker), rng.choices(ALL_STATES, weights)[0])

    # Each request's target: one of its connector's contacts, and never a second open request
    # from the same seeker to the same person (the database holds that rule). With no person
    # left to ask, the request is one the seeker withdrew.
    open_pairs: set[tuple[int, int]] = set()
    for req in requests:
        choices = contacts_of[req["connector"]]
        target = rng.choice(choices)
        if req["status"] in OPEN_STATES and (req["seeker"], target) in open_pairs:
            free = [c for c in choices if (req["seeker"], c) not in open_pairs]
            if free:
                target = rng.choice(free)
            else:
                req["status"] = S.WITHDRAWN
        if req["status"] in OPEN_STATES:
            open_pairs.add((req["seeker"], target))
        req["target"] = target

    # Events: each request's path from draft, padded with change-request rounds up to the total.
    paths = [list(PATHS[r["status"]]) for r in requests]
    base = sum(len(p) for p in paths)
    extra_rounds = max(0, (scale.events - base) // 2)
    with_submit = [i for i, p in enumerate(paths) if p]
    rounds = defaultdict(int)
    for _ in range(extra_rounds):
        rounds[rng.choice(with_submit)] += 1
    for i, n in rounds.items():
        paths[i] = [
            paths[i][0],
            *([("request_changes", S.NEEDS_CHANGES, "connector"), ("submit", S.SUBMITTED, "seeker")] * n),
            *paths[i][1:],
        ]

    intro_rows, event_rows, outreach_rows = [], [], []
    last_event_at: dict[int, dt.datetime] = {}
    introduced_at: dict[int, dt.datetime] = {}
    for iid, (req, path) in enumerate(zip(requests, paths, strict=True), start=1):
        created = req["created"]
        step = (now - created) / (len(path) + 1)
        at, frm, submitted_at = created, S.DRAFT, None
        stamps: dict[str, dt.datetime] = {}
        for transition, to, role in path:
            at = at + step * rng.uniform(0.5, 1.0)
            actor = req["seeker"] if role == "seeker" else req["connector"] if role == "connector" else None
            event_rows.append(
                {"id": len(event_rows) + 1, "intro_id": iid, "actor_id": actor, "actor_role": role, "transition": transition,
                 "from_status": frm, "to_status": to, "note": "", "created_at": at}
            )  # fmt: skip
            if transition == "submit":
                submitted_at = at
            for stamp in STAGE_STAMPS.get(transition, ()):
                stamps.setdefault(stamp, at)
            if transition == "introduce":
                introduced_at[iid] = at
            frm = to
        last_event_at[iid] = at
        status = req["status"]
        approved = bool(path) and any(t == "approve" for t, _, _ in path)
        target = req["target"]
        intro_rows.append(
            {
                "id": iid,
                "seeker_id": req["seeker"],
                "connector_id": req["connector"],
                "target_id": target,
                "status": status,
                "mode": "double_opt_in" if approved else "",
                **{f: PREP for f in ("goal", "research_company", "research_person", "questions", "followup_plan", "fit", "blurb")},
                "vouch_strength": "acquainted" if approved else "",
                "vouch_note": "Reliable, prepared, and keeps promises." if approved else "",
                "target_writes_first": False if status in INTRODUCED_OR_LATER else None,
                "met_on": (at.date() if status in MEETING_OR_LATER else None),
                "outcome": rng.choice(OUTCOMES) if status in {S.OUTCOME, S.CLOSED} else "",
                "next_action_at": now + dt.timedelta(days=rng.uniform(1, 14)) if status in {S.AWAITING_TARGET, S.DEFERRED} else None,
                "deferred_until": (now + dt.timedelta(days=10)).date() if status == S.DEFERRED else None,
                "created_at": created,
                "submitted_at": submitted_at,
                "updated_at": at,
                **{stamp: stamps.get(stamp) for stamp in STAGE_STAMP_FIELDS},
            }
        )  # fmt: skip
        if status in INTRODUCED_OR_LATER:
            outreach_rows.append(
                {"id": len(outreach_rows) + 1, "intro_id": iid, "seeker_id": req["seeker"], "contact_id": target,
                 "at": introduced_at[iid] + dt.timedelta(hours=30), "channel": "email", "note": "Wrote, mentioning the connector.",
                 "breach_reasons": [], "created_at": introduced_at[iid] + dt.timedelta(hours=30)}
            )  # fmt: skip
    timed("requests", IntroRequest, intro_rows)
    timed("events", IntroEvent, event_rows)
    timed("outreaches", Outreach, outreach_rows)
    del event_rows

    def first_intro(seeker: int, status: str) -> int:
        return next(r["id"] for r in intro_rows if r["seeker_id"] == seeker and r["status"] == status)

    ds.intro_large = first_intro(ds.large["seeker"], S.INTRODUCED)
    ds.intro_small = first_intro(ds.small["seeker"], S.INTRODUCED)

    # --- follow-ups ---------------------------------------------------------------------------
    kinds = list(FollowUp.Kind)
    per_intro = scale.followups // len(intro_rows)
    leftover = scale.followups - per_intro * len(intro_rows)

    def followup_rows():
        fid = 0
        for row in intro_rows:
            k = per_intro + (1 if leftover and row["id"] <= leftover else 0)
            is_open = row["status"] in OPEN_STATES
            for kind in rng.sample(kinds, min(k, len(kinds))):
                fid += 1
                due = last_event_at[row["id"]] + dt.timedelta(days=rng.uniform(-5, 20))
                owner = (
                    row["connector_id"] if kind == FollowUp.Kind.CONNECTOR_CHECK_IN
                    else None if kind == FollowUp.Kind.TARGET_FEEDBACK
                    else row["seeker_id"]
                )  # fmt: skip
                status = "open" if is_open else ("done" if fid % 5 else "skipped")
                future = due > now
                yield {
                    "id": fid,
                    "owner_id": owner,
                    "intro_id": row["id"],
                    "kind": kind,
                    "counterpart": "Bench counterpart",
                    "due_at": due,
                    "status": status,
                    "created_at": row["created_at"],
                    "done_at": due if status == "done" else None,
                    "next_action_at": due if status == "open" and future else None,
                    "reminders_sent": 0 if future or status != "open" else 1,
                }

    timed("follow-ups", FollowUp, followup_rows())
    everyone = range(1, n_users + 1)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    timed(
        "digest schedules",
        DigestSchedule,
        ({"id": u, "user_id": u, "kind": "daily", "next_at": tomorrow} for u in everyone),
    )
    timed("calendar feeds", CalendarFeed, ({"id": u, "user_id": u, "token": f"bench-feed-{u}"} for u in everyone))
    _reset_sequences(
        User,
        Cohort,
        Membership,
        Contact,
        Tag,
        through,
        IntroRequest,
        IntroEvent,
        Outreach,
        FollowUp,
        DigestSchedule,
        CalendarFeed,
    )
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  vacuum analyze: {time.perf_counter() - t:.1f} s", flush=True)
    ds.counts = counts
    ds.seconds = time.perf_counter() - started
    return ds
