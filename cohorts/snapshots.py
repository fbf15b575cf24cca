"""The coach dashboard's numbers, kept for a minute and dropped the moment they change.

At full scale one cohort's numbers cost a few hundred milliseconds of PostgreSQL
(bench/README.md): thirteen correlated counts for each of 200 members over half a million
events. A coach sorting, paging and drilling down asks for the same numbers again and
again, so `cohort_dashboard` keeps them in the cache under a key made of

- the cohort, the period and `now` to the minute (the numbers are "as of" that minute:
  overdue, inactive and stuck change with time alone, so nothing is kept longer than
  DASHBOARD_CACHE_SECONDS), and
- a version per member and one per cohort, bumped by the receivers below whenever
  something a number is made of is written: an intro event (its seeker and its actor), a
  follow-up (its owner), an outreach or an offer (its seeker), a membership (its cohort).

A bump is one cache increment and no query, made at once and again after the commit
(so a reader between the two cannot keep numbers from before the commit). If the cache
is unreachable, the numbers are simply computed; nothing fails because of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

log = logging.getLogger(__name__)


def _prefix() -> str:
    return settings.DASHBOARD_CACHE_KEY_PREFIX


def _user_key(user_id: int) -> str:
    return f"{_prefix()}:user:{user_id}"


def _cohort_key(cohort_id: int) -> str:
    return f"{_prefix()}:cohort:{cohort_id}"


def _bump(keys: list[str]) -> None:
    try:
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:  # not there yet: start from the clock, so it never repeats an old value
                cache.set(key, time.time_ns(), None)
    except Exception:  # the cache is down: numbers may stay up to a minute old
        log.warning("Could not mark dashboard numbers as changed", exc_info=True)


def changed(*, user_ids: Iterable[int | None] = (), cohort_ids: Iterable[int | None] = ()) -> None:
    """Numbers about these members or cohorts changed: drop any kept copy, now and after commit."""
    keys = [_user_key(u) for u in user_ids if u] + [_cohort_key(c) for c in cohort_ids if c]
    if not keys or not settings.DASHBOARD_CACHE_SECONDS:
        return
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def cached(cohort_id: int, member_ids: list[int], period: tuple, now: dt.datetime, compute: Callable):
    """`compute()`, or the copy kept for this cohort, period and minute while nothing changed."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return compute()
    version_keys = [_cohort_key(cohort_id)] + [_user_key(u) for u in sorted(member_ids)]
    try:
        versions = cache.get_many(version_keys)
    except Exception:
        log.warning("Dashboard cache unreachable; computing the numbers", exc_info=True)
        return compute()
    fingerprint = hashlib.sha256(
        repr([period, f"{now:%Y-%m-%dT%H:%M}", [(k, versions.get(k)) for k in version_keys]]).encode()
    ).hexdigest()
    key = f"{_prefix()}:numbers:{cohort_id}:{fingerprint}"
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
        log.warning("Could not keep the dashboard numbers", exc_info=True)
    return value


# --- what changes the numbers ------------------------------------------------------------------


def _on_intro_event(sender, instance, **kwargs) -> None:
    # The transition's follow-ups (written in bulk) belong to the seeker or the connector.
    intro = instance.intro
    changed(user_ids=[intro.seeker_id, intro.connector_id, instance.actor_id])


def _on_owned(field: str) -> Callable:
    def receiver(sender, instance, **kwargs) -> None:
        changed(user_ids=[getattr(instance, field)])

    return receiver


def _on_membership(sender, instance, **kwargs) -> None:
    changed(user_ids=[instance.user_id], cohort_ids=[instance.cohort_id])


def connect() -> None:
    from followups.models import FollowUp, Offer, Outreach
    from intros.models import IntroEvent, IntroRequest

    from .models import Membership

    post_save.connect(_on_intro_event, sender=IntroEvent, dispatch_uid="dashboard-intro-event")
    # A request's outcome is written with its event; its other fields (status) too, but an edit
    # of a request without an event (a draft) is not in any number.
    post_save.connect(_on_owned("seeker_id"), sender=IntroRequest, dispatch_uid="dashboard-intro", weak=False)
    post_delete.connect(_on_owned("seeker_id"), sender=IntroRequest, dispatch_uid="dashboard-intro-gone", weak=False)
    for model, field in ((FollowUp, "owner_id"), (Outreach, "seeker_id"), (Offer, "seeker_id")):
        receiver = _on_owned(field)
        post_save.connect(receiver, sender=model, dispatch_uid=f"dashboard-{model.__name__}", weak=False)
        post_delete.connect(receiver, sender=model, dispatch_uid=f"dashboard-{model.__name__}-gone", weak=False)
    post_save.connect(_on_membership, sender=Membership, dispatch_uid="dashboard-membership")
    post_delete.connect(_on_membership, sender=Membership, dispatch_uid="dashboard-membership-gone")
