"""The dashboard's numbers are kept for the minute, and dropped the moment what they count changes."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts.models import Membership
from followups.models import FollowUp
from tests.factories import CohortFactory, MembershipFactory, UserFactory
from tests.stories import dashboard_cells

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 31, 12, 0, 20, tzinfo=dt.UTC)


@pytest.fixture
def world():
    cohort = CohortFactory()
    janet, max_ = UserFactory(full_name="Janet Okafor"), UserFactory(full_name="Max Member")
    for user in (janet, max_):
        MembershipFactory(cohort=cohort, user=user, joined_at=NOW - dt.timedelta(days=3))
    overdue = FollowUp.objects.create(
        owner=janet, kind=FollowUp.Kind.THANK_CONNECTOR, counterpart="Jill", due_at=NOW - dt.timedelta(days=1)
    )
    return cohort, janet, max_, overdue


def _view(client, cohort, at=NOW):
    client.force_login(cohort.coach)
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    return html, len(queries)


def test_within_the_minute_the_numbers_are_kept_and_the_same(client, world):
    cohort, janet, _, _ = world
    first, computed = _view(client, cohort)
    again, kept = _view(client, cohort, NOW + dt.timedelta(seconds=30))
    assert kept < computed  # no funnel, no member rows: the kept copy
    assert (
        dashboard_cells(again, janet.pk) == dashboard_cells(first, janet.pk)
        and dashboard_cells(first, janet.pk)["overdue"] == "1"
    )


def test_a_members_write_drops_the_kept_numbers_at_once(client, world):
    cohort, janet, max_, overdue = world
    _view(client, cohort)
    overdue.mark_done(when=NOW)
    html, _ = _view(client, cohort, NOW + dt.timedelta(seconds=5))
    assert dashboard_cells(html, janet.pk)["overdue"] == "0"
    Membership.objects.filter(cohort=cohort, user=max_).delete()
    html, _ = _view(client, cohort, NOW + dt.timedelta(seconds=10))
    assert f'id="member-{max_.pk}"' not in html and 'Members <span class="muted">(1)</span>' in html


def test_the_next_minute_computes_again(client, world):
    cohort, janet, _, overdue = world
    _, computed = _view(client, cohort)
    # A change nobody announced (a raw update) shows up by the next minute at the latest.
    FollowUp.objects.filter(pk=overdue.pk).update(status=FollowUp.Status.DONE)
    html, queries = _view(client, cohort, NOW + dt.timedelta(minutes=1))
    assert queries == computed and dashboard_cells(html, janet.pk)["overdue"] == "0"


def test_without_a_cache_the_page_still_works(client, world, monkeypatch):
    cohort, janet, _, _ = world

    def unreachable(*args, **kwargs):
        raise ConnectionError("the cache is down")

    for name in ("get_many", "get", "set", "incr"):
        monkeypatch.setattr(cache, name, unreachable)
    html, _ = _view(client, cohort)
    assert dashboard_cells(html, janet.pk)["overdue"] == "1"
    FollowUp.objects.filter(owner=janet).get().mark_done(when=NOW)  # a write still works, too
