"""The outbox: emails are rows first, written with the change that causes them.

`outbox_enqueue` is called inside the caller's transaction; the row and the change
commit or roll back together. After commit a Celery task sends it; if the broker is
away the row simply waits for the beat flush. `outbox_send` locks the row and marks
it sent, so a task delivered twice sends once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)


class HeaderInjectionError(ValueError):
    """A subject or address carried a line break: refused rather than sent."""


def _clean_header(value: str, *, what: str) -> str:
    if "\n" in value or "\r" in value:
        raise HeaderInjectionError(f"A line break is not allowed in an email {what}.")
    return value


def outbox_enqueue(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    cc: Iterable[str] = (),
    reply_to: Iterable[str] = (),
    key: str | None = None,
) -> OutboxMessage | None:
    """Write one email to the outbox. With a `key` already used, nothing is written."""
    to = [_clean_header(a, what="address") for a in to]
    cc = [_clean_header(a, what="address") for a in cc]
    reply_to = [_clean_header(a, what="address") for a in reply_to]
    subject = " ".join(_clean_header(subject, what="subject").split())
    ctx = {"site_url": settings.SITE_URL, **context}
    body_text = render_to_string(f"emails/{template}.txt", ctx)
    body_html = render_to_string(f"emails/{template}.html", ctx)
    if key is not None and OutboxMessage.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                to=to,
                cc=cc,
                reply_to=reply_to,
                subject=subject[:255],
                body_text=body_text,
                body_html=body_html,
                key=key,
            )
    except IntegrityError:
        if key is None:
            raise
        return None  # the same key won a race: it is already in the outbox
    transaction.on_commit(lambda: _enqueue_send(message.pk))
    return message


def _enqueue_send(message_id: int) -> None:
    from .tasks import send_outbox_message

    try:
        send_outbox_message.delay(message_id)
    except Exception:  # the broker is away: the beat flush will send it
        log.warning("Outbox message %s waits for the flush: broker unreachable", message_id, exc_info=True)


def outbox_send(*, message_id: int) -> bool:
    """Send one message if it is still pending. Returns whether this call sent it."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False  # already sent, gone, or being sent by another worker
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=message.to,
            cc=message.cc,
            reply_to=message.reply_to,
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        try:
            email.send()
        except Exception as exc:
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1, last_error=str(exc)[:2000]
            )
            log.warning("Outbox message %s failed: %s", message.pk, exc)
            return False
        message.sent_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["sent_at", "attempts"])
        return True


def outbox_flush(*, limit: int = 500) -> int:
    """Send pending messages, oldest first. Safe to run from several workers at once."""
    sent = 0
    ids = list(OutboxMessage.objects.pending().order_by("created_at").values_list("pk", flat=True)[:limit])
    for message_id in ids:
        sent += outbox_send(message_id=message_id)
    return sent
