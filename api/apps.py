from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API (django-ninja) over every app: the top of the layering, imported by none."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "JSON API"
