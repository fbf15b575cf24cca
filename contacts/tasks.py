from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True)
def parse_import(batch_id: int) -> None:
    services.import_parse(batch_id=batch_id)  # returns quietly if already read or gone


@shared_task(acks_late=True)
def run_import(batch_id: int) -> None:
    services.import_run(batch_id=batch_id)  # returns quietly if already done or gone


@shared_task(acks_late=True)
def cleanup_imports() -> dict[str, int]:
    return services.import_cleanup(now=timezone.now())
