"""Every write the API makes, and the errors they raise, named in this one place.

The API changes nothing by itself: each write is the very function the pages call (a
service, a transition, a model method, a form's save), imported here once so that a move
of those functions (for instance into a workflows layer) is followed by changing this file
alone. The routers import them from here, never from the apps."""

from __future__ import annotations

from django.utils import timezone

from contacts.forms import ContactForm
from contacts.models import Contact
from followups.models import FollowUp
from followups.services import (
    followup_snooze,
    offer_contacted,
    offer_create,
    offer_dismiss,
    offer_request_intro,
    offer_self_contact,
)
from intros.services import (
    AlreadyOpen,
    NotAllowed,
    PreparationIncomplete,
    Result,
    asked_before,
    intro_create_draft,
    open_request_to,
)
from workflows.intros import do_approve as intro_approve
from workflows.intros import do_decline as intro_decline
from workflows.intros import do_request_changes as intro_request_changes
from workflows.intros import do_submit as intro_submit
from workflows.intros import do_withdraw as intro_withdraw

__all__ = [
    "AlreadyOpen",
    "NotAllowed",
    "PreparationIncomplete",
    "Result",
    "asked_before",
    "contact_delete",
    "contact_save",
    "followup_done",
    "followup_skip",
    "followup_snooze",
    "intro_approve",
    "intro_create_draft",
    "intro_decline",
    "intro_request_changes",
    "intro_submit",
    "intro_withdraw",
    "offer_contacted",
    "offer_create",
    "offer_dismiss",
    "offer_request_intro",
    "offer_self_contact",
    "open_request_to",
]


def contact_save(form: ContactForm) -> Contact:
    """As the contact pages save: the form writes the contact and its tags together."""
    return form.save()


def contact_delete(contact: Contact) -> None:
    """As the contact page deletes; a contact in an introduction is protected (ProtectedError)."""
    contact.delete()


def followup_done(followup: FollowUp) -> FollowUp:
    followup.mark_done()
    return followup


def followup_skip(followup: FollowUp) -> FollowUp:
    followup.skip()
    return followup


def followup_snooze_days(followup: FollowUp, days: int) -> FollowUp:
    return followup_snooze(followup=followup, days=days, now=timezone.now())
