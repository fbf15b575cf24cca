from celery import shared_task
from django.utils import timezone

from . import data_exports


@shared_task(acks_late=True)
def build_data_export(export_id: int) -> None:
    data_exports.data_export_build(export_id=export_id)  # returns quietly if already built or gone


@shared_task(acks_late=True)
def sweep_data_exports() -> dict[str, int]:
    return data_exports.data_export_sweep(now=timezone.now())
