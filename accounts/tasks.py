from celery import shared_task
from django.utils import timezone

from . import data_exports, outbox


@shared_task(acks_late=True)
def send_outbox_message(message_id: int) -> None:
    outbox.outbox_send(message_id=message_id)


@shared_task(acks_late=True)
def send_outbox_messages(message_ids: list[int]) -> int:
    return sum(outbox.outbox_send(message_id=message_id) for message_id in message_ids)


@shared_task(acks_late=True)
def flush_outbox() -> int:
    return outbox.outbox_flush()


@shared_task(acks_late=True)
def build_data_export(export_id: int) -> None:
    data_exports.data_export_build(export_id=export_id)  # returns quietly if already built or gone


@shared_task(acks_late=True)
def sweep_data_exports() -> dict[str, int]:
    return data_exports.data_export_sweep(now=timezone.now())
