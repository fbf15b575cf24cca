"""The benchmark harness keeps working: CI runs it once at the small scale (1/50).

Only its shape is checked (every row, the same query counts with 10 and with 200 cohort
members, no errors); never a time, which would make the suite depend on the machine."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.urls import NoReverseMatch, reverse

from bench.config import SCALES

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    *("floor", "bare", "home", "intro", "inbox", "contacts", "contact_search", "dashboard", "find", "followups", "ics"),
    *("dashboard_cold", "ics_cold"),  # the kept answers, computed every time
}


def _exists(name: str, *args) -> bool:
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


@pytest.mark.services(redis=True)
def test_bench_harness_measures_every_page_the_sweep_http_and_the_exports_at_small_scale(tmp_path):
    env = {
        **os.environ,
        "BENCH_SCALE": "small",
        # A session of its own may name other databases (BENCH_DB_NAME, BENCH_REDIS_URL) so runs do not collide.
        "BENCH_DB_NAME": os.environ.get("BENCH_DB_NAME") or "warm_bench_ci",
        "BENCH_RESULTS_DIR": str(tmp_path),
        # The app's cache on the suite's Redis server, in the benchmark's own database (emptied).
        "BENCH_REDIS_URL": os.environ.get("BENCH_REDIS_URL")
        or urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/14")),
        "BENCH_HTTP_USERS": "50,100,200",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    [md] = tmp_path.glob("*.md")
    [js] = tmp_path.glob("2*-small.json")  # beside it: dataset-small.json, for python -m bench.explain
    assert (tmp_path / "dataset-small.json").exists()
    payload = json.loads(js.read_text())
    markdown = md.read_text()
    assert markdown.strip() in run.stdout  # what is printed is what is saved

    pages = {row["key"]: row for row in payload["pages"]}
    assert set(pages) == PAGES
    # The coach dashboard is measured when it exists and reported missing otherwise, never faked.
    assert pages["dashboard"].get("missing", False) is not _exists("cohorts:dashboard", 1)
    for key, row in pages.items():
        assert row["label"] in markdown
        if row.get("missing"):
            continue
        assert (row["status"], row["status_small"]) == (200, 200), key
        assert row["n"] >= 3 and row["median_ms"] > 0 and row["ratio_to_floor"] > 0 and row["cpu_median_ms"] > 0
        assert len(row["pass_medians_ms"]) == 3, key  # the median of three passes
        assert row["queries_large"] == row["queries_small"], f"{key}: queries grow with the cohort"

    sweep = payload["sweep"]
    small = SCALES["small"]
    assert sweep["due"] == small.sweep_due and sweep["rows"] == small.sweep_rows
    for run_ in sweep["app_main_runs"]:
        assert run_["counts"] == {"followup_reminded": run_["due"]}
        assert run_["outbox"] == run_["logged"] == run_["due"]
    for run_ in sweep["raw_main_runs"]:
        assert run_["handled"] == run_["outbox"] == run_["due"]
    assert sweep["empty"]["rows"] == small.sweep_rows and sweep["empty"]["queries"] > 0
    assert sweep["peak_mb"] > 0
    for label in ("App sweep", "Raw-SQL drain", "Empty sweep", "Worker peak memory"):
        assert label in markdown

    assert pages["floor"]["ratio_to_bare"] > 0  # our floor against the bare Django one, same run

    http = payload["http"]
    assert [run["users"] for run in http["runs"]] == [50, 100, 200]  # BENCH_HTTP_USERS, one run each
    for run_ in http["runs"]:
        assert run_["requests"] > 0 and run_["errors"] == 0, run_
        assert {"p50_ms", "p95_ms", "p99_ms", "rps"} <= set(run_)
    for label in ("| People | Requests/s | p50 | p95 | p99 | Errors |", "| 200 |"):
        assert label in markdown

    # Issue 17's table, first in the output: every row beside its target, with a verdict.
    targets = markdown.split("### Issue 17's targets", 1)[1].split("###", 1)[0]
    for label in (
        "HTTP, 200 people",
        "Our floor page vs a bare Django page",
        "Every page's median, ratio to our floor",
        "Coach dashboard, numbers computed",
        "Calendar feed, built",
        "Exports of a 4,000-contact account",
    ):
        [line] = [line for line in targets.splitlines() if label in line]
        assert line.rstrip().endswith(("| pass |", "| **miss** |")), line

    exports = payload["exports"]
    rows = exports["rows"]
    assert exports["contacts"] == small.export_contacts
    for key in ("csv", "vcard", "data-download"):  # every contact in every file, read to the end
        assert rows[key]["status"] == 200 and rows[key]["records"] == small.export_contacts, key
    assert rows["csv"]["streaming"] and rows["vcard"]["streaming"]
    # Asking writes nothing in the request; the worker's task does, and the download is that file.
    assert (rows["data-request"]["status"], rows["data-request"]["export_status"]) == (302, "requested")
    assert rows["data-prepare"]["export_status"] == "ready"
    assert rows["data-download"]["bytes"] == rows["data-prepare"]["bytes"] and rows["data-download"]["complete"]
    for row in rows.values():
        assert row["seconds"] > 0 and row["growth_mb"] >= 0
    for label in (
        "Contacts CSV",
        "Contacts vCard",
        "All my data: asking",
        "All my data: preparing",
        "All my data: downloading",
    ):
        assert label in markdown
