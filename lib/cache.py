"""Redis as Django's cache, where Redis being away means a cache that knows nothing.

Everything the cache holds can be lost (import progress, rate-limit counters), so a page
must not fail because Redis is down or restarting: reads find nothing, writes are dropped,
`incr` says the key does not exist (Django's contract: ValueError), and each failure is
logged. Only "cannot reach the server" is forgiven; any other Redis error still raises.
Tested with the real server stopped in tests/faults/test_redis_down.py.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _forgiving(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            log.warning("Cache %s skipped: Redis is unreachable (%s)", name, exc)
            return fallback(*args, **kwargs)

    return wrapper


def _missing(key, *args, **kwargs):
    raise ValueError(f"Key {key!r} not found: the cache is unreachable")


class ForgivingRedisCache(RedisCache):
    add = _forgiving("add", lambda *a, **k: False)
    get = _forgiving("get", lambda key, default=None, *a, **k: default)
    set = _forgiving("set", lambda *a, **k: None)
    touch = _forgiving("touch", lambda *a, **k: False)
    delete = _forgiving("delete", lambda *a, **k: False)
    get_many = _forgiving("get_many", lambda *a, **k: {})
    has_key = _forgiving("has_key", lambda *a, **k: False)
    incr = _forgiving("incr", _missing)
    set_many = _forgiving("set_many", lambda data, *a, **k: list(data))  # the keys that were not set
    delete_many = _forgiving("delete_many", lambda *a, **k: None)
    clear = _forgiving("clear", lambda *a, **k: False)
