"""The outbox: emails are rows first, written with the change that causes them.

`outbox_enqueue` is called inside the caller's transaction; the row and the change
commit or roll back together. After commit a Celery task sends it; if the broker is
away the row simply waits for the beat flush. `outbox_send` claims the row, sends it
with no lock held, and settles it under its claim, so a task delivered twice sends once.
A failed attempt is tried again after a growing wait; after OUTBOX_MAX_ATTEMPTS (or at
once, when the server refuses the message for good) it fails, an operator sees it
(`manage.py outbox --failed`), and the people for whom it mattered are told
(`TELL_IF_UNDELIVERED`).

When an email service sends the mail (django-anymail), its tracking webhook later reports what
became of each recipient's copy: `outbox_record_delivery` marks the row bounced or complained,
once per reported event, and tells the same people a refusal would have.

`outbox_enqueue_many` is the bulk form for the reminder sweep: one INSERT for a batch,
one task for the batch, and each body rendered when it is sent (by the context builder
settings.OUTBOX_CONTEXT_BUILDERS names for that template), so the sweep pays for deciding and
recording, not for thousands of template renders.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anymail.exceptions import AnymailRecipientsRefused
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string

from lib.addresses import DELETED_EMAIL_DOMAIN, sendable, unusable_reason

from .models import DeliveryReport, OutboxMessage

log = logging.getLogger(__name__)


class HeaderInjectionError(ValueError):
    """A subject or address carried a line break: refused rather than sent."""


class UnsendableAddress(ValueError):
    """An address the mail system would refuse (e.g. a non-ASCII local part). The workflow
    that wanted to write to it must check first and say so in words (`lib.addresses`);
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


# Builds the render context from the row's JSON `context` (ids, not objects); returns None when
# what the message was about no longer exists. One per template, named in OUTBOX_CONTEXT_BUILDERS.
ContextBuilder = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


def context_builder(template: str) -> ContextBuilder | None:
    """The builder settings.OUTBOX_CONTEXT_BUILDERS names for `template` (None: not rendered later)."""
    path = settings.OUTBOX_CONTEXT_BUILDERS.get(template)
    return import_string(path) if path else None


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
        if message.template not in settings.OUTBOX_CONTEXT_BUILDERS:
            raise LookupError(f"No context builder is named for the email template {message.template!r}.")
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
    """Fill in the bodies of a message written with `outbox_enqueue_many` (idempotent); a
    builder may also give a `subject`. False when what it was about is gone (or moved on):
    then there is nothing to send."""
    if message.body_text or not message.template:
        return True
    context = context_builder(message.template)(message.context)
    if context is None:
        return False
    if "subject" in context:
        message.subject = " ".join(_clean_header(str(context["subject"]), what="subject").split())[:255]
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
    refs: Mapping[str, Any] | None = None,
    tell_if_undelivered: Mapping[str, str] | None = None,
) -> OutboxMessage | None:
    """Write one email to the outbox. With a `key` already used, or nobody left to write to
    (every recipient deleted their account), nothing is written.

    `refs` (JSON: ids) say what it is about. A template in `TELL_IF_UNDELIVERED` needs
    `tell_if_undelivered`, the address of each person named there (role → address): the
    recipient whose copy matters and the people to tell."""
    spec = TELL_IF_UNDELIVERED.get(template)
    named = dict(tell_if_undelivered or {})
    if set(named) != (spec.roles if spec else set()):
        raise ValueError(
            f"An email from {template!r} names whom to tell if it is not delivered: "
            f"{sorted(spec.roles) if spec else 'nobody'} (TELL_IF_UNDELIVERED), not {sorted(named)}."
        )
    tell = {role: named[role] for role in spec.tell} if spec else {}
    watch = {spec.recipient: named[spec.recipient]} if spec else {}
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
                template=template,
                context={**(refs or {}), **({"tell": tell, "watch": watch} if spec else {})},
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


