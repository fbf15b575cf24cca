"""The Markdown tables (figure | target | ratio to floor | pass/miss) and their JSON copy."""

from __future__ import annotations

import json
import math
from pathlib import Path

PAGE_RATIO = 4.0
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
    lines = [
        f"### Pages (server time in-process, {rows[0].get('n', 0)} requests each after warm-up; scale {scale})",
        "",
        "| Page | Median | p95 | Queries (200 / 10 members) | Ratio to floor | Target | Pass/miss |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        if r.get("missing"):
            lines.append(f"| {r['label']} | — | — | — | — | page not found by `reverse` | **missing** |")
            misses.append(f"{r['label']}: missing")
            continue
        if r["key"] == "floor":
            verdict, target = ("pass" if r["status"] == 200 else f"**HTTP {r['status']}**"), "the floor (1×)"
        else:
            checks = {
                "≤4× floor": r["ratio_to_floor"] <= PAGE_RATIO,
                "p95 < 50 ms": r["p95_ms"] < PAGE_P95_MS,
                "same queries": r["queries_large"] == r["queries_small"],
                "HTTP 200": r["status"] == 200 and r.get("status_small") == 200,
            }
            failed = [k for k, ok in checks.items() if not ok]
            verdict = "pass" if not failed else "**miss**: " + ", ".join(failed)
            target = "≤4× floor, p95 < 50 ms, same queries"
            misses += [f"{r['label']}: {k}" for k in failed]
        label = r["label"] if r["n"] == rows[0]["n"] else f"{r['label']} (n={r['n']}, time budget)"
        lines.append(
            f"| {label} | {_ms(r['median_ms'])} | {_ms(r['p95_ms'])} | {r['queries_large']} / {r['queries_small']} "
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
        f"### HTTP load (gunicorn, {h['workers']} sync workers, 127.0.0.1; {h['tool']}, {h['users']} users, "
        f"think {h['think_ms'][0]}–{h['think_ms'][1]} ms, {h['seconds']} s, {len(h['pages'])} pages)",
        "",
        "| Measure | Figure | Target | Pass/miss |",
        "|---|---:|---|---|",
        f"| Requests per second | {h['rps']:.1f} ({h['requests']:,} requests) | — | — |",
        f"| p50 | {_ms(h['p50_ms'])} | — | — |",
        f"| p95 | {_ms(h['p95_ms'])} | < 100 ms | {_ok(h['p95_ms'] < HTTP_P95_MS)} |",
        f"| p99 | {_ms(h['p99_ms'])} | — | — |",
        f"| Errors | {h['errors']} | 0 | {_ok(h['errors'] == 0)} |",
    ]
    misses = []
    if h["p95_ms"] >= HTTP_P95_MS:
        misses.append("HTTP: p95 ≥ 100 ms")
    if h["errors"]:
        misses.append(f"HTTP: {h['errors']} errors")
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
