"""The one way an event becomes webhook deliveries: `emit(kind, subject)`.

Called inside the transaction that made the event, so the delivery rows commit (or roll back)
with it; after commit a worker sends them (`webhooks.services`). Who hears of an event, and
what each hears, follows the pages' rules:

- the people it is about, each as the page shows it to them: a request's seeker, and its
  connector once it was submitted to them (`IntroRequest.objects.visible_to`); the target's
  email only to the connector (their contact) and to the seeker once the target accepted
  (`target_details_visible_to_seeker`); a follow-up's owner; an offer's seeker;
- the coach of each cohort the seeker (or the follow-up's owner) belongs to, through an
  endpoint the coach made for that cohort: only what the coach's dashboard shows — names,
  organisations, roles, states and dates; never a target's email, nor anyone's notes or
  preparation.

No payload carries a note (the vouch, a decline's words, an outreach note, a follow-up's
notes): each carries a link to the page, where the reader sees what they may.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import FORMER_MEMBER
from cohorts.models import Membership
from followups.models import FollowUp, Offer, Outreach
from intros.models import IntroEvent, IntroRequest

from .models import EventType, WebhookDelivery, WebhookEndpoint

SEEKER, CONNECTOR, OWNER, COACH = "seeker", "connector", "owner", "coach"


@dataclass(frozen=True)
class Event:
    """What one emitted event is, before it is written for each endpoint."""

    kind: str
    event_id: str  # the `webhook-id`: the same for every endpoint and every attempt
    at: dt.datetime
    people: dict[int, str]  # user id → the role they hear it in
    member_id: int | None  # whose cohorts' coaches hear it (None: no coach does)
    data: Callable[[str, WebhookEndpoint], dict[str, Any]]  # the payload's `data`, per role


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _person(user) -> dict[str, Any]:
    return {"id": user.pk, "name": FORMER_MEMBER if user.is_deleted else user.full_name}


def _link(path: str) -> str:
    return settings.SITE_URL + path


def _cohort(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.cohort.pk, "name": endpoint.cohort.name}


def _target(intro: IntroRequest, role: str) -> dict[str, Any]:
    target = intro.target
    shown = {"name": target.name, "organisation": target.organisation, "title": target.title}
    if role == CONNECTOR or (role == SEEKER and intro.target_details_visible_to_seeker):
        shown["email"] = target.email
    return shown


# --- the four kinds of event ---------------------------------------------------------------------


def _request_transitioned(event: IntroEvent) -> Event:
    intro = event.intro
    submitted = intro.first_submitted_at is not None  # before that a draft is the seeker's alone

    def data(role: str, endpoint: WebhookEndpoint) -> dict[str, Any]:
        request = {
            "id": intro.pk,
            "status": intro.status,
            "status_label": intro.get_status_display(),
            "mode": intro.mode,
            "seeker": _person(intro.seeker),
            "connector": _person(intro.connector),
            "target": _target(intro, role),
        }
        shown: dict[str, Any] = {
            "transition": event.transition,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "by": event.actor_role,
            "at": _iso(event.created_at),
            "request": request,
        }
        if role == COACH:
            shown["cohort"] = _cohort(endpoint)
        else:
            request["url"] = _link(intro.get_absolute_url())
        return shown

    people = {intro.seeker_id: SEEKER}
    if submitted:
        people[intro.connector_id] = CONNECTOR
    return Event(
        kind=EventType.REQUEST_TRANSITIONED,
        event_id=f"evt_request_{event.pk}",
        at=event.created_at,
        people=people,
        member_id=intro.seeker_id if submitted else None,
        data=data,
    )


def _followup_due(followup: FollowUp, *, now: dt.datetime) -> Event:
    # One event per due date: the reminder's number, as the sweep counts them.
    sequence = followup.reminders_sent + 1

    def data(role: str, endpoint: WebhookEndpoint) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "followup": {
                "id": followup.pk,
                "kind": followup.kind,
                "kind_label": followup.get_kind_display(),
                "with": followup.counterpart,
                "due_at": _iso(followup.due_at),
                "request_id": followup.intro_id,
                "offer_id": followup.offer_id,
            },
            "owner": _person(followup.owner),
        }
        if role == COACH:
            shown["cohort"] = _cohort(endpoint)
        else:
            shown["followup"]["url"] = _link("/follow-ups/")
        return shown

    return Event(
        kind=EventType.FOLLOWUP_DUE,
        event_id=f"evt_followup_{followup.pk}_{sequence}",
        at=now,
        people={followup.owner_id: OWNER},
        member_id=followup.owner_id,
        data=data,
    )


def _outreach_breach(outreach: Outreach) -> Event:
    intro = outreach.intro

    def data(role: str, endpoint: WebhookEndpoint) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "outreach": {
                "id": outreach.pk,
                "at": _iso(outreach.at),
                "channel": outreach.channel,
                "channel_label": outreach.get_channel_display(),
            },
            "request": {"id": intro.pk, "seeker": _person(intro.seeker), "connector": _person(intro.connector)},
            "target": {"name": intro.target.name, "organisation": intro.target.organisation},
        }
        if role == COACH:
            shown["cohort"] = _cohort(endpoint)
        else:
            # What the page says the seeker broke (the target's window, "I'll write first").
            shown["outreach"]["broke"] = [r.get("message", "") for r in outreach.breach_reasons if isinstance(r, dict)]
            shown["request"]["url"] = _link(intro.get_absolute_url())
        return shown

    return Event(
        kind=EventType.OUTREACH_BREACH,
        event_id=f"evt_breach_{outreach.pk}",
        at=outreach.created_at,
        people={intro.seeker_id: SEEKER, intro.connector_id: CONNECTOR},
        member_id=intro.seeker_id,
        data=data,
    )


def _offer_stale(offer: Offer, *, now: dt.datetime) -> Event:
    def data(role: str, endpoint: WebhookEndpoint) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "offer": {
                "id": offer.pk,
                "offered_by": offer.offered_by_name,
                "contact_name": offer.contact_name,
                "contact_organisation": offer.contact_organisation,
                "contact_title": offer.contact_title,
                "offered_at": _iso(offer.created_at),
            },
            "seeker": _person(offer.seeker),
        }
        if role == COACH:
            shown["cohort"] = _cohort(endpoint)
        else:
            shown["offer"]["url"] = _link(offer.get_absolute_url())
        return shown

    return Event(
        kind=EventType.OFFER_STALE,
        event_id=f"evt_offer_stale_{offer.pk}",
        at=now,
        people={offer.seeker_id: SEEKER},
        member_id=offer.seeker_id,
        data=data,
    )


BUILDERS: dict[str, Callable[..., Event]] = {
    EventType.REQUEST_TRANSITIONED: _request_transitioned,
    EventType.FOLLOWUP_DUE: _followup_due,
    EventType.OUTREACH_BREACH: _outreach_breach,
    EventType.OFFER_STALE: _offer_stale,
}


# --- writing the deliveries -------------------------------------------------------------------


def listeners(event: Event) -> list[tuple[WebhookEndpoint, str]]:
    """The active endpoints that hear `event`, each with the role it hears it in (one query)."""
    heard = Q(cohort__isnull=True, owner_id__in=list(event.people))
    if event.member_id is not None:
        # A coach's endpoint for a cohort the member is in, while they still coach it.
        heard |= Q(
            cohort__in=Membership.objects.filter(user_id=event.member_id).values("cohort_id"),
            cohort__coach_id=F("owner_id"),
        )
    found = WebhookEndpoint.objects.filter(heard, active=True).select_related("cohort")
    return [
        (endpoint, COACH if endpoint.cohort_id else event.people[endpoint.owner_id])
        for endpoint in found
        if endpoint.wants(event.kind)
    ]


def anyone_listens(kind: str) -> bool:
    """Whether any active endpoint subscribes to `kind` (one query over the few endpoints)."""
    return any(
        kind in types for types in WebhookEndpoint.objects.filter(active=True).values_list("event_types", flat=True)
    )


def envelope(kind: str, at: dt.datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks payload shape: type, timestamp, data."""
    return {"type": kind, "timestamp": _iso(at), "data": data}


def emit(kind: str, subject: Any, *, now: dt.datetime | None = None) -> list[int]:
    """Write the deliveries of one event (`subject`: the IntroEvent, FollowUp, Outreach or Offer
    it is about) inside the caller's transaction; sent after commit. Emitting the same event
    again writes nothing more. Returns the ids of its deliveries still to send. One query when nobody
    listens."""
    kwargs = {"now": now or timezone.now()} if kind in (EventType.FOLLOWUP_DUE, EventType.OFFER_STALE) else {}
    event = BUILDERS[kind](subject, **kwargs)
    found = listeners(event)
    if not found:
        return []
    rows = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event.event_id,
            event_type=event.kind,
            payload=envelope(event.kind, event.at, event.data(role, endpoint)),
        )
        for endpoint, role in found
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)  # an event emitted twice: once
    ids = list(
        WebhookDelivery.objects.filter(
            event_id=event.event_id, endpoint__in=[e for e, _ in found], state=WebhookDelivery.State.PENDING
        ).values_list("pk", flat=True)
    )
    if ids:
        from .services import enqueue_send

        transaction.on_commit(lambda: enqueue_send(ids))
    return ids
