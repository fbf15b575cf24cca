from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        from accounts import personal_data

        from . import (
            snapshots,
            summary,  # noqa: F401  (registers the weekly summary and schedules it per coach)
        )
        from .personal_data import PART

        personal_data.register(PART)
        snapshots.connect()  # kept dashboard numbers are dropped when what they count changes
