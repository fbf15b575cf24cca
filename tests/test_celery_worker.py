"""A real Celery worker and beat, against the real PostgreSQL and Redis.

The test commits a due follow-up, starts `celery worker` and `celery beat` as separate
processes with a two-second tick, and waits for the reminder to arrive — once.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import OutboxMessage
from followups.models import FollowUp, ReminderLog
from tests.factories import UserFactory
from tests.mail_keys import assert_no_problems, check_mail_dir

pytestmark = [pytest.mark.services(redis=True), pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _redis_url(number: int) -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0] if settings.REDIS_URL.count("/") > 2 else settings.REDIS_URL
    return f"{base}/{number}"


@pytest.fixture
def stack(tmp_path: Path):
    """Worker and beat on a private Redis database and var/ folder; stopped however the test ends."""
    import redis

    broker = _redis_url(13)
    redis.Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker,
        "WARM_VAR_DIR": str(tmp_path),
        "SWEEP_INTERVAL_SECONDS": "2",
        "DJANGO_DEBUG": "true",
    }
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("worker", "beat")}  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [*celery, "worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
            env=env,
            stdout=logs["beat"],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        yield tmp_path
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
        redis.Redis.from_url(broker).flushdb()
    # What the real worker wrote obeys the rule every in-process email is held to (tests/mail_keys.py).
    assert_no_problems(check_mail_dir(tmp_path / "mail"))


def test_a_real_worker_and_beat_send_a_due_reminder_exactly_once(stack: Path):
    now = timezone.now()
    # Hours that are open right now, whatever the time of day the test runs.
    owner = UserFactory(
        time_zone="UTC",
        quiet_hours_start=(now + dt.timedelta(hours=3)).time().replace(microsecond=0),
        quiet_hours_end=(now - dt.timedelta(hours=3)).time().replace(microsecond=0),
    )
    followup = FollowUp.objects.create(
        owner=owner,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill",
        due_at=now - dt.timedelta(minutes=5),
        next_action_at=now - dt.timedelta(minutes=5),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        sent = OutboxMessage.objects.filter(subject__startswith="Reminder:", sent_at__isnull=False)
        if sent.exists():
            break
        time.sleep(1)
    else:
        logs = "\n".join((stack / f"{n}.log").read_text()[-3000:] for n in ("worker", "beat"))
        pytest.fail(f"No reminder was sent within 90 s. Logs:\n{logs}")
    # Let beat tick a few more times: nothing more may go out.
    time.sleep(6)
    assert OutboxMessage.objects.filter(subject__startswith="Reminder:").count() == 1
    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP, object_id=followup.pk).count() == 1
    mail_files = list((stack / "mail").glob("*.log"))
    mailed = [p for p in mail_files if "Reminder: thank the connector" in p.read_text()]
    assert len(mailed) == 1, [p.read_text()[:300] for p in mail_files]