# --- sending ----------------------------------------------------------------------------------
#
# A message is sent in three steps, and SMTP runs in none of the database transactions:
#   1. claim: a short transaction locks the row (skipping a row another worker holds), checks
#      it is due, and marks it `sending` with a fresh claim token, one more attempt, and
#      `next_attempt_at` moved to when the claim runs out (OUTBOX_CLAIM_SECONDS);
#   2. send over SMTP, each step bounded by EMAIL_TIMEOUT, with no lock held;
#   3. settle: mark it sent (or schedule the retry, or fail it) in a statement that matches
#      the claim token, so only the worker holding the claim can settle it.
# A second worker given the same message finds it claimed (not due) and does nothing. A
# worker that dies between 1 and 3 leaves the row `sending` until the claim runs out; then
# the flush tries it again. If it died after the SMTP server accepted the message but before
# step 3 committed, the message goes twice: at least once at the SMTP boundary, in a window
# of one SMTP reply and one UPDATE (README, "The outbox").

# The wait after the 1st, 2nd, … failed attempt (the last one repeats), before jitter.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
# Each wait is stretched or shrunk by up to this fraction at random, so that messages which
# failed together (the SMTP server was down) do not all come back in the same second.
RETRY_JITTER = 0.2


def retry_delay(attempts: int, *, rand: Callable[[], float] = random.random) -> dt.timedelta:
    """How long to wait after `attempts` failed attempts (1 or more) before the next."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + RETRY_JITTER * (2 * rand() - 1))


def is_permanent(exc: BaseException) -> bool:
    """Whether the server refused this message for good, so that trying again is pointless:
    every recipient refused with a 5xx code, the content refused with a 5xx code, or an
    address that cannot be written in SMTP at all. Refusals of our own sender address or
    login are not about the message: they are retried (and logged) until the operator fixes
    the configuration, and a 4xx answer (greylisting, a full mailbox) is temporary."""
    if isinstance(exc, AnymailRecipientsRefused):  # an email service refused every recipient
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError | smtplib.SMTPHeloError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return isinstance(exc, ValueError)  # Django's sanitize_address: an address SMTP cannot carry


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _email_of(message: OutboxMessage) -> EmailMultiAlternatives:
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
    # An email service (anymail) hands this back in its tracking webhook, so a report finds its
    # row even before the send is settled; SMTP ignores it.
    email.metadata = {"outbox": str(message.pk)}
    return email


def _provider_message_id(email: EmailMultiAlternatives) -> str:
    """The email service's id for what it took (anymail sets it on send); "" over SMTP."""
    status = getattr(email, "anymail_status", None)
    found = getattr(status, "message_id", None)
    if isinstance(found, set):  # one per recipient, when the service gives each its own
        found = ",".join(sorted(str(i) for i in found))
    return "" if found is None else str(found)[:255]


def _claim(message_id: int, *, now: dt.datetime, due_only: bool) -> tuple[OutboxMessage, uuid.UUID] | None:
    """Step 1: take the message for this worker, if nobody else holds it: a pending message
    (the flush: only once its wait is over), or one whose claim ran out."""
    free = OutboxMessage.objects.due(now)
    if not due_only:
        free = free | OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
    with transaction.atomic():
        message = free.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None:
            return None  # sent, failed, gone, waiting for its retry, or held by another worker
        if message.state == OutboxMessage.State.SENDING:
            # Its claim ran out: the worker that took it stopped (killed, or lost the database)
            # before saying how it went. It may have gone; most likely it did not.
            log.warning("Outbox message %s: the worker sending it stopped; trying again", message.pk)
            message.last_error = "The worker sending it stopped before it finished (it may or may not have gone)."
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                _give_up(message, now=now)
                return None
        message.state = OutboxMessage.State.SENDING
        message.claim = uuid.uuid4()
        message.attempts += 1
        message.next_attempt_at = now + dt.timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
        message.save(update_fields=["state", "claim", "attempts", "next_attempt_at", "last_error"])
    return message, message.claim


