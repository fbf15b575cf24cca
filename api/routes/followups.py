"""Follow-ups and offers: the person's own, as on the follow-ups and offers pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from accounts.models import User
from followups import numbers
from followups.forms import OfferForm, SnoozeForm
from followups.models import FollowUp, Offer

from .. import actions
from ..common import Body, Page, form_data, text, valid
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, page

router = Router(tags=["Follow-ups and offers"])


class FollowUpOut(Schema):
    id: int
    kind: Literal[tuple(FollowUp.Kind.values)]
    kind_label: str
    counterpart: str = Field(description="Who the follow-up is with, in words.")
    due_at: dt.datetime
    status: Literal[tuple(FollowUp.Status.values)]
    done_at: dt.datetime | None
    intro_id: int | None
    offer_id: int | None


class FollowUpPage(Page[FollowUpOut]):
    pass


def followup_out(f: FollowUp) -> dict:
    return {
        "id": f.pk,
        "kind": f.kind,
        "kind_label": f.get_kind_display(),
        "counterpart": f.counterpart,
        "due_at": f.due_at,
        "status": f.status,
        "done_at": f.done_at,
        "intro_id": f.intro_id,
        "offer_id": f.offer_id,
    }


class FollowUpFilters(Schema):
    status: Literal[tuple(FollowUp.Status.values)] = Field(
        FollowUp.Status.OPEN, description="Open ones by default, soonest due first."
    )
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("/follow-ups", response=FollowUpPage, url_name="followup_list", summary="List my follow-ups")
def followup_list(request, filters: Query[FollowUpFilters]):
    mine = FollowUp.objects.owned_by(request.user).filter(status=filters.status)
    rows, after = page(
        mine,
        ordering=("due_at", "pk"),
        cursor=filters.cursor,
        limit=filters.limit,
        list_name=f"followups:{filters.status}",
    )
    return {"items": [followup_out(f) for f in rows], "next_cursor": after}


def _open_followup(request, followup_id: int) -> FollowUp:
    """An open follow-up of mine, as the page's buttons find it (a settled one is not there)."""
    return get_object_or_404(FollowUp.objects.owned_by(request.user).open(), pk=followup_id)


@router.post("/follow-ups/{followup_id}/done", response=FollowUpOut, url_name="followup_done", summary="Mark done")
def followup_done(request, followup_id: int):
    return followup_out(actions.followup_done(_open_followup(request, followup_id)))


@router.post("/follow-ups/{followup_id}/skip", response=FollowUpOut, url_name="followup_skip", summary="Skip")
def followup_skip(request, followup_id: int):
    return followup_out(actions.followup_skip(_open_followup(request, followup_id)))


class SnoozeIn(Body):
    days: int = Field(description="1, 3 or 7, as on the page.")


@router.post("/follow-ups/{followup_id}/snooze", response=FollowUpOut, url_name="followup_snooze", summary="Snooze")
def followup_snooze(request, followup_id: int, payload: SnoozeIn):
    followup = _open_followup(request, followup_id)
    form = valid(SnoozeForm(form_data(payload.dict())))
    return followup_out(actions.followup_snooze_days(followup, form.cleaned_data["days"]))


# --- offers -----------------------------------------------------------------------------------


class OfferOut(Schema):
    id: int
    offered_by_name: str
    offered_by_id: int | None = Field(description="The member who offered, when they use Warm Intros.")
    contact_name: str
    contact_organisation: str
    contact_title: str
    note: str
    status: Literal[tuple(Offer.Status.values)] = Field(
        description="`stale` by the dashboard's definition, even before the sweep marks it."
    )
    status_label: str
    intro_id: int | None
    created_at: dt.datetime
    acted_at: dt.datetime | None


class OfferPage(Page[OfferOut]):
    pass


def offer_out(offer: Offer, *, now: dt.datetime) -> dict:
    shown = Offer.Status.STALE if numbers.offer_is_stale(offer, now=now) else Offer.Status(offer.status)
    return {
        "id": offer.pk,
        "offered_by_name": offer.offered_by_name,
        "offered_by_id": offer.offered_by_id,
        "contact_name": offer.contact_name,
        "contact_organisation": offer.contact_organisation,
        "contact_title": offer.contact_title,
        "note": offer.note,
        "status": shown.value,
        "status_label": shown.label,
        "intro_id": offer.intro_id,
        "created_at": offer.created_at,
        "acted_at": offer.acted_at,
    }


class OfferFilters(Schema):
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("/offers", response=OfferPage, url_name="offer_list", summary="List offers made to me")
def offer_list(request, filters: Query[OfferFilters]):
    rows, after = page(
        Offer.objects.of_seeker(request.user),
        ordering=("-pk",),
        cursor=filters.cursor,
        limit=filters.limit,
        list_name="offers",
    )
    now = timezone.now()
    return {"items": [offer_out(o, now=now) for o in rows], "next_cursor": after}


class OfferIn(Body):
    offered_by_name: text(150) = Field(description="Who offered. A member of your cohort by that name is linked.")
    contact_name: text(150) = Field(description="Who they offered to introduce you to.")
    contact_organisation: text(150) = ""
    contact_title: text(150) = ""
    note: text(2000) = ""


@router.post("/offers", response={201: OfferOut}, url_name="offer_create", summary="Record an offer")
def offer_create(request, payload: OfferIn):
    form = valid(OfferForm(form_data(payload.dict())))
    data = form.cleaned_data
    # As the offers page links the offer to the member who made it (one of the person's cohorts).
    offered_by = (
        User.objects.filter(
            full_name__iexact=data["offered_by_name"].strip(),
            cohort_memberships__cohort__memberships__user=request.user,
        )
        .exclude(pk=request.user.pk)
        .first()
    )
    offer = actions.offer_create(seeker=request.user, offered_by=offered_by, **data)
    return HttpStatus(201, offer_out(offer, now=timezone.now()))


def _offer(request, offer_id: int) -> Offer:
    return get_object_or_404(Offer.objects.of_seeker(request.user), pk=offer_id)


@router.post(
    "/offers/{offer_id}/self-contact",
    response=OfferOut,
    url_name="offer_self_contact",
    summary="I'll contact them myself",
)
def offer_self_contact(request, offer_id: int):
    offer = actions.offer_self_contact(offer=_offer(request, offer_id), seeker=request.user)
    return offer_out(offer, now=timezone.now())


@router.post(
    "/offers/{offer_id}/request", response=OfferOut, url_name="offer_request", summary="Ask them for the introduction"
)
def offer_request(request, offer_id: int):
    """A draft request to the member who offered; its id is the offer's `intro_id`."""
    offer = _offer(request, offer_id)
    actions.offer_request_intro(offer=offer, seeker=request.user)
    return offer_out(_offer(request, offer_id), now=timezone.now())


@router.post("/offers/{offer_id}/contacted", response=OfferOut, url_name="offer_contacted", summary="Mark as contacted")
def offer_contacted(request, offer_id: int):
    offer = actions.offer_contacted(offer=_offer(request, offer_id), seeker=request.user)
    return offer_out(offer, now=timezone.now())


@router.post("/offers/{offer_id}/dismiss", response=OfferOut, url_name="offer_dismiss", summary="Dismiss")
def offer_dismiss(request, offer_id: int):
    offer = actions.offer_dismiss(offer=_offer(request, offer_id), seeker=request.user)
    return offer_out(offer, now=timezone.now())
