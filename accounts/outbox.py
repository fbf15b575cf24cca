"""The outbox: emails are rows first, written with the change that causes them.

`outbox_enqueue` is called inside the caller's transaction; the row and the change
commit or roll back together. After commit a Celery task sends it; if the broker is
away the row simply waits for the beat flush. `outbox_send` locks the row and marks
it sent, so a task delivered twice sends once.

`outbox_enqueue_many` is the bulk form for the reminder sweep: one INSERT for a batch,
one task for the batch, and each body rendered when it is sent (by the context builder
the owning app registered for that template), so the sweep pays for deciding and
recording, not for thousands of template renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .addresses import sendable, unusable_reason
from .models import DELETED_EMAIL_DOMAIN, OutboxMessage

log = logging.getLogger(__name__)


class HeaderInjectionError(ValueError):
    """A subject or address carried a line break: refused rather than sent."""


class UnsendableAddress(ValueError):
    """An address the mail system would refuse (e.g. a non-ASCII local part). The workflow
    that wanted to write to it must check first and say so in words (`accounts.addresses`);
    reaching this is a bug, refused here rather than retried by every flush for ever."""


def _clean_header(value: str, *, what: str) -> str:
    if "\n" in value or "\r" in value:
        raise HeaderInjectionError(f"A line break is not allowed in an email {what}.")
    return value


def _clean_address(value: str) -> str:
    _clean_header(value, what="address")
    if not sendable(value):
        raise UnsendableAddress(f"“{value}” cannot receive email: {unusable_reason(value)}.")
    return value


def _deliverable(addresses: Iterable[str]) -> list[str]:
    """Addresses minus those of deleted accounts, which nobody reads (and `.invalid` never
    delivers), and minus blanks (a contact whose address was removed since)."""
    return [a for a in addresses if a and not a.lower().endswith("@" + DELETED_EMAIL_DOMAIN)]


def _render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    ctx = {"site_url": settings.SITE_URL, **context}
    return render_to_string(f"emails/{template}.txt", ctx), render_to_string(f"emails/{template}.html", ctx)


# template name → builds the render context from the row's JSON `context` (ids, not objects);
# returns None when what the message was about no longer exists.
ContextBuilder = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
_BUILDERS: dict[str, ContextBuilder] = {}


def register_context_builder(template: str, build: ContextBuilder) -> None:
    """Let messages written with `outbox_enqueue_many` for `template` be rendered at send time."""
    _BUILDERS[template] = build


@dataclass(frozen=True)
class Pending:
    """One message for `outbox_enqueue_many`: `refs` is JSON (ids), rendered at send time."""

    to: str
    subject: str
    template: str
    refs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:  # refused when made, so one bad row fails alone
        _clean_address(self.to)
        _clean_header(self.subject, what="subject")


def outbox_enqueue_many(messages: Iterable[Pending]) -> list[int]:
    """Write a batch of messages in one INSERT, inside the caller's transaction; sent after commit."""
    rows = []
    for message in messages:
        if not _deliverable([message.to]):
            continue
        if message.template not in _BUILDERS:
            raise LookupError(f"No context builder is registered for the email template {message.template!r}.")
        rows.append(
            OutboxMessage(
                to=[message.to],
                subject=" ".join(message.subject.split())[:255],
                template=message.template,
                context=message.refs,
            )
        )
    if not rows:
        return []
    ids = [row.pk for row in OutboxMessage.objects.bulk_create(rows)]
    transaction.on_commit(lambda: _enqueue_send_many(ids))
    return ids


def render_pending(message: OutboxMessage) -> bool:
    """Fill in the bodies of a message written with `outbox_enqueue_many` (idempotent).
    False when what it was about is gone: then there is nothing to send."""
    if message.body_text or not message.template:
        return True
    context = _BUILDERS[message.template](message.context)
    if context is None:
        return False
    message.body_text, message.body_html = _render(message.template, context)
    return True


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
    """Write one email to the outbox. With a `key` already used, or nobody left to write to
    (every recipient deleted their account), nothing is written."""
    to = [_clean_address(a) for a in _deliverable(to)]
    cc = [_clean_address(a) for a in _deliverable(cc)]
    reply_to = [_clean_address(a) for a in _deliverable(reply_to)]
    if not to:
        return None
    subject = " ".join(_clean_header(subject, what="subject").split())
    body_text, body_html = _render(template, context)
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


def _enqueue_send_many(message_ids: list[int]) -> None:
    from .tasks import send_outbox_messages

    try:
        send_outbox_messages.delay(message_ids)
    except Exception:  # the broker is away: the beat flush will send them
        log.warning("%s outbox messages wait for the flush: broker unreachable", len(message_ids), exc_info=True)


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
        if not render_pending(message):
            log.info("Outbox message %s is not sent: what it was about no longer exists", message.pk)
            message.delete()
            return False
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
        message.save(update_fields=["sent_at", "attempts", "body_text", "body_html"])
        return True


def outbox_flush(*, limit: int = 500) -> int:
    """Send pending messages, oldest first. Safe to run from several workers at once."""
    sent = 0
    ids = list(OutboxMessage.objects.pending().order_by("created_at").values_list("pk", flat=True)[:limit])
    for message_id in ids:
        sent += outbox_send(message_id=message_id)
    return sent
