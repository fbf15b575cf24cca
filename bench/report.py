"""The Markdown tables (figure | target | ratio to floor | pass/miss) and their JSON copy."""

from __future__ import annotations

import json
import math
from pathlib import Path

PAGE_RATIO = 3.0  # issue 17: every page's median at most 3× our floor (it was 4×)
FLOOR_TO_BARE = 2.0  # issue 17: our floor at most 2× a bare Django page
DASHBOARD_COLD_MS = 50.0  # issue 17: the coach dashboard's numbers computed, 200 members
ICS_COLD_MS = 20.0  # issue 17: the calendar feed built (first poll after a change)
HTTP_TARGET_USERS = 200  # issue 17: p95 < 100 ms and no errors with this many people
# Pages with a target of their own instead of the ratio to the floor (bench.pages.NOT_RATIO).
OWN_TARGETS = {"dashboard_cold": DASHBOARD_COLD_MS, "ics_cold": ICS_COLD_MS}
# Not held to the ratio to the floor: the floors themselves and those with a target of their own.
NOT_RATIO = {"floor", "bare", *OWN_TARGETS}
PAGE_P95_MS = 50.0
SWEEP_RATIO = 7.0
EMPTY_MS = 2.0
GROWTH_RATIO = 2.0
PEAK_MB = 250.0
HTTP_P95_MS = 100.0
EXPORT_SECONDS = 10.0
EXPORT_GROWTH_MB = 50.0


def _ok(passed: bool) -> str:
    return "pass" if passed else "**miss**"


def _ms(v: float) -> str:
    return "—" if v is None or math.isnan(v) else f"{v:.1f} ms" if v >= 10 else f"{v:.2f} ms"


