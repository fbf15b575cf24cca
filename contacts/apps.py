from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from accounts import personal_data

        from .personal_data import PART

        personal_data.register(PART)
