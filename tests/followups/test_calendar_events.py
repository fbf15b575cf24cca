"""The calendar feed keeps each event's text: the first poll after a change builds only what changed."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from followups import calendar as calendar_module
from followups import services
from followups.models import CalendarFeed, FollowUp
from lib import freshness
from tests.stories import accepted
from workflows import intros as actions

pytestmark = pytest.mark.django_db


def _followups(seeker, n: int) -> list[FollowUp]:
    now = timezone.now()
    return [
        FollowUp.objects.create(
            owner=seeker,
            kind=FollowUp.Kind.THANK_CONNECTOR,
            counterpart=f"Person {i}",
            due_at=now + dt.timedelta(days=i + 1),
        )
        for i in range(n)
    ]


def _events(body: bytes) -> dict[str, dict[str, str]]:
    """The feed's events by UID, each property as text (DTSTAMP left out)."""
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): {k: e[k].to_ical().decode() for k in e if k != "DTSTAMP"} for e in cal.walk("VEVENT")}


def test_the_first_poll_after_a_change_builds_only_the_changed_event(client, seeker):
    followups = _followups(seeker, 5)
    url = reverse("followups:calendar", args=[CalendarFeed.objects.create(user=seeker).token])
    with mock.patch.object(calendar_module, "Event", wraps=calendar_module.Event) as built:
        first = client.get(url).content
        assert built.call_count == 5
        built.reset_mock()

        services.followup_snooze(followup=followups[2], days=3, now=timezone.now())
        moved = client.get(url).content
        assert built.call_count == 1  # the snoozed one; the four others are the kept text

        freshness.users_changed(seeker.pk)  # a change elsewhere: nothing to build again
        built.reset_mock()
        assert client.get(url).content == moved
        assert built.call_count == 0
    before, after = _events(first), _events(moved)
    uid = next(uid for uid in before if uid.startswith(f"followup-{followups[2].pk}@"))
    assert after[uid]["DTSTART"] == followups[2].__class__.objects.get(pk=followups[2].pk).due_at.strftime(
        "%Y%m%dT%H%M%SZ"
    )
    assert {k: v for k, v in after.items() if k != uid} == {k: v for k, v in before.items() if k != uid}


def test_a_feed_of_kept_events_is_the_feed_icalendar_builds(client, seeker, connector, target):
    intro = accepted(seeker=seeker, connector=connector, target=target)
    actions.do_record_meeting(intro=intro, seeker=seeker, met_on=timezone.localdate())
    _followups(seeker, 3)
    now = timezone.now().replace(second=0, microsecond=0)
    fresh = calendar_module.calendar_for(seeker, now=now)
    kept = calendar_module.calendar_for(seeker, now=now)  # every event from the cache this time
    assert kept == fresh
    # The same text as icalendar's own calendar of the same events: a parse and a rewrite change nothing.
    assert Calendar.from_ical(kept).to_ical() == kept
    events = _events(kept)
    assert len(events) >= 4 and f"meeting-{intro.pk}@" in " ".join(events)
    assert all(e["SUMMARY"] for e in events.values())


def test_the_feed_is_built_when_the_cache_is_away(seeker):
    _followups(seeker, 2)
    now = timezone.now().replace(second=0, microsecond=0)
    with (
        mock.patch.object(calendar_module.cache, "get_many", side_effect=ConnectionError("away")),
        mock.patch.object(calendar_module.cache, "set_many", side_effect=ConnectionError("away")),
    ):
        body = calendar_module.calendar_for(seeker, now=now)
    assert len(_events(body)) == 2
