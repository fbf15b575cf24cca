"""Contacts: the person's own address book, searched and filtered as on the contacts page."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from contacts.forms import ContactFilterForm, ContactForm
from contacts.models import Contact, Strength, mask_to_weekdays

from .. import actions
from ..common import Body, Page, form_data, text, valid
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, page
from ..problems import Conflict

router = Router(tags=["Contacts"])

ORDERING = ("name", "pk")  # the contacts page's order


class ContactOut(Schema):
    id: int
    name: str
    email: str = Field(description="An address we can send to; empty if none.")
    email_unusable: str = Field(description="An address kept as typed that can't receive email.")
    organisation: str
    title: str
    profile_url: str
    connected_on: dt.date | None
    strength: Literal[tuple(Strength.values)]
    how_we_know: str
    notes: str
    shareable: bool = Field(description="Cohort members see the name, role and organisation — never the rest.")
    tags: list[str]
    time_zone: str
    weekdays: list[int] = Field(description="Days they may be contacted, 0 = Monday … 6 = Sunday.")
    hours_start: dt.time
    hours_end: dt.time
    unavailable_until: dt.date | None = Field(description="Busy through this date, in their time zone.")
    min_days_between: int
    do_not_contact: bool
    last_contacted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Page[ContactOut]):
    pass


def contact_out(contact: Contact) -> dict:
    data = {name: getattr(contact, name) for name in ContactOut.model_fields if hasattr(contact, name)}
    data["tags"] = sorted(tag.name for tag in contact.tags.all())
    data["weekdays"] = sorted(mask_to_weekdays(contact.weekdays))
    data["id"] = contact.pk
    return data


class ContactIn(Body):
    """A contact as the contact form takes it. On update, only the fields sent change."""

    name: text(150) = None
    email: text(320) = Field(None, description="An address that can't receive email is kept as data, unsent.")
    organisation: text(150) = None
    title: text(150) = None
    profile_url: text(500) = None
    connected_on: dt.date | None = None
    strength: Literal[tuple(Strength.values)] | None = None
    how_we_know: text(10_000) = None
    notes: text(10_000) = None
    shareable: bool | None = None
    tags: list[text(100)] | None = Field(None, max_length=100)
    time_zone: text(64) = None
    weekdays: list[int] | None = Field(None, max_length=7, description="0 = Monday … 6 = Sunday.")
    hours_start: dt.time | None = None
    hours_end: dt.time | None = None
    unavailable_until: dt.date | None = None
    min_days_between: int | None = Field(None, ge=0, le=365)
    do_not_contact: bool | None = None


class ContactFilters(Schema):
    q: str = Field("", max_length=100, description="Words in the name, organisation, role or email.")
    organisation: str = Field("", max_length=150, description="Words in the organisation's name.")
    strength: str = ""
    tag: str = Field("", max_length=100)
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _mine(request):
    return Contact.objects.owned_by(request.user)


def _form_values(payload: ContactIn, base: dict) -> dict:
    values = {**base, **payload.model_dump(exclude_unset=True)}
    if isinstance(values.get("tags"), list):
        values["tags"] = ", ".join(values["tags"])
    return values


@router.get("/contacts", response=ContactPage, url_name="contact_list", summary="List my contacts")
def contact_list(request, filters: Query[ContactFilters]):
    """Your own contacts, by name, with the contacts page's search and filters."""
    query = form_data({k: v for k, v in filters.dict().items() if k in ("q", "organisation", "strength", "tag")})
    contacts = ContactFilterForm(query, owner=request.user).apply(_mine(request)).for_list()
    rows, after = page(contacts, ordering=ORDERING, cursor=filters.cursor, limit=filters.limit, list_name="contacts")
    return {"items": [contact_out(c) for c in rows], "next_cursor": after}


@router.post("/contacts", response={201: ContactOut}, url_name="contact_create", summary="Add a contact")
def contact_create(request, payload: ContactIn):
    """Checked as the contact form checks it (an address, a window that can open)."""
    initial = ContactForm(owner=request.user).initial
    base = {"time_zone": initial.get("time_zone"), "weekdays": initial.get("weekdays"), "hours_start": "09:00"}
    base |= {"hours_end": "17:00", "strength": Strength.ACQUAINTED, "min_days_between": 0}
    form = valid(ContactForm(form_data(_form_values(payload, base)), owner=request.user))
    contact = actions.contact_save(form)
    return HttpStatus(201, contact_out(Contact.objects.for_list().get(pk=contact.pk)))


@router.get("/contacts/{contact_id}", response=ContactOut, url_name="contact_detail", summary="One contact")
def contact_detail(request, contact_id: int):
    return contact_out(get_object_or_404(_mine(request).for_list(), pk=contact_id))


@router.patch("/contacts/{contact_id}", response=ContactOut, url_name="contact_update", summary="Change a contact")
def contact_update(request, contact_id: int, payload: ContactIn):
    """Only the fields sent change; the rest stay as they are."""
    contact = get_object_or_404(_mine(request).for_list(), pk=contact_id)
    current = ContactForm(instance=contact, owner=request.user)
    base = {name: current.initial.get(name) for name in current.fields}
    form = valid(ContactForm(form_data(_form_values(payload, base)), instance=contact, owner=request.user))
    actions.contact_save(form)
    return contact_out(_mine(request).for_list().get(pk=contact.pk))


@router.delete("/contacts/{contact_id}", response={204: None}, url_name="contact_delete", summary="Delete a contact")
def contact_delete(request, contact_id: int):
    """A contact who is part of an introduction stays (409), as on the page."""
    contact = get_object_or_404(_mine(request), pk=contact_id)
    try:
        actions.contact_delete(contact)
    except ProtectedError:
        raise Conflict(
            f"{contact.name} is part of an introduction, so they stay in your contacts. "
            "Set do_not_contact if nobody should write to them."
        ) from None
    return HttpStatus(204, None)
