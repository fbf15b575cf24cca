"""The coach dashboard's numbers, kept for a minute and dropped the moment they change.

At full scale one cohort's numbers cost a few hundred milliseconds of PostgreSQL
(bench/README.md): thirteen correlated counts for each of 200 members over half a million
events. A coach sorting, paging and drilling down asks for the same numbers again and
again, so `cohort_dashboard` keeps them in the cache under a key made of

- the cohort, the period and `now` to the minute (the numbers are "as of" that minute:
  overdue, inactive and stuck change with time alone, so nothing is kept longer than
  DASHBOARD_CACHE_SECONDS), and
- a version per member and one per cohort (lib.freshness), bumped whenever something
  a number is made of is written: an intro event (its seeker, connector and actor), a
  request, a follow-up (its owner), an outreach or an offer (its seeker) — see
  followups.receivers — and a membership (its member and its cohort, below).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from lib import freshness


def cohort_scope(cohort_id: int) -> str:
    return f"cohort:{cohort_id}"


def cached(cohort_id: int, member_ids: list[int], period: tuple, now: dt.datetime, compute: Callable):
    """`compute()`, or the copy kept for this cohort, period and minute while nothing changed."""
    scopes = [cohort_scope(cohort_id)] + [freshness.user_scope(u) for u in sorted(member_ids)]
    return freshness.cached(
        f"dashboard:{cohort_id}", scopes, [period, f"{now:%Y-%m-%dT%H:%M}"], settings.DASHBOARD_CACHE_SECONDS, compute
    )


# --- what changes the numbers ------------------------------------------------------------------
# Intro events, requests, follow-ups, outreach and offers mark their people as changed in
# followups.receivers (for the calendar feed too); a membership changes its cohort here.


def _on_membership(sender, instance, **kwargs) -> None:
    freshness.changed([freshness.user_scope(instance.user_id), cohort_scope(instance.cohort_id)])


def connect() -> None:
    from .models import Membership

    post_save.connect(_on_membership, sender=Membership, dispatch_uid="dashboard-membership")
    post_delete.connect(_on_membership, sender=Membership, dispatch_uid="dashboard-membership-gone")
