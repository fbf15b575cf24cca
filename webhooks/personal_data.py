"""The webhooks part of "Download all my data" and "Delete my account" (accounts.personal_data)."""

from __future__ import annotations

from typing import Any

from accounts.personal_data import Part

from .models import WebhookEndpoint


def export(user) -> dict[str, Any]:
    endpoints = WebhookEndpoint.objects.owned_by(user).select_related("cohort").order_by("created_at", "pk")
    return {
        # The signing secret stays out of the file: it is a key, and the page shows it.
        "webhook_endpoints": [
            {
                "url": e.url,
                "description": e.description,
                "events": e.event_types,
                "cohort": e.cohort.name if e.cohort else None,
                "active": e.active,
                "created_at": e.created_at,
            }
            for e in endpoints
        ]
    }


def erase(user) -> None:
    WebhookEndpoint.objects.owned_by(user).delete()  # their deliveries and attempts with them


PART = Part(app="webhooks", export=export, erase=erase)
