"""The per-user calendar feed (ICS) of open follow-ups and meetings, built with icalendar.

Calendar apps poll it every few minutes, so it holds what a calendar is for: open
follow-ups due from FOLLOWUPS_SINCE ago on (older overdue ones are on the follow-ups
page) and meetings of the last MEETINGS_SINCE, each list capped. Building a full feed
costs about 100 ms at the benchmark's scale (icalendar folds every line in Python), so
`feed_for` keeps it for the minute until the person's follow-ups or meetings change.

After a change only the events that changed are built again: each event's ICS text is kept
in the cache under a key made of everything it shows (`_kept_events`), so the first poll after
a change reads the rest with one `get_many` (bench: issue 17, "calendar feed, built"). A kept
event carries the DTSTAMP of when that text was first built, which is when its information
was last revised (RFC 5545 §3.8.7.2, for a calendar without METHOD).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from icalendar import Calendar, Event

from intros.models import IntroRequest
from lib import freshness

from .models import FollowUp

FOLLOWUPS_SINCE = dt.timedelta(days=30)
MEETINGS_SINCE = dt.timedelta(days=365)
MAX_FOLLOWUPS = 300
MAX_MEETINGS = 100
# How long one event's text is kept. Its key is what it shows, so a change is a new key, never a
# stale answer; this only bounds what a follow-up that no longer changes leaves behind.
EVENT_KEPT_SECONDS = 7 * 24 * 3600
EVENT_KEY_VERSION = 1  # bump when the text of an event changes for the same inputs

log = logging.getLogger(__name__)


def feed_for(user, *, now: dt.datetime) -> bytes:
    """The feed as of this minute, kept until the person's follow-ups or meetings change."""
    return freshness.cached(
        f"calendar:{user.pk}",
        [freshness.user_scope(user.pk)],
        f"{now:%Y-%m-%dT%H:%M}",
        settings.CALENDAR_CACHE_SECONDS,
        lambda: calendar_for(user, now=now.replace(second=0, microsecond=0)),
    )


def _kept_events(items: list[tuple[tuple, Callable[[], Event]]]) -> list[bytes]:
    """Each item's VEVENT text, in order: the kept one when there is one, otherwise built
    (and kept). An item is (everything the event shows, a function that builds it)."""
    keys = [
        f"{settings.FRESHNESS_KEY_PREFIX}:ics:{EVENT_KEY_VERSION}:"
        + hashlib.sha256(repr((settings.SITE_URL, shows)).encode()).hexdigest()
        for shows, _ in items
    ]
    try:
        kept = cache.get_many(keys)
    except Exception:  # the cache is away: build them all
        log.warning("Cache unreachable; building every calendar event", exc_info=True)
        kept = {}
    built = {}
    events = []
    for key, (_, build) in zip(keys, items, strict=True):
        text = kept.get(key)
        if text is None:
            text = built[key] = build().to_ical()
        events.append(text)
    if built:
        try:
            cache.set_many(built, EVENT_KEPT_SECONDS)
        except Exception:
            log.warning("Could not keep calendar events", exc_info=True)
    return events


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

    def followup_event(followup: FollowUp) -> Callable[[], Event]:
        def build() -> Event:
            event = Event()
            event.add("uid", f"followup-{followup.pk}@{host}")
            event.add("summary", f"{followup.get_kind_display()} — {followup.counterpart}")
            event.add("dtstart", followup.due_at)
            event.add("dtend", followup.due_at + dt.timedelta(minutes=15))
            event.add("dtstamp", now)
            if followup.intro_id:
                event.add("url", settings.SITE_URL + reverse("intros:detail", args=[followup.intro_id]))
            return event

        return build

    meetings = (
        IntroRequest.objects.visible_to(user)
        .filter(met_on__gte=(now - MEETINGS_SINCE).date())
        .select_related("seeker", "target")
        .only("pk", "met_on", "seeker__full_name", "target__name")
        .order_by("-met_on")[:MAX_MEETINGS]
    )

    def meeting_event(intro: IntroRequest) -> Callable[[], Event]:
        def build() -> Event:
            event = Event()
            event.add("uid", f"meeting-{intro.pk}@{host}")
            event.add("summary", f"Met: {intro.seeker.full_name} and {intro.target.name}")
            event.add("dtstart", intro.met_on)
            event.add("dtstamp", now)
            event.add("url", settings.SITE_URL + intro.get_absolute_url())
            return event

        return build

    items = [
        (("followup", f.pk, f.kind, f.counterpart, f.due_at.isoformat(), f.intro_id), followup_event(f))
        for f in followups
    ]
    items += [
        (("meeting", i.pk, i.met_on.isoformat(), i.seeker.full_name, i.target.name), meeting_event(i)) for i in meetings
    ]
    # The calendar's own lines from icalendar, the events (each its own VEVENT text) before its end.
    end = b"END:VCALENDAR\r\n"
    return cal.to_ical().removesuffix(end) + b"".join(_kept_events(items)) + end
