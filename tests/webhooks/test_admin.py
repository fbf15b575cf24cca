"""Endpoints and deliveries in the operator's admin: found and read, the signing secret and the
payloads never shown, failed deliveries sent again."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PAYLOAD_WORDS = "PAYLOAD-WORDS-91ab"


@pytest.fixture
def ops(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops@example.org", PASSWORD, full_name="Opal Operator"))
    return client


def test_the_admin_shows_endpoints_and_deliveries_without_secrets_or_payloads(ops):
    endpoint = WebhookEndpoint.objects.create(
        owner=UserFactory(), url="https://hooks.example.org/janet", event_types=EventType.values
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="webhook.test",
        payload={"data": PAYLOAD_WORDS},
        state=WebhookDelivery.State.FAILED,
        next_attempt_at=None,
        attempts=1,
        last_status_code=500,
    )
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="The server answered 500.")
    pages = [
        reverse("admin:webhooks_webhookendpoint_changelist"),
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_webhookdelivery_changelist"),
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]),
        reverse("admin:webhooks_webhookdelivery_changelist") + "?q=hooks.example.org",
    ]
    for url in pages:
        response = ops.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert endpoint.secret not in html and "whsec_" not in html and PAYLOAD_WORDS not in html, url
    assert "hooks.example.org/janet" in ops.get(pages[0]).content.decode()
    assert "The server answered 500." in ops.get(pages[3]).content.decode()


def test_the_admin_sends_failed_deliveries_again(ops, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(
        owner=UserFactory(), url="https://hooks.example.org/janet", event_types=EventType.values, active=False
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_2",
        event_type="webhook.test",
        payload={},
        state=WebhookDelivery.State.FAILED,
        next_attempt_at=None,
        attempts=8,
    )
    ops.post(
        reverse("admin:webhooks_webhookdelivery_changelist"), {"action": "retry", "_selected_action": [delivery.pk]}
    )
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.attempts == 0
