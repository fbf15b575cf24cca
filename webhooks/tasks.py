from celery import shared_task

from lib.outbox.tasks import SEND_LIMITS

from . import services


@shared_task(acks_late=True, **SEND_LIMITS)
def send_webhook_deliveries(delivery_ids: list[int]) -> int:
    return sum(services.delivery_send(delivery_id=pk) for pk in delivery_ids)


@shared_task(acks_late=True, **SEND_LIMITS)
def flush_webhooks() -> int:
    return services.deliveries_flush()