def _mark_sent(message: OutboxMessage, claim: uuid.UUID, *, provider_message_id: str = "") -> None:
    """Step 3, when the SMTP server (or the email service) took it."""
    settled = OutboxMessage.objects.filter(pk=message.pk, claim=claim).update(
        state=OutboxMessage.State.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        claim=None,
        provider_message_id=provider_message_id,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
    )
    if not settled:
        log.error(
            "Outbox message %s was sent after its claim ran out and another worker took it over: "
            "it may arrive twice (raise OUTBOX_CLAIM_SECONDS?)",
            message.pk,
        )


def _settle_failure(message: OutboxMessage, claim: uuid.UUID, exc: BaseException) -> None:
    """Step 3, when sending failed: try again later after a growing wait, or give up."""
    now = timezone.now()
    permanent = is_permanent(exc)
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().filter(pk=message.pk, claim=claim).first()
        if row is None:
            return  # another worker took the claim over; its outcome counts
        row.last_error = _describe(exc)
        if permanent or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _give_up(row, now=now)
            return
        row.state = OutboxMessage.State.PENDING
        row.claim = None
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["state", "claim", "next_attempt_at", "last_error"])
    log.warning(
        "Outbox message %s failed (attempt %s), tried again at %s: %s", row.pk, row.attempts, row.next_attempt_at, exc
    )


def _give_up(message: OutboxMessage, *, now: dt.datetime) -> None:
    """The message will not be sent: it stays, failed, for an operator (`manage.py outbox`),
    and the people for whom it mattered are told. Called with the row locked."""
    message.state = OutboxMessage.State.FAILED
    message.failed_at = now
    message.next_attempt_at = None
    message.claim = None
    message.save(update_fields=["state", "failed_at", "next_attempt_at", "claim", "last_error"])
    log.error(
        "Outbox message %s failed for good after %s attempts: %s", message.pk, message.attempts, message.last_error
    )
    tell_undelivered(message)


def outbox_send(*, message_id: int, due_only: bool = False) -> bool:
    """Send one message if it is still to be sent and nobody else is sending it. Returns whether
    this call sent it. A task sends its message whatever `next_attempt_at` says (the writer's
    clock may run a little ahead of this worker's); the flush sends only what is due."""
    claimed = _claim(message_id, now=timezone.now(), due_only=due_only)
    if claimed is None:
        return False
    message, claim = claimed
    try:
        if not render_pending(message):
            log.info("Outbox message %s is not sent: what it was about no longer exists", message.pk)
            OutboxMessage.objects.filter(pk=message.pk, claim=claim).delete()
            return False
        email = _email_of(message)
        email.send()
    except SoftTimeLimitExceeded as exc:
        _settle_failure(message, claim, exc)
        raise  # the task is out of time: the rest of its batch waits for the flush
    except Exception as exc:
        _settle_failure(message, claim, exc)
        return False
    _mark_sent(message, claim, provider_message_id=_provider_message_id(email))
    return True


