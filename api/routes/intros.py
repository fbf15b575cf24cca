"""Introduction requests, as their seeker and their connector see them on the request's page:
the same rule of who sees what (`IntroRequest.objects.visible_to`), and every change through
the same transition, checked by the same form."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from contacts.models import Contact, Strength
from intros.forms import ConnectorNoteForm, PreparationForm, VouchForm
from intros.guidance import guidance_for
from intros.models import REVIEWED_FIELDS, IntroRequest, next_step
from intros.states import Actor, Mode, Status
from lib import ratelimit

from .. import actions
from ..common import Body, Note, Page, Person, form_data, person, text, valid
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, page
from ..problems import TooMany

router = Router(tags=["Introduction requests"])


class TargetOut(Schema):
    id: int
    name: str
    organisation: str
    title: str
    email: str | None = Field(
        description="The connector sees it; the seeker once the target has accepted. Null otherwise."
    )


class IntroOut(Schema):
    id: int
    status: Literal[tuple(Status.values)]
    status_label: str
    role: Literal[tuple(a.value for a in Actor)] = Field(description="Your side of this request: seeker or connector.")
    mode: str
    seeker: Person
    connector: Person
    target: TargetOut
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    updated_at: dt.datetime


class IntroPage(Page[IntroOut]):
    pass


class EventOut(Schema):
    at: dt.datetime
    actor: str = Field(description="Who: a person's name, the target's name, or Warm Intros.")
    actor_role: str
    transition: str
    from_status: Literal[tuple(Status.values)]
    to_status: Literal[tuple(Status.values)]
    note: str


class Preparation(Schema):
    goal: str
    research_company: str
    research_person: str
    questions: str
    followup_plan: str
    fit: str
    blurb: str
    why_now: str


class IntroDetail(IntroOut):
    next_step: str
    preparation: Preparation
    vouch_strength: str
    vouch_note: str
    connector_message: str
    deferred_until: dt.date | None
    met_on: dt.date | None
    outcome: str
    outcome_note: str
    target_feedback_rating: int | None = Field(description="The target's rating of the match: the connector's to see.")
    target_feedback_note: str | None
    timeline: list[EventOut]


class ActionOut(Schema):
    changed: bool = Field(description="False when this was already done: nothing changed.")
    message: str
    warning: str = ""
    intro: IntroDetail


def _target(intro: IntroRequest, role: Actor) -> dict:
    t = intro.target
    shows_email = role is Actor.CONNECTOR or intro.target_details_visible_to_seeker
    return {
        "id": t.pk,
        "name": t.name,
        "organisation": t.organisation,
        "title": t.title,
        "email": t.email if shows_email else None,
    }


def intro_out(intro: IntroRequest, user) -> dict:
    role = intro.role_of(user)
    return {
        "id": intro.pk,
        "status": intro.status,
        "status_label": intro.get_status_display(),
        "role": role,
        "mode": intro.mode,
        "seeker": person(intro.seeker),
        "connector": person(intro.connector),
        "target": _target(intro, role),
        "created_at": intro.created_at,
        "submitted_at": intro.submitted_at,
        "updated_at": intro.updated_at,
    }


def _actor(event, intro: IntroRequest) -> str:
    if event.actor_role == Actor.TARGET:
        return intro.target.name
    if event.actor_role == Actor.SYSTEM:
        return "Warm Intros"
    return event.actor.full_name if event.actor else "A former member"


def intro_detail_out(intro: IntroRequest, user) -> dict:
    role = intro.role_of(user)
    guidance = guidance_for(intro, reader_zone=user.time_zone, now=timezone.now())
    is_connector = role is Actor.CONNECTOR
    return {
        **intro_out(intro, user),
        "next_step": next_step(intro, role, guidance),
        "preparation": {name: getattr(intro, name) for name in REVIEWED_FIELDS},
        "vouch_strength": intro.vouch_strength,
        "vouch_note": intro.vouch_note,
        "connector_message": intro.connector_message,
        "deferred_until": intro.deferred_until,
        "met_on": intro.met_on,
        "outcome": intro.outcome,
        "outcome_note": intro.outcome_note,
        "target_feedback_rating": intro.target_feedback_rating if is_connector else None,
        "target_feedback_note": intro.target_feedback_note if is_connector else None,
        "timeline": [
            {
                "at": e.created_at,
                "actor": _actor(e, intro),
                "actor_role": e.actor_role,
                "transition": e.transition,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in intro.events.select_related("actor")
        ],
    }


def _result(result: actions.Result, user) -> dict:
    intro = IntroRequest.objects.with_people().get(pk=result.intro.pk)
    return {
        "changed": result.changed,
        "message": result.message,
        "warning": result.warning,
        "intro": intro_detail_out(intro, user),
    }


def _limited(request) -> None:
    """Starting and submitting requests count as on the pages (RATE_LIMIT_INTRO_REQUESTS)."""
    blocked = ratelimit.INTRO_REQUEST.hit(str(request.user.pk))
    if blocked:
        raise TooMany(blocked)


class IntroFilters(Schema):
    role: Literal["seeker", "connector"] | None = Field(
        None, description="Only those where you are the seeker, or the connector."
    )
    status: Literal[tuple(Status.values)] | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("/intros", response=IntroPage, url_name="intro_list", summary="List my introduction requests")
def intro_list(request, filters: Query[IntroFilters]):
    """The requests you made and those submitted to you as the connector, newest first."""
    user = request.user
    intros = {
        Actor.SEEKER: IntroRequest.objects.of_seeker(user),
        Actor.CONNECTOR: IntroRequest.objects.of_connector(user),
    }.get(filters.role, IntroRequest.objects.visible_to(user))
    if filters.status:
        intros = intros.filter(status=filters.status)
    rows, after = page(
        intros.with_people(), ordering=("-pk",), cursor=filters.cursor, limit=filters.limit, list_name="intros"
    )
    return {"items": [intro_out(i, user) for i in rows], "next_cursor": after}


@router.get(
    "/intros/{intro_id}", response=IntroDetail, url_name="intro_detail", summary="One request, with its timeline"
)
def intro_detail(request, intro_id: int):
    intro = get_object_or_404(IntroRequest.objects.visible_to(request.user).with_people(), pk=intro_id)
    return intro_detail_out(intro, request.user)


class DraftIn(Body):
    target_id: int = Field(description="A contact a member of your cohort shares (see their warm paths).")
    goal: text(10_000) = ""
    research_company: text(10_000) = ""
    research_person: text(10_000) = ""
    questions: text(10_000) = ""
    followup_plan: text(10_000) = ""
    fit: text(10_000) = ""
    blurb: text(10_000) = ""
    why_now: text(10_000) = Field("", description="Required when you asked this person before and heard no.")


@router.post("/intros", response={201: IntroDetail}, url_name="intro_create", summary="Start a draft request")
def intro_create(request, payload: DraftIn):
    """A draft to the contact's owner, who becomes the connector. Saving a draft accepts any
    preparation; submitting checks it. A request open to the same person already: 409."""
    target = get_object_or_404(Contact.objects.shared_with(request.user).select_related("owner"), pk=payload.target_id)
    already = actions.open_request_to(seeker=request.user, target=target)
    if already is not None:
        raise actions.AlreadyOpen(already)
    history = actions.asked_before(seeker=request.user, target=target)
    form = valid(PreparationForm(form_data(payload.dict(exclude={"target_id"})), asked_before=bool(history)))
    _limited(request)
    intro = actions.intro_create_draft(
        seeker=request.user, target=target, **{f: form.cleaned_data[f] for f in form.fields}
    )
    return HttpStatus(201, intro_detail_out(IntroRequest.objects.with_people().get(pk=intro.pk), request.user))


@router.post(
    "/intros/{intro_id}/submit", response=ActionOut, url_name="intro_submit", summary="Submit to the connector"
)
def intro_submit(request, intro_id: int):
    """Checks the preparation as the page does (422 with what is missing)."""
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=intro_id)
    _limited(request)
    return _result(actions.intro_submit(intro=intro, seeker=request.user), request.user)


class NoteIn(Body):
    note: Note = ""


@router.post("/intros/{intro_id}/withdraw", response=ActionOut, url_name="intro_withdraw", summary="Withdraw")
def intro_withdraw(request, intro_id: int, payload: NoteIn | None = None):
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user), pk=intro_id)
    note = payload.note if payload else ""
    return _result(actions.intro_withdraw(intro=intro, seeker=request.user, note=note), request.user)


class VouchIn(Body):
    checked_preparation: bool = Field(False, description="I read the preparation: the goal and questions are specific.")
    checked_fit: bool = Field(False, description="The fit is real: this is worth their time.")
    checked_relationship: bool = Field(False, description="I know the seeker well enough to put my name on this.")
    vouch_strength: Literal[tuple(Strength.values)] | None = None
    vouch_note: Note = Field("", description="A sentence or two in your own words; the target reads it.")
    mode: Literal[tuple(Mode.values)] = Mode.DOUBLE_OPT_IN.value
    parent_id: int | None = Field(None, description="The introduction of yours whose outcome led to this one.")


def _connector_intro(request, intro_id: int) -> IntroRequest:
    return get_object_or_404(IntroRequest.objects.of_connector(request.user).with_people(), pk=intro_id)


@router.post(
    "/intros/{intro_id}/approve", response=ActionOut, url_name="intro_approve", summary="Approve and vouch (connector)"
)
def intro_approve(request, intro_id: int, payload: VouchIn):
    """The vetting form's checks: all three boxes, how well you know them, a vouch note."""
    intro = _connector_intro(request, intro_id)
    values = payload.dict()
    values["parent"] = values.pop("parent_id")
    form = valid(VouchForm(form_data(values), connector=request.user), names={"parent": "parent_id"})
    result = actions.intro_approve(
        intro=intro,
        connector=request.user,
        vouch_strength=form.cleaned_data["vouch_strength"],
        vouch_note=form.cleaned_data["vouch_note"],
        mode=form.cleaned_data["mode"],
        parent=form.cleaned_data.get("parent"),
    )
    return _result(result, request.user)


class ConnectorNoteIn(Body):
    note: Note = Field(description="Your note to the seeker: required.")


def _connector_note(request, intro_id: int, payload: ConnectorNoteIn, action) -> dict:
    intro = _connector_intro(request, intro_id)
    form = valid(ConnectorNoteForm(form_data(payload.dict())))
    return _result(action(intro=intro, connector=request.user, note=form.cleaned_data["note"]), request.user)


@router.post(
    "/intros/{intro_id}/request-changes",
    response=ActionOut,
    url_name="intro_request_changes",
    summary="Ask for changes (connector)",
)
def intro_request_changes(request, intro_id: int, payload: ConnectorNoteIn):
    return _connector_note(request, intro_id, payload, actions.intro_request_changes)


@router.post("/intros/{intro_id}/decline", response=ActionOut, url_name="intro_decline", summary="Decline (connector)")
def intro_decline(request, intro_id: int, payload: ConnectorNoteIn):
    return _connector_note(request, intro_id, payload, actions.intro_decline)
