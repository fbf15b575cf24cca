from celery import shared_task

from . import outbox


@shared_task(acks_late=True)
def send_outbox_message(message_id: int) -> None:
    outbox.outbox_send(message_id=message_id)


@shared_task(acks_late=True)
def send_outbox_messages(message_ids: list[int]) -> int:
    return sum(outbox.outbox_send(message_id=message_id) for message_id in message_ids)


@shared_task(acks_late=True)
def flush_outbox() -> int:
    return outbox.outbox_flush()
