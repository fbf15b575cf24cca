"""Never two nudges about one thing within a day — over every path that nudges a person: the
sweep's offer nudges and follow-up reminders, the daily digest, and the coach's note. And
"stale" is one definition, the same on every page while the sweep is behind."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from cohorts import dashboard
from cohorts.summary import weekly_summary
from followups import numbers
from followups import services as followup_services
from followups.models import DigestSchedule, FollowUp, Offer, ReminderLog
from lib.outbox.models import OutboxMessage
from tests.factories import CohortFactory, MembershipFactory, UserFactory
from tests.stories import at, sweep_at, words

pytestmark = pytest.mark.django_db

# A Tuesday at noon UTC: inside everybody's hours (UTC, quiet 21:00–08:00).
T = dt.datetime(2026, 9, 8, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
NUDGE = "offered to introduce you to"


@pytest.fixture
def people(db):
    with at(T - 30 * DAY):
        coach = UserFactory(full_name="Dana Coach")
        cohort = CohortFactory(coach=coach)
        lee = UserFactory(full_name="Lee Chen", digest_hour=12)
        sam = UserFactory(full_name="Sam Ortiz")
        for person in (lee, sam):
            MembershipFactory(cohort=cohort, user=person)
    # Digests wait until a test asks for one.
    DigestSchedule.objects.update(next_at=T + 365 * DAY)
    return cohort, coach, lee, sam


def offer_made(lee, sam, days_ago: float, name: str = "Theo Grant") -> Offer:
    with at(T - dt.timedelta(days=days_ago)):
        return followup_services.offer_create(
            seeker=lee, offered_by=sam, offered_by_name=sam.full_name, contact_name=name
        )


def mails(to, contains: str) -> list[OutboxMessage]:
    return [m for m in OutboxMessage.objects.filter(to=[to.email]).order_by("pk") if contains in m.subject]


# --- offers ------------------------------------------------------------------------------------------


def test_a_sweep_that_was_behind_sends_the_latest_offer_nudge_once_not_both(people):
    """Maya's two nudges a minute apart: the sweep came back twelve days after the offer."""
    _, _, lee, sam = people
    offer = offer_made(lee, sam, days_ago=12)
    for minutes in range(4):
        sweep_at(T + minutes * MINUTE)
    [nudge] = mails(lee, NUDGE)
    assert "over a week ago" in " ".join(nudge.body_text.split())  # the day-10 nudge, not the day-3 one
    offer.refresh_from_db()
    assert offer.nudges_sent == 2 and offer.next_action_at == offer.created_at + numbers.OFFER_STALE_AFTER
    sweep_at(offer.next_action_at)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE and len(mails(lee, NUDGE)) == 1


def test_an_offer_already_past_its_stale_age_goes_stale_without_a_nudge(people):
    _, _, lee, sam = people
    offer = offer_made(lee, sam, days_ago=16)
    assert sweep_at(T) == {"offer_stale": 1}
    assert sweep_at(T + MINUTE) == {}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE and mails(lee, NUDGE) == []


def test_the_second_nudge_waits_a_day_after_the_first(people):
    """The sweep was down from day 2 to day 9 and 23 hours: the day-3 nudge goes then, the
    day-10 one is due an hour later but waits until a day has passed."""
    _, _, lee, sam = people
    offer = offer_made(lee, sam, days_ago=0)
    late = T + 9 * DAY + 8 * dt.timedelta(hours=1)  # day 9, 20:00: inside Lee's hours
    assert sweep_at(late) == {"offer_nudged": 1}
    assert sweep_at(T + 10 * DAY) == {"offer_rescheduled": 1}
    offer.refresh_from_db()
    assert offer.next_action_at == late + DAY
    assert sweep_at(late + DAY) == {"offer_nudged": 1}
    sent = [m.created_at for m in mails(lee, NUDGE)]
    assert sent == [late, late + DAY]


