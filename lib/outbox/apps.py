from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The outbox is an app only because it has a model; it stands below every domain app."""

    name = "lib.outbox"
    label = "outbox"
    verbose_name = "Outbox"
