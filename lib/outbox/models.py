from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def pending(self) -> OutboxMessageQuerySet:
        """Still to be sent: waiting for its (next) attempt, or being sent right now."""
        return self.filter(state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.SENDING])

    def due(self, now: dt.datetime) -> OutboxMessageQuerySet:
        """What may be tried now: a message whose attempt is due, or whose sender stopped
        before finishing (its claim ran out). Only these two states carry `next_attempt_at`."""
        return self.filter(next_attempt_at__lte=now)

    def failed(self) -> OutboxMessageQuerySet:
        return self.filter(state=OutboxMessage.State.FAILED)

    def undelivered(self) -> OutboxMessageQuerySet:
        """Never reached (a recipient of) it: failed here, or bounced after the email service took it."""
        return self.filter(state__in=[OutboxMessage.State.FAILED, OutboxMessage.State.BOUNCED])


class OutboxMessage(models.Model):
    """An email written in the same transaction as the change that caused it.

    It lives in `lib`, below every app, so that every app's transitions can write to it.
    `lib.outbox.services` sends it after commit; the beat flush sends whatever that
    missed, and retries.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # After it was sent, the email service reported (tracking webhook, `DeliveryReport`):
        BOUNCED = "bounced", "Bounced"  # a recipient's server, or the service, refused it
        COMPLAINED = "complained", "Marked as spam"  # delivered, and a recipient reported it

    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # The template it was rendered from. A message written in bulk (the reminder sweep) is
    # rendered when it is sent, from `context`: the ids it is about. A message rendered at once
    # may keep ids there too, and `tell`: whom to tell if it can never be delivered.
    template = models.CharField(max_length=100, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # What caused it, for reading the log ("intro:12:ask_target"); also a dedupe key.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Pending: when to try (now, or after a back-off). Sending: when the claim runs out and
    # another worker may take it over. Sent and failed: null (so the due index stays small).
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # The worker sending it holds this token; only that worker may mark it sent or failed.
    claim = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The email service's id for it (set when sent through one: anymail's `message_id`), which
    # its tracking webhook names when it reports a bounce. Empty when sent over SMTP.
    provider_message_id = models.CharField(max_length=255, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        # The table kept its name when the model moved here from accounts (migration 0001).
        db_table = "accounts_outboxmessage"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(next_attempt_at__isnull=False), name="outbox_due_idx"
            ),
            models.Index(fields=["failed_at"], condition=models.Q(state="failed"), name="outbox_failed_idx"),
            models.Index(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="outbox_provider_id_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "sending"], next_attempt_at__isnull=False)
                | models.Q(state__in=["sent", "failed", "bounced", "complained"], next_attempt_at__isnull=True),
                name="outbox_due_only_while_unsent",
            ),
            models.CheckConstraint(
                condition=models.Q(state="sending", claim__isnull=False) | ~models.Q(state="sending"),
                name="outbox_sending_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class DeliveryReport(models.Model):
    """What the email service reported, after taking a message, about one of its recipients: it
    bounced, the service refused it, or the recipient marked it as spam. Written by its tracking
    webhook (lib.outbox.webhooks → `services.outbox_record_delivery`), once per reported event."""

    class Kind(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        REJECTED = "rejected", "Refused by the email service"
        COMPLAINED = "complained", "Marked as spam"

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="reports")
    provider = models.CharField(max_length=40)  # anymail's name for the service: "Mailgun"
    event_id = models.CharField(max_length=200)  # the service's id for the event: a replay is the same
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recipient = models.CharField(max_length=320)  # lower case
    reason = models.TextField(blank=True)  # the service's description and the receiving server's answer
    occurred_at = models.DateTimeField(null=True, blank=True)  # by the service's clock
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The same event delivered twice (webhooks are retried) is recorded, and acted on, once.
            models.UniqueConstraint(fields=["provider", "event_id"], name="delivery_report_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.recipient}"
