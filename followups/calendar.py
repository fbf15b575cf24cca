"""The per-user calendar feed (ICS) of open follow-ups and meetings, built with icalendar."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from icalendar import Calendar, Event

from intros.models import IntroRequest

from .models import FollowUp


def calendar_for(user, *, now: dt.datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Warm Intros//Follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Warm Intros")
    host = settings.SITE_URL.split("//", 1)[-1]
    followups = FollowUp.objects.owned_by(user).open().select_related("intro__target").order_by("due_at")[:500]
    for followup in followups:
        event = Event()
        event.add("uid", f"followup-{followup.pk}@{host}")
        event.add("summary", f"{followup.get_kind_display()} — {followup.counterpart}")
        event.add("dtstart", followup.due_at)
        event.add("dtend", followup.due_at + dt.timedelta(minutes=15))
        event.add("dtstamp", now)
        if followup.intro_id:
            event.add("url", settings.SITE_URL + followup.intro.get_absolute_url())
        cal.add_component(event)
    meetings = (
        IntroRequest.objects.visible_to(user)
        .filter(met_on__isnull=False)
        .select_related("seeker", "target")
        .order_by("-met_on")[:200]
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
