"""The per-user calendar feed (ICS) of open follow-ups and meetings, built with icalendar.

Calendar apps poll it every few minutes, so it holds what a calendar is for: open
follow-ups due from FOLLOWUPS_SINCE ago on (older overdue ones are on the follow-ups
page) and meetings of the last MEETINGS_SINCE, each list capped. Building a full feed
costs about 100 ms at the benchmark's scale (icalendar folds every line in Python), so
`feed_for` keeps it for the minute until the person's follow-ups or meetings change.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from intros.models import IntroRequest
from lib import freshness

from .models import FollowUp

FOLLOWUPS_SINCE = dt.timedelta(days=30)
MEETINGS_SINCE = dt.timedelta(days=365)
MAX_FOLLOWUPS = 300
MAX_MEETINGS = 100


def feed_for(user, *, now: dt.datetime) -> bytes:
    """The feed as of this minute, kept until the person's follow-ups or meetings change."""
    return freshness.cached(
        f"calendar:{user.pk}",
        [freshness.user_scope(user.pk)],
        f"{now:%Y-%m-%dT%H:%M}",
        settings.CALENDAR_CACHE_SECONDS,
        lambda: calendar_for(user, now=now.replace(second=0, microsecond=0)),
    )


def calendar_for(user, *, now: dt.datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Warm Intros//Follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Warm Intros")
    host = settings.SITE_URL.split("//", 1)[-1]
    followups = (
        FollowUp.objects.owned_by(user)
        .open()
        .filter(due_at__gte=now - FOLLOWUPS_SINCE)
        .only("pk", "kind", "counterpart", "due_at", "intro_id")
        .order_by("due_at")[:MAX_FOLLOWUPS]
    )
    for followup in followups:
        event = Event()
        event.add("uid", f"followup-{followup.pk}@{host}")
        event.add("summary", f"{followup.get_kind_display()} — {followup.counterpart}")
        event.add("dtstart", followup.due_at)
        event.add("dtend", followup.due_at + dt.timedelta(minutes=15))
        event.add("dtstamp", now)
        if followup.intro_id:
            event.add("url", settings.SITE_URL + reverse("intros:detail", args=[followup.intro_id]))
        cal.add_component(event)
    meetings = (
        IntroRequest.objects.visible_to(user)
        .filter(met_on__gte=(now - MEETINGS_SINCE).date())
        .select_related("seeker", "target")
        .only("pk", "met_on", "seeker__full_name", "target__name")
        .order_by("-met_on")[:MAX_MEETINGS]
    )
    for intro in meetings:
        event = Event()
        event.add("uid", f"meeting-{intro.pk}@{host}")
        event.add("summary", f"Met: {intro.seeker.full_name} and {intro.target.name}")
        event.add("dtstart", intro.met_on)
        event.add("dtstamp", now)
        event.add("url", settings.SITE_URL + intro.get_absolute_url())
        cal.add_component(event)
    return cal.to_ical()
