"""The contacts part of "Download all my data" and "Delete my account" (accounts.personal_data)."""

from __future__ import annotations

import functools
from typing import Any

from accounts.personal_data import CHUNK, Part

from .models import WEEKDAY_NAMES, Contact, ImportBatch, Tag, mask_to_weekdays


@functools.cache
def _weekday_names(mask: int) -> tuple[str, ...]:
    return tuple(WEEKDAY_NAMES[day] for day in sorted(mask_to_weekdays(mask)))


def _contact(contact: Any, tag_names: list[str]) -> dict[str, Any]:
    """A row from `ContactQuerySet.for_export` (an address book can hold 200,000)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "email_that_cannot_receive_mail": contact.email_unusable,
        "organisation": contact.organisation,
        "title": contact.title,
        "profile_url": contact.profile_url,
        "strength": contact.strength,
        "how_we_know": contact.how_we_know,
        "notes": contact.notes,
        "tags": tag_names,
        "shareable_with_cohort": contact.shareable,
        "connected_on": contact.connected_on,
        "window": {
            "time_zone": contact.time_zone,
            "weekdays": _weekday_names(contact.weekdays),
            "hours_start": contact.hours_start,
            "hours_end": contact.hours_end,
            "unavailable_until": contact.unavailable_until,
            "min_days_between": contact.min_days_between,
            "do_not_contact": contact.do_not_contact,
        },
        "last_contacted_at": contact.last_contacted_at,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _import(batch: ImportBatch) -> dict[str, Any]:
    return {
        "filename": batch.filename,
        "source": batch.source,
        "status": batch.status,
        "rows": batch.total,
        "created": batch.created_count,
        "merged": batch.merged_count,
        "skipped": batch.skipped_count,
        "error": batch.error,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }


def export(user) -> dict[str, Any]:
    contacts = Contact.objects.owned_by(user).order_by("pk").for_export(chunk_size=CHUNK)
    return {
        "contacts": (_contact(row, tag_names) for row, tag_names in contacts),
        "contact_tags": list(Tag.objects.filter(owner=user).values_list("name", flat=True)),
        "contact_imports": [_import(b) for b in ImportBatch.objects.owned_by(user).order_by("created_at", "pk")],
    }


def erase(user) -> None:
    """Their address book goes, except the contacts someone's request still names, which
    `intros` has stripped to name, role and window by now (followed by the relation's name:
    `intros` sits above this app)."""
    Contact.objects.owned_by(user).filter(intro_requests__isnull=True).delete()
    Tag.objects.filter(owner=user).delete()
    ImportBatch.objects.owned_by(user).delete()


PART = Part(app="contacts", export=export, erase=erase)
