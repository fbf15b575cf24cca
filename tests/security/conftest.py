import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, data_export_dir):
    """One world per test module, built once inside a transaction that is rolled back at the end.
    Each test's own `django_db` transaction nests inside it, so a test's writes vanish after it.
    Its prepared download is written where the tests' own are (tests/conftest.py)."""
    from django.conf import settings
    from django.test import override_settings

    from tests.conftest import storages_with_data_exports_in

    from .world import build_world

    with django_db_blocker.unblock(), override_settings(STORAGES=storages_with_data_exports_in(data_export_dir)):
        hashers = settings.PASSWORD_HASHERS
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        from config.celery import app

        app.conf.task_always_eager = True
        try:
            with transaction.atomic():
                built = build_world()
                yield built
                transaction.set_rollback(True)
        finally:
            settings.PASSWORD_HASHERS = hashers
