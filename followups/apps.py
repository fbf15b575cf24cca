from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to intro transitions)
