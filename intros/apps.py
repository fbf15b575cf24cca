from django.apps import AppConfig


class IntrosConfig(AppConfig):
    name = "intros"
