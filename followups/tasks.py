from celery import shared_task
from django.utils import timezone

from . import sweep


@shared_task(acks_late=True)
def sweep_due() -> dict[str, int]:
    """Beat runs this every minute; safe to run twice or concurrently (see followups.sweep)."""
    return sweep.sweep(now=timezone.now())
