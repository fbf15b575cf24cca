"""Who hears of each event, and what each hears: the same visibility as the pages. A seeker's
payload carries the target's email only once the target accepted; a connector hears of a request
only once it was submitted to them; a coach's cohort payload carries the dashboard's kind of data
(names, states, dates), never a target's email or anyone's notes; an outsider hears nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from followups import services as followup_services
from followups.models import FollowUp, Offer
from followups.sweep import sweep
from tests.factories import CohortFactory, ContactFactory, IntroRequestFactory, MembershipFactory, UserFactory
from tests.stories import accepted, submitted
from webhooks.events import emit
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from workflows import intros as actions
from workflows.followups import do_record_outreach

pytestmark = pytest.mark.django_db

NOTE = "PRIVATE-NOTE-51c2"
EMAIL = "carol.target@example.org"


@pytest.fixture
def people(db):
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    coach = UserFactory(full_name="Dana Coach")
    outsider = UserFactory(full_name="Olive Outsider")
    cohort = CohortFactory(coach=coach, name="Spring cohort")
    MembershipFactory(cohort=cohort, user=seeker)
    other_coach = UserFactory(full_name="Otto Othercoach")
    other_cohort = CohortFactory(coach=other_coach, name="Autumn cohort")
    endpoints = {
        "seeker": WebhookEndpoint.objects.create(owner=seeker, url="https://s.example/", event_types=EventType.values),
        "connector": WebhookEndpoint.objects.create(
            owner=connector, url="https://c.example/", event_types=EventType.values
        ),
        "coach": WebhookEndpoint.objects.create(
            owner=coach, cohort=cohort, url="https://k.example/", event_types=EventType.values
        ),
        # Another coach's cohort, which the seeker is not in; and an outsider's own endpoint.
        "other_coach": WebhookEndpoint.objects.create(
            owner=other_coach, cohort=other_cohort, url="https://o.example/", event_types=EventType.values
        ),
        "outsider": WebhookEndpoint.objects.create(
            owner=outsider, url="https://x.example/", event_types=EventType.values
        ),
    }
    target = ContactFactory(owner=connector, name="Carol Target", email=EMAIL, notes=NOTE, shareable=True)
    return {"seeker": seeker, "connector": connector, "coach": coach, "cohort": cohort, "target": target} | {
        "endpoints": endpoints
    }


def payloads(people, kind: str) -> dict[str, list[dict]]:
    """Each role's payloads of `kind`, oldest first."""
    found: dict[str, list[dict]] = {}
    for role, endpoint in people["endpoints"].items():
        rows = WebhookDelivery.objects.filter(endpoint=endpoint, event_type=kind).order_by("created_at", "pk")
        found[role] = [row.payload for row in rows]
    return found


def assert_nothing_private(payload: dict) -> None:
    text = json.dumps(payload)
    assert NOTE not in text and "I worked with" not in text and "vouch" not in text


def test_a_transition_reaches_the_seeker_the_connector_and_the_coach_each_as_their_pages_show_it(people):
    intro = submitted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    got = payloads(people, EventType.REQUEST_TRANSITIONED)
    assert [len(got[r]) for r in ("seeker", "connector", "coach", "other_coach", "outsider")] == [1, 1, 1, 0, 0]

    seeker, connector, coach = got["seeker"][0], got["connector"][0], got["coach"][0]
    assert seeker["type"] == "request.transitioned"
    assert seeker["data"]["transition"] == "submit" and seeker["data"]["to_status"] == "submitted"
    assert seeker["data"]["request"]["id"] == intro.pk
    assert seeker["data"]["request"]["url"].endswith(intro.get_absolute_url())
    # Before the target accepts, the seeker does not see their address; the connector (their contact) does.
    assert "email" not in seeker["data"]["request"]["target"]
    assert EMAIL not in json.dumps(seeker)
    assert connector["data"]["request"]["target"]["email"] == EMAIL
    # The coach: names, states, dates; no address, no link to a page they cannot open.
    assert coach["data"]["cohort"] == {"id": people["cohort"].pk, "name": "Spring cohort"}
    assert set(coach["data"]["request"]["target"]) == {"name", "organisation", "title"}
    assert coach["data"]["request"]["target"]["name"] == "Carol Target"
    assert EMAIL not in json.dumps(coach) and "url" not in coach["data"]["request"]
    for payload in (seeker, connector, coach):
        assert_nothing_private(payload)


def test_once_the_target_accepts_the_seekers_payload_carries_their_email_and_the_coachs_never(people):
    accepted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    got = payloads(people, EventType.REQUEST_TRANSITIONED)
    last_seeker, last_coach = got["seeker"][-1], got["coach"][-1]
    assert last_seeker["data"]["to_status"] in ("accepted", "introduced")
    assert last_seeker["data"]["request"]["target"]["email"] == EMAIL
    for payload in got["coach"]:
        assert EMAIL not in json.dumps(payload)
        assert_nothing_private(payload)
    assert last_coach["data"]["to_status"] == last_seeker["data"]["to_status"]