@pytest.mark.parametrize("swept", [False, True], ids=["sweep-behind", "sweep-done"])
def test_stale_is_one_definition_on_every_page_whether_or_not_the_sweep_ran(client, people, swept):
    cohort, coach, lee, sam = people
    for days, name in [(3, "Three"), (10, "Ten"), (14, "Fourteen"), (15, "Fifteen")]:
        offer_made(lee, sam, days_ago=days, name=name)
    taken = offer_made(lee, sam, days_ago=15, name="Taken")
    with at(T - 14 * DAY):
        followup_services.offer_self_contact(offer=taken, seeker=lee)
    if swept:
        sweep_at(T)
        assert set(Offer.objects.filter(status=Offer.Status.STALE).values_list("contact_name", flat=True)) == {
            "Fourteen",
            "Fifteen",
        }
    else:
        assert not Offer.objects.filter(status=Offer.Status.STALE).exists()
    assert Offer.objects.filter(numbers.stale_offers(now=T)).count() == 2

    with at(T):
        client.force_login(lee)
        page = words(client.get(reverse("followups:offers")))
        client.force_login(coach)
        board = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
        export = client.get(reverse("cohorts:export_members", args=[cohort.pk])).content.decode("utf-8-sig")
        schedule = DigestSchedule.objects.get(user=coach, kind=DigestSchedule.Kind.COACH_WEEKLY)
        weekly_summary(schedule, T)
    assert page.count("Gone stale") == 2
    assert re.search(r"Fifteen.{0,40}Gone stale", page) and re.search(r"Three.{0,40}Not acted on yet", page)
    row = re.search(rf'<tr id="member-{lee.pk}".*?</tr>', board, re.S).group(0)
    assert re.search(r'data-cell="stale">2<', row) and "2 stale offers" in row
    [lee_row] = [r for r in csv.DictReader(io.StringIO(export)) if r["Member"] == "Lee Chen"]
    assert lee_row["Stale offers"] == "2"
    summary = OutboxMessage.objects.filter(to=[coach.email], subject__startswith="Your cohorts").latest("pk")
    assert "2 stale offers" in summary.body_text
    rows = dashboard.member_rows(cohort, T - 30 * DAY, T, T)
    assert next(r for r in rows if r.user_id == lee.pk).stale_offers == 2


# --- every path, twice a minute apart --------------------------------------------------------------------


def test_every_nudge_path_twice_a_minute_apart_sends_one_email_per_thing(client, people):
    """At T and T+1 minute: the sweep (an offer due its nudge, a follow-up due its reminder,
    Lee's digest due at noon) and the coach's note. One email about each thing."""
    cohort, coach, lee, sam = people
    offer = offer_made(lee, sam, days_ago=12)
    with at(T - DAY):
        followup = FollowUp.objects.create(
            owner=lee, kind=FollowUp.Kind.THANK_CONNECTOR, counterpart="Sam Ortiz", due_at=T, next_action_at=T
        )
    DigestSchedule.objects.filter(user=lee, kind=DigestSchedule.Kind.DAILY).update(next_at=T)
    for moment in (T, T + MINUTE):
        sweep_at(moment)
        with at(moment):
            client.force_login(coach)
            client.post(reverse("cohorts:nudge", args=[cohort.pk]), {"member": lee.pk, "note": f"Note at {moment}"})

    assert len(mails(lee, NUDGE)) == 1
    reminders = mails(lee, "Reminder:")
    assert [m.subject for m in reminders] == ["Reminder: thank the connector — Sam Ortiz"]
    # The digest due at noon had nothing to name that was not nudged a moment ago: not sent.
    assert mails(lee, "Today:") == []
    assert len(mails(lee, "A note from Dana Coach")) == 1
    # …and the logs agree, one row per thing.
    kinds = list(ReminderLog.objects.order_by("kind").values_list("kind", "object_id"))
    membership = cohort.memberships.get(user=lee)
    assert kinds == sorted(
        [
            (ReminderLog.Kind.COACH_NUDGE, membership.pk),
            (ReminderLog.Kind.DIGEST, lee.pk),
            (ReminderLog.Kind.FOLLOWUP, followup.pk),
            (ReminderLog.Kind.OFFER_NUDGE, offer.pk),
        ]
    )


