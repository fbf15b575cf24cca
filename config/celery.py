"""The Celery app. Beat runs one schedule, CELERY_BEAT_SCHEDULE in settings (see README: run beat once)."""

import os
import time

from celery import Celery
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# After a publish fails, this process leaves the broker alone for this long. Each attempt at
# an unreachable broker costs the connection timeout (about 2.5 s), so a request that writes
# fifteen messages (a coach's invitations) would outlive gunicorn's 30 s timeout; every
# publisher already treats a failure as "the beat's outbox flush sends it later".
BROKER_RETRY_AFTER = 10.0


class WarmIntrosCelery(Celery):
    _broker_down_until = 0.0

    def send_task(self, *args, **kwargs):
        if time.monotonic() < self._broker_down_until:
            raise OperationalError("The broker was unreachable moments ago; not trying again yet.")
        try:
            return super().send_task(*args, **kwargs)
        except OperationalError:
            self._broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
            raise


app = WarmIntrosCelery("warm_intros")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_var_folders(sender, **kwargs):
    """A worker or beat started on its own (not through `make run`) makes its folders too:
    beat exits at start when its schedule's folder is missing."""
    from config import var

    var.prepare()
