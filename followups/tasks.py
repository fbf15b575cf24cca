from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import sweep


# At the soft limit the batch in hand rolls back whole and the next tick goes on from there;
# at the hard limit the worker process is killed (the same: its open batch rolls back).
@shared_task(
    acks_late=True, time_limit=settings.SWEEP_TASK_TIME_LIMIT, soft_time_limit=settings.SWEEP_TASK_TIME_LIMIT - 30
)
def sweep_due() -> dict[str, int]:
    """Beat runs this every minute; safe to run twice or concurrently (see followups.sweep)."""
    return sweep.sweep(now=timezone.now())
