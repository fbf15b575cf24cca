"""`make run` on a fresh clone: every folder the processes write to exists before they start.

Web, worker and beat start in no set order under honcho, so none may count on another having
made a folder. Beat opens its schedule file at once and exits when the folder is missing,
which used to be the case whenever DATABASE_URL was set (only the SQLite default made var/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432/warm_var_dir_check"  # parsed, never connected to


def _env(var_dir: Path, **given: str) -> dict[str, str]:
    env = {**os.environ, "WARM_VAR_DIR": str(var_dir), "DATABASE_URL": "", "REDIS_URL": "", "EMAIL_URL": ""}
    env.update(given)
    return env


@pytest.mark.parametrize(
    ("services", "wanted"),
    [
        # The embedded default: SQLite, the filesystem broker, a file cache, mail to files.
        ({}, ["", "celery/out", "celery/processed", "celery/control", "cache", "mail"]),
        # PostgreSQL, nothing else: the broker and cache are still the embedded ones.
        ({"DATABASE_URL": POSTGRES}, ["", "celery/out", "celery/processed", "celery/control", "cache", "mail"]),
        # PostgreSQL and Redis (the case beat failed in): its schedule's folder, the mail files.
        ({"DATABASE_URL": POSTGRES, "REDIS_URL": "redis://127.0.0.1:6379/6"}, ["", "mail"]),
    ],
    ids=["embedded", "postgres", "postgres-and-redis"],
)
def test_the_run_step_makes_every_folder_the_processes_need_from_nothing(tmp_path, services, wanted):
    var_dir = tmp_path / "fresh" / "var"  # not even its parent exists
    done = subprocess.run(
        [sys.executable, "-m", "config.var"],
        cwd=ROOT,
        env=_env(var_dir, **services),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for name in wanted:
        assert (var_dir / name).is_dir(), (name, done.stdout)
    # Beat's schedule file lives directly in the var folder (CELERY_BEAT_SCHEDULE_FILENAME).
    assert Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent == Path(settings.VAR_DIR)
    if "REDIS_URL" in services:
        assert not (var_dir / "celery").exists()  # nothing made that is not used


def test_the_run_target_prepares_the_folders_before_any_process_starts():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun: sync\n", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in recipe.splitlines()]
    prepare = next(i for i, step in enumerate(steps) if step.endswith("-m config.var"))
    start = next(i for i, step in enumerate(steps) if "honcho --procfile Procfile start" in step)
    migrate = next(i for i, step in enumerate(steps) if "manage.py migrate" in step)
    assert prepare < migrate < start


@pytest.mark.services(redis=True)
def test_beat_started_alone_on_an_empty_var_dir_stays_up(tmp_path):
    """A real `celery beat`, PostgreSQL and Redis configured, WARM_VAR_DIR not there yet: it
    sets up its schedule and starts ticking instead of exiting. The sweeps are an hour apart,
    so it sends nothing to the broker while it runs."""
    var_dir = tmp_path / "missing" / "var"
    env = _env(
        var_dir,
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
        SWEEP_INTERVAL_SECONDS="3600",
        DJANGO_DEBUG="true",
    )
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=DEBUG"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    # A beat that neither ticks nor exits is stopped, so the loop below always ends.
    watchdog = threading.Timer(90, beat.kill)
    watchdog.start()
    try:
        # Read until beat has opened its schedule and gone to sleep until the first tick, or
        # until it exits (the bug: a FileNotFoundError on the schedule, exit status 1).
        for line in beat.stdout:
            seen.append(line)
            if "beat: Waking up in" in line:
                break
        assert beat.poll() is None, "".join(seen[-30:])
        assert any("beat: Waking up in" in line for line in seen), "".join(seen[-30:])
        assert (var_dir / "celerybeat-schedule.dat").exists() or (var_dir / "celerybeat-schedule").exists()
    finally:
        watchdog.cancel()
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()
