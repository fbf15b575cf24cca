"""docs/architecture.md names where each rule lives: each place it names must exist, and the
five rules it names one place for must be found there."""

from __future__ import annotations

import importlib
import pathlib
import re

from django.conf import settings

BASE = pathlib.Path(settings.BASE_DIR)
DOC = BASE / "docs" / "architecture.md"
PACKAGES = {"lib", "accounts", "contacts", "intros", "followups", "cohorts", "workflows", "config"}


def _named_objects(text: str) -> set[str]:
    """Every dotted name in backticks that starts with one of the project's packages."""
    names = re.findall(r"`([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)`", text)
    return {name for name in names if name.split(".")[0] in PACKAGES}


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr)
        return found
    raise ModuleNotFoundError(dotted)


def test_every_module_and_function_the_architecture_names_exists():
    text = DOC.read_text()
    named = _named_objects(text)
    assert len(named) >= 10, named  # the reader below finds them
    missing = []
    for dotted in sorted(named):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{dotted}: {exc}")
    assert missing == []


def test_every_file_the_architecture_names_exists():
    files = set(re.findall(r"`([\w/]+\.py)", DOC.read_text()))
    assert files, "the doc names files"
    assert sorted(f for f in files if not (BASE / f).exists()) == []


def test_every_setting_the_architecture_names_exists():
    for name in re.findall(r"`settings\.([A-Z_]+)`", DOC.read_text()):
        assert hasattr(settings, name), name


def test_the_five_rules_each_name_a_place_that_exists_and_holds_it():
    text = DOC.read_text()
    section = text.split("## Five rules", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 5
    for row in rows:
        place = re.search(r"`([\w.]+)`", row.split("|")[2]).group(1)
        assert callable(_resolve(place)) or _resolve(place), row

    from cohorts.dashboard import SAFE_REQUEST_FIELDS

    assert not [field for field in SAFE_REQUEST_FIELDS if "email" in field]


def test_the_erasure_order_is_the_order_the_apps_depend_on_each_other():
    from workflows.personal_data import PARTS

    assert [part.app for part in PARTS] == ["contacts", "intros", "followups", "cohorts", "webhooks"]
