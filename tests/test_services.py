"""The real services are reachable when CI says they are configured.

These fail (never skip) when DATABASE_URL or REDIS_URL is set but unreachable."""

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_database_is_the_configured_engine():
    url = os.environ.get("DATABASE_URL", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_redis_answers_when_configured(settings):
    if not settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL == "filesystem://"
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3)
    assert client.ping() is True
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
