from celery import shared_task
from django.utils import timezone

from workflows.personal_data import do_build_data_export

from . import data_exports


@shared_task(acks_late=True)
def build_data_export(export_id: int) -> None:
    do_build_data_export(export_id=export_id)  # returns quietly if already built or gone


@shared_task(acks_late=True)
def sweep_data_exports() -> dict[str, int]:
    return data_exports.data_export_sweep(now=timezone.now())
