"""Each page, logged in as the right role, timed in-process with Django's test client.

Pages are timed round-robin (one request of each, then again) so a burst of background
load lands on all of them rather than on one. Query counts come from a separate request
under CaptureQueriesContext, for the 200-member cohort's users and the 10-member one's."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from accounts.models import User

from . import bare
from .data import SEARCH_TERM, Dataset


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    role: str  # seeker | connector | coach | anonymous (the ICS feed's token is its key)
    url_large: str | None  # None: the page does not exist (yet)
    url_small: str | None
    settings: tuple = ()  # (name, value) pairs overridden while this page is asked for
    bare: bool = False  # asked through the bare-Django handler (bench/bare.py), in-process only
    # Run before each request, untimed, with (dataset, "large" or "small"): what happened before it.
    before: Callable[[Dataset, str], None] | None = None


def _url(name: str, *args, query: str = "") -> str | None:
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return None


def pages(ds: Dataset) -> list[Page]:
    big, small = ds.large, ds.small
    q = f"?q={SEARCH_TERM}"
    return [
        Page("floor", "Floor page (base template only)", "seeker", "/bench/floor/", "/bench/floor/"),
        Page("bare", "Bare Django page (session + auth middleware, short response)", "seeker", bare.URL, bare.URL, bare=True),
        Page("home", "Seeker's home", "seeker", _url("intros:home"), _url("intros:home")),
        Page("intro", "An intro's page (seeker)", "seeker", _url("intros:detail", ds.intro_large), _url("intros:detail", ds.intro_small)),
        Page("inbox", "Connector's inbox", "connector", _url("intros:inbox"), _url("intros:inbox")),
        Page("contacts", "Contact list", "connector", _url("contacts:list"), _url("contacts:list")),
        Page("contact_search", "Contact search", "connector", _url("contacts:list", query=q), _url("contacts:list", query=q)),
        Page("dashboard", "Coach dashboard", "coach", _url("cohorts:dashboard", ds.large_cohort), _url("cohorts:dashboard", ds.small_cohort)),
        Page("find", "Warm-path search", "seeker", _url("intros:find", query=q), _url("intros:find", query=q)),
        Page("followups", "Follow-ups page", "seeker", _url("followups:list"), _url("followups:list")),
        Page("ics", "ICS feed", "anonymous", _url("followups:calendar", f"bench-feed-{big['seeker']}"), _url("followups:calendar", f"bench-feed-{small['seeker']}")),
        # The two pages above whose answer is kept for the minute (lib.freshness), with
        # keeping turned off: what the first request of a minute, or after a change, costs.
        Page("dashboard_cold", "Coach dashboard, numbers computed (not kept)", "coach", _url("cohorts:dashboard", ds.large_cohort), _url("cohorts:dashboard", ds.small_cohort), (("DASHBOARD_CACHE_SECONDS", 0),)),
        # The feed after one of its follow-ups changed: the kept feed is dropped, the events kept.
        Page("ics_cold", "ICS feed, built (first poll after a change)", "anonymous", _url("followups:calendar", f"bench-feed-{big['seeker']}"), _url("followups:calendar", f"bench-feed-{small['seeker']}"), (("CALENDAR_CACHE_SECONDS", 0),), before=_one_followup_changed),
    ]  # fmt: skip


def _one_followup_changed(ds: Dataset, cohort: str) -> None:
    """The first poll after a change: the seeker's soonest follow-up in the feed moved by a
    second (a snooze, in small). The page turns the kept feed off (CALENDAR_CACHE_SECONDS=0),
    as the app's receivers drop it after a change; the change itself is made without signals,
    so the other pages keep their kept answers (the dashboard's, this seeker being a member)."""
    from django.db.models import F

    from followups.calendar import FOLLOWUPS_SINCE
    from followups.models import FollowUp

    seeker = (ds.large if cohort == "large" else ds.small)["seeker"]
    soonest = (
        FollowUp.objects.filter(owner_id=seeker, status=FollowUp.Status.OPEN, due_at__gte=ds.now - FOLLOWUPS_SINCE)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:1]
    )
    FollowUp.objects.filter(pk__in=list(soonest)).update(due_at=F("due_at") + dt.timedelta(seconds=1))


def _before(page: Page, ds: Dataset, cohort: str = "large") -> None:
    if page.before is not None:
        page.before(ds, cohort)


def _get(client: Client, page: Page, url: str):
    if not page.settings:
        return client.get(url)
    with override_settings(**dict(page.settings)):
        return client.get(url)


def user_for(ds: Dataset, role: str, cohort: str) -> int | None:
    if role == "coach":
        return ds.coach
    if role == "anonymous":
        return None
    return (ds.large if cohort == "large" else ds.small)[role]


