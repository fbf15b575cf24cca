"""The load test's harness keeps working: `python -m loadtest` for a few seconds with a few
people (the real run, `make loadtest`, is five minutes with a hundred; see loadtest/README.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from loadtest.stack import ROOT

pytestmark = [pytest.mark.faults, pytest.mark.services(redis=True)]


def test_the_load_test_runs_restarts_the_worker_twice_and_accounts_for_every_message(tmp_path: Path):
    env = {
        **os.environ,
        "LOADTEST_DURATION": "15s",
        "LOADTEST_USERS": "8",
        "LOADTEST_SPAWN_RATE": "8",
        "LOADTEST_WEB_WORKERS": "2",
        "LOADTEST_SWEEP_INTERVAL": "2",
        "LOADTEST_FLUSH_DEADLINE": "30",
        "LOADTEST_DB_NAME": "warm_loadtest_smoke",
        "LOADTEST_REDIS_URL": settings.REDIS_URL,
        "LOADTEST_RESULTS_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "loadtest"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    [summary_path] = tmp_path.glob("*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["requests"] > 0
    assert (summary["5xx"], summary["unanswered"], summary["problems"]) == (0, 0, [])
    assert [r["exit_code"] for r in summary["worker_restarts"]] == [0, 0]
    messages = summary["messages"]
    # The seeded reminders all fall due inside the run, so these counts do not depend on speed.
    assert messages["reminders_due"] == messages["reminders_sent"] == 200
    assert messages["created"] == messages["sent"] == messages["emails_delivered"] >= 200
    assert (messages["lost"], messages["duplicated"], messages["reminders_missing"]) == (0, 0, 0)
    assert "PASS" in run.stdout
