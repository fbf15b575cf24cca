"""`make run`'s demo tells the stories of STORIES.md as they happened: loaded once for the
module (it plays six weeks through the real services, ending at the real now), then read as
each person would. Janet, who wrote inside the CAO's window, now waits for Marcus Lee, and
the pages tell her so right after loading."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cohorts.management.commands.load_demo import DOMAIN, PEOPLE
from cohorts.models import Cohort
from followups.models import FollowUp, Offer, Outreach, ReminderLog
from intros.models import STAGE_STAMP_FIELDS, IntroEvent, IntroRequest
from intros.numbers import STAGES
from intros.states import Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.stories import dashboard_cells, words

pytestmark = pytest.mark.django_db

STAMPS_IN_ORDER = [stamp for _, _, stamp in STAGES]
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once; everything it wrote is rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        loaded_at = timezone.now()
        call_command("load_demo", stdout=out)
        yield SimpleNamespace(output=out.getvalue(), loaded_at=loaded_at)
        transaction.set_rollback(True)


def person(key: str) -> User:
    return User.objects.get(email=f"{key}@{DOMAIN}")


def request_of(seeker: str, target: str) -> IntroRequest:
    return IntroRequest.objects.get(seeker=person(seeker), target__name=target)


def page(client, who: str, url: str) -> str:
    client.force_login(person(who))
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --- loading ------------------------------------------------------------------------------------------


def test_the_demo_prints_its_logins_and_loads_once(demo):
    assert "Demo data loaded: six stories over the last 6 weeks" in demo.output
    for key, name, _, _ in PEOPLE:
        assert f"{key}@{DOMAIN}" in demo.output and name in demo.output
    counts = (User.objects.count(), IntroEvent.objects.count(), OutboxMessage.objects.count())
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert again.getvalue().startswith("Demo data is already loaded; nothing changed.")
    assert f"dana@{DOMAIN}" in again.getvalue()
    assert (User.objects.count(), IntroEvent.objects.count(), OutboxMessage.objects.count()) == counts


def test_every_email_of_the_history_went_at_its_moment(demo):
    assert OutboxMessage.objects.count() > 50
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    for message in OutboxMessage.objects.all():
        assert message.sent_at == message.created_at < demo.loaded_at, message.subject


# --- the history reads in order ------------------------------------------------------------------------


def test_stage_stamps_are_spread_over_weeks_in_each_storys_order(demo):
    requests = list(IntroRequest.objects.all())
    assert len(requests) == 8
    for intro in requests:
        reached = [getattr(intro, stamp) for stamp in STAMPS_IN_ORDER if getattr(intro, stamp) is not None]
        assert reached == sorted(reached), intro
        # Each stamp is the moment of the event that reached it, not the moment of loading.
        for name, stamp in [("submit", "first_submitted_at"), ("approve", "approved_at"), ("record_meeting", "met_at")]:
            if getattr(intro, stamp) is not None:
                assert intro.events.filter(transition=name).earliest("created_at").created_at == getattr(intro, stamp)
    submitted = sorted(i.first_submitted_at for i in requests)
    assert submitted[-1] - submitted[0] > 4 * 7 * DAY
    everything = [getattr(i, s) for i in requests for s in STAGE_STAMP_FIELDS if getattr(i, s) is not None]
    assert len({moment.date() for moment in everything}) > 20  # not one load-time moment
    assert max(everything) < demo.loaded_at

    # Story 1 in its order: Janet and the CAO, then weeks later Natalie; story 5: Michael's hire, then Jacob.
    janet, natalie = request_of("janet", "Catherine Alvarez"), request_of("natalie", "Catherine Alvarez")
    stepped_back = janet.events.get(transition="target_step_back").created_at
    assert janet.introduced_at < stepped_back < natalie.first_submitted_at
    assert natalie.approved_at - janet.approved_at > 2 * 7 * DAY
    michael, jacob = request_of("michael", "Laura Perez"), request_of("jacob", "Diane Foster")
    assert michael.outcome_recorded_at < jacob.first_submitted_at


def test_every_breach_comes_after_its_introduction_and_before_the_step_back(demo):
    breaches = list(Outreach.objects.filter(is_breach=True).select_related("intro"))
    assert len(breaches) == 3
    for breach in breaches:
        assert breach.intro.introduced_at < breach.at
        assert breach.at < breach.intro.events.get(transition="target_step_back").created_at
    # Days 1, 2 and 3 after the CAO accepted, each a day apart.
    accepted = breaches[0].intro.accepted_at
    assert [(b.at - accepted).days for b in sorted(breaches, key=lambda b: b.at)] == [1, 2, 3]
    assert all(o.at > o.intro.introduced_at for o in Outreach.objects.select_related("intro"))


def test_natalies_thank_yous_are_done_before_her_outcome(demo):
    natalie = request_of("natalie", "Catherine Alvarez")
    thanks = FollowUp.objects.filter(
        intro=natalie, kind__in=[FollowUp.Kind.THANK_CONNECTOR, FollowUp.Kind.THANK_TARGET]
    )
    assert thanks.count() == 2
    for followup in thanks:
        assert followup.status == FollowUp.Status.DONE and followup.done_at < natalie.outcome_recorded_at
        assert followup.done_at <= followup.due_at  # on time, too
    # She waited for the window: her one outreach broke nothing, and came after the busy days.
    [outreach] = natalie.outreaches.all()
    accepted = natalie.events.get(transition="target_accept")
    assert not outreach.is_breach and outreach.breach_reasons == []
    assert "Busy through" in accepted.note and outreach.at - accepted.created_at > 2 * DAY


# --- where each story ends --------------------------------------------------------------------------------


def test_each_storys_people_are_there_in_the_state_the_story_ends_in(demo):
    assert request_of("janet", "Catherine Alvarez").status == Status.DROPPED_BY_TARGET
    marcus = request_of("janet", "Marcus Lee")
    assert marcus.status == Status.INTRODUCED and marcus.target.unavailable_until > timezone.localdate()
    natalie = request_of("natalie", "Catherine Alvarez")
    assert (natalie.status, natalie.outcome) == (Status.OUTCOME, Outcome.OFFER)

    omar = request_of("omar", "Henry Brooks")
    assert omar.status == Status.INTRODUCED and omar.vouch_strength == "acquainted"
    assert [e.transition for e in omar.events.exclude(transition="create")][:5] == [
        "submit",
        "request_changes",
        "submit",
        "approve",
        "ask_target",
    ]

    lee, sam = person("lee"), person("sam")
    offers = dict(Offer.objects.filter(seeker=lee).values_list("contact_name", "status"))
    assert offers == {"Theo Grant": Offer.Status.STALE, "Ana Silva": Offer.Status.STALE, "Ben Osei": Offer.Status.DONE}
    taken = FollowUp.objects.get(offer__contact_name="Ben Osei")
    assert taken.owner == lee and taken.status == FollowUp.Status.DONE  # the follow-up was Lee's, not Sam's
    assert not FollowUp.objects.filter(owner=sam).exists()
    assert request_of("lee", "Yuki Tanaka").status == Status.SUBMITTED

    assert Offer.objects.get(seeker=person("maya")).status == Offer.Status.STALE

    michael, jacob = request_of("michael", "Laura Perez"), request_of("jacob", "Diane Foster")
    assert (michael.status, michael.outcome) == (Status.CLOSED, Outcome.HIRED)
    assert (jacob.status, jacob.outcome, jacob.parent) == (Status.OUTCOME, Outcome.HIRED, michael)

    nora = request_of("nora", "Yuki Tanaka")
    assert nora.status == Status.INTRODUCED and nora.outreaches.filter(is_breach=False).count() == 1
    assert Cohort.objects.get(coach=person("dana")).memberships.count() == 10


def test_janet_is_told_to_wait_for_marcus_on_home_and_the_introduction(client, demo):
    """Loaded at the real now, as `make run` does: Marcus is busy through the day after
    tomorrow in Chicago, then takes messages 09:00–17:00 there on weekdays (10:00 in New York)."""
    chicago = zoneinfo.ZoneInfo("America/Chicago")
    marcus = request_of("janet", "Marcus Lee")
    busy = marcus.target.unavailable_until
    assert busy == demo.loaded_at.astimezone(chicago).date() + 2 * DAY
    first = busy + DAY
    while first.weekday() >= 5:
        first += DAY
    wait = (
        f"Wait Marcus Lee asked for no messages until the end of {busy:%a} {busy.day} {busy:%b}. "
        f"The next good moment is {first:%a} {first.day} {first:%b}, 09:00 their time (10:00 yours)."
    )
    home = words(page(client, "janet", reverse("intros:home")))
    detail = words(page(client, "janet", marcus.get_absolute_url()))
    assert wait in home and wait in detail
    assert "Write now" not in home and "Write to" not in home
    assert f"Hours 09:00–17:00 Chicago time Busy through {busy:%a} {busy.day} {busy:%b}" in detail


def test_story_6_the_reask_was_held_to_monday_in_tokyo_and_nora_reminded_in_both_hours(demo):
    tokyo, new_york = zoneinfo.ZoneInfo("Asia/Tokyo"), zoneinfo.ZoneInfo("America/New_York")
    nora = request_of("nora", "Yuki Tanaka")
    deferred_to = nora.deferred_until
    assert deferred_to.weekday() == 5  # she said: ask me after Saturday
    wanted = dt.datetime.combine(deferred_to, dt.time(9), tzinfo=tokyo)
    assert wanted.astimezone(new_york).weekday() == 4 and wanted.astimezone(new_york).hour >= 19  # Friday evening
    reask = nora.events.get(transition="reask").created_at.astimezone(tokyo)
    assert (reask.date(), reask.time()) == (deferred_to + 2 * DAY, dt.time(9))  # Monday 09:00 in Tokyo
    reach_out = FollowUp.objects.get(intro=nora, kind=FollowUp.Kind.REACH_OUT)
    [reminder] = ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP, object_id=reach_out.pk)
    in_tokyo, in_new_york = reminder.sent_at.astimezone(tokyo), reminder.sent_at.astimezone(new_york)
    assert in_tokyo.weekday() < 5 and dt.time(9) <= in_tokyo.time() < dt.time(17)
    assert dt.time(8) <= in_new_york.time() < dt.time(21)
    assert nora.outreaches.get().at > reminder.sent_at


def test_mayas_offer_was_nudged_at_day_3_and_10_then_went_stale(client, demo):
    offer = Offer.objects.get(seeker=person("maya"))
    nudges = ReminderLog.objects.filter(kind=ReminderLog.Kind.OFFER_NUDGE, object_id=offer.pk).order_by("sequence")
    assert [(n.sequence, n.sent_at - offer.created_at) for n in nudges] == [(1, 3 * DAY), (2, 10 * DAY)]
    emails = OutboxMessage.objects.filter(to=[person("maya").email], subject__contains="offered to introduce you")
    assert sorted(e.created_at for e in emails) == [n.sent_at for n in nudges]
    assert timezone.now() - offer.created_at > 14 * DAY and offer.status == Offer.Status.STALE
    assert re.search(r"Ingrid Solberg.{0,80}Gone stale", words(page(client, "maya", reverse("followups:offers"))))


# --- what the people see --------------------------------------------------------------------------------


def test_jills_record_shows_an_introduction_that_led_to_a_hire(client, demo):
    html = words(page(client, "jill", reverse("intros:connector_record")))
    assert "Led to a job offer or a hire 1" in html
    assert "Accepted by the target, or written to directly in your name 3" in html  # the CAO twice, Marcus
    assert "Targets who stepped back 1" in html
    assert re.search(r"Natalie Brooks → Catherine Alvarez Outcome reported Job offer", html)
    kevin = words(page(client, "kevin", reverse("intros:connector_record")))
    michael = words(page(client, "michael", reverse("intros:connector_record")))
    assert "Led to a job offer or a hire 1" in kevin and "Led to a job offer or a hire 1" in michael


def test_the_coach_dashboard_shows_the_breaches_and_stale_offers(client, demo):
    cohort = Cohort.objects.get(coach=person("dana"))
    html = page(client, "dana", reverse("cohorts:dashboard", args=[cohort.pk]))
    janet, lee, maya = (
        dashboard_cells(html, person("janet").pk),
        dashboard_cells(html, person("lee").pk),
        dashboard_cells(html, person("maya").pk),
    )
    assert janet["breaches"] == "3" and "3 boundary breaches" in janet["attention"]
    assert lee["stale"] == "2" and "2 stale offers" in lee["attention"]
    assert maya["stale"] == "1" and "1 stale offer" in maya["attention"]
    natalie = dashboard_cells(html, person("natalie").pk)
    assert natalie["thanks"] == "100% (2 of 2)" and natalie["outcomes"] == "1 of 1"
    attention = re.search(r'<section class="card attention".*?</section>', html, re.S).group(0)
    assert "Janet Okafor" in attention and "Lee Chen" in attention and "Maya Lindqvist" in attention


def test_janets_introduction_page_tells_story_1(client, demo):
    janet = request_of("janet", "Catherine Alvarez")
    for who in ("janet", "jill"):
        html = words(page(client, who, janet.get_absolute_url()))
        assert "They stepped back" in html and "Writes first Catherine Alvarez" in html
        assert html.count("Boundary breach") == 3
        assert "Catherine Alvarez — they stepped back" in html
        assert "I asked for four days and was written to every day." in html
    told = OutboxMessage.objects.get(to=[person("jill").email], subject__contains="stepped back")
    assert "Janet Okafor wrote to them 3 times outside what they had asked for" in " ".join(told.body_text.split())


def test_the_chain_credits_each_connector(client, demo):
    michael, jacob = request_of("michael", "Laura Perez"), request_of("jacob", "Diane Foster")
    assert jacob.parent == michael and (michael.connector, jacob.connector) == (person("kevin"), person("michael"))
    chain = words(page(client, "jacob", reverse("intros:chain", args=[jacob.pk])))
    assert "Kevin Walsh" in chain and "Michael Byrne" in chain and chain.count("Hired") >= 2


def test_the_logins_step_prints_them_once_the_site_is_up(demo):
    out = io.StringIO()
    call_command("demo_logins", "--no-wait", "--port", "8123", stdout=out)
    printed = out.getvalue()
    assert printed.startswith("Warm Intros is up at http://127.0.0.1:8123/")
    assert all(f"{key}@{DOMAIN}" in printed for key, _, _, _ in PEOPLE)


def test_the_demos_past_emails_go_to_files_not_the_console(tmp_path, settings, capsys):
    from django.core.mail import EmailMessage

    from lib import mail

    settings.MAILERS = {"default": {"BACKEND": "lib.mail.ConsoleAndFileBackend", "OPTIONS": {"file_path": tmp_path}}}
    with mail.files_only():
        EmailMessage("From the history", "Sent weeks ago.", to=["janet@example.org"]).send()
    assert "From the history" not in capsys.readouterr().out
    EmailMessage("From today", "Sent now.", to=["janet@example.org"]).send()
    assert "From today" in capsys.readouterr().out
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "From the history" in written and "From today" in written
