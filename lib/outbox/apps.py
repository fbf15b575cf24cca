from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The outbox is an app only because it has a model; it stands below every domain app."""

    name = "lib.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from anymail.signals import tracking

        from .webhooks import record_tracking

        # An email service's reports arrive through anymail's signal: its plugin boundary.
        tracking.connect(record_tracking, dispatch_uid="lib.outbox.record_tracking")
