"""Delete my account: the page asks for the password; deleting closes what waits on the person
through the state machine (so the others are told by email), deletes what is only theirs,
keeps other people's records whole with the person shown as "A former member", and logs out."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, authenticate
from django.urls import reverse
from django.utils import timezone

from accounts.models import FORMER_MEMBER, User
from accounts.personal_data import AccountNotDeletable
from cohorts.models import Cohort, Membership
from contacts import services as contact_services
from contacts.fileformats import parse_upload
from contacts.models import Contact, ImportBatch, Tag
from followups import services as followup_services
from followups.models import CalendarFeed, DigestSchedule, FollowUp, Offer, Outreach, ReminderLog
from intros import services
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_enqueue
from tests.conftest import login
from tests.factories import PASSWORD, ContactFactory, IntroRequestFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions
from workflows.personal_data import do_account_delete

pytestmark = pytest.mark.django_db

URL = reverse("accounts:delete")
CSV_FILE = b"First Name,Last Name,Email Address,Company\r\nAda,Lovelace,ada@example.net,Analytical\r\n"


def _delete(client, user, password=PASSWORD):
    login(client, user)
    return client.post(URL, {"password": password})


def _emails(template_words: str) -> list[OutboxMessage]:
    return [m for m in OutboxMessage.objects.order_by("pk") if template_words in m.subject]


@pytest.fixture
def seekers_world(cohort, seeker, connector, member):
    """Janet (the seeker) with something of every kind, and her requests to Jill in every stage."""
    own = ContactFactory(owner=seeker, name="Sam Ownperson", notes="Janet's private note")
    tag = Tag.objects.create(owner=seeker, name="mentors")
    own.tags.add(tag)
    contact_services.import_preview(owner=seeker, parsed=parse_upload("c.csv", CSV_FILE), filename="c.csv")
    CalendarFeed.objects.create(user=seeker)
    draft = IntroRequestFactory(seeker=seeker, target=ContactFactory(owner=connector, name="Dora Draft"))
    waiting = submitted(seeker=seeker, target=ContactFactory(owner=connector, name="Sue Submitted"))
    introduced = accepted(seeker=seeker, target=ContactFactory(owner=connector, name="Ivy Introduced"))
    met = accepted(seeker=seeker, target=ContactFactory(owner=connector, name="Meg Met"))
    actions.do_record_meeting(intro=met, seeker=seeker, met_on=timezone.localdate())
    followup_services.outreach_record(
        intro=introduced, seeker=seeker, at=timezone.now(), channel="email", note="Wrote to Ivy", confirmed=True
    )
    followup_services.offer_create(
        seeker=seeker, offered_by_name="Jill Connector", contact_name="Pat", offered_by=connector
    )
    # Max, another member, offered Janet nothing but has his own life: it must not change.
    max_contact = ContactFactory(owner=member, name="Maxine Friend", notes="Max's own note")
    max_intro = submitted(seeker=member, target=ContactFactory(owner=connector, name="Tom Target"))
    return {
        "own": own,
        "draft": draft,
        "waiting": waiting,
        "introduced": introduced,
        "met": met,
        "max_contact": max_contact,
        "max_intro": max_intro,
    }


# --- the page ------------------------------------------------------------------------------


def test_the_page_explains_and_asks_for_the_password(client, seeker):
    response = login(client, seeker).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "cannot be undone" in body
    assert 'type="password"' in body
    assert reverse("accounts:data_export") in body
    assert reverse("accounts:delete") in login(client, seeker).get(reverse("accounts:profile")).content.decode()


@pytest.mark.parametrize("password", ["", "wrong", "  "])
def test_deleting_needs_the_password_and_otherwise_changes_nothing(client, seekers_world, seeker, password):
    before = (
        Contact.objects.count(),
        IntroRequest.objects.filter(status=Status.WITHDRAWN).count(),
        OutboxMessage.objects.count(),
    )
    response = _delete(client, seeker, password)
    assert response.status_code == 422
    assert b'role="alert"' in response.content
    seeker.refresh_from_db()
    assert not seeker.is_deleted and seeker.full_name == "Janet Seeker"
    assert client.session[SESSION_KEY] == str(seeker.pk)
    assert before == (
        Contact.objects.count(),
        IntroRequest.objects.filter(status=Status.WITHDRAWN).count(),
        OutboxMessage.objects.count(),
    )


def test_get_never_deletes(client, seeker):
    login(client, seeker).get(URL, {"password": PASSWORD})
    seeker.refresh_from_db()
    assert not seeker.is_deleted


def test_a_coach_is_asked_to_hand_the_cohort_over_first(client, cohort):
    coach = cohort.coach
    page = login(client, coach).get(URL)
    assert page.status_code == 200
    assert "hand it over to another coach" in page.content.decode()
    assert cohort.name in page.content.decode()
    assert 'type="password"' not in page.content.decode()
    response = client.post(URL, {"password": PASSWORD})
    assert response.status_code == 409
    coach.refresh_from_db()
    assert not coach.is_deleted
    assert Cohort.objects.filter(pk=cohort.pk, coach=coach).exists()
    with pytest.raises(AccountNotDeletable):
        do_account_delete(user=coach)


# --- the seeker leaves -----------------------------------------------------------------------------


def test_deleting_logs_out_and_shows_the_confirmation(client, seekers_world, seeker):
    response = _delete(client, seeker)
    assert response.status_code == 302
    assert response.url == reverse("accounts:deleted")
    assert SESSION_KEY not in client.session
    page = client.get(response.url)
    assert page.status_code == 200
    assert b"Your account is deleted" in page.content
    assert client.get(reverse("intros:home")).status_code == 302  # logged out


def test_deleting_over_htmx_sends_the_browser_to_the_confirmation(client, seeker):
    login(client, seeker)
    response = client.post(URL, {"password": PASSWORD}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("accounts:deleted")


def test_the_deleted_person_cannot_log_in(client, seekers_world, seeker):
    email = seeker.email
    _delete(client, seeker)
    seeker.refresh_from_db()
    assert authenticate(username=email, password=PASSWORD) is None
    assert authenticate(username=seeker.email, password=PASSWORD) is None
    response = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    # Nor reset their way back in: no account has that address any more.
    client.post(reverse("accounts:password_reset"), {"email": email})
    assert not OutboxMessage.objects.filter(subject__icontains="reset").exists()


def test_the_row_stays_as_an_anonymous_tombstone(client, seekers_world, seeker):
    _delete(client, seeker)
    seeker.refresh_from_db()
    assert seeker.is_deleted
    assert seeker.full_name == FORMER_MEMBER == str(seeker)
    assert seeker.email == f"deleted-{seeker.pk}@deleted.invalid"
    assert not seeker.is_active and not seeker.has_usable_password()
    assert seeker.get_short_name() == "a former member"


def test_their_private_things_are_gone(client, seekers_world, seeker):
    _delete(client, seeker)
    assert not Contact.objects.filter(owner=seeker).exists()
    assert not Tag.objects.filter(owner=seeker).exists()
    assert not ImportBatch.objects.filter(owner=seeker).exists()
    assert not CalendarFeed.objects.filter(user=seeker).exists()
    assert not DigestSchedule.objects.filter(user=seeker).exists()
    assert not Membership.objects.filter(user=seeker).exists()
    assert not Offer.objects.filter(seeker=seeker).exists()
    assert not Outreach.objects.filter(seeker=seeker).exists()
    assert not FollowUp.objects.filter(owner=seeker, status=FollowUp.Status.OPEN).exists()
    # Their preparation (writing about themselves) is cleared from the requests that stay.
    assert not IntroRequest.objects.filter(seeker=seeker).exclude(goal="").exists()


def test_their_open_requests_are_withdrawn_and_the_connector_is_told(client, seekers_world, seeker, connector):
    w = seekers_world
    OutboxMessage.objects.all().delete()
    _delete(client, seeker)
    for key in ("draft", "waiting", "introduced"):
        w[key].refresh_from_db()
        assert w[key].status == Status.WITHDRAWN, key
        assert w[key].events.filter(transition="withdraw", actor=seeker).exists()
    w["met"].refresh_from_db()
    assert w["met"].status == Status.MET  # history, not open: kept as it was
    # Nobody is left to check in with: the connector's open check-in is skipped.
    assert not FollowUp.objects.filter(intro=w["met"], status=FollowUp.Status.OPEN).exists()
    withdrawn = _emails("withdrew")
    # The draft never reached Jill, so she hears of the two she had seen, not of the draft.
    assert len(withdrawn) == 2
    assert all(m.to == [connector.email] for m in withdrawn)
    subjects = " ".join(m.subject for m in withdrawn)
    assert "Sue Submitted" in subjects and "Ivy Introduced" in subjects and "Dora Draft" not in subjects
    assert all("deleted their Warm Intros account" in m.body_text for m in withdrawn)


def test_the_connector_sees_a_former_member_on_the_request_and_in_the_inbox(client, seekers_world, seeker, connector):
    _delete(client, seeker)
    login(client, connector)
    page = client.get(reverse("intros:detail", args=[seekers_world["waiting"].pk])).content.decode()
    assert FORMER_MEMBER in page
    assert "Janet" not in page
    inbox = client.get(reverse("intros:inbox")).content.decode()
    assert FORMER_MEMBER in inbox
    assert "Janet" not in inbox


def test_pending_mail_to_them_is_dropped_and_nothing_new_is_written(client, seekers_world, seeker, connector):
    alone = outbox_enqueue(
        to=[seeker.email],
        subject="Just for Janet",
        template="intro_withdrawn",
        context={"intro": seekers_world["waiting"], "note": "", "url": "x"},
    )
    shared = outbox_enqueue(
        to=[seeker.email, connector.email],
        cc=[seeker.email],
        subject="For both",
        template="intro_withdrawn",
        context={"intro": seekers_world["waiting"], "note": "", "url": "x"},
    )
    _delete(client, seeker)
    seeker.refresh_from_db()
    assert not OutboxMessage.objects.filter(pk=alone.pk).exists()
    shared.refresh_from_db()
    assert shared.to == [connector.email] and shared.cc == []
    assert (
        outbox_enqueue(
            to=[seeker.email],
            subject="After",
            template="intro_withdrawn",
            context={"intro": seekers_world["waiting"], "note": "", "url": "x"},
        )
        is None
    )
    assert not any(seeker.email in m.to for m in OutboxMessage.objects.all())


def test_reminders_sent_to_them_keep_their_once_only_key_but_lose_the_address(client, seeker):
    ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.DIGEST, object_id=seeker.pk, sequence=1, recipient=seeker.email
    )
    _delete(client, seeker)
    log = ReminderLog.objects.get(kind=ReminderLog.Kind.DIGEST, object_id=seeker.pk)
    assert log.recipient == ""
    assert not ReminderLog.objects.record_once(kind=ReminderLog.Kind.DIGEST, object_id=seeker.pk, sequence=1)


def test_another_members_data_is_untouched(client, seekers_world, seeker, member):
    def of_max():
        return (
            list(Contact.objects.filter(owner=member).values()),
            list(IntroRequest.objects.filter(seeker=member).values("pk", "status", "goal")),
            list(Membership.objects.filter(user=member).values()),
            list(FollowUp.objects.filter(owner=member).values()),
            User.objects.filter(pk=member.pk).values("email", "full_name", "is_active").get(),
        )

    before = of_max()
    _delete(client, seeker)
    assert of_max() == before


def test_deleting_twice_is_harmless(seeker):
    do_account_delete(user=seeker)
    again = do_account_delete(user=seeker)
    assert again.is_deleted


# --- the connector leaves ---------------------------------------------------------------------------


@pytest.fixture
def connectors_world(cohort, seeker, connector):
    """Jill (the connector) with requests from Janet in every stage, and contacts of her own."""
    lonely = ContactFactory(owner=connector, name="Lonely Contact", notes="Jill's note")
    asked = submitted(seeker=seeker, target=ContactFactory(owner=connector, name="Sue Submitted", notes="Jill's note"))
    waiting = awaiting_target(seeker=seeker, target=ContactFactory(owner=connector, name="Ann Awaiting"))
    _, token = last_link_token(waiting)
    introduced = accepted(
        seeker=seeker,
        target=ContactFactory(owner=connector, name="Ivy Introduced", email="ivy@example.org", notes="Jill's note"),
    )
    return {"lonely": lonely, "asked": asked, "waiting": waiting, "token": token, "introduced": introduced}


def test_requests_waiting_on_the_connector_are_closed_and_the_seeker_is_told(
    client, connectors_world, seeker, connector
):
    w = connectors_world
    OutboxMessage.objects.all().delete()
    _delete(client, connector)
    for key in ("asked", "waiting"):
        w[key].refresh_from_db()
        assert w[key].status == Status.DECLINED_BY_CONNECTOR, key
        assert w[key].next_action_at is None  # the sweep will not re-ask the target
        assert w[key].events.filter(transition="connector_left").exists()
    closed = _emails("has been closed")
    assert len(closed) == 2
    assert all(m.to == [seeker.email] for m in closed)
    assert all("Jill Connector has closed their Warm Intros account" in m.body_text for m in closed)
    assert all("does not count against you" in m.body_text for m in closed)
    # The target's link now says the request is no longer waiting; answering changes nothing.
    response = client.post(reverse("intros:target", args=[w["waiting"].pk, w["token"]]), {"action": "decline"})
    assert response.status_code == 410
    # An introduction already made goes on between the seeker and the target.
    w["introduced"].refresh_from_db()
    assert w["introduced"].status == Status.INTRODUCED


def test_the_seeker_sees_a_former_member_and_keeps_what_was_shared(client, connectors_world, seeker, connector):
    w = connectors_world
    _delete(client, connector)
    login(client, seeker)
    page = client.get(reverse("intros:detail", args=[w["introduced"].pk])).content.decode()
    assert FORMER_MEMBER in page and "Jill" not in page
    assert "ivy@example.org" in page  # the target's address was the seeker's already
    home = client.get(reverse("intros:home")).content.decode()
    assert "Jill" not in home
    # No thank-you is owed to someone who left, and the follow-ups no longer name her.
    thanks = FollowUp.objects.get(intro=w["introduced"], kind=FollowUp.Kind.THANK_CONNECTOR)
    assert thanks.status == FollowUp.Status.SKIPPED
    assert not FollowUp.objects.filter(counterpart__contains="Jill").exists()


def test_the_connectors_contacts_go_or_keep_only_what_the_request_needs(client, connectors_world, connector):
    w = connectors_world
    _delete(client, connector)
    assert not Contact.objects.filter(pk=w["lonely"].pk).exists()
    asked = Contact.objects.get(pk=w["asked"].target_id)
    assert (asked.name, asked.email, asked.notes, asked.shareable) == ("Sue Submitted", "", "", False)
    ivy = Contact.objects.get(pk=w["introduced"].target_id)
    assert (ivy.email, ivy.notes) == ("ivy@example.org", "")


def test_the_coach_sees_a_former_member_in_the_csv_and_not_the_name(client, connectors_world, cohort, connector):
    _delete(client, connector)
    login(client, cohort.coach)
    # The dashboard's numbers are as of the last whole minute: look a minute later.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=False):
        page = client.get(reverse("cohorts:dashboard", args=[cohort.pk]))
        assert page.status_code == 200
        assert "Jill" not in page.content.decode()
        response = client.get(reverse("cohorts:export_requests", args=[cohort.pk]))
        members = client.get(reverse("cohorts:export_members", args=[cohort.pk])).content.decode("utf-8-sig")
        detail = client.get(reverse("cohorts:detail", args=[cohort.pk])).content.decode()
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    connectors = {row[rows[0].index("Connector")] for row in rows[1:]}
    assert connectors == {FORMER_MEMBER}
    assert "Jill" not in members
    assert "Jill" not in detail


def test_a_referral_through_a_connector_who_left_records_the_outcome_without_a_new_request(
    connectors_world, seeker, connector
):
    intro = connectors_world["introduced"]
    do_account_delete(user=connector)
    actions.do_record_meeting(intro=intro, seeker=seeker, met_on=timezone.localdate())
    result = actions.do_record_outcome(intro=intro, seeker=seeker, outcome="referred_on", referred_to={"name": "Rita"})
    assert result.intro.status == Status.OUTCOME
    assert not IntroRequest.objects.filter(parent=intro).exists()


def test_a_member_offered_by_someone_who_left_can_no_longer_ask_them(client, seeker, connector, cohort):
    offer = followup_services.offer_create(
        seeker=seeker, offered_by_name="Jill Connector", contact_name="Pat", offered_by=connector
    )
    do_account_delete(user=connector)
    offer.refresh_from_db()
    assert offer.offered_by is None and offer.offered_by_name == FORMER_MEMBER
    with pytest.raises(services.NotAllowed):
        followup_services.offer_request_intro(offer=offer, seeker=seeker)
