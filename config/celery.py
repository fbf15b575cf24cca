"""The Celery app. Beat runs one schedule kept here in code (see README: run beat once)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("warm_intros")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Messages whose enqueue-after-commit was lost (broker away, worker crash) are
    # picked up here, so nothing in the outbox waits more than a minute.
    "outbox-flush": {"task": "accounts.tasks.flush_outbox", "schedule": 60.0},
    # Follow-up reminders, offer nudges, target re-asks and expiries, digests: what is due now.
    "reminder-sweep": {"task": "followups.tasks.sweep_due", "schedule": 60.0},
}


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