def test_a_draft_withdrawn_unsubmitted_is_the_seekers_alone(people):
    draft = IntroRequestFactory(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    actions.do_withdraw(intro=draft, seeker=people["seeker"])
    got = payloads(people, EventType.REQUEST_TRANSITIONED)
    assert [len(got[r]) for r in ("seeker", "connector", "coach")] == [1, 0, 0]


def test_an_endpoint_hears_only_the_events_it_chose(people):
    endpoint = people["endpoints"]["seeker"]
    endpoint.event_types = [EventType.OFFER_STALE]
    endpoint.save()
    submitted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()


def test_a_coach_who_no_longer_coaches_the_cohort_hears_nothing_of_it(people):
    cohort = people["cohort"]
    cohort.coach = UserFactory()
    cohort.save()
    submitted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    assert not WebhookDelivery.objects.filter(endpoint=people["endpoints"]["coach"]).exists()


def test_the_same_event_emitted_twice_is_written_once(people):
    intro = submitted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    event = intro.events.get(transition="submit")
    assert emit(EventType.REQUEST_TRANSITIONED, event)  # still pending: its ids, nothing new
    assert WebhookDelivery.objects.filter(event_type=EventType.REQUEST_TRANSITIONED).count() == 3


def test_nobody_listening_costs_one_query(people, django_assert_num_queries):
    WebhookEndpoint.objects.all().delete()
    intro = submitted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    event = intro.events.get(transition="submit")
    with django_assert_num_queries(1):
        assert emit(EventType.REQUEST_TRANSITIONED, event) == []


NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def test_a_follow_up_falling_due_reaches_its_owner_and_their_coach_once_per_due_date(people):
    seeker = people["seeker"]
    item = FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=NOON,
        next_action_at=NOON,
        notes=NOTE,
    )
    assert sweep(now=NOON)["followup_reminded"] == 1
    sweep(now=NOON + dt.timedelta(hours=1))
    got = payloads(people, EventType.FOLLOWUP_DUE)
    assert [len(got[r]) for r in ("seeker", "connector", "coach", "outsider")] == [1, 0, 1, 0]
    mine = got["seeker"][0]["data"]
    assert mine["followup"]["id"] == item.pk and mine["followup"]["kind"] == "thank_connector"
    assert mine["followup"]["with"] == "Jill Connector" and mine["followup"]["url"].endswith("/follow-ups/")
    assert "url" not in got["coach"][0]["data"]["followup"]
    for payload in got["seeker"] + got["coach"]:
        assert_nothing_private(payload)
    # Snoozed to a new due date: one more event when that comes.
    followup_services.followup_snooze(followup=item, days=1, now=NOON)
    sweep(now=NOON + dt.timedelta(days=1))
    assert len(payloads(people, EventType.FOLLOWUP_DUE)["seeker"]) == 2


def test_a_boundary_breach_reaches_the_seeker_the_connector_and_the_coach_without_the_outreach_note(people):
    target = people["target"]
    intro = accepted(seeker=people["seeker"], connector=people["connector"], target=target)
    target.unavailable_until = timezone.localdate() + dt.timedelta(days=5)
    target.save()
    outreach = do_record_outreach(
        intro=intro, seeker=people["seeker"], at=timezone.now(), channel="email", note=NOTE, confirmed=True
    )
    assert outreach.is_breach
    got = payloads(people, EventType.OUTREACH_BREACH)
    assert [len(got[r]) for r in ("seeker", "connector", "coach", "outsider")] == [1, 1, 1, 0]
    assert got["seeker"][0]["data"]["outreach"]["id"] == outreach.pk
    assert got["connector"][0]["data"]["outreach"]["broke"]
    assert "broke" not in got["coach"][0]["data"]["outreach"]
    for payloads_of_role in got.values():
        for payload in payloads_of_role:
            assert_nothing_private(payload)
            assert EMAIL not in json.dumps(payload)


def test_an_outreach_inside_the_window_is_no_event(people):
    intro = accepted(seeker=people["seeker"], connector=people["connector"], target=people["target"])
    # The latest weekday noon (UTC) before now: inside the target's default window (Mon–Fri, 9–17 UTC).
    at = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    while at > timezone.now() or at.weekday() > 4:
        at -= dt.timedelta(days=1)
    outreach = do_record_outreach(intro=intro, seeker=people["seeker"], at=at, channel="email")
    assert not outreach.is_breach
    assert not WebhookDelivery.objects.filter(event_type=EventType.OUTREACH_BREACH).exists()


def test_an_offer_going_stale_reaches_its_seeker_and_their_coach(people):
    offer = followup_services.offer_create(
        seeker=people["seeker"],
        offered_by_name="Rosa",
        contact_name="Maya Promised",
        note=NOTE,
        now=NOON - dt.timedelta(days=20),
    )
    counts = sweep(now=NOON)
    assert counts.get("offer_stale") == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE
    got = payloads(people, EventType.OFFER_STALE)
    assert [len(got[r]) for r in ("seeker", "connector", "coach", "outsider")] == [1, 0, 1, 0]
    assert got["seeker"][0]["data"]["offer"]["contact_name"] == "Maya Promised"
    assert "url" in got["seeker"][0]["data"]["offer"] and "url" not in got["coach"][0]["data"]["offer"]
    for payload in got["seeker"] + got["coach"]:
        assert_nothing_private(payload)
