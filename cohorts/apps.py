from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        from . import summary  # noqa: F401  (registers the weekly summary and schedules it per coach)
