"""A Celery app that leaves an unreachable broker alone for a moment after a publish fails."""

import time

from celery import Celery
from kombu.exceptions import OperationalError

# After a publish fails, this process leaves the broker alone for this long. Each attempt at
# an unreachable broker costs the connection timeout (about 2.5 s), so a request that writes
# fifteen messages (a coach's invitations) would outlive gunicorn's 30 s timeout; every
# publisher already treats a failure as "the beat's outbox flush sends it later".
BROKER_RETRY_AFTER = 10.0


class BrokerBackoffCelery(Celery):
    _broker_down_until = 0.0

    def send_task(self, *args, **kwargs):
        if time.monotonic() < self._broker_down_until:
            raise OperationalError("The broker was unreachable moments ago; not trying again yet.")
        try:
            return super().send_task(*args, **kwargs)
        except OperationalError:
            self._broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
            raise
