from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"

    def ready(self) -> None:
        from intros import track_record

        from . import receivers  # noqa: F401  (connects to intro transitions)
        from .track_record import followup_lines

        track_record.register(followup_lines)
