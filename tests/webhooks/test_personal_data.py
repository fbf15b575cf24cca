"""A person's endpoints in "Download all my data" (never the secret) and gone with their account."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from tests.factories import UserFactory
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from workflows.personal_data import account_export, do_account_delete

pytestmark = pytest.mark.django_db


def test_my_endpoints_are_in_my_data_without_their_secret_and_go_with_my_account():
    janet = UserFactory()
    endpoint = WebhookEndpoint.objects.create(
        owner=janet, url="https://hooks.example.org/janet", event_types=[EventType.OFFER_STALE]
    )
    WebhookDelivery.objects.create(endpoint=endpoint, event_id="evt_1", event_type="webhook.test", payload={})
    others = WebhookEndpoint.objects.create(owner=UserFactory(), url="https://x.example/", event_types=[])

    exported = account_export(user=janet)
    text = json.dumps(exported, cls=DjangoJSONEncoder)
    assert [e["url"] for e in exported["webhook_endpoints"]] == ["https://hooks.example.org/janet"]
    assert endpoint.secret not in text and "whsec_" not in text

    do_account_delete(user=janet)
    assert list(WebhookEndpoint.objects.all()) == [others]
    assert not WebhookDelivery.objects.exists()
