from django.apps import AppConfig


class IntrosConfig(AppConfig):
    name = "intros"

    def ready(self) -> None:
        from accounts import personal_data

        from .personal_data import PART

        personal_data.register(PART)
