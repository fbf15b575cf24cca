"""STORIES.md 1, 3, 4 and 6, the follow-up side: outreach, reminders and offers, with the clock controlled.

Each page is visited with the clock stopped at the moment the person would visit it, and the
reminder sweep is run at chosen instants (`sweep(now=...)`), as Celery beat would run it.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp, Offer, Outreach
from intros import services as intro_services
from intros.models import IntroRequest, TargetLink
from intros.states import Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION, CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import (
    accepted,
    approve,
    as_user,
    ask,
    at,
    dashboard_cells,
    log_outreach,
    mail,
    sweep_at,
    target_answers,
    text,
    words,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
NUDGE = "offered to introduce you to"


def ny(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


# --- Story 1: the boundary ------------------------------------------------------------------------------


def test_story_1_janet_is_warned_each_time_nobody_tells_her_to_write_and_natalie_waits(client):
    dana = UserFactory(full_name="Dana Coach", time_zone="America/New_York")
    boot_camp = CohortFactory(coach=dana)
    jill, janet, natalie = (
        UserFactory(full_name=name, time_zone="America/New_York")
        for name in ("Jill Moreno", "Janet Okafor", "Natalie Brooks")
    )
    for person in (jill, janet, natalie):
        MembershipFactory(cohort=boot_camp, user=person)
    cao = ContactFactory(
        owner=jill,
        name="Catherine Alvarez",
        title="Chief Administrative Officer",
        email="cao@northwind.example",
        shareable=True,
        time_zone="America/New_York",
    )

    # Day 0, Monday 1 June 2026: Janet asks, Jill approves, the CAO accepts: busy through day 4, she writes first.
    with at(ny(2026, 6, 1, 10, 0)):
        request = approve(client, jill, ask(client, janet, cao))
        target_answers(
            client, request, {"action": "accept", "accept-writes_first": "target", "accept-busy_until": "2026-06-05"}
        )
    assert request.status == Status.INTRODUCED and request.target_writes_first
    assert not FollowUp.objects.filter(intro=request, kind=FollowUp.Kind.REACH_OUT).exists()

    # Days 1, 2 and 3: Janet writes anyway. Each time the page warns her first and saves nothing.
    for day in (1, 2, 3):
        written = ny(2026, 6, 1 + day, 11, 0)
        with at(written + 30 * MINUTE):
            warned = log_outreach(client, janet, request, written)
            assert warned.status_code == 422
            page = text(warned)
            assert "Wait — this goes against what Catherine Alvarez asked for" in page
            assert "They asked not to be contacted before Sat 6 Jun, 00:00 (America/New_York)." in page
            assert (
                "Catherine Alvarez said they would write first; a gentle note is fine from Tue 9 Jun "
                "if you have not heard by then." in page
            )
            # When a note is allowed: once the wait is over, inside her hours.
            assert 'The next allowed moment is <time datetime="2026-06-09T13:00:00+00:00"' in page
            assert 'title="Tue 9 Jun 2026, 09:00 EDT"' in page
            assert 'name="confirmed" value="True"' in page and f'value="{written:%Y-%m-%dT%H:%M}"' in page
            assert "Log it anyway, as a breach" in page
            assert Outreach.objects.filter(intro=request).count() == day - 1

            # She confirms: it is saved, as a breach with its reasons.
            logged = log_outreach(client, janet, request, written, confirmed=True)
            assert logged.status_code == 302 and logged.url == request.get_absolute_url()
            shown = text(client.get(logged.url))
            assert "Logged — as a boundary breach: your connector and coach can see it." in shown
        outreach = Outreach.objects.filter(intro=request).latest("pk")
        assert outreach.is_breach and outreach.at == written
        assert [r["code"] for r in outreach.breach_reasons] == ["unavailable", "target_writes_first"]
        assert "They asked not to be contacted before Sat 6 Jun" in outreach.breach_reasons[0]["message"]

        # The sweep runs that day, inside Janet's hours: nothing tells her to write.
        sweep_at(ny(2026, 6, 1 + day, 12, 0))
        sweep_at(ny(2026, 6, 1 + day, 18, 0))
        assert mail(janet.email, "Reminder: reach out") == []
        assert mail(janet.email, "Reminder: wait") == []
    # The sweep did run: the thank-you to Jill was due on day 1 and went out, once.
    [thanks] = mail(janet.email, "Reminder:")
    assert thanks.subject == "Reminder: thank the connector — Jill Moreno"

    # Jill sees the breaches on the introduction.
    with at(ny(2026, 6, 4, 19, 0)):
        page = text(as_user(client, jill).get(reverse("intros:detail", args=[request.pk])))
    assert page.count("Boundary breach</span>") == 3
    assert "Catherine Alvarez said they would write first" in page
    assert "Short note, mentioning Jill." not in page  # the seeker's notes are hers

    # Day 4: the CAO steps back through the link in her email; Jill is told.
    with at(ny(2026, 6, 5, 9, 0)):
        target_answers(
            client,
            request,
            {"action": "step_back", "step_back-note": "I asked for four days."},
            purpose=TargetLink.Purpose.STEP_BACK,
        )
    assert request.status == Status.DROPPED_BY_TARGET
    [told] = mail(jill.email, "stepped back")
    assert told.subject == "Catherine Alvarez stepped back from the introduction to Janet Okafor"
    said = words(told.body_text)  # plain text is wrapped at 78 columns
    assert "Catherine Alvarez stepped back from the introduction to Janet Okafor." in said
    # Jill is told, with the breaches.
    assert "wrote to them 3 times outside what they had asked for" in said
    assert said.count("They asked not to be contacted before") == 3
    assert "I asked for four days." in told.body_text
    assert not FollowUp.objects.filter(intro=request, status=FollowUp.Status.OPEN).exists()
    sweep_at(ny(2026, 6, 9, 10, 0))  # the old wait is over, but the introduction is gone
    assert mail(janet.email, "Reminder: wait") == [] and mail(janet.email, "Reminder: reach out") == []

    # Dana, the coach, sees the breaches on the dashboard, and Janet among those who need attention.
    with at(ny(2026, 6, 9, 12, 0)):
        dashboard = text(as_user(client, dana).get(reverse("cohorts:dashboard", args=[boot_camp.pk])))
    cells = dashboard_cells(dashboard, janet.pk)
    assert cells["breaches"] == "3" and "3 boundary breaches" in cells["attention"]
    assert "Janet Okafor" in re.search(r'<section class="card attention".*?</section>', dashboard, re.S).group(0)

    # A month later, Monday 6 July: Jill vouches for Natalie; the CAO is busy through Thursday; Natalie writes.
    with at(ny(2026, 7, 6, 10, 0)):
        natalie_request = ask(client, natalie, cao)
        vetting = text(as_user(client, jill).get(reverse("intros:detail", args=[natalie_request.pk])))
        assert GOOD_PREPARATION["research_person"] in vetting
        natalie_request = approve(client, jill, natalie_request, "close", "I read Natalie's preparation; she is ready.")
        target_answers(
            client,
            natalie_request,
            {"action": "accept", "accept-writes_first": "seeker", "accept-busy_until": "2026-07-09"},
        )
    reach_out = FollowUp.objects.get(intro=natalie_request, kind=FollowUp.Kind.REACH_OUT)
    assert reach_out.owner == natalie and reach_out.due_at == ny(2026, 7, 10, 0, 0)

    # She waits for the window: no reminder while the CAO is busy, nor at midnight when it opens.
    for moment in (ny(2026, 7, 8, 10, 0), ny(2026, 7, 9, 15, 0), ny(2026, 7, 10, 0, 0), ny(2026, 7, 10, 8, 59)):
        sweep_at(moment)
    assert mail(natalie.email, "Reminder: reach out") == []
    reach_out.refresh_from_db()
    assert reach_out.next_action_at == ny(2026, 7, 10, 9, 0)
    sweep_at(ny(2026, 7, 10, 9, 0))
    sweep_at(ny(2026, 7, 10, 9, 0))
    [reminder] = mail(natalie.email, "Reminder: reach out")
    assert reminder.subject == "Reminder: reach out to them — Catherine Alvarez"
    assert "Write now: Catherine Alvarez's window is open until 17:00 (your time and theirs)." in " ".join(
        reminder.body_text.split()
    )
    assert timezone.localtime(reminder.created_at, NEW_YORK).hour == 9

    # She writes inside the window: no warning, no breach, and the reach-out is done.
    with at(ny(2026, 7, 10, 9, 40)):
        response = log_outreach(client, natalie, natalie_request, ny(2026, 7, 10, 9, 30))
        assert response.status_code == 302
        assert "Outreach logged. Good luck!" in text(client.get(response.url))
    assert not Outreach.objects.get(intro=natalie_request).is_breach
    reach_out.refresh_from_db()
    assert reach_out.status == FollowUp.Status.DONE

    # They meet; Natalie thanks both, ticking the follow-ups off on her list.
    with at(ny(2026, 7, 14, 17, 0)):
        as_user(client, natalie).post(reverse("intros:meeting", args=[natalie_request.pk]), {"met_on": "2026-07-14"})
        thanks = {
            f.kind: f
            for f in FollowUp.objects.filter(
                intro=natalie_request, kind__in=[FollowUp.Kind.THANK_CONNECTOR, FollowUp.Kind.THANK_TARGET]
            )
        }
        page = text(client.get(reverse("followups:list")))
        assert "Thank them for meeting</span> — Catherine Alvarez" in page
        assert "Thank the connector</span> — Jill Moreno" in page
        for followup in thanks.values():
            assert followup.owner == natalie
            client.post(reverse("followups:act"), {"done": followup.pk})
    assert {f.kind for f in thanks.values()} == {FollowUp.Kind.THANK_CONNECTOR, FollowUp.Kind.THANK_TARGET}
    assert all(
        f.status == FollowUp.Status.DONE for f in FollowUp.objects.filter(pk__in=[f.pk for f in thanks.values()])
    )

    # She reports the outcome: a job offer. Jill's record shows it.
    with at(ny(2026, 7, 20, 12, 0)):
        response = as_user(client, natalie).post(
            reverse("intros:outcome", args=[natalie_request.pk]),
            {"outcome": Outcome.OFFER, "note": "An offer for the shared-services lead."},
        )
    assert response.status_code == 302
    natalie_request.refresh_from_db()
    assert natalie_request.status == Status.OUTCOME and natalie_request.outcome == Outcome.OFFER
    assert FollowUp.objects.get(intro=natalie_request, kind=FollowUp.Kind.REPORT_OUTCOME).status == "done"
    assert IntroRequest.objects.of_connector(jill).filter(outcome__in=[Outcome.OFFER, Outcome.HIRED]).count() == 1
    with at(ny(2026, 7, 20, 13, 0)):
        record = words(as_user(client, jill).get(reverse("intros:connector_record")))
    assert "Led to a job offer or a hire 1" in record and "Targets who stepped back 1" in record
    assert "Natalie Brooks → Catherine Alvarez Outcome reported Job offer" in record


# --- Story 3: the empty promises ------------------------------------------------------------------------


def test_story_3_lee_takes_one_offer_off_sams_list_and_the_others_go_stale(client):
    cohort = CohortFactory()
    lee, sam = UserFactory(full_name="Lee Chen"), UserFactory(full_name="Sam Okoye")
    for person in (lee, sam):
        MembershipFactory(cohort=cohort, user=person)
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

    # After the informational meeting Lee records Sam's three offers.
    with at(start):
        for name, organisation in (
            ("Rita Recruiter", "Northwind"),
            ("Omar Ops", "Contoso"),
            ("Pia Product", "Fabrikam"),
        ):
            response = as_user(client, lee).post(
                reverse("followups:offers"),
                {"offered_by_name": "Sam Okoye", "contact_name": name, "contact_organisation": organisation},
            )
            assert response.status_code == 302
        page = text(client.get(reverse("followups:offers")))
    assert page.count("I'll contact them myself, mentioning Sam Okoye") == 3
    offers = {o.contact_name: o for o in Offer.objects.filter(seeker=lee)}
    assert all(o.offered_by == sam for o in offers.values())

    # Lee takes one off Sam's list: Lee gets the follow-up, Sam gets nothing.
    with at(start + 2 * 60 * MINUTE):
        as_user(client, lee).post(reverse("followups:offer_self_contact", args=[offers["Rita Recruiter"].pk]))
    [followup] = FollowUp.objects.filter(offer__seeker=lee)
    assert followup.owner == lee and followup.counterpart == "Rita Recruiter, mentioning Sam Okoye"
    assert not FollowUp.objects.filter(owner=sam).exists()

    # The two not acted on are nudged at day 3 and day 10 — once each, however often the sweep runs.
    for day in (1, 2, 3, 3, 5, 10, 10, 12):
        sweep_at(start + day * DAY)
    nudges = mail(lee.email, NUDGE)
    assert sorted(m.subject for m in nudges) == sorted(
        [
            "Sam Okoye offered to introduce you to Omar Ops",
            "Sam Okoye offered to introduce you to Pia Product",
        ]
        * 2
    )
    assert [m.created_at.date() for m in nudges] == [dt.date(2026, 6, 4)] * 2 + [dt.date(2026, 6, 11)] * 2
    assert not any("Rita Recruiter" in m.subject for m in nudges)
    assert mail(lee.email, "Reminder: make the contact you were offered")[0].subject == (
        "Reminder: make the contact you were offered — Rita Recruiter, mentioning Sam Okoye"
    )
    assert not OutboxMessage.objects.filter(to=[sam.email]).exclude(subject__startswith="Today:").exists()

    # Day 14: they go stale; the one Lee took on does not.
    sweep_at(start + 14 * DAY)
    statuses = dict(Offer.objects.filter(seeker=lee).values_list("contact_name", "status"))
    assert statuses == {
        "Rita Recruiter": Offer.Status.SELF_CONTACT,
        "Omar Ops": Offer.Status.STALE,
        "Pia Product": Offer.Status.STALE,
    }
    assert len(mail(lee.email, NUDGE)) == 4
    with at(start + 15 * DAY):
        page = text(as_user(client, lee).get(reverse("followups:offers")))
    assert page.count("Gone stale") == 2 and page.count("nudged 2 times") == 2


# --- Story 4: the unused contact --------------------------------------------------------------------------


def test_story_4_mayas_offer_nudges_inside_her_hours_then_goes_stale(client):
    cohort = CohortFactory()
    maya = UserFactory(full_name="Maya Patel", time_zone="America/Los_Angeles")
    mentor = UserFactory(full_name="Grace Mentor", time_zone="Europe/London")
    for person in (maya, mentor):
        MembershipFactory(cohort=cohort, user=person)

    def la(*args) -> dt.datetime:
        return dt.datetime(*args, tzinfo=LOS_ANGELES)

    # Maya records the offer at 03:00 her time (she could not sleep), Monday 1 June 2026.
    with at(la(2026, 6, 1, 3, 0)):
        as_user(client, maya).post(
            reverse("followups:offers"),
            {"offered_by_name": "Grace Mentor", "contact_name": "Victor Senior", "contact_title": "VP Engineering"},
        )
    offer = Offer.objects.get(seeker=maya)
    assert offer.offered_by == mentor

    # Day 3 falls at 03:00 her time: the nudge waits for 08:00.
    assert sweep_at(la(2026, 6, 4, 3, 0)).get("offer_nudged", 0) == 0
    offer.refresh_from_db()
    assert offer.next_action_at == la(2026, 6, 4, 8, 0)
    sweep_at(la(2026, 6, 4, 7, 58))
    assert mail(maya.email, NUDGE) == []
    for _ in range(3):
        sweep_at(la(2026, 6, 4, 8, 0))
    sweep_at(la(2026, 6, 4, 15, 0))
    [first] = mail(maya.email, NUDGE)
    assert first.subject == "Grace Mentor offered to introduce you to Victor Senior"
    assert "a few days ago" in " ".join(first.body_text.split())
    assert timezone.localtime(first.created_at, LOS_ANGELES) == la(2026, 6, 4, 8, 0)

    # Day 10, again at 03:00: one more nudge at 08:00.
    sweep_at(la(2026, 6, 11, 3, 0))
    assert len(mail(maya.email, NUDGE)) == 1
    sweep_at(la(2026, 6, 11, 8, 0))
    sweep_at(la(2026, 6, 11, 8, 0))
    nudges = mail(maya.email, NUDGE)
    assert len(nudges) == 2 and "over a week ago" in " ".join(nudges[1].body_text.split())
    assert timezone.localtime(nudges[1].created_at, LOS_ANGELES) == la(2026, 6, 11, 8, 0)

    # Day 14: stale, without another email.
    sweep_at(la(2026, 6, 15, 3, 0))
    sweep_at(la(2026, 6, 15, 9, 0))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE and offer.nudges_sent == 2
    assert len(mail(maya.email, NUDGE)) == 2
    assert not OutboxMessage.objects.filter(to=[mentor.email]).exclude(subject__startswith="Today:").exists()


# --- Story 6: the window across the world -------------------------------------------------------------------


def test_story_6_the_reask_waits_for_monday_in_tokyo_and_the_reminder_for_both_hours(client):
    cohort = CohortFactory()
    ana = UserFactory(full_name="Ana Lima", time_zone="America/New_York")
    ken = UserFactory(full_name="Ken Sato", time_zone="Asia/Tokyo")
    for person in (ana, ken):
        MembershipFactory(cohort=cohort, user=person)
    haruka = ContactFactory(
        owner=ken,
        name="Haruka Mori",
        email="haruka@example.jp",
        shareable=True,
        time_zone="Asia/Tokyo",
        min_days_between=7,
    )
    assert haruka.weekday_set == frozenset(range(5))
    assert (haruka.hours_start, haruka.hours_end) == (dt.time(9), dt.time(17))
    asked = "Ken Sato would like to introduce you to Ana Lima"

    # Friday 23 October 2026: Ana asks, Ken approves, Haruka says "not now — ask me after Saturday 31 October".
    with at(ny(2026, 10, 23, 10, 0)):
        request = approve(client, ken, ask(client, ana, haruka))
        target_answers(client, request, {"action": "defer", "defer-until": "2026-10-31"})
    assert request.status == Status.DEFERRED
    assert len(mail(haruka.email, asked)) == 1
    # The re-ask is due at 09:00 that Saturday in Tokyo: Friday 20:00 in New York.
    assert request.next_action_at == dt.datetime(2026, 10, 31, 9, 0, tzinfo=TOKYO) == ny(2026, 10, 30, 20, 0)

    # The sweep holds it to Monday 09:00 in Tokyo. New York falls back on Sunday 1 November in between,
    # so that is 19:00 in New York, not 20:00: Tokyo's hours stay Tokyo's.
    monday_tokyo = dt.datetime(2026, 11, 2, 9, 0, tzinfo=TOKYO)
    assert monday_tokyo == ny(2026, 11, 1, 19, 0)
    assert sweep_at(ny(2026, 10, 30, 20, 0)).get("intro_reasked", 0) == 0
    request.refresh_from_db()
    assert request.next_action_at == monday_tokyo
    for moment in (
        ny(2026, 10, 31, 9, 0),
        ny(2026, 11, 1, 10, 0),
        monday_tokyo - MINUTE - 30 * dt.timedelta(seconds=1),
    ):
        assert sweep_at(moment).get("intro_reasked", 0) == 0
    assert len(mail(haruka.email, asked)) == 1
    assert sweep_at(monday_tokyo).get("intro_reasked", 0) == 1
    for moment in (monday_tokyo, monday_tokyo + MINUTE, monday_tokyo + 2 * DAY):
        assert sweep_at(moment).get("intro_reasked", 0) == 0
    reasks = mail(haruka.email, asked)
    assert len(reasks) == 2 and reasks[1].created_at == monday_tokyo
    request.refresh_from_db()
    assert request.status == Status.AWAITING_TARGET and request.reask_count == 1

    # She accepts at 18:00 on Monday in Tokyo, after her hours. Ana writes first.
    accepted_at = dt.datetime(2026, 11, 2, 18, 0, tzinfo=TOKYO)
    with at(accepted_at):
        target_answers(client, request, {"action": "accept", "accept-writes_first": "seeker"})
    assert request.status == Status.INTRODUCED
    reach_out = FollowUp.objects.get(intro=request, kind=FollowUp.Kind.REACH_OUT)
    assert reach_out.owner == ana and reach_out.due_at == accepted_at + 2 * DAY  # Wednesday 18:00 in Tokyo, closed

    # Ana is reminded no earlier than Haruka's next open hour (Thursday 09:00 Tokyo = Wednesday 19:00 New York),
    # which is inside Ana's own hours (08:00–21:00 New York).
    opens = dt.datetime(2026, 11, 5, 9, 0, tzinfo=TOKYO)
    assert opens == ny(2026, 11, 4, 19, 0)
    sweep_at(reach_out.due_at)
    reach_out.refresh_from_db()
    assert reach_out.next_action_at == opens
    sweep_at(opens - 2 * MINUTE)
    assert mail(ana.email, "Reminder: reach out") == []
    sweep_at(opens)
    sweep_at(opens + MINUTE)
    [reminder] = mail(ana.email, "Reminder: reach out")
    assert reminder.subject == "Reminder: reach out to them — Haruka Mori"
    local = timezone.localtime(reminder.created_at, NEW_YORK)
    assert reminder.created_at >= opens and dt.time(8) <= local.time() < dt.time(21)
    # In words, on both clocks, as of the moment the sweep sent it.
    assert "Write now: Haruka Mori's window is open until 17:00 their time (Thu 5 Nov, 03:00 yours)." in " ".join(
        reminder.body_text.split()
    )

    # She writes at once: inside Haruka's window, no breach. A second note two days later is too soon.
    with at(opens + 10 * MINUTE):
        response = log_outreach(client, ana, request, timezone.localtime(opens + 5 * MINUTE, NEW_YORK))
        assert response.status_code == 302
    assert not Outreach.objects.get(intro=request).is_breach
    second = opens + DAY + 60 * MINUTE  # Friday 10:00 in Tokyo: inside her hours, but a day after the first
    assert second.astimezone(TOKYO).weekday() == 4
    with at(second + 10 * MINUTE):
        warned = log_outreach(client, ana, request, timezone.localtime(second, NEW_YORK))
    assert warned.status_code == 422
    assert "want at least 7 days between contacts" in text(warned)
    assert Outreach.objects.filter(intro=request).count() == 1


# The reach-out reminder for a seeker in New York and a target in Tokyo, on both sides of New York's
# spring-forward (Sunday 14 March 2027, 02:00 → 03:00). Tokyo has no daylight saving time. The sweep
# runs whenever the follow-up says it should look again, as beat would; the reminder goes out only
# once both are inside their hours: Tokyo 09:00–17:00 on weekdays, New York 08:00–21:00.
@pytest.mark.parametrize(
    ("accepted_in_tokyo", "looks_in_new_york", "reminded_in_new_york"),
    [
        # Due Wednesday 12:00 Tokyo = Tuesday 22:00 New York (EST): Ana is asleep, so 08:00 — but by then
        # Tokyo is closed (22:00), so Thursday 09:00 Tokyo = Wednesday 19:00 EST.
        (
            dt.datetime(2027, 3, 8, 12, 0),
            [dt.datetime(2027, 3, 9, 22, 0), dt.datetime(2027, 3, 10, 8, 0)],
            dt.datetime(2027, 3, 10, 19, 0),
        ),
        # The same a week after the change: Thursday 09:00 Tokyo is now 20:00 EDT on Ana's clock.
        (
            dt.datetime(2027, 3, 15, 12, 0),
            [dt.datetime(2027, 3, 16, 23, 0), dt.datetime(2027, 3, 17, 8, 0)],
            dt.datetime(2027, 3, 17, 20, 0),
        ),
        # Due Sunday 18:00 Tokyo (closed): Monday 09:00 Tokyo, which is Sunday 20:00 in New York the
        # evening after the clocks changed (it would have been 19:00 the evening before).
        (
            dt.datetime(2027, 3, 12, 18, 0),
            [dt.datetime(2027, 3, 14, 5, 0)],
            dt.datetime(2027, 3, 14, 20, 0),
        ),
    ],
)
def test_story_6_reach_out_reminder_keeps_both_local_hours_across_dst(
    accepted_in_tokyo, looks_in_new_york, reminded_in_new_york
):
    ana = UserFactory(full_name="Ana Lima", time_zone="America/New_York")
    ken = UserFactory(full_name="Ken Sato")
    cohort = CohortFactory()
    for person in (ana, ken):
        MembershipFactory(cohort=cohort, user=person)
    haruka = ContactFactory(owner=ken, name="Haruka Mori", time_zone="Asia/Tokyo", min_days_between=7, shareable=True)
    with at(accepted_in_tokyo.replace(tzinfo=TOKYO)):
        intro = accepted(seeker=ana, target=haruka, terms=intro_services.TargetTerms())
    reach_out = FollowUp.objects.get(intro=intro, kind=FollowUp.Kind.REACH_OUT)
    expected = reminded_in_new_york.replace(tzinfo=NEW_YORK)

    looked = []
    for _ in range(6):  # beat runs when the follow-up asks to be looked at again
        reach_out.refresh_from_db()
        if reach_out.next_action_at is None:
            break
        looked.append(reach_out.next_action_at)
        sweep_at(reach_out.next_action_at)
    assert [t.astimezone(NEW_YORK).replace(tzinfo=None) for t in looked] == [*looks_in_new_york, reminded_in_new_york]
    sweep_at(expected + 60 * MINUTE)
    [reminder] = mail(ana.email, "Reminder: reach out")
    sent = reminder.created_at
    assert sent == expected and sent >= reach_out.due_at
    # Inside the target's window, on her clock…
    in_tokyo = sent.astimezone(TOKYO)
    assert in_tokyo.weekday() < 5 and in_tokyo.time() == dt.time(9, 0)
    # …and inside the seeker's own hours, on hers.
    assert dt.time(8) <= sent.astimezone(NEW_YORK).time() < dt.time(21)
    closes = sent.astimezone(TOKYO).replace(hour=17).astimezone(NEW_YORK)
    assert (
        f"Write now: Haruka Mori's window is open until 17:00 their time ({closes:%a %-d %b}, {closes:%H:%M} yours)."
        in " ".join(reminder.body_text.split())
    )
