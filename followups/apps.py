from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (cache invalidation; a user's daily digest follows their hour)