def outbox_flush(*, limit: int = 500) -> int:
    """Send what is due, soonest due first: messages whose task was lost, retries whose wait is
    over, and messages whose sender stopped. A message that keeps failing waits longer each
    time, so it never holds up the others. Safe to run from several workers at once."""
    ids = list(
        OutboxMessage.objects.due(timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    return sum(outbox_send(message_id=message_id, due_only=True) for message_id in ids)


def outbox_retry(*, message_ids: Iterable[int] | None = None) -> list[int]:
    """An operator sends failed messages (these, or all of them) again, each with a fresh set of
    attempts. Returns the ids put back in the queue."""
    with transaction.atomic():
        failed = OutboxMessage.objects.failed().select_for_update()
        if message_ids is not None:
            failed = failed.filter(pk__in=list(message_ids))
        ids = list(failed.order_by("pk").values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=OutboxMessage.State.PENDING, next_attempt_at=timezone.now(), attempts=0, failed_at=None
        )
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            transaction.on_commit(lambda chunk=chunk: _enqueue_send_many(chunk))
    return ids


# --- telling the people for whom a lost message mattered -----------------------------------


@dataclass(frozen=True)
class Undelivered:
    """Whose copy of a message from one template not arriving matters, to whom, and how."""

    recipient: str  # the recipient, by role, whose copy not arriving matters ("target")
    notice: str  # the notice's template, rendered when sent by its builder (OUTBOX_CONTEXT_BUILDERS)
    tell: tuple[str, ...]  # the people to tell, by role

    @property
    def roles(self) -> set[str]:
        """Whose address the writer of such a message names (`tell_if_undelivered`)."""
        return {self.recipient, *self.tell}


# Where a message that never arrives matters to someone besides its recipient: its template →
# whose copy matters, and whom to tell. Each message from these templates carries those people's
# addresses (`tell_if_undelivered`). It is not delivered when the mail server refuses it for
# good (the whole message), or when the email service reports that the recipient's copy bounced.
# A bounce for anyone else (the seeker's own address in the introduction) is marked on the row
# for an operator, and nobody is told.
TELL_IF_UNDELIVERED: dict[str, Undelivered] = {
    # A target's ask (the first, a re-ask or a reminder): the seeker and the connector would
    # wait for an answer that cannot come, and only the connector can correct the address.
    "target_ask": Undelivered(recipient="target", notice="target_ask_undelivered", tell=("connector", "seeker")),
    # The introduction itself (to the target and the seeker, the connector copied): when the
    # target's copy bounces, the seeker would wait for (or write to) someone who never heard,
    # and the connector is the one who knows the target and their address.
    "intro_introduction": Undelivered(
        recipient="target", notice="introduction_undelivered", tell=("seeker", "connector")
    ),
}


def tell_undelivered(message: OutboxMessage, *, recipient: str | None = None) -> list[int]:
    """Write the notices for a message that was not delivered, in the transaction that marks it:
    to everyone (refused for good here), or to `recipient` (a bounce the service reported), which
    matters only when it is the recipient the table watches. Each notice is rendered when it is
    sent, from the message's refs, so it can say nothing when what it was about has moved on
    (then it is not sent)."""
    spec = TELL_IF_UNDELIVERED.get(message.template)
    if spec is None:
        return []
    if recipient is not None:
        watched = message.context.get("watch", {}).get(spec.recipient, "")
        if watched.lower() != recipient.lower():
            return []
    addresses = message.context.get("tell", {})
    refs = {k: v for k, v in message.context.items() if k not in ("tell", "watch")}
    return outbox_enqueue_many(
        Pending(
            to=addresses[role],
            subject="An email about an introduction could not be delivered",
            template=spec.notice,
            refs={**refs, "role": role, "undelivered": message.pk},
        )
        for role in spec.tell
        if addresses.get(role)  # gone when that person deleted their account
    )


# --- what the email service reports (its tracking webhook) ----------------------------------


class NotSettledYet(RuntimeError):
    """A report about a message whose send is still being settled: the service should try again."""


@dataclass(frozen=True)
class Tracked:
    """One event of an email service's tracking webhook, as anymail normalises it."""

    provider: str  # "Mailgun"
    event_id: str
    event_type: str  # anymail's EventType: "bounced", "rejected", "complained", "delivered", …
    recipient: str
    message_id: str = ""  # the service's id for the message
    outbox_id: str = ""  # ours, from the metadata we sent with it
    reason: str = ""
    occurred_at: dt.datetime | None = None


# anymail's event type → what it means here. Others ("delivered", "opened", "deferred": the
# service goes on trying) change nothing: the row already says it was sent.
REPORTED = {
    "bounced": DeliveryReport.Kind.BOUNCED,
    "rejected": DeliveryReport.Kind.REJECTED,
    "complained": DeliveryReport.Kind.COMPLAINED,
}
# A recipient's copy is lost when it bounced or the service refused it.
LOST = (DeliveryReport.Kind.BOUNCED, DeliveryReport.Kind.REJECTED)
SETTLED = {OutboxMessage.State.SENT, OutboxMessage.State.BOUNCED, OutboxMessage.State.COMPLAINED}


def _reported_message(event: Tracked) -> OutboxMessage | None:
    """The row the event is about, locked: by our own id (carried in the metadata), checked against
    the service's message id once we know it; or by the service's message id alone."""
    rows = OutboxMessage.objects.select_for_update()
    reported = event.message_id.strip("<>")  # anymail writes Mailgun's ids in brackets, not others'
    if event.outbox_id.isdigit():
        message = rows.filter(pk=int(event.outbox_id)).first()
        known = [i.strip("<>") for i in message.provider_message_id.split(",")] if message else []
        if reported and any(known) and reported not in known:
            return None  # an id of ours, but another message: another site sending through the same account
        return message
    if reported:
        return rows.filter(provider_message_id__in=[reported, f"<{reported}>"]).order_by("pk").first()
    return None


def outbox_record_delivery(*, event: Tracked) -> DeliveryReport | None:
    """Record what the email service reported about one recipient of a message it took, and act
    on it once: a bounce or a refusal marks the row bounced and tells the people the table names
    (`TELL_IF_UNDELIVERED`) the first time that recipient's copy is reported lost; a complaint
    marks it complained. The same event again (webhooks are retried) changes nothing. Returns the
    new report, or None when there was nothing new to record."""
    kind = REPORTED.get(event.event_type)
    recipient = (event.recipient or "").strip().lower()
    if kind is None or not event.event_id or not recipient:
        return None
    with transaction.atomic():
        message = _reported_message(event)
        if message is None:
            log.info("%s reported %s for a message that is not in the outbox", event.provider, event.event_type)
            return None
        if recipient not in {a.lower() for a in [*message.to, *message.cc]}:
            log.warning(
                "%s reported %s for %s, not a recipient of outbox message %s",
                event.provider,
                kind,
                recipient,
                message.pk,
            )
            return None
        if message.state == OutboxMessage.State.SENDING:
            raise NotSettledYet(f"Outbox message {message.pk} is still being sent.")
        report, created = _record(message, event, kind=kind, recipient=recipient)
        if not created:
            return None  # a replay
        if message.state not in SETTLED:
            return report  # about an earlier attempt: the row is being tried again, or failed (told then)
        if kind == DeliveryReport.Kind.COMPLAINED:
            if message.state == OutboxMessage.State.SENT:
                message.state = OutboxMessage.State.COMPLAINED
                message.last_error = f"{recipient} marked it as spam ({event.provider})."
                message.save(update_fields=["state", "last_error"])
            return report
        first = not message.reports.filter(recipient=recipient, kind__in=LOST).exclude(pk=report.pk).exists()
        message.state = OutboxMessage.State.BOUNCED
        message.failed_at = message.failed_at or timezone.now()  # when we learned it did not arrive
        message.last_error = f"Not delivered to {recipient}: {report.get_kind_display().lower()} ({event.provider}). {report.reason}".strip()[
            :2000
        ]
        message.save(update_fields=["state", "failed_at", "last_error"])
        log.warning("Outbox message %s was not delivered to %s: %s", message.pk, recipient, report.reason)
        if first:
            tell_undelivered(message, recipient=recipient)
    return report


def _record(message: OutboxMessage, event: Tracked, *, kind: str, recipient: str) -> tuple[DeliveryReport, bool]:
    try:
        with transaction.atomic():
            report = DeliveryReport.objects.create(
                message=message,
                provider=event.provider[:40],
                event_id=event.event_id[:200],
                kind=kind,
                recipient=recipient[:320],
                reason=event.reason[:2000],
                occurred_at=event.occurred_at,
            )
    except IntegrityError:
        return DeliveryReport.objects.get(provider=event.provider[:40], event_id=event.event_id[:200]), False
    return report, True
