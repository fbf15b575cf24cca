"""`python -m bench` (what `make bench` runs): generate, measure, print and save the tables.

Environment: BENCH_SCALE=full|small|tiny · DATABASE_URL (its server; the database is
BENCH_DB_NAME, default warm_bench) · BENCH_RESULTS_DIR (default bench/results) ·
BENCH_SECTIONS=pages,sweep,http,exports (default all; the page data is generated only for
pages and http) · BENCH_HTTP_USERS=50,100,200 (one HTTP run each) · BENCH_HTTP_WORKERS ·
BENCH_PAGE_PASSES=3 · BENCH_PROFILE=1 (cProfile of the slowest
page and of the sweep, saved beside the results) · BENCH_FRESH=1 (re-migrate the template)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import config, db

ROOT = Path(__file__).resolve().parent.parent
ALL_SECTIONS = "pages,sweep,http,exports"


def _empty_cache() -> None:
    """A run starts with nothing kept from an earlier one (same ids, other data)."""
    if url := config.cache_url():
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


def main() -> int:
    started = time.perf_counter()
    scale = config.scale()
    sections = {s.strip() for s in os.environ.get("BENCH_SECTIONS", ALL_SECTIONS).split(",") if s.strip()}
    if unknown := sections - set(ALL_SECTIONS.split(",")):
        raise SystemExit(f"BENCH_SECTIONS: unknown {', '.join(sorted(unknown))}; choose from {ALL_SECTIONS}.")
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{scale.name}"
    print(f"Warm Intros benchmark, scale {scale.name}, server {config.database_url(config.db_name())}", flush=True)
    names = db.prepare(config.db_name())

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = config.database_url(names["pages"])
    config.use_cache(os.environ)
    _empty_cache()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from . import data, exports, http, pages, report, sweep_bench

    parts = [
        f"## Warm Intros benchmark — {scale.name} scale, {dt.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"PostgreSQL {config.database_url(names['pages'])} · cache {config.cache_url() or 'files (no Redis)'} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · "
        "DEBUG off · times are wall-clock on a shared machine",
    ]
    payload: dict = {"scale": scale.as_dict(), "sections": sorted(sections)}
    if sections & {"pages", "http"}:
        print(f"[{time.perf_counter() - started:.0f} s] generating the page data", flush=True)
        ds = data.generate(scale)
        results_dir.mkdir(parents=True, exist_ok=True)  # for poking at the same data afterwards (bench/README.md)
        (results_dir / f"dataset-{scale.name}.json").write_text(json.dumps(dataclasses.asdict(ds), default=str))
        parts += ["", report.data_table(ds.counts, ds.seconds, scale.sweep_rows)]
        payload["data"] = {"counts": ds.counts, "seconds": ds.seconds}
    misses: list[str] = []
    profiles: list[str] = []

    if "pages" in sections:
        print(f"[{time.perf_counter() - started:.0f} s] measuring the pages", flush=True)
        passes = int(os.environ.get("BENCH_PAGE_PASSES", "3"))
        rows = pages.measure(ds, requests=scale.page_requests, warmup=scale.page_warmup, passes=passes)
        table, missed = report.page_table(rows, scale.name)
        parts += ["", table]
        misses += missed
        payload["pages"] = rows
        wanted = os.environ.get("BENCH_PROFILE", "")
        if wanted == "1":  # the slowest page; or name pages: BENCH_PROFILE=followups,dashboard
            wanted = max((r for r in rows if not r.get("missing")), key=lambda r: r["median_ms"])["key"]
        for row in rows:
            if wanted and row["key"] in wanted.split(",") and not row.get("missing"):
                profiles.append(f"# Page profile: {row['label']}\n\n" + pages.profile(ds, row["key"]))
        for key in filter(None, os.environ.get("BENCH_EXPLAIN", "").split(",")):  # query plans of named pages
            profiles.append(pages.explain(ds, key.strip()))

    if "http" in sections:
        http_users = http.users_setting(scale.http_users)
        print(
            f"[{time.perf_counter() - started:.0f} s] HTTP load: {', '.join(map(str, http_users))} people, "
            f"{scale.http_seconds} s each",
            flush=True,
        )
        User = get_user_model()
        cookies = {}
        for who in {v for k, v in ds.large.items()} | {ds.coach}:
            client = Client()
            client.force_login(User.objects.get(pk=who))
            cookies[who] = "sessionid=" + client.cookies["sessionid"].value
        targets = []
        for page in pages.pages(ds):
            if (
                page.url_large is None or page.settings or page.bare or page.before
            ):  # the app as deployed: nothing turned off
                continue
            user = pages.user_for(ds, page.role, "large")
            targets.append((page.url_large, cookies.get(user, "")))
        from django.db import connections

        connections.close_all()
        h = http.measure(
            names["pages"],
            targets,
            users=http_users,
            seconds=scale.http_seconds,
            workers=http.workers_setting(scale.http_workers),
        )
        table, missed = report.http_table(h)
        parts += ["", table]
        misses += missed
        payload["http"] = h

    if "sweep" in sections:
        print(f"[{time.perf_counter() - started:.0f} s] measuring the sweep", flush=True)
        s = sweep_bench.measure(names["sweep"], scale)
        table, missed = report.sweep_table(s)
        parts += ["", table]
        misses += missed
        payload["sweep"] = s
        if os.environ.get("BENCH_PROFILE") in {"1", "sweep"}:
            profiles.append(
                "# Sweep profile: the app sweep of the main due set\n\n" + sweep_bench.profile(names["sweep"])
            )

    if "exports" in sections:
        print(
            f"[{time.perf_counter() - started:.0f} s] measuring the exports of {scale.export_contacts:,} contacts",
            flush=True,
        )
        e = exports.measure(names["exports"], scale)
        table, missed = report.exports_table(e)
        parts += ["", table]
        misses += missed
        payload["exports"] = e

    table, missed = report.targets_table(
        payload.get("pages"), payload.get("http"), payload.get("exports"), os.getloadavg(), scale.name
    )
    parts[3:3] = ["", table]  # first, under the heading: the rows beside their targets
    misses += [m for m in missed if m not in misses]
    parts += ["", "### Missed targets", ""]
    parts += [f"- {m}" for m in misses] or ["- none"]
    parts += ["", f"Total run time {time.perf_counter() - started:.0f} s."]
    markdown = "\n".join(parts)
    payload["misses"] = misses
    print("\n" + markdown, flush=True)
    md, js = report.write(results_dir, stamp, markdown, payload)
    if profiles:
        (results_dir / f"{stamp}-profile.txt").write_text("\n\n".join(profiles))
    print(f"\nwritten: {md} and {js}", flush=True)
    return 0


def again() -> int:
    """`python -m bench again`: the pages section alone, on the data the last run of this
    BENCH_SCALE and BENCH_DB_NAME left (no generation: minutes saved at full scale, to try a
    change); prints the pages table and issue 17's rows it covers, saves nothing."""
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
    scale = config.scale()
    saved = json.loads((results_dir / f"dataset-{scale.name}.json").read_text())
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = config.database_url(config.db_name())
    config.use_cache(os.environ)
    _empty_cache()
    import django

    django.setup()
    from . import pages, report
    from .data import Dataset

    saved["now"] = dt.datetime.fromisoformat(saved["now"])
    ds = Dataset(**saved)
    passes = int(os.environ.get("BENCH_PAGE_PASSES", "3"))
    rows = pages.measure(ds, requests=scale.page_requests, warmup=scale.page_warmup, passes=passes)
    print(report.targets_table(rows, None, None, os.getloadavg(), scale.name)[0] + "\n")
    print(report.page_table(rows, scale.name)[0], flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["again"]:
        sys.exit(again())
    if sys.argv[1:] == ["floor"]:  # where the floor page's time goes (bench/floor.py)
        from .floor import main as floor_main

        sys.exit(floor_main())
    sys.exit(main())
