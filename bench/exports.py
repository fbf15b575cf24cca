"""The exports section: one account with `Scale.export_contacts` contacts (in its own database,
so the pages keep their own numbers), and each of its exports through the real views and task,
every one in a fresh `python -m bench.exporter` process (its memory is that export's alone)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile

from .config import Scale
from .db import ROOT, bench_env

# Each in its own process, in this order (the download needs the prepared file).
STEPS = ("csv", "vcard", "data-prepare", "data-download")


def _exporter(database: str, step: str, folder: str) -> list[dict]:
    process = subprocess.run(
        [sys.executable, "-m", "bench.exporter", step],
        cwd=ROOT,
        env=bench_env(database, DATA_EXPORT_DIR=folder),
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"bench.exporter {step} failed:\n{process.stdout}\n{process.stderr}")
    results = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    for r in results:
        print(f"  {r['step']}: " + ", ".join(f"{k}={v}" for k, v in r.items() if k != "step"), flush=True)
    return results


def measure(database: str, scale: Scale) -> dict:
    folder = tempfile.mkdtemp(prefix="warm-bench-exports-")  # the prepared files (DATA_EXPORT_DIR)
    try:
        [setup] = _exporter(database, f"setup:{scale.export_contacts}", folder)
        rows = {}
        for step in STEPS:
            for result in _exporter(database, step, folder):
                rows[result["step"]] = result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    expected = scale.export_contacts
    for key in ("csv", "vcard", "data-download"):
        if rows[key]["records"] != expected:
            raise RuntimeError(f"the {key} export holds {rows[key]['records']} contacts, not {expected}: {rows[key]}")
    return {"contacts": expected, "setup": setup, "rows": rows}
