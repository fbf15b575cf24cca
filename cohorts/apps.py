from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        from . import (
            snapshots,
            summary,  # noqa: F401  (schedules the weekly summary per coach)
        )

        snapshots.connect()  # kept dashboard numbers are dropped when what they count changes
