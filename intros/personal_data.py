"""The introductions part of "Download all my data" and "Delete my account"
(listed in workflows.personal_data, which closes what is still open before `erase`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from accounts.models import FORMER_MEMBER
from accounts.personal_data import CHUNK
from contacts.models import Contact

from .models import REVIEWED_FIELDS, IntroEvent, IntroRequest
from .states import TARGET_DETAILS_VISIBLE, Actor


def _who(event: IntroEvent, intro: IntroRequest) -> str:
    if event.actor_role == Actor.TARGET:
        return intro.target.name
    if event.actor_role == Actor.SYSTEM:
        return "Warm Intros"
    return str(event.actor) if event.actor else FORMER_MEMBER


def _events(intro: IntroRequest) -> list[dict[str, Any]]:
    """The timeline both people see on the request's page."""
    return [
        {
            "at": e.created_at,
            "by": _who(e, intro),
            "role": e.actor_role,
            "transition": e.transition,
            "from": e.from_status,
            "to": e.to_status,
            "note": e.note,
        }
        for e in intro.events.all()
    ]


def _common(intro: IntroRequest) -> dict[str, Any]:
    return {
        "id": intro.pk,
        "status": intro.status,
        "status_label": intro.get_status_display(),
        "mode": intro.mode,
        "preparation": {name: getattr(intro, name) for name in REVIEWED_FIELDS},
        "vouch_strength": intro.vouch_strength,
        "vouch_note": intro.vouch_note,
        "connector_message": intro.connector_message,
        "target_writes_first": intro.target_writes_first,
        "deferred_until": intro.deferred_until,
        "met_on": intro.met_on,
        "outcome": intro.outcome,
        "outcome_note": intro.outcome_note,
        "parent_id": intro.parent_id,
        "created_at": intro.created_at,
        "submitted_at": intro.submitted_at,
        "updated_at": intro.updated_at,
        "events": _events(intro),
    }


def _as_seeker(intro: IntroRequest) -> dict[str, Any]:
    target = intro.target
    return {
        **_common(intro),
        "connector": intro.connector.full_name,
        # The target's email is the seeker's only once the target accepted; their notes never.
        "target": {
            "name": target.name,
            "organisation": target.organisation,
            "title": target.title,
            "email": target.email if intro.target_details_visible_to_seeker else None,
        },
    }


def _as_connector(intro: IntroRequest) -> dict[str, Any]:
    target = intro.target
    return {
        **_common(intro),
        "seeker": intro.seeker.full_name,
        "target": {
            "contact_id": target.pk,
            "name": target.name,
            "organisation": target.organisation,
            "title": target.title,
            "email": target.email,
        },
        "target_feedback": {
            "rating": intro.target_feedback_rating,
            "note": intro.target_feedback_note,
            "at": intro.target_feedback_at,
        }
        if intro.target_feedback_at
        else None,
    }


def export(user) -> dict[str, Any]:
    events = Prefetch("events", queryset=IntroEvent.objects.select_related("actor").order_by("created_at", "pk"))
    made = IntroRequest.objects.of_seeker(user).with_people().prefetch_related(events).order_by("created_at", "pk")
    received = IntroRequest.objects.of_connector(user).with_people().prefetch_related(events)
    received = received.order_by("created_at", "pk")
    # A request carries its timeline: fewer requests per chunk than contacts.
    return {
        "intro_requests_as_seeker": (_as_seeker(i) for i in made.iterator(chunk_size=CHUNK // 4)),
        "intro_requests_as_connector": (_as_connector(i) for i in received.iterator(chunk_size=CHUNK // 4)),
    }


def erase(user) -> None:
    """Keep, for the other person, each request without the departed person's own writing
    (what was open is closed before, by its workflow, so that the other person is told)."""
    # Their preparation is about them; the connector keeps the request's status, dates and vouch.
    IntroRequest.objects.filter(seeker=user).update(**dict.fromkeys(REVIEWED_FIELDS, ""), outcome_note="")
    # …and so are the versions of it a connector sent back (kept on the "asked for changes" events).
    IntroEvent.objects.filter(intro__seeker=user, preparation__isnull=False).update(preparation=None)
    # Their contacts that requests name stay, stripped (contacts deletes the rest after this).
    shared_email = set(
        IntroRequest.objects.filter(connector=user, status__in=TARGET_DETAILS_VISIBLE).values_list(
            "target_id", flat=True
        )
    )
    for contact in Contact.objects.owned_by(user).filter(intro_requests__isnull=False).distinct():
        contact.strip_private(keep_email=contact.pk in shared_email)
