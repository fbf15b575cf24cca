"""The Celery app. Beat runs one schedule, CELERY_BEAT_SCHEDULE in settings (see README: run beat once)."""

import os

from lib.broker import BrokerBackoffCelery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# A publish that fails (the broker is away) makes the next ones fail at once for a moment,
# so a request that writes many messages is not held up; the beat's outbox flush sends them.
app = BrokerBackoffCelery("warm_intros")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_var_folders(sender, **kwargs):
    """A worker or beat started on its own (not through `make run`) makes its folders too:
    beat exits at start when its schedule's folder is missing."""
    from config import var

    var.prepare()
