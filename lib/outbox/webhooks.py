"""The email service's tracking webhook (django-anymail): what became of the mail it took.

anymail's view checks the service's signature (400 without it) and turns the service's payload
into `AnymailTrackingEvent`s, which it sends through its `tracking` signal: that signal is
anymail's plugin boundary, and `record_tracking` below, connected in apps.py, is its one
receiver. Everything after it is a plain call (`services.outbox_record_delivery`).

The route answers 404 until the signing key is configured (MAILGUN_WEBHOOK_SIGNING_KEY), so an
unconfigured site never accepts unsigned reports.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import services


class _MailgunTracking(MailgunTrackingWebhookView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except services.NotSettledYet:
            # The report outran our own record of the send (a few milliseconds): Mailgun tries
            # again later on any answer but 2xx (and 406).
            return HttpResponse("Not ready for this report yet; try again.", status=503, headers={"Retry-After": "60"})


@csrf_exempt  # the service cannot hold a CSRF token; its signature is the check
@login_not_required
def mailgun_tracking(request: HttpRequest) -> HttpResponse:
    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        raise Http404("Mailgun's webhook is not configured here.")
    return _MailgunTracking.as_view()(request)


def record_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    """anymail's `tracking` signal → the outbox (connected in apps.py)."""
    reason = " ".join(part for part in (event.description, event.mta_response) if part)
    services.outbox_record_delivery(
        event=services.Tracked(
            provider=esp_name,
            event_id=str(event.event_id or ""),
            event_type=str(event.event_type),
            recipient=event.recipient or "",
            message_id=str(event.message_id or ""),
            outbox_id=str((event.metadata or {}).get("outbox", "")),
            reason=reason,
            occurred_at=event.timestamp,
        )
    )
