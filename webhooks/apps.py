from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from accounts import personal_data

        from . import receivers  # noqa: F401  (hears transitions, due follow-ups, breaches, stale offers)
        from .personal_data import PART

        personal_data.register(PART)
