"""A Redis cache that cannot be reached knows nothing and keeps nothing, and nothing that uses
it fails (django-redis's IGNORE_EXCEPTIONS, config.settings.redis_cache). The whole site with
the real server stopped is tests/faults/test_redis_down.py."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from config.settings import redis_cache
from lib import freshness
from lib.ratelimit import LOGIN_CLIENT
from loadtest.stack import free_port


@pytest.fixture
def unreachable(settings):
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}  # nothing listens there
    return cache


def test_an_unreachable_cache_reads_nothing_and_drops_writes(unreachable):
    assert unreachable.get("progress", 7) == 7
    assert not unreachable.add("counter", 0)
    unreachable.set("counter", 1)
    assert unreachable.get_many(["counter"]) == {}
    assert not unreachable.has_key("counter")
    assert unreachable.incr("counter") is None
    assert not unreachable.delete("counter")


def test_an_unreachable_cache_refuses_no_attempt_and_computes_every_answer(unreachable, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_client": (1, 900)}
    assert LOGIN_CLIENT.hit("device-1") is None
    assert LOGIN_CLIENT.hit("device-1") is None  # over the limit of one, but nothing was counted
    assert LOGIN_CLIENT.count("device-1") == 0

    answers = iter([1, 2])
    assert freshness.cached("answer", ["user:1"], None, 60, lambda: next(answers)) == 1
    assert freshness.cached("answer", ["user:1"], None, 60, lambda: next(answers)) == 2


def test_a_reachable_cache_counts_and_keeps(settings):
    if settings.REDIS_URL:  # the suite's Redis, as production configures it
        settings.CACHES = {"default": redis_cache(settings.REDIS_URL)}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_client": (1, 900)}
    assert LOGIN_CLIENT.hit("device-2") is None
    assert LOGIN_CLIENT.hit("device-2") is not None
    answers = iter([1, 2])
    assert freshness.cached("answer", ["user:2"], None, 60, lambda: next(answers)) == 1
    assert freshness.cached("answer", ["user:2"], None, 60, lambda: next(answers)) == 1
