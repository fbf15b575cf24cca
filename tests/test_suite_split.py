"""`make test-fast` leaves out what its marks say, and its parallel workers keep apart.

`make test` runs everything; `make test-fast` selects by marks declared in pyproject.toml, so a
new browser or fault test is left out because it is marked, not because of where it lives
(tests/conftest.py refuses a test that uses Chromium or the fault stack without its mark)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent


def _recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    return makefile.split(f"\n{target}: sync\n", 1)[1].split("\n\n", 1)[0]


def test_the_fast_selection_names_only_declared_marks_and_leaves_out_browser_faults_and_bench():
    makefile = (ROOT / "Makefile").read_text()
    selection = re.search(r"^FAST_TESTS := (.+)$", makefile, re.M).group(1)
    declared = {
        line.split(":", 1)[0]
        for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    }
    named = set(re.findall(r"not (\w+)", selection))
    assert named == {"browser", "faults", "bench"}
    assert named <= declared
    recipe = _recipe("test-fast")
    assert '-m "$(FAST_TESTS)"' in recipe and "-n $(TEST_WORKERS)" in recipe
    # `make test` stays the whole suite: no selection, no workers.
    assert " -m " not in _recipe("test") and " -n " not in _recipe("test")


def test_an_xdist_worker_keeps_its_cache_keys_apart():
    """Each worker's test database numbers rows from 1, while Redis is shared: keys the app
    builds from ids carry the worker's name, so two workers never read each other's."""
    key = cache.make_key("contacts:import-progress:1")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert key.startswith(f"{worker}-")
    else:
        assert not key.startswith("gw")
