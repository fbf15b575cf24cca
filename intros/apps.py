from django.apps import AppConfig


class IntrosConfig(AppConfig):
    name = "intros"

    def ready(self) -> None:
        from accounts import personal_data
        from lib.outbox.services import register_context_builder

        from .personal_data import PART
        from .services import undelivered_ask_context, undelivered_introduction_context

        personal_data.register(PART)
        register_context_builder("target_ask_undelivered", undelivered_ask_context)
        register_context_builder("introduction_undelivered", undelivered_introduction_context)
