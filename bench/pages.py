"""Each page, logged in as the right role, timed in-process with Django's test client.

Pages are timed round-robin (one request of each, then again) so a burst of background
load lands on all of them rather than on one. Query counts come from a separate request
under CaptureQueriesContext, for the 200-member cohort's users and the 10-member one's."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from accounts.models import User

from .data import SEARCH_TERM, Dataset


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    role: str  # seeker | connector | coach | anonymous (the ICS feed's token is its key)
    url_large: str | None  # None: the page does not exist (yet)
    url_small: str | None
    settings: tuple = ()  # (name, value) pairs overridden while this page is asked for


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
        Page("ics_cold", "ICS feed, built (not kept)", "anonymous", _url("followups:calendar", f"bench-feed-{big['seeker']}"), _url("followups:calendar", f"bench-feed-{small['seeker']}"), (("CALENDAR_CACHE_SECONDS", 0),)),
    ]  # fmt: skip


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
    """One logged-in client per user, made once."""

    def __init__(self) -> None:
        self._clients: dict[int | None, Client] = {}

    def get(self, user_id: int | None) -> Client:
        if user_id not in self._clients:
            client = Client()
            if user_id is not None:
                client.force_login(User.objects.get(pk=user_id))
            self._clients[user_id] = client
        return self._clients[user_id]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _count(client: Client, page: Page, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = _get(client, page, url)
    return len(ctx.captured_queries), response.status_code


def measure(ds: Dataset, *, requests: int, warmup: int) -> list[dict]:
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
        large = clients.get(user_for(ds, page.role, "large"))
        small = clients.get(user_for(ds, page.role, "small"))
        for _ in range(warmup):
            _get(large, page, page.url_large)
            _get(small, page, page.url_small)
        row["queries_large"], row["status"] = _count(large, page, page.url_large)
        row["queries_small"], row["status_small"] = _count(small, page, page.url_small)
        row["times_ms"] = []
        live.append((page, large))
    # A page far over its target need not be asked fifty times: past its time budget it stops
    # (with at least five samples) and the table shows how many it had.
    budget_ms = float(os.environ.get("BENCH_PAGE_BUDGET_S", "45")) * 1000
    for _ in range(requests):
        for page, client in live:
            times = rows[page.key]["times_ms"]
            if len(times) >= 5 and sum(times) > budget_ms:
                continue
            start = time.perf_counter_ns()
            response = _get(client, page, page.url_large)
            elapsed = time.perf_counter_ns() - start
            rows[page.key]["times_ms"].append(elapsed / 1e6)
            if response.status_code != 200:
                rows[page.key]["status"] = response.status_code
    floor = rows["floor"]
    floor_median = statistics.median(floor["times_ms"])
    for row in rows.values():
        if row.get("missing"):
            continue
        times = row.pop("times_ms")
        row["n"] = len(times)
        row["median_ms"] = statistics.median(times)
        row["p95_ms"] = percentile(times, 95)
        row["ratio_to_floor"] = row["median_ms"] / floor_median
    return list(rows.values())


def profile(ds: Dataset, key: str, *, requests: int = 20) -> str:
    """cProfile of one page: where its server time goes (top functions by cumulative time)."""
    import cProfile
    import io
    import pstats

    page = next(p for p in pages(ds) if p.key == key)
    client = Clients().get(user_for(ds, page.role, "large"))
    _get(client, page, page.url_large)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        _get(client, page, page.url_large)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def explain(ds: Dataset, key: str) -> str:
    """EXPLAIN ANALYZE of every SELECT one request of the page makes (BENCH_EXPLAIN=key,...)."""
    page = next(p for p in pages(ds) if p.key == key)
    client = Clients().get(user_for(ds, page.role, "large"))
    _get(client, page, page.url_large)
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
