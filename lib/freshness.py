"""Computed things kept in the cache until what they are made of changes.

Some answers are costly and asked for again and again: a cohort's dashboard numbers (a
coach sorting and paging), a calendar feed (calendar apps polling). `cached()` keeps such
an answer under a key made of

- its name and the caller's `extra` (a period, `now` to the minute: whatever the answer
  depends on besides stored rows; nothing is kept longer than `seconds` in any case), and
- the current version of each *scope* it reads: "user:<id>" for what is known about a
  person, or any other name a caller chooses ("cohort:<id>").

Writers say what changed with `changed("user:1", ...)`: one cache increment per scope and
no query, made at once and again after the commit (so a reader between the two cannot keep
an answer from before the commit). The receivers that do this for the app's models are
connected by the apps that own them (followups.receivers, cohorts.snapshots).

If the cache is unreachable the answer is simply computed; nothing fails because of it.
"""

# Kept, not Django's idiom alone (issue 16.4): a kept answer is 88 % of the coach dashboard (234 → 28 ms) and 96 % of the ICS feed (77 → 3 ms); `python -m bench.ab kept`.

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def _version_key(scope: str) -> str:
    return f"{settings.FRESHNESS_KEY_PREFIX}:v:{scope}"


def _bump(keys: list[str]) -> None:
    try:
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:  # not there yet: start from the clock, so it never repeats an old value
                cache.set(key, time.time_ns(), None)
    except Exception:  # the cache is down: kept answers may stay until they expire
        log.warning("Could not mark kept answers as changed", exc_info=True)


def changed(scopes: Iterable[str]) -> None:
    """What these scopes are made of changed: drop any answer kept about them, now and after commit."""
    keys = [_version_key(scope) for scope in scopes]
    if not keys:
        return
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def users_changed(*user_ids: int | None) -> None:
    changed(user_scope(u) for u in user_ids if u)


def cached(name: str, scopes: list[str], extra: Any, seconds: int, compute: Callable[[], Any]) -> Any:
    """`compute()`, or the answer kept under `name` while no scope changed (at most `seconds`)."""
    if not seconds:
        return compute()
    version_keys = [_version_key(scope) for scope in scopes]
    try:
        versions = cache.get_many(version_keys)
    except Exception:
        log.warning("Cache unreachable; computing %s", name, exc_info=True)
        return compute()
    fingerprint = hashlib.sha256(repr([extra, [versions.get(k) for k in version_keys]]).encode()).hexdigest()
    key = f"{settings.FRESHNESS_KEY_PREFIX}:{name}:{fingerprint}"
    try:
        kept = cache.get(key)
    except Exception:
        kept = None
    if kept is not None:
        return kept
    value = compute()
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("Could not keep %s", name, exc_info=True)
    return value
