"""A person's (or a coach's, for a cohort) subscription of a URL to events, and each delivery
to it with every attempt. Deliveries are an outbox of their own (`webhooks.services`): written
in the transaction that made the event, sent by a worker after commit, retried, then failed."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64 (the HMAC key)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class EventType(models.TextChoices):
    REQUEST_TRANSITIONED = "request.transitioned", "An introduction request changes state"
    FOLLOWUP_DUE = "followup.due", "A follow-up falls due"
    OUTREACH_BREACH = "outreach.breach", "Outreach breaks what a target asked for"
    OFFER_STALE = "offer.stale", "An offer goes stale"


# Sent by "Send a test event" only; nobody subscribes to it.
TEST_EVENT = "webhook.test"


class WebhookEndpointQuerySet(models.QuerySet["WebhookEndpoint"]):
    def owned_by(self, user) -> WebhookEndpointQuerySet:
        """The one rule for who sees an endpoint: its owner; anyone else gets a 404."""
        return self.filter(owner=user)


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    # Empty: the owner's own events. Set: the coach's subscription to their cohort's events,
    # which carry only what the dashboard shows (and stop if someone else coaches it).
    cohort = models.ForeignKey(
        "cohorts.Cohort", null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("address", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, default=new_secret)
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "active"])]

    def __str__(self) -> str:
        return self.url

    def get_absolute_url(self) -> str:
        return reverse("webhooks:detail", args=[self.pk])

    def event_labels(self) -> list[str]:
        return [kind.label for kind in EventType if kind in self.event_types]

    def wants(self, kind: str) -> bool:
        return self.active and kind in self.event_types


class WebhookDeliveryQuerySet(models.QuerySet["WebhookDelivery"]):
    def due(self, now: dt.datetime) -> WebhookDeliveryQuerySet:
        """What may be tried now: a delivery whose attempt is due, or whose sender stopped (its
        claim ran out). Only pending and sending deliveries carry `next_attempt_at`."""
        return self.filter(next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event for one endpoint. `event_id` is the `webhook-id` header: the same on every
    attempt, so a receiver can drop a delivery it has seen."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when to try. Sending: when the claim runs out. Delivered and failed: null.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    claim = models.UUIDField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(next_attempt_at__isnull=False), name="webhook_due_idx"
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_list_idx"),
        ]
        constraints = [
            # The same event is written once per endpoint, however often it is emitted.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "sending"], next_attempt_at__isnull=False)
                | models.Q(state__in=["delivered", "failed"], next_attempt_at__isnull=True),
                name="webhook_due_only_while_unsent",
            ),
            models.CheckConstraint(
                condition=models.Q(state="sending", claim__isnull=False) | ~models.Q(state="sending"),
                name="webhook_sending_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"

    @property
    def state_label(self) -> str:
        if self.state == self.State.PENDING and self.attempts:
            return "Will try again"
        return self.get_state_display()

    @property
    def can_retry(self) -> bool:
        return self.state in (self.State.FAILED, self.State.PENDING)


class WebhookAttempt(models.Model):
    """One try at a delivery: when, how long, the answer's status code, or what went wrong."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["delivery", "-at"], name="webhook_attempt_idx")]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
