"""The follow-ups part of "Download all my data" and "Delete my account"
(accounts.personal_data)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, Value
from django.db.models.functions import Replace

from accounts.models import FORMER_MEMBER
from accounts.personal_data import CHUNK, Part

from .models import CalendarFeed, DigestSchedule, FollowUp, Offer, Outreach, ReminderLog


def _followup(f: FollowUp) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "what": f.get_kind_display(),
        "with": f.counterpart,
        "due_at": f.due_at,
        "status": f.status,
        "notes": f.notes,
        "done_at": f.done_at,
        "created_at": f.created_at,
        "intro_request_id": f.intro_id,
        "offer_id": f.offer_id,
    }


def _outreach(o: Outreach) -> dict[str, Any]:
    return {
        "intro_request_id": o.intro_id,
        "contact": o.contact.name,
        "at": o.at,
        "channel": o.channel,
        "note": o.note,
        "outside_their_window": o.is_breach,
        "why": [reason.get("message", "") for reason in o.breach_reasons if isinstance(reason, dict)],
        "created_at": o.created_at,
    }


def _offer(o: Offer) -> dict[str, Any]:
    return {
        "id": o.pk,
        "offered_by": o.offered_by_name,
        "contact_name": o.contact_name,
        "contact_organisation": o.contact_organisation,
        "contact_title": o.contact_title,
        "note": o.note,
        "status": o.status,
        "intro_request_id": o.intro_id,
        "nudges_sent": o.nudges_sent,
        "created_at": o.created_at,
        "acted_at": o.acted_at,
    }


def export(user) -> dict[str, Any]:
    feed = CalendarFeed.objects.filter(user=user).first()
    followups = FollowUp.objects.owned_by(user).order_by("due_at", "pk")
    outreach = Outreach.objects.filter(seeker=user).select_related("contact").order_by("at", "pk")
    offers = Offer.objects.of_seeker(user).order_by("created_at", "pk")
    reminders = ReminderLog.objects.filter(recipient__iexact=user.email).order_by("sent_at", "pk")
    return {
        "followups": (_followup(f) for f in followups.iterator(chunk_size=CHUNK)),
        "outreach": (_outreach(o) for o in outreach.iterator(chunk_size=CHUNK)),
        "offers": (_offer(o) for o in offers.iterator(chunk_size=CHUNK)),
        "reminders_sent_to_you": (
            {"kind": r.kind, "what": r.get_kind_display(), "number": r.sequence, "sent_at": r.sent_at}
            for r in reminders.iterator(chunk_size=CHUNK)
        ),
        # The feed's address is a secret that works like a password: only whether there is one.
        "calendar_feed": {"created_at": feed.created_at} if feed else None,
    }


def erase(user) -> None:
    FollowUp.objects.owned_by(user).open().delete()
    FollowUp.objects.owned_by(user).exclude(notes="").update(notes="")  # the done ones stay, as history
    # Nobody to check in with, to thank or to rate: what others had open about them is skipped.
    about_them = Q(intro__seeker=user) | Q(intro__connector=user, kind=FollowUp.Kind.THANK_CONNECTOR)
    FollowUp.objects.open().filter(about_them).update(status=FollowUp.Status.SKIPPED, next_action_at=None)
    if user.full_name:
        named = Q(intro__seeker=user) | Q(intro__connector=user) | Q(offer__offered_by=user)
        FollowUp.objects.filter(named).exclude(owner=user).update(
            counterpart=Replace("counterpart", Value(user.full_name), Value(FORMER_MEMBER))
        )
    Outreach.objects.filter(seeker=user).delete()
    Offer.objects.of_seeker(user).delete()
    Offer.objects.filter(offered_by=user).update(offered_by=None, offered_by_name=FORMER_MEMBER)
    DigestSchedule.objects.filter(user=user).delete()
    CalendarFeed.objects.filter(user=user).delete()
    # The once-only keys stay (nothing may be sent twice); the address goes.
    ReminderLog.objects.filter(recipient__iexact=user.email).update(recipient="")


PART = Part(app="followups", export=export, erase=erase)