class Clients:
    """One logged-in client per user (and per handler: ours or the bare one), made once."""

    def __init__(self) -> None:
        self._clients: dict[tuple[int | None, bool], Client] = {}

    def get(self, user_id: int | None, *, bare_handler: bool = False) -> Client:
        key = (user_id, bare_handler)
        if key not in self._clients:
            user = User.objects.get(pk=user_id) if user_id is not None else None
            if bare_handler:
                client = bare.client(user)
            else:
                client = Client()
                if user is not None:
                    client.force_login(user)
            self._clients[key] = client
        return self._clients[key]

    def for_page(self, ds: Dataset, page: Page, cohort: str) -> Client:
        return self.get(user_for(ds, page.role, cohort), bare_handler=page.bare)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _count(client: Client, page: Page, url: str, ds: Dataset, cohort: str) -> tuple[int, int]:
    _before(page, ds, cohort)
    with CaptureQueriesContext(connection) as ctx:
        response = _get(client, page, url)
    return len(ctx.captured_queries), response.status_code


def measure(ds: Dataset, *, requests: int, warmup: int, passes: int = 3) -> list[dict]:
    """Each page's median over `passes` passes (the median of the pass medians; the floor swings
    between passes on a shared machine), its p95 over every sample, and its ratio to our floor
    as the median of the per-pass ratios (each page against the floor of the same pass)."""
    clients = Clients()
    specs = pages(ds)
    rows: dict[str, dict] = {}
    live = []
    for page in specs:
        row = {"key": page.key, "label": page.label, "role": page.role, "url": page.url_large}
        rows[page.key] = row
        if page.url_large is None:
            row["missing"] = True
            continue
        large = clients.for_page(ds, page, "large")
        small = clients.for_page(ds, page, "small")
        for _ in range(warmup):
            _before(page, ds, "large")
            _get(large, page, page.url_large)
            _before(page, ds, "small")
            _get(small, page, page.url_small)
        row["queries_large"], row["status"] = _count(large, page, page.url_large, ds, "large")
        row["queries_small"], row["status_small"] = _count(small, page, page.url_small, ds, "small")
        row["passes_ms"] = [[] for _ in range(passes)]
        row["cpu_ms"] = []
        live.append((page, large))
    # A page far over its target need not be asked fifty times: past its time budget (shared
    # by the passes) it stops, with at least five samples a pass, and the table says so.
    budget_ms = float(os.environ.get("BENCH_PAGE_BUDGET_S", "45")) * 1000 / passes
    for n in range(passes):
        for _ in range(requests):
            for page, client in live:
                times = rows[page.key]["passes_ms"][n]
                if len(times) >= 5 and sum(times) > budget_ms:
                    continue
                _before(page, ds)
                start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
                response = _get(client, page, page.url_large)
                rows[page.key]["cpu_ms"].append((time.thread_time_ns() - start_cpu) / 1e6)
                times.append((time.perf_counter_ns() - start) / 1e6)
                if response.status_code != 200:
                    rows[page.key]["status"] = response.status_code
    floor_medians = [statistics.median(times) for times in rows["floor"]["passes_ms"]]
    for row in rows.values():
        if row.get("missing"):
            continue
        per_pass = row.pop("passes_ms")
        medians = [statistics.median(times) for times in per_pass]
        every = [t for times in per_pass for t in times]
        row["n"] = len(every)
        row["pass_medians_ms"] = medians
        row["median_ms"] = statistics.median(medians)
        row["p95_ms"] = percentile(every, 95)
        # This process's CPU time (not the database's): steadier than the wall clock on a busy machine.
        row["cpu_median_ms"] = statistics.median(row.pop("cpu_ms"))
        row["ratio_to_floor"] = statistics.median(m / f for m, f in zip(medians, floor_medians, strict=True))
    floor, bare_row = rows["floor"], rows["bare"]
    floor["ratio_to_bare"] = statistics.median(
        f / b for f, b in zip(floor["pass_medians_ms"], bare_row["pass_medians_ms"], strict=True)
    )
    return list(rows.values())


def profile(ds: Dataset, key: str, *, requests: int = 20) -> str:
    """cProfile of one page: where its server time goes (top functions by cumulative time)."""
    import cProfile
    import io
    import pstats

    page = next(p for p in pages(ds) if p.key == key)
    client = Clients().for_page(ds, page, "large")
    _before(page, ds)
    _get(client, page, page.url_large)
    profiler = cProfile.Profile()
    for _ in range(requests):
        _before(page, ds)
        profiler.enable()
        _get(client, page, page.url_large)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def explain(ds: Dataset, key: str) -> str:
    """EXPLAIN ANALYZE of every SELECT one request of the page makes (BENCH_EXPLAIN=key,...)."""
    page = next(p for p in pages(ds) if p.key == key)
    client = Clients().for_page(ds, page, "large")
    _before(page, ds)
    _get(client, page, page.url_large)
    _before(page, ds)
    with CaptureQueriesContext(connection) as ctx:
        _get(client, page, page.url_large)
    out = [f"# Query plans: {page.label} ({len(ctx.captured_queries)} queries)\n"]
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            sql = query["sql"]
            out.append(f"## {query['time']} s\n{sql}\n")
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                out.append("\n".join(row[0] for row in cursor.fetchall()) + "\n")
    return "\n".join(out)
