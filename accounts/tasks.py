from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import data_exports, outbox

# Each send task (one message, a batch, or the flush) is interrupted at the soft limit, between
# messages or inside one (that one is tried again later; the rest wait for the flush), and its
# process is killed at the hard limit, which a claim always outlives (OUTBOX_CLAIM_SECONDS).
SEND_LIMITS = {
    "time_limit": settings.OUTBOX_TASK_TIME_LIMIT,
    "soft_time_limit": settings.OUTBOX_TASK_TIME_LIMIT - 30,
}


@shared_task(acks_late=True, **SEND_LIMITS)
def send_outbox_message(message_id: int) -> None:
    outbox.outbox_send(message_id=message_id)


@shared_task(acks_late=True, **SEND_LIMITS)
def send_outbox_messages(message_ids: list[int]) -> int:
    return sum(outbox.outbox_send(message_id=message_id) for message_id in message_ids)


@shared_task(acks_late=True, **SEND_LIMITS)
def flush_outbox() -> int:
    return outbox.outbox_flush()


@shared_task(acks_late=True)
def build_data_export(export_id: int) -> None:
    data_exports.data_export_build(export_id=export_id)  # returns quietly if already built or gone


@shared_task(acks_late=True)
def sweep_data_exports() -> dict[str, int]:
    return data_exports.data_export_sweep(now=timezone.now())
