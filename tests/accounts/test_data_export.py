"""Download all my data: one JSON file of everything that is the person's own, and nothing that
is someone else's to see."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contacts import services as contact_services
from contacts.fileformats import parse_upload
from contacts.models import Tag
from followups import services as followup_services
from followups.models import CalendarFeed, ReminderLog
from intros import services
from tests.conftest import login
from tests.factories import ContactFactory, IntroRequestFactory
from tests.intros.helpers import accepted, awaiting_target, submitted

pytestmark = pytest.mark.django_db

URL = reverse("accounts:data_export")
CSV_FILE = b"First Name,Last Name,Email Address,Company\r\nAda,Lovelace,ada@example.net,Analytical\r\n"


def _download(client, user) -> dict:
    response = login(client, user).get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_file_is_an_attachment_named_with_the_date(client, seeker):
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        response = login(client, seeker).get(URL)
        profile = client.get(reverse("accounts:profile")).content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="warm-intros-my-data-2026-05-04.json"'
    assert "no-store" in response["Cache-Control"]
    assert reverse("accounts:data_export") in profile


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_everything_that_is_mine_is_in_it(client, cohort, seeker, connector, target):
    contact = ContactFactory(owner=seeker, name="Sam Ownperson", notes="My own note about Sam", time_zone="Asia/Tokyo")
    contact.tags.add(Tag.objects.create(owner=seeker, name="mentors"))
    contact_services.import_preview(owner=seeker, parsed=parse_upload("c.csv", CSV_FILE), filename="c.csv")
    introduced = accepted(seeker=seeker, target=target)
    followup_services.outreach_record(
        intro=introduced, seeker=seeker, at=timezone.now(), channel="email", note="Wrote to Carol", confirmed=True
    )
    followup_services.offer_create(seeker=seeker, offered_by_name="Rosa", contact_name="Pat Promised")
    ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.DIGEST, object_id=seeker.pk, sequence=7, recipient=seeker.email
    )
    CalendarFeed.objects.create(user=seeker)
    # Janet is also a connector for Max, another member.
    received = submitted(seeker=connector, target=ContactFactory(owner=seeker, name="Tina Mine"))

    data = _download(client, seeker)

    assert data["format"] == "warm-intros-export" and data["version"] == 1
    assert data["profile"]["email"] == seeker.email
    assert data["profile"]["full_name"] == "Janet Seeker"
    sam = next(c for c in data["contacts"] if c["name"] == "Sam Ownperson")
    assert sam["notes"] == "My own note about Sam"
    assert sam["tags"] == ["mentors"]
    assert sam["window"]["time_zone"] == "Asia/Tokyo"
    assert sam["window"]["weekdays"] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert data["contact_tags"] == ["mentors"]
    assert data["contact_imports"][0]["filename"] == "c.csv"

    [made] = data["intro_requests_as_seeker"]
    assert made["id"] == introduced.pk and made["status"] == "introduced"
    assert made["connector"] == "Jill Connector"
    assert made["target"]["email"] == "carol@example.org"  # accepted: the seeker was given it
    assert [e["transition"] for e in made["events"]][:2] == ["submit", "approve"]
    assert [e["by"] for e in made["events"]][:2] == ["Janet Seeker", "Jill Connector"]
    assert any(e["by"] == "Carol Target" for e in made["events"])
    assert made["preparation"]["goal"]

    [got] = data["intro_requests_as_connector"]
    assert got["id"] == received.pk and got["seeker"] == "Jill Connector"
    assert got["target"]["name"] == "Tina Mine"

    assert {f["kind"] for f in data["followups"]} >= {"thank_connector"}
    assert data["outreach"][0]["note"] == "Wrote to Carol"
    assert data["offers"][0]["contact_name"] == "Pat Promised"
    assert data["cohort_memberships"] == [
        {"cohort": cohort.name, "coach": "Dana Coach", "joined_at": data["cohort_memberships"][0]["joined_at"]}
    ]
    assert data["reminders_sent_to_you"][0]["number"] == 7
    assert data["calendar_feed"]["created_at"]
    assert CalendarFeed.objects.get(user=seeker).token not in json.dumps(data)


def test_nothing_that_is_someone_elses(client, cohort, seeker, connector, member, target):
    target.notes = "Jill's private note about Carol"
    target.how_we_know = "Jill's old colleague"
    target.save()
    waiting = awaiting_target(seeker=seeker, target=target)
    services.intro_remind_target(intro=waiting)  # a re-ask: still not accepted
    shared = ContactFactory(
        owner=member, name="Maxine Shared", shareable=True, notes="Max's note", email="maxine@x.org"
    )
    IntroRequestFactory(seeker=member, target=ContactFactory(owner=connector, name="Not Janets"))
    # Max's draft to Janet as connector: a draft is Max's own until submitted.
    IntroRequestFactory(seeker=member, target=ContactFactory(owner=seeker, name="Drafted At Janet"))

    text = json.dumps(_download(client, seeker))
    data = json.loads(text)

    [made] = data["intro_requests_as_seeker"]
    assert made["target"]["email"] is None  # not accepted yet: not the seeker's to know
    for secret in ("carol@example.org", "Jill's private note", "Jill's old colleague", "Max's note", "maxine@x.org"):
        assert secret not in text, secret
    assert shared.name not in text
    assert "Not Janets" not in text
    assert data["intro_requests_as_connector"] == []
    assert "target_feedback" not in made


def test_the_number_of_queries_does_not_grow_with_the_data(
    client, cohort, seeker, connector, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            accepted(seeker=seeker, target=ContactFactory(owner=connector, name=f"T{i}", email=f"t{i}@x.org"))
            ContactFactory(owner=seeker).tags.add(Tag.objects.get_or_create(owner=seeker, name=f"tag{i}")[0])

    add(1)
    login(client, seeker)
    with django_assert_max_num_queries(25) as small:
        client.get(URL)
    add(5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(URL)
