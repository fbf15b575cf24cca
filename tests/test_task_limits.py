"""Every task ends before the broker would hand it to a second worker while it still runs, a
worker's claim on a message outlives the task that sends it, and SMTP cannot hang a worker."""

from __future__ import annotations

import subprocess
import sys

from django.core import mail

from config.celery import app
from tests.test_deploy import BASE_DIR

OUR_APPS = ("lib.", "accounts.", "contacts.", "intros.", "followups.", "cohorts.", "webhooks.")
SENDING = (
    "lib.outbox.tasks.send_outbox_message",
    "lib.outbox.tasks.send_outbox_messages",
    "lib.outbox.tasks.flush_outbox",
    # Webhook deliveries are sent the outbox's way, under the same limits.
    "webhooks.tasks.send_webhook_deliveries",
    "webhooks.tasks.flush_webhooks",
)


def registered_tasks() -> dict:
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks.py
    return dict(app.tasks)


def test_every_task_is_stopped_before_the_broker_hands_it_out_again(settings):
    ours = {name: task for name, task in registered_tasks().items() if name.startswith(OUR_APPS)}
    assert {*SENDING, "followups.tasks.sweep_due", "contacts.tasks.run_import"} <= set(ours)
    for name, task in ours.items():
        limit = task.time_limit or app.conf.task_time_limit
        assert limit and limit < settings.BROKER_VISIBILITY_TIMEOUT, name
        assert task.soft_time_limit is None or task.soft_time_limit < limit, name
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600) == settings.BROKER_VISIBILITY_TIMEOUT
    )


def test_a_claim_outlives_every_task_that_sends_email_and_the_sweep_has_its_limit(settings):
    tasks = registered_tasks()
    for name in SENDING:
        task = tasks[name]
        assert task.soft_time_limit < task.time_limit == settings.OUTBOX_TASK_TIME_LIMIT < settings.OUTBOX_CLAIM_SECONDS
        assert task.time_limit < settings.WEBHOOK_CLAIM_SECONDS
    sweep = tasks["followups.tasks.sweep_due"]
    assert sweep.soft_time_limit < sweep.time_limit == settings.SWEEP_TASK_TIME_LIMIT


def test_each_smtp_step_has_a_timeout(settings):
    assert settings.EMAIL_TIMEOUT_SECONDS == 20
    settings.MAILERS = {
        "default": {
            "BACKEND": settings.SMTP_BACKEND,
            "OPTIONS": {"host": "smtp.example.org", "timeout": settings.EMAIL_TIMEOUT_SECONDS},
        }
    }
    assert mail.mailers.default.timeout == 20


def test_a_time_limit_the_broker_would_outlast_stops_the_start():
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.MAILERS"],
        cwd=BASE_DIR,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "true",
            "OUTBOX_TASK_TIME_LIMIT": "3600",
            "PATH": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "OUTBOX_TASK_TIME_LIMIT=3600 must stay under the broker's visibility timeout" in result.stderr
