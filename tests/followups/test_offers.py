"""Offers ("I can introduce you to…"): recorded on the page, taken off the offerer's list, nudged, gone stale."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from contacts.models import Contact
from followups.models import FollowUp, Offer, ReminderLog
from followups.sweep import sweep
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_flush
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import text

pytestmark = pytest.mark.django_db

# A Monday, midday UTC: inside everybody's hours (their time zone is UTC unless a test says otherwise).
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NUDGE = "offered to introduce you to"


def nudges_to(user) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(to=[user.email], subject__contains=NUDGE).order_by("pk"))


@pytest.fixture
def lee(db):
    return UserFactory(full_name="Lee Chen")


@pytest.fixture
def sam(db):
    return UserFactory(full_name="Sam Okoye")


@pytest.fixture
def group(db, lee, sam):
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=lee)
    MembershipFactory(cohort=cohort, user=sam)
    return cohort


def record(client, seeker, **data) -> Offer:
    client.force_login(seeker)
    response = client.post(reverse("followups:offers"), {"offered_by_name": "Sam Okoye", **data})
    assert response.status_code == 302, text(response)[:2000]
    assert response.url == reverse("followups:offers")
    return Offer.objects.filter(seeker=seeker).latest("pk")


@pytest.fixture
def offer(client, lee, group):
    with time_machine.travel(T0, tick=False):
        offer = record(client, lee, contact_name="Rita Recruiter", contact_organisation="Northwind")
    client.force_login(lee)  # a session started at T0 would have expired by the real today
    return offer


# --- recording -----------------------------------------------------------------------------------------


def test_an_empty_offer_form_shows_errors_next_to_the_fields(client, lee):
    client.force_login(lee)
    response = client.post(reverse("followups:offers"), {"offered_by_name": "  ", "contact_name": ""})
    assert response.status_code == 422
    page = text(response)
    assert 'id="id_offered_by_name_error"' in page and 'id="id_contact_name_error"' in page
    assert "This field is required." in page
    assert 'id="id_contact_organisation_error"' not in page
    assert not Offer.objects.exists()


def test_an_offer_from_a_cohort_member_is_linked_to_them(client, lee, sam, group):
    client.force_login(lee)
    response = client.post(
        reverse("followups:offers"),
        {"offered_by_name": "sam okoye", "contact_name": "Rita Recruiter", "contact_title": "Head of Talent"},
        follow=True,
    )
    page = text(response)
    assert "Offer recorded: Rita Recruiter. Decide how you'll act on it below." in page
    assert "Rita Recruiter</span>, Head of Talent" in page
    assert "I'll contact them myself, mentioning sam okoye" in page
    assert "I'll ask Sam to introduce me" in page
    offer = Offer.objects.get(seeker=lee)
    assert offer.offered_by == sam and offer.status == Offer.Status.OPEN
    assert offer.next_action_at == offer.created_at + 3 * DAY


def test_a_namesake_outside_my_cohorts_is_not_taken_for_the_offerer(client, lee, group):
    UserFactory(full_name="Pat Stranger")
    offer = record(client, lee, offered_by_name="Pat Stranger", contact_name="Rita Recruiter")
    assert offer.offered_by is None
    page = text(client.get(reverse("followups:offers")))
    assert "I'll contact them myself, mentioning Pat Stranger" in page
    assert "to introduce me" not in page


# --- taking it off their list ----------------------------------------------------------------------------


def test_contacting_them_myself_gives_me_the_followup_not_the_offerer(client, lee, sam, offer):
    response = client.post(reverse("followups:offer_self_contact", args=[offer.pk]), follow=True)
    page = text(response)
    assert "It's on your list: contact Rita Recruiter, mentioning Sam Okoye." in page
    assert "I've contacted them" in page
    followup = FollowUp.objects.get(offer=offer)
    assert followup.owner == lee and followup.kind == FollowUp.Kind.OFFER_CONTACT
    assert followup.counterpart == "Rita Recruiter, mentioning Sam Okoye"
    assert not FollowUp.objects.filter(owner=sam).exists()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.SELF_CONTACT

    mine = text(client.get(reverse("followups:list")))
    assert "Make the contact you were offered</span> — Rita Recruiter, mentioning Sam Okoye" in mine
    client.force_login(sam)
    assert "Rita Recruiter" not in text(client.get(reverse("followups:list")))

    # A second click changes nothing: still one follow-up.
    client.force_login(lee)
    client.post(reverse("followups:offer_self_contact", args=[offer.pk]))
    assert FollowUp.objects.filter(offer=offer).count() == 1

    # Once done, the offer and its follow-up are done together.
    client.post(reverse("followups:offer_contacted", args=[offer.pk]))
    offer.refresh_from_db()
    followup.refresh_from_db()
    assert offer.status == Offer.Status.DONE and followup.status == FollowUp.Status.DONE


def test_the_self_contact_followup_reminds_me_once_and_the_offer_no_longer_nudges(client, lee, sam, offer):
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        client.post(reverse("followups:offer_self_contact", args=[offer.pk]))
    for day in (2, 3, 10, 14, 20):
        for _ in range(2):
            sweep(now=T0 + day * DAY + dt.timedelta(hours=2))
    outbox_flush()  # as the worker does: the sweep's reminders are rendered when sent
    reminders = OutboxMessage.objects.filter(subject__startswith="Reminder:")
    assert [(m.to, m.subject) for m in reminders] == [
        ([lee.email], "Reminder: make the contact you were offered — Rita Recruiter, mentioning Sam Okoye")
    ]
    assert "mention who offered the introduction" in reminders[0].body_text
    assert nudges_to(lee) == []
    assert not OutboxMessage.objects.filter(to=[sam.email]).exclude(subject__startswith="Today:").exists()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.SELF_CONTACT


def test_asking_the_offerer_for_the_introduction_makes_a_draft_with_them_as_connector(client, lee, sam, offer):
    response = client.post(reverse("followups:offer_request", args=[offer.pk]))
    intro = IntroRequest.objects.get(seeker=lee)
    assert response.status_code == 302 and response.url == reverse("intros:edit", args=[intro.pk])
    assert intro.status == Status.DRAFT and intro.connector == sam
    assert intro.target.owner == sam and intro.target.name == "Rita Recruiter"
    assert intro.target.organisation == "Northwind"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.REQUESTED and offer.intro == intro and offer.next_action_at is None
    edit = text(client.get(response.url))
    assert "A draft request to Sam Okoye is ready: add your preparation and submit." in edit
    assert "See the request" in text(client.get(reverse("followups:offers")))
    # Asking twice still makes one request.
    client.post(reverse("followups:offer_request", args=[offer.pk]))
    assert IntroRequest.objects.filter(seeker=lee).count() == 1


def test_asking_for_the_introduction_reuses_the_offerers_contact(client, lee, sam, offer):
    rita = ContactFactory(owner=sam, name="rita recruiter")
    client.post(reverse("followups:offer_request", args=[offer.pk]))
    assert IntroRequest.objects.get(seeker=lee).target == rita
    assert Contact.objects.filter(owner=sam).count() == 1


def test_asking_someone_who_is_not_on_warm_intros_says_what_to_do_instead(client, lee, group):
    offer = record(client, lee, offered_by_name="Uncle Bob", contact_name="Rita Recruiter")
    response = client.post(reverse("followups:offer_request", args=[offer.pk]), follow=True)
    assert response.redirect_chain == [(reverse("followups:offers"), 302)]
    assert "Uncle Bob is not on Warm Intros: contact Rita Recruiter yourself, mentioning their name." in text(response)
    assert not IntroRequest.objects.exists()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OPEN


# --- nudges and staleness --------------------------------------------------------------------------------


def test_an_offer_not_acted_on_nudges_at_day_3_and_10_then_goes_stale_at_14(client, lee, sam, offer):
    assert sweep(now=T0 + 3 * DAY - dt.timedelta(minutes=5)).get("offer_nudged", 0) == 0
    assert nudges_to(lee) == []

    # Several sweeps at the same moment (a retry, two workers) send one nudge.
    first = [sweep(now=T0 + 3 * DAY).get("offer_nudged", 0) for _ in range(3)]
    assert first == [1, 0, 0]
    [nudge] = nudges_to(lee)
    assert nudge.subject == "Sam Okoye offered to introduce you to Rita Recruiter"
    words = " ".join(nudge.body_text.split())  # plain text is wrapped at 78 columns
    assert "Sam Okoye offered to introduce you to Rita Recruiter (Northwind) a few days ago" in words
    assert "contact Rita Recruiter yourself, mentioning Sam Okoye" in words

    for day in (4, 5, 9):
        sweep(now=T0 + day * DAY)
    assert len(nudges_to(lee)) == 1

    second = [sweep(now=T0 + 10 * DAY).get("offer_nudged", 0) for _ in range(3)]
    assert second == [1, 0, 0]
    nudges = nudges_to(lee)
    assert len(nudges) == 2 and "over a week ago" in " ".join(nudges[1].body_text.split())

    sweep(now=T0 + 13 * DAY)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OPEN
    stale = [sweep(now=T0 + 14 * DAY).get("offer_stale", 0) for _ in range(2)]
    assert stale == [1, 0]
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE and offer.nudges_sent == 2 and offer.next_action_at is None
    # In the order they were sent: without an ORDER BY, PostgreSQL may return the rows in any order.
    assert list(
        ReminderLog.objects.filter(object_id=offer.pk).order_by("sent_at", "sequence").values_list("kind", "sequence")
    ) == [
        ("offer_nudge", 1),
        ("offer_nudge", 2),
    ]

    for day in (15, 30, 60):
        sweep(now=T0 + day * DAY)
    assert len(nudges_to(lee)) == 2
    assert not OutboxMessage.objects.filter(to=[sam.email]).exclude(subject__startswith="Today:").exists()

    with time_machine.travel(T0 + 15 * DAY, tick=False):
        page = text(client.get(reverse("followups:offers")))
    assert "Gone stale" in page and "nudged 2 times" in page
    # A stale offer can still be taken off Sam's list.
    assert "I'll contact them myself, mentioning Sam Okoye" in page
    with time_machine.travel(T0 + 15 * DAY, tick=False):
        client.post(reverse("followups:offer_self_contact", args=[offer.pk]))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.SELF_CONTACT
    assert FollowUp.objects.get(offer=offer).owner == lee


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("followups:offer_contacted", Offer.Status.DONE),
        ("followups:offer_dismiss", Offer.Status.DISMISSED),
        ("followups:offer_request", Offer.Status.REQUESTED),
    ],
)
def test_an_offer_acted_on_is_never_nudged(client, lee, offer, action, status):
    with time_machine.travel(T0 + DAY, tick=False):
        response = client.post(reverse(action, args=[offer.pk]))
    assert response.status_code == 302
    for day in (3, 10, 14, 30):
        counts = sweep(now=T0 + day * DAY)
        assert counts.get("offer_nudged", 0) == 0 and counts.get("offer_stale", 0) == 0
    assert nudges_to(lee) == []
    offer.refresh_from_db()
    assert offer.status == status and offer.nudges_sent == 0


def test_an_offer_dismissed_after_its_first_nudge_is_not_nudged_again(client, lee, offer):
    sweep(now=T0 + 3 * DAY)
    assert len(nudges_to(lee)) == 1
    with time_machine.travel(T0 + 4 * DAY, tick=False):
        page = text(client.post(reverse("followups:offer_dismiss", args=[offer.pk]), follow=True))
    assert "Offer dismissed." in page and "Dismissed" in page
    for day in (10, 14, 30):
        sweep(now=T0 + day * DAY)
    assert len(nudges_to(lee)) == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DISMISSED