def page_table(rows: list[dict], scale: str) -> tuple[str, list[str]]:
    misses: list[str] = []
    by_key = {r["key"]: r for r in rows}
    floor = by_key["floor"]
    lines = [
        f"### Pages (server time in-process, wall clock; CPU = the bench process's own, without the database's; median of {len(floor.get('pass_medians_ms', [1]))} passes, "
        f"{floor.get('n', 0)} requests each after warm-up; scale {scale})",
        "",
        "| Page | Median | p95 | CPU median | Queries (200 / 10 members) | Ratio to floor | Target | Pass/miss |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        if r.get("missing"):
            lines.append(f"| {r['label']} | — | — | — | — | — | page not found by `reverse` | **missing** |")
            misses.append(f"{r['label']}: missing")
            continue
        status_ok = r["status"] == 200 and r.get("status_small") == 200
        if r["key"] == "floor":
            checks = {f"≤{FLOOR_TO_BARE:.0f}× bare Django": r["ratio_to_bare"] <= FLOOR_TO_BARE, "HTTP 200": status_ok}
            target = f"the floor (1×); ≤{FLOOR_TO_BARE:.0f}× bare Django ({r['ratio_to_bare']:.1f}×)"
        elif r["key"] == "bare":
            checks, target = {"HTTP 200": status_ok}, "bare Django (the floor's floor)"
        elif r["key"] in OWN_TARGETS:
            limit = OWN_TARGETS[r["key"]]
            checks = {
                f"< {limit:.0f} ms": r["median_ms"] < limit,
                "same queries": r["queries_large"] == r["queries_small"],
                "HTTP 200": status_ok,
            }
            target = f"median < {limit:.0f} ms, same queries"
        else:
            checks = {
                f"≤{PAGE_RATIO:.0f}× floor": r["ratio_to_floor"] <= PAGE_RATIO,
                "p95 < 50 ms": r["p95_ms"] < PAGE_P95_MS,
                "same queries": r["queries_large"] == r["queries_small"],
                "HTTP 200": status_ok,
            }
            target = f"≤{PAGE_RATIO:.0f}× floor, p95 < 50 ms, same queries"
        failed = [k for k, ok in checks.items() if not ok]
        verdict = "pass" if not failed else "**miss**: " + ", ".join(failed)
        misses += [f"{r['label']}: {k}" for k in failed]
        label = r["label"] if r["n"] == floor["n"] else f"{r['label']} (n={r['n']}, time budget)"
        lines.append(
            f"| {label} | {_ms(r['median_ms'])} | {_ms(r['p95_ms'])} | {_ms(r['cpu_median_ms'])} "
            f"| {r['queries_large']} / {r['queries_small']} "
            f"| {r['ratio_to_floor']:.1f}× | {target} | {verdict} |"
        )
    return "\n".join(lines), misses


def sweep_table(s: dict) -> tuple[str, list[str]]:
    rows_big, due = s["rows"], s["due"]
    empty = s["empty"]
    checks = [
        (f"App sweep: {due:,} due among {rows_big:,} (claim, decide, log, outbox)", f"{s['app_main_s']:.2f} s",
         "≤7× raw drain", f"{s['app_to_raw']:.1f}× raw", s["app_to_raw"] <= SWEEP_RATIO),
        (f"Raw-SQL drain of the same {due:,} rows (floor)", f"{s['raw_main_s']:.2f} s", "floor", "1.0×", None),
        (f"Empty sweep at {empty['rows']:,} rows ({empty['queries']} queries)", f"{_ms(empty['median_ms'])} (p95 {_ms(empty['p95_ms'])})",
         "< 2 ms", "—", empty["median_ms"] < EMPTY_MS),
        (f"{s['ratio_due']:,} due among {s['ratio_small_rows']:,}", f"{s['ratio_small_s']:.3f} s", "—", "1.0×", None),
        (f"The same {s['ratio_due']:,} due among {rows_big:,}", f"{s['ratio_big_s']:.3f} s",
         f"< 2× the {s['ratio_small_rows']:,}-row run", f"{s['big_to_small']:.2f}×", s["big_to_small"] < GROWTH_RATIO),
        ("Worker peak memory (VmHWM of a fresh worker)", f"{s['peak_mb']:.0f} MB", "< 250 MB", "—", s["peak_mb"] < PEAK_MB),
    ]  # fmt: skip
    lines = [
        f"### The sweep ({s['queries_per_due']:.1f} queries per due follow-up; median of {len(s['app_main_runs'])} runs)",
        "",
        "| Measure | Figure | Target | Ratio | Pass/miss |",
        "|---|---:|---|---:|---|",
    ]
    misses = []
    for label, figure, target, ratio, ok in checks:
        lines.append(f"| {label} | {figure} | {target} | {ratio} | {'—' if ok is None else _ok(ok)} |")
        if ok is False:
            misses.append(f"sweep: {label}")
    return "\n".join(lines), misses


def http_table(h: dict) -> tuple[str, list[str]]:
    lines = [
        f"### HTTP load (gunicorn, {h['workers']} workers × {h['threads']} threads (config/gunicorn.py) on {h['cpus']} CPUs, 127.0.0.1; {h['tool']}, "
        f"think {h['think_ms'][0]}–{h['think_ms'][1]} ms, {h['seconds']} s a run, {len(h['pages'])} pages)",
        "",
        "| People | Requests/s | p50 | p95 | p99 | Errors | Target | Pass/miss |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    misses = []
    for run in h["runs"]:
        failed = []
        if run["p95_ms"] >= HTTP_P95_MS:
            failed.append(f"p95 ≥ {HTTP_P95_MS:.0f} ms")
        if run["errors"]:
            failed.append(f"{run['errors']} errors")
        lines.append(
            f"| {run['users']} | {run['rps']:.1f} ({run['requests']:,}) | {_ms(run['p50_ms'])} | {_ms(run['p95_ms'])} "
            f"| {_ms(run['p99_ms'])} | {run['errors']} | p95 < {HTTP_P95_MS:.0f} ms, 0 errors "
            f"| {'pass' if not failed else '**miss**: ' + ', '.join(failed)} |"
        )
        misses += [f"HTTP, {run['users']} people: {f}" for f in failed]
    return "\n".join(lines), misses


def targets_table(
    pages: list[dict] | None, http: dict | None, exports: dict | None, load: tuple[float, ...], scale: str
) -> tuple[str, list[str]]:
    """Issue 17's table: each of its rows beside its target, from this run (floors included)."""
    rows: list[tuple[str, str, str, bool | None]] = []
    not_run = ("not run (BENCH_SECTIONS)", "—", None)
    if http:
        runs = {run["users"]: run for run in http["runs"]}
        run = runs.get(HTTP_TARGET_USERS) or runs[max(runs)]
        figure = f"{_ms(run['p95_ms'])} / {run['errors']}" + (
            f" ({run['users']} people: BENCH_HTTP_USERS has no {HTTP_TARGET_USERS})"
            if run["users"] != HTTP_TARGET_USERS
            else ""
        )
        others = ", ".join(f"{u}: {_ms(r['p95_ms'])}" for u, r in sorted(runs.items()) if u != run["users"])
        ok = run["p95_ms"] < HTTP_P95_MS and run["errors"] == 0 and run["users"] >= HTTP_TARGET_USERS
        rows.append(
            (
                f"HTTP, {HTTP_TARGET_USERS} people, gunicorn on {http['cpus']} CPUs: p95 / errors"
                + (f" (p95 at {others})" if others else ""),
                figure,
                f"< {HTTP_P95_MS:.0f} ms / 0",
                ok,
            )
        )
    else:
        rows.append(("HTTP, 200 people: p95 / errors", *not_run))
    by_key = {r["key"]: r for r in pages or [] if not r.get("missing")}
    if pages:
        floor, bare = by_key["floor"], by_key["bare"]
        rows.append(
            (
                "Our floor page vs a bare Django page (session + auth middleware only)",
                f"{_ms(floor['median_ms'])} vs {_ms(bare['median_ms'])} = {floor['ratio_to_bare']:.1f}×",
                f"≤ {FLOOR_TO_BARE:.0f}×",
                floor["ratio_to_bare"] <= FLOOR_TO_BARE,
            )
        )
        ratios = {k: r["ratio_to_floor"] for k, r in by_key.items() if k not in NOT_RATIO}
        worst = max(ratios, key=ratios.get)
        rows.append(
            (
                "Every page's median, ratio to our floor",
                f"{min(ratios.values()):.1f}–{max(ratios.values()):.1f}× ({by_key[worst]['label']} {ratios[worst]:.1f}×)",
                f"≤ {PAGE_RATIO:.0f}×",
                max(ratios.values()) <= PAGE_RATIO,
            )
        )
        for key, label in (
            ("dashboard_cold", "Coach dashboard, numbers computed (first request, 200 members)"),
            ("ics_cold", "Calendar feed, built (first poll after a change)"),
        ):
            r = by_key.get(key)
            rows.append(
                (
                    label,
                    _ms(r["median_ms"]) if r else "missing",
                    f"< {OWN_TARGETS[key]:.0f} ms",
                    bool(r) and r["median_ms"] < OWN_TARGETS[key],
                )
            )
    else:
        rows += [
            (label, *not_run)
            for label in (
                "Our floor vs bare Django",
                "Every page's median, ratio to our floor",
                "Coach dashboard, numbers computed",
                "Calendar feed, built",
            )
        ]
    if exports:
        e = exports["rows"]
        parts = [(k, e[k]) for k in ("csv", "vcard", "data-prepare", "data-download")]
        figure = "; ".join(f"{k} {r['seconds']:.1f} s +{r['growth_mb']:.0f} MB" for k, r in parts)
        ok = all(r["seconds"] < EXPORT_SECONDS and r["growth_mb"] < EXPORT_GROWTH_MB for _, r in parts)
        rows.append(
            (
                f"Exports of a {exports['contacts']:,}-contact account (CSV, vCard, all my data)",
                figure,
                f"< {EXPORT_SECONDS:.0f} s and < {EXPORT_GROWTH_MB:.0f} MB each",
                ok,
            )
        )
    else:
        rows.append(("Exports (CSV, vCard, all my data)", *not_run))
    lines = [
        f"### Issue 17's targets (scale {scale}; floors measured in this run; load average "
        f"{' / '.join(f'{x:.2f}' for x in load)} at the end)",
        "",
        "| Measure | Now | Target | Pass/miss |",
        "|---|---:|---|---|",
    ]
    misses = []
    for label, figure, target, ok in rows:
        lines.append(f"| {label} | {figure} | {target} | {'—' if ok is None else _ok(ok)} |")
        if ok is False:
            misses.append(f"issue 17: {label}")
    return "\n".join(lines), misses


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def exports_table(e: dict) -> tuple[str, list[str]]:
    rows = e["rows"]
    n = e["contacts"]
    both = f"< {EXPORT_SECONDS:.0f} s, < {EXPORT_GROWTH_MB:.0f} MB"
    lines = [
        f"### Exports (one account with {n:,} contacts; each export in a fresh process, through the real view "
        "or task, the response read to its last byte; CPU = the process's own; "
        "peak RSS growth = VmHWM after − VmRSS before)",
        "",
        "| Export | Time | CPU | Peak RSS growth | Size | Target | Pass/miss |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    checks = [
        ("Contacts CSV (streamed request)", rows["csv"]),
        ("Contacts vCard (streamed request)", rows["vcard"]),
        ("All my data: asking (request)", rows["data-request"]),
        ("All my data: preparing the file (worker task)", rows["data-prepare"]),
        ("All my data: downloading the file (request)", rows["data-download"]),
    ]
    misses = []
    for label, r in checks:
        failed = []
        if r["seconds"] >= EXPORT_SECONDS:
            failed.append(f"≥ {EXPORT_SECONDS:.0f} s")
        if r["growth_mb"] >= EXPORT_GROWTH_MB:
            failed.append(f"≥ {EXPORT_GROWTH_MB:.0f} MB")
        if r.get("status", 200) not in (200, 302):
            failed.append(f"HTTP {r['status']}")
        size = _mb(r["bytes"]) if r.get("bytes") else "—"
        verdict = "pass" if not failed else "**miss**: " + ", ".join(failed)
        lines.append(
            f"| {label} | {r['seconds']:.2f} s | {r['cpu_seconds']:.2f} s | {r['growth_mb']:.1f} MB | {size} "
            f"| {both} | {verdict} |"
        )
        misses += [f"exports: {label}: {f}" for f in failed]
    if not all(r.get("peak_reset", True) for r in rows.values()):
        lines += ["", "The peak could not be reset here (/proc/self/clear_refs): growth is above the earlier peak."]
    return "\n".join(lines), misses


def data_table(counts: dict, seconds: float, sweep_rows: int) -> str:
    body = " · ".join(f"{k} {v:,}" for k, v in counts.items())
    return f"### Data\n\nGenerated with COPY in {seconds:.0f} s: {body}. Sweep database: {sweep_rows:,} follow-ups."


def write(results_dir: Path, stamp: str, markdown: str, payload: dict) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    md, js = results_dir / f"{stamp}.md", results_dir / f"{stamp}.json"
    md.write_text(markdown + "\n")
    js.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return md, js
