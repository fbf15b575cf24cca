"""The sweep section: drives bench.worker subprocesses on the sweep database."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from .config import Scale
from .db import ROOT, bench_env


def _worker(database: str, *steps: str) -> dict[str, dict]:
    process = subprocess.run(
        [sys.executable, "-m", "bench.worker", *steps],
        cwd=ROOT,
        env=bench_env(database),
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"bench.worker {' '.join(steps)} failed:\n{process.stdout}\n{process.stderr}")
    results = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    for r in results:
        print(
            f"  {r['step']}: " + ", ".join(f"{k}={v}" for k, v in r.items() if k not in {"step", "counts"}), flush=True
        )
    return results


def _app_runs(results: list[dict], label: str) -> list[dict]:
    return [r for r in results if r["step"] == f"app:{label}"]


def _median_seconds(runs: list[dict]) -> float:
    return statistics.median(r["seconds"] for r in runs)


def measure(database: str, scale: Scale) -> dict:
    repeats = scale.sweep_repeats
    out: dict = {}
    # 1. The ratio's small side: RATIO_DUE due among RATIO_SMALL_ROWS.
    steps = ["setup"]
    for _ in range(repeats):
        steps += ["restore", "app:ratio_small"]
    first = _worker(database, *steps)
    # 2. The same due rows among SWEEP_ROWS, then the empty sweep, then the 10,000-due set's raw floor.
    steps = ["fill"]
    for _ in range(repeats):
        steps += ["restore", "app:ratio_big"]
    steps += [f"empty:{scale.empty_sweeps}", "mark"]
    for _ in range(repeats):
        steps += ["restore", "raw:main"]
    second = _worker(database, *steps)
    # 3. The app on the same rows, each run in a fresh worker: its peak memory is the sweep's.
    app_main = []
    for _ in range(scale.main_repeats):
        app_main += _app_runs(_worker(database, "restore", "app:main"), "main")
    raw_main = [r for r in second if r["step"] == "raw:main"]
    empty = next(r for r in second if r["step"].startswith("empty:"))
    small, big = _app_runs(first, "ratio_small"), _app_runs(second, "ratio_big")
    for run in app_main:
        if run["counts"].get("followup_reminded") != run["due"]:
            raise RuntimeError(f"the app sweep did not remind every due row: {run}")
    out = {
        "rows": scale.sweep_rows,
        "due": app_main[0]["due"],
        "app_main_s": _median_seconds(app_main),
        "app_main_runs": app_main,
        "raw_main_s": _median_seconds(raw_main),
        "raw_main_runs": raw_main,
        "empty": empty,
        "ratio_small_rows": scale.ratio_small_rows,
        "ratio_due": scale.ratio_due,
        "ratio_small_s": _median_seconds(small),
        "ratio_big_s": _median_seconds(big),
        "ratio_runs": small + big,
        "peak_mb": max(r["peak_mb"] for r in app_main),
        "queries_per_due": app_main[0]["queries"] / max(1, app_main[0]["due"]),
    }
    out["app_to_raw"] = out["app_main_s"] / out["raw_main_s"]
    out["big_to_small"] = out["ratio_big_s"] / out["ratio_small_s"]
    return out


def profile(database: str) -> str:
    """cProfile of one app sweep of the 10,000-due set (the rows are restored first)."""
    code = (
        "import cProfile, pstats, io, sys; from bench import worker; "
        "worker.step_restore(); worker._warm_worker(); p = cProfile.Profile(); p.enable(); "
        "worker.step_app('profile'); p.disable(); s = io.StringIO(); "
        "pstats.Stats(p, stream=s).sort_stats('cumulative').print_stats(30); "
        "pstats.Stats(p, stream=s).sort_stats('tottime').print_stats(30); print(s.getvalue())"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=bench_env(database), capture_output=True, text=True
    )
    return process.stdout + process.stderr
