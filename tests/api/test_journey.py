"""The introduction's whole way through the API, as two people's scripts would drive it: the
connector adds a contact to share, the seeker drafts and submits a request, the connector
approves, the target accepts through the link in their own email, and the seeker lists the
follow-ups this made and marks them done."""

from __future__ import annotations

import pytest
from django.urls import reverse

from followups.models import FollowUp
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION, CohortFactory, MembershipFactory, UserFactory
from tests.stories import last_link_token

from .helpers import ApiClient, ok

pytestmark = pytest.mark.django_db


def test_journey_through_the_api_from_contact_to_follow_ups_done(client):
    cohort = CohortFactory()
    janet, jill = UserFactory(full_name="Janet Okafor"), UserFactory(full_name="Jill Moreno")
    for person in (janet, jill):
        MembershipFactory(cohort=cohort, user=person)
    as_janet, as_jill = ApiClient(janet), ApiClient(jill)

    # Jill adds the contact she is willing to introduce, shared with her cohort.
    carol = ok(
        as_jill.post(
            "/contacts",
            {
                "name": "Carol Alvarez",
                "email": "carol@northwind.example",
                "organisation": "Northwind",
                "title": "Chief Administrative Officer",
                "shareable": True,
                "tags": ["finance"],
                "time_zone": "America/New_York",
            },
        ),
        201,
    )
    assert carol["shareable"] and carol["tags"] == ["finance"] and carol["weekdays"] == [0, 1, 2, 3, 4]
    assert [c["id"] for c in ok(as_jill.get("/contacts?q=northwind"))["items"]] == [carol["id"]]

    # Janet drafts the request, then submits it.
    draft = ok(as_janet.post("/intros", {"target_id": carol["id"], **GOOD_PREPARATION}), 201)
    assert draft["status"] == "draft" and draft["role"] == "seeker"
    assert draft["target"]["email"] is None  # not hers to see until Carol accepts
    submitted = ok(as_janet.post(f"/intros/{draft['id']}/submit"))
    assert submitted["changed"] and submitted["intro"]["status"] == "submitted"

    # Jill sees it waiting on her and approves it, with the vetting form's checks.
    waiting = ok(as_jill.get("/intros?role=connector&status=submitted"))["items"]
    assert [i["id"] for i in waiting] == [draft["id"]]
    refused = as_jill.post(f"/intros/{draft['id']}/approve", {"vouch_strength": "close", "vouch_note": "Good."})
    assert refused.status_code == 422 and refused["Content-Type"].startswith("application/problem+json")
    approved = ok(
        as_jill.post(
            f"/intros/{draft['id']}/approve",
            {
                "checked_preparation": True,
                "checked_fit": True,
                "checked_relationship": True,
                "vouch_strength": "close",
                "vouch_note": "Janet ran the budget process with me for two years.",
                "mode": "double_opt_in",
            },
        )
    )
    assert approved["intro"]["status"] == "awaiting_target"

    # Carol answers through the link in the email asking her, sent to her alone.
    intro = IntroRequest.objects.get(pk=draft["id"])
    _, token = last_link_token(intro)
    ask = next(m for m in OutboxMessage.objects.order_by("-pk") if token in m.body_text)
    assert ask.to == ["carol@northwind.example"] and not ask.cc
    url = reverse("intros:target", args=[intro.pk, token])
    response = client.post(url, {"action": "accept", "accept-writes_first": "seeker"})
    assert response.status_code == 200, response.content.decode()[:2000]

    detail = ok(as_janet.get(f"/intros/{draft['id']}"))
    assert detail["status"] == Status.INTRODUCED
    assert detail["target"]["email"] == "carol@northwind.example"  # hers now
    assert [e["transition"] for e in detail["timeline"]] == [
        "create",
        "submit",
        "approve",
        "ask_target",
        "target_accept",
        "introduce",
    ]

    # Janet's follow-ups: listed, then each done.
    followups = ok(as_janet.get("/follow-ups"))["items"]
    kinds = {f["kind"] for f in followups}
    assert {FollowUp.Kind.REACH_OUT, FollowUp.Kind.THANK_CONNECTOR} <= kinds, kinds
    for followup in followups:
        done = ok(as_janet.post(f"/follow-ups/{followup['id']}/done"))
        assert done["status"] == "done" and done["done_at"]
    assert ok(as_janet.get("/follow-ups"))["items"] == []
    assert len(ok(as_janet.get("/follow-ups?status=done"))["items"]) == len(followups)
    assert not FollowUp.objects.filter(owner=janet, status=FollowUp.Status.OPEN).exists()
