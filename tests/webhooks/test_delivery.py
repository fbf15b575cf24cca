"""Webhook deliveries reach a real local receiver, signed per Standard Webhooks (checked with the
`standardwebhooks` package), through the outbox steps: claim, post, settle; retried with back-off,
failed after the cap, retried by hand; and never to an address inside our network."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.factories import UserFactory
from webhooks import net, services
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def endpoint_for(receiver, owner=None, **kwargs) -> WebhookEndpoint:
    return services.endpoint_create(
        owner=owner or UserFactory(), url=receiver.url(), event_types=EventType.values, **kwargs
    )


def send_test(endpoint, django_capture_on_commit_callbacks) -> WebhookDelivery:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(endpoint=endpoint)
    delivery.refresh_from_db()
    return delivery


def test_a_test_event_arrives_signed_and_verifies_with_standardwebhooks(receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    assert endpoint.secret.startswith("whsec_")
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)

    [got] = receiver.received
    assert got.path == "/hooks/warm"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == delivery.event_id
    assert got.headers["webhook-signature"].startswith("v1,")
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["endpoint"]["id"] == endpoint.pk
    # Another endpoint's secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(WebhookEndpoint(url="x").secret).verify(got.body, got.headers)

    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (1, 200, None)
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.error == ""


def test_a_failed_attempt_is_logged_and_retried_after_a_minute_or_so_then_delivered(
    receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    endpoint = endpoint_for(receiver)
    before = timezone.now()
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.last_status_code == 500 and "500" in delivery.last_error
    # One minute, ±20%.
    assert before + dt.timedelta(seconds=47) < delivery.next_attempt_at < timezone.now() + dt.timedelta(seconds=73)

    assert services.deliveries_flush() == 0  # not due yet
    assert len(receiver.received) == 1
    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1)):
        assert services.deliveries_flush() == 1
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.order_by("at", "pk")] == [500, 200]
    # The same webhook-id on every attempt, so the receiver can drop one it has seen.
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.event_id}


def test_after_the_cap_a_delivery_fails_and_retry_gives_it_fresh_attempts(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [503, 503]
    endpoint = endpoint_for(receiver)
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1)):
        services.deliveries_flush()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED and delivery.attempts == 2
    assert delivery.next_attempt_at is None and delivery.failed_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_retry(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 1
    assert delivery.attempt_log.count() == 3
    assert not services.delivery_retry(delivery=delivery)  # delivered: nothing to retry


def test_a_delivery_sent_twice_is_posted_once(receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert not services.delivery_send(delivery_id=delivery.pk)  # a second task for it: nothing to do
    assert len(receiver.received) == 1


def test_a_claimed_delivery_is_not_taken_by_another_worker(receiver):
    endpoint = endpoint_for(receiver)
    delivery = services.endpoint_send_test(endpoint=endpoint)
    claimed = services._claim(delivery.pk, now=timezone.now(), due_only=False)
    assert claimed is not None
    assert services._claim(delivery.pk, now=timezone.now(), due_only=False) is None
    assert services.deliveries_flush() == 0
    # Its claim runs out (the worker died): the flush takes it over and sends it.
    later = timezone.now() + dt.timedelta(seconds=services.settings.WEBHOOK_CLAIM_SECONDS + 1)
    with time_machine.travel(later):
        assert services.deliveries_flush() == 1
    assert len(receiver.received) == 1


def test_a_paused_endpoint_gets_nothing(receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    endpoint.active = False
    endpoint.save()
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.FAILED and "paused" in delivery.last_error
    assert receiver.received == []


def test_the_payload_is_sent_as_stored(receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert json.loads(receiver.received[0].body) == delivery.payload


# --- only public addresses, checked and pinned ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",  # shared address space
        "https://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(settings, url):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(net.Refused, match="public"):
        net.check(url)


def test_a_host_is_refused_when_any_of_its_addresses_is_private(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(net, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with pytest.raises(net.Refused, match=r"private network address \(10\.0\.0\.7\)"):
        net.check("https://hooks.example.test/warm")
    monkeypatch.setattr(net, "resolve", lambda host, port: ["93.184.215.14"])
    assert net.check("https://hooks.example.test/warm").host == "hooks.example.test"


def test_only_https_when_required(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(net.Refused, match="https://"):
        net.parse("http://hooks.example.org/warm")
    for bad in ("ftp://hooks.example.org/", "https://user:pw@hooks.example.org/", "https:///nohost"):
        with pytest.raises(net.Refused):
            net.parse(bad)


def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch, django_capture_on_commit_callbacks):
    """DNS rebinding: the host is looked up once per attempt, its addresses checked, and the
    connection made to a checked address, never to a second look-up's answer."""
    looked_up = []

    def resolve(host, port):
        looked_up.append(host)
        # The first answer is checked and used; a second look-up would lead elsewhere.
        return ["127.0.0.1"] if len(looked_up) == 1 else ["10.66.66.66"]

    monkeypatch.setattr(net, "resolve", resolve)
    endpoint = WebhookEndpoint.objects.create(
        owner=UserFactory(), url=receiver.url(host="hooks.example.test"), event_types=EventType.values
    )
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.DELIVERED, delivery.last_error
    assert looked_up == ["hooks.example.test"]
    # The Host header (and, over TLS, the name checked) is still the URL's host.
    assert receiver.received[0].headers["host"] == f"hooks.example.test:{receiver.port}"


def test_at_send_time_a_private_address_fails_the_delivery_without_connecting(
    receiver, settings, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver)  # allowed when it was saved
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # the operator closed it since
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.FAILED and delivery.attempts == 1
    assert "loopback" in delivery.last_error
    assert receiver.received == []


def test_a_server_that_does_not_answer_is_retried(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    endpoint = WebhookEndpoint.objects.create(
        owner=UserFactory(), url="http://127.0.0.1:9/nobody-listens", event_types=EventType.values
    )
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.last_status_code is None and "Connection" in delivery.last_error
    assert delivery.attempt_log.get().status_code is None


def test_the_beat_flushes_deliveries(settings):
    assert settings.CELERY_BEAT_SCHEDULE["webhook-flush"]["task"] == "webhooks.tasks.flush_webhooks"


def test_a_delivery_is_written_with_its_event_and_rolls_back_with_it(receiver):
    from tests.stories import submitted

    seeker = UserFactory()
    endpoint_for(receiver, owner=seeker)
    with transaction.atomic():
        submitted(seeker=seeker)
        assert WebhookDelivery.objects.filter(endpoint__owner=seeker).count() == 1
        transaction.set_rollback(True)
    assert not WebhookDelivery.objects.exists()


def test_a_410_gone_fails_the_delivery_and_pauses_the_endpoint(receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [410]
    endpoint = endpoint_for(receiver)
    delivery = send_test(endpoint, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED and delivery.last_status_code == 410
    assert not endpoint.active and "410 Gone" in delivery.last_error