def test_a_digest_names_a_follow_up_once_a_day_even_when_it_comes_twice(people):
    """Lee moves the digest from 23:00 to 01:00: the next one is two hours later, on another
    day. It does not name again what the last one named."""
    _, _, lee, _ = people
    evening = dt.datetime(2026, 9, 8, 23, 0, tzinfo=dt.UTC)
    with at(evening - 3 * DAY):
        FollowUp.objects.create(owner=lee, kind=FollowUp.Kind.THANK_TARGET, counterpart="Carol", due_at=evening - DAY)
    lee.digest_hour = 23
    lee.save(update_fields=["digest_hour"])
    DigestSchedule.objects.filter(user=lee).update(next_at=evening)
    assert sweep_at(evening) == {"digest_sent": 1}
    with at(evening + 30 * MINUTE):
        lee.digest_hour = 1
        lee.save(update_fields=["digest_hour"])
    assert DigestSchedule.objects.get(user=lee).next_at == evening + 2 * dt.timedelta(hours=1)
    assert sweep_at(evening + 2 * dt.timedelta(hours=1)) == {"digest_empty": 1}
    [digest] = mails(lee, "Today:")
    assert "Thank them for meeting — Carol" in digest.body_text
    # The next at 01:00, more than a day after the first, names it again.
    assert DigestSchedule.objects.get(user=lee).next_at == evening + DAY + 2 * dt.timedelta(hours=1)
    assert sweep_at(evening + DAY + 2 * dt.timedelta(hours=1)) == {"digest_sent": 1}
    assert "Thank them for meeting — Carol" in mails(lee, "Today:")[1].body_text


def test_a_follow_up_named_in_a_digest_gets_no_reminder_the_same_day(people):
    _, _, lee, _ = people
    with at(T - 3 * DAY):
        followup = FollowUp.objects.create(
            owner=lee, kind=FollowUp.Kind.REPORT_OUTCOME, counterpart="Sam Ortiz", due_at=T - DAY
        )
    DigestSchedule.objects.filter(user=lee, kind=DigestSchedule.Kind.DAILY).update(next_at=T)
    assert sweep_at(T) == {"digest_sent": 1}
    # Snoozed a minute later to a minute after that (an admin, a data fix): the reminder waits.
    FollowUp.objects.filter(pk=followup.pk).update(due_at=T + 2 * MINUTE, next_action_at=T + 2 * MINUTE)
    assert sweep_at(T + 2 * MINUTE) == {"followup_nudged_recently": 1}
    assert mails(lee, "Reminder:") == []
    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.DIGEST_ITEM, object_id=followup.pk).count() == 1


def test_the_coachs_note_goes_once_a_day_per_member_across_midnight_too(client, people):
    cohort, coach, lee, sam = people
    url = reverse("cohorts:nudge", args=[cohort.pk])
    client.force_login(coach)
    late = dt.datetime(2026, 9, 8, 23, 59, tzinfo=dt.UTC)

    def note(when, member, text):
        with at(when):
            client.force_login(coach)
            return client.post(url, {"member": member.pk, "note": text}, headers={"HX-Request": "true"})

    assert "is on its way" in words(note(late, lee, "How did the call go?"))
    refused = words(note(late + 2 * MINUTE, lee, "And another thing"))  # 00:01, another day
    assert "so this one was not sent" in refused and "one note a day at most" in refused
    assert "is on its way" in words(note(late + 2 * MINUTE, sam, "Hello Sam"))  # another member
    assert "so this one was not sent" in words(note(late + DAY - MINUTE, lee, "Almost a day"))
    assert "is on its way" in words(note(late + DAY, lee, "A day later"))
    sent = [m.body_text for m in mails(lee, "A note from Dana Coach")]
    assert len(sent) == 2 and "How did the call go?" in sent[0] and "A day later" in sent[1]
