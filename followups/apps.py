from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"

    def ready(self) -> None:
        from accounts import personal_data
        from intros import track_record
        from lib.outbox.services import register_context_builder

        from . import receivers  # noqa: F401  (connects to intro transitions)
        from .personal_data import PART
        from .sweep import reminder_context
        from .track_record import followup_lines

        track_record.register(followup_lines)
        register_context_builder("followup_reminder", reminder_context)
        personal_data.register(PART)
