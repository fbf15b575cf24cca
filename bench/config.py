"""Scales, database names and the fixed clock of the benchmark. No Django here: the
orchestrator, the sweep worker and gunicorn all read it before Django starts."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/warm_bench"


@dataclass(frozen=True)
class Scale:
    name: str
    # The page data set.
    users: int
    cohorts: int
    largest_cohort: int
    small_cohort: int
    contacts: int
    power_contacts: int  # the measured connector's own contacts (the contact list's size)
    requests: int
    seeker_requests: int  # the measured seeker's requests (home, follow-ups, ICS)
    connector_requests: int  # requests the measured connector receives (inbox)
    followups: int
    events: int
    # The exports data set: one account with this many contacts (its own database).
    export_contacts: int
    # The sweep data set.
    sweep_rows: int  # follow-ups that exist
    sweep_due: int  # of which due, for the app/raw comparison
    ratio_small_rows: int  # "the same due items among N and among sweep_rows"
    ratio_due: int
    # Measurement.
    page_requests: int  # per pass; the pages are timed in three passes (BENCH_PAGE_PASSES)
    page_warmup: int
    sweep_repeats: int  # raw drains and the ratio runs
    main_repeats: int  # app sweeps of the main due set, each in a fresh worker
    http_workers: int
    empty_sweeps: int
    http_seconds: int
    http_users: tuple[int, ...]  # one HTTP run per number of people (BENCH_HTTP_USERS overrides)

    def as_dict(self) -> dict:
        return asdict(self)


SCALES = {
    "full": Scale(
        name="full",
        users=1_000,
        cohorts=20,
        largest_cohort=200,
        small_cohort=10,
        contacts=20_000,
        power_contacts=2_000,
        requests=50_000,
        seeker_requests=100,
        connector_requests=300,
        followups=200_000,
        events=500_000,
        export_contacts=200_000,
        sweep_rows=1_000_000,
        sweep_due=10_000,
        ratio_small_rows=10_000,
        ratio_due=1_000,
        page_requests=40,
        page_warmup=10,
        sweep_repeats=3,
        # As many as the raw drain it is divided by: one run of each swung the ratio by ±0.5.
        main_repeats=3,
        http_workers=3,
        empty_sweeps=50,
        http_seconds=60,
        http_users=(50, 100, 200),
    ),
    # 1/50 of the data; the cohorts keep their 200 and 10 members (that comparison is the point).
    "small": Scale(
        name="small",
        users=300,
        cohorts=6,
        largest_cohort=200,
        small_cohort=10,
        contacts=400,
        power_contacts=40,
        requests=1_000,
        seeker_requests=20,
        connector_requests=30,
        followups=4_000,
        events=10_000,
        export_contacts=4_000,
        sweep_rows=20_000,
        sweep_due=200,
        ratio_small_rows=200,
        ratio_due=20,
        page_requests=25,
        page_warmup=2,
        sweep_repeats=3,
        main_repeats=2,
        http_workers=3,
        empty_sweeps=50,
        http_seconds=10,
        http_users=(50, 100, 200),
    ),
    # CI's smoke run: every row of every table, in seconds; the figures mean nothing.
    "tiny": Scale(
        name="tiny",
        users=230,
        cohorts=3,
        largest_cohort=200,
        small_cohort=10,
        contacts=300,
        power_contacts=20,
        requests=300,
        seeker_requests=10,
        connector_requests=15,
        followups=600,
        events=1_500,
        export_contacts=500,
        sweep_rows=1_000,
        sweep_due=40,
        ratio_small_rows=100,
        ratio_due=10,
        page_requests=3,
        page_warmup=1,
        sweep_repeats=1,
        main_repeats=1,
        http_workers=2,
        empty_sweeps=5,
        http_seconds=3,
        http_users=(5,),
    ),
}

# The sweep runs at a fixed moment inside everyone's hours (a Tuesday noon, UTC users with
# quiet hours 21:00–08:00), so every due follow-up is reminded rather than rescheduled.
SWEEP_NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def scale() -> Scale:
    name = os.environ.get("BENCH_SCALE", "full").strip() or "full"
    if name not in SCALES:
        raise SystemExit(f"BENCH_SCALE={name!r}: choose one of {', '.join(SCALES)}.")
    return SCALES[name]


def db_name() -> str:
    return os.environ.get("BENCH_DB_NAME", "warm_bench").strip() or "warm_bench"


def server_url() -> str:
    """DATABASE_URL's server (the local one by default). Only PostgreSQL is benchmarked."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SERVER
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"The benchmark runs on PostgreSQL; DATABASE_URL={url!r} is not a postgres:// URL.")
    return url


def database_url(name: str) -> str:
    """The server of DATABASE_URL with another database name: the benchmark never touches the app's own."""
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def conninfo(name: str) -> str:
    return database_url(name).replace("postgresql://", "postgres://", 1).replace("postgres://", "postgresql://", 1)


DEFAULT_CACHE = "redis://127.0.0.1:6379/14"


def cache_url() -> str:
    """The Redis the app caches in during the run, as in production (kept dashboard numbers and
    calendar feeds, rate limits): BENCH_REDIS_URL, by default database 14 of the local server,
    which each run empties. Set it empty to measure with the embedded file cache instead.
    Celery does not use it: the benchmark publishes to kombu's in-memory transport."""
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_CACHE).strip()


def use_cache(env) -> None:
    """Point REDIS_URL in `env` (a dict or os.environ) at the benchmark's cache, or remove it for
    the file cache."""
    if url := cache_url():
        env["REDIS_URL"] = url
    else:
        env.pop("REDIS_URL", None)
