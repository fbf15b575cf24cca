"""The endpoint pages: adding one (refused addresses said in words), its deliveries with every
attempt, "Send a test event" (rate limited), "Retry", pause and delete; each page in a constant
number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CohortFactory, UserFactory
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    user = UserFactory(full_name="Janet Seeker")
    client.force_login(user)
    return user


def add(client, url: str, **extra):
    data = {"url": url, "scope": "mine", "event_types": ["request.transitioned", "offer.stale"], **extra}
    return client.post(reverse("webhooks:list"), data)


def test_adding_an_endpoint_gives_it_a_secret_and_shows_its_page(client, owner, receiver):
    response = add(client, receiver.url(), description="My spreadsheet")
    endpoint = WebhookEndpoint.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == endpoint.get_absolute_url()
    assert endpoint.event_types == ["offer.stale", "request.transitioned"] and endpoint.cohort is None
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert endpoint.secret in page and "Send a test event" in page and "My spreadsheet" in page


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.org/warm", "must start with https://"),
        ("https://127.0.0.1/warm", "loopback"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://10.0.0.5/warm", "private network"),
    ],
)
def test_an_address_we_will_not_post_to_is_refused_in_words(client, owner, settings, url, words):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = add(client, url)
    assert response.status_code == 422
    assert words in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_coach_subscribes_to_their_cohort_only(client, owner, receiver):
    cohort = CohortFactory(coach=owner, name="Spring cohort")
    others = CohortFactory(name="Autumn cohort")
    assert "Spring cohort" in client.get(reverse("webhooks:list")).content.decode()
    assert add(client, receiver.url(), scope=str(others.pk)).status_code == 422
    assert add(client, receiver.url(), scope=str(cohort.pk)).status_code == 302
    assert WebhookEndpoint.objects.get().cohort == cohort


def test_send_a_test_event_shows_its_attempt_on_the_page(client, owner, receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=receiver.url(), event_types=EventType.values)
    receiver.statuses = [502]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert "webhook.test" in page and "answer <strong>502</strong>" in page and "Retry now" in page
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:retry", args=[endpoint.pk, delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert "answer <strong>200</strong> (delivered)" in page and "Retry" not in page


def test_test_events_are_rate_limited(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "webhook_test": (2, 3600)}
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url="https://hooks.example.org/", event_types=EventType.values
    )
    url = reverse("webhooks:test", args=[endpoint.pk])
    assert [client.post(url).status_code for _ in range(2)] == [302, 302]
    refused = client.post(url)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "You have sent 2 test events" in refused.content.decode()
    assert WebhookDelivery.objects.count() == 2


def test_pause_resume_and_delete(client, owner):
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url="https://hooks.example.org/", event_types=EventType.values
    )
    client.post(reverse("webhooks:active", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.active and "Resume" in client.get(endpoint.get_absolute_url()).content.decode()
    client.post(reverse("webhooks:active", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk]))["Location"] == reverse("webhooks:list")
    assert not WebhookEndpoint.objects.exists()


def test_another_persons_endpoint_is_a_404(client, owner):
    theirs = WebhookEndpoint.objects.create(
        owner=UserFactory(), url="https://hooks.example.org/", event_types=EventType.values
    )
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert theirs.url not in client.get(reverse("webhooks:list")).content.decode()


def _deliveries(endpoint, count: int) -> None:
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event_id=f"evt_{endpoint.pk}_{WebhookDelivery.objects.count()}_{i}",
            event_type="webhook.test",
            payload={},
            state=WebhookDelivery.State.FAILED,
            next_attempt_at=None,
            attempts=2,
        )
        for i in range(count)
    )
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(delivery=row, status_code=500, error="The server answered 500.")
        for row in rows
        for _ in range(2)
    )


def test_the_pages_take_a_constant_number_of_queries(client, owner, django_assert_max_num_queries):
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url="https://hooks.example.org/", event_types=EventType.values
    )
    _deliveries(endpoint, 2)
    for url in (reverse("webhooks:list"), endpoint.get_absolute_url()):
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200
    for _ in range(5):
        WebhookEndpoint.objects.create(owner=owner, url="https://hooks.example.org/more", event_types=["offer.stale"])
    _deliveries(endpoint, 40)
    for url in (reverse("webhooks:list"), endpoint.get_absolute_url()):
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200
