"""STORIES.md replayed through the pages, as the people in them would click."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from followups.models import FollowUp
from intros.models import IntroRequest, TargetLink
from intros.states import Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION, CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import approve, ask, at, mail, meet_and_report, sweep_at, target_answers

pytestmark = pytest.mark.django_db


def test_story_1_the_cao_writes_first_so_janet_is_told_to_wait_she_steps_back_and_natalies_offer_counts_for_jill(
    client,
):
    dana = UserFactory(full_name="Dana Coach")
    boot_camp = CohortFactory(coach=dana)
    jill, janet, natalie = (UserFactory(full_name=n) for n in ("Jill Moreno", "Janet Okafor", "Natalie Brooks"))
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

    # Janet requests, Jill approves, the CAO accepts with her terms: four days, and she writes first.
    request = ask(client, janet, cao)
    assert request.status == Status.SUBMITTED
    request = approve(client, jill, request, "acquainted", "Janet is in my boot camp and works hard.")
    assert request.status == Status.AWAITING_TARGET
    busy_through = timezone.localdate() + dt.timedelta(days=4)
    target_answers(
        client,
        request,
        {"action": "accept", "accept-writes_first": "target", "accept-busy_until": busy_through.isoformat()},
    )
    assert request.status == Status.INTRODUCED and request.target_writes_first
    cao.refresh_from_db()
    assert cao.unavailable_until == busy_through
    # Nobody tells Janet to write: her follow-up is to wait, due only after the window opens.
    window_opens = cao.unavailable_until_moment()
    assert not FollowUp.objects.filter(intro=request, kind=FollowUp.Kind.REACH_OUT).exists()
    wait = FollowUp.objects.get(intro=request, kind=FollowUp.Kind.WAIT_FOR_TARGET)
    assert wait.owner == janet and wait.due_at > window_opens
    introduction = OutboxMessage.objects.get(subject__startswith="Introduction:", to__isnull=False)
    # Plain text is wrapped at 78 columns: read it as words, not lines.
    words = " ".join(introduction.body_text.split())
    assert "- Writes first: Catherine Alvarez" in words
    assert "Janet, don't write: Catherine Alvarez said they would write to you first" in words

    # The CAO steps back through the link in her email; Jill is told.
    target_answers(
        client,
        request,
        {"action": "step_back", "step_back-note": "I asked for four days."},
        purpose=TargetLink.Purpose.STEP_BACK,
    )
    assert request.status == Status.DROPPED_BY_TARGET
    told = OutboxMessage.objects.get(to=[jill.email], subject__contains="stepped back")
    assert "I asked for four days." in told.body_text
    assert not FollowUp.objects.filter(intro=request, status=FollowUp.Status.OPEN).exists()

    # A month later Jill vouches for Natalie after reading her preparation; Natalie gets an offer.
    client.force_login(jill)
    natalie_request = ask(client, natalie, cao)
    client.force_login(jill)
    vetting = client.get(reverse("intros:detail", args=[natalie_request.pk])).content.decode()
    assert GOOD_PREPARATION["research_person"] in vetting
    natalie_request = approve(client, jill, natalie_request, "close", "I read Natalie's preparation; she is ready.")
    target_answers(client, natalie_request, {"action": "accept", "accept-writes_first": "seeker"})
    meet_and_report(client, natalie, natalie_request, Outcome.OFFER, "An offer for the shared-services lead.")
    assert natalie_request.status == Status.OUTCOME and natalie_request.outcome == Outcome.OFFER
    assert IntroRequest.objects.of_connector(jill).filter(outcome__in=[Outcome.OFFER, Outcome.HIRED]).count() == 1


def test_story_1_a_deferral_reasks_the_target_once_at_her_date_then_the_request_expires(client):
    jill, janet = UserFactory(), UserFactory()
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=jill)
    MembershipFactory(cohort=cohort, user=janet)
    cao = ContactFactory(owner=jill, shareable=True)  # her hours: 09:00–17:00 UTC on weekdays
    asked = "would like to introduce you to"
    # Monday 1 June 2026: Janet asks, Jill approves, the CAO says "not now — ask me after Monday 8 June".
    with at(dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)):
        request = approve(client, jill, ask(client, janet, cao), "acquainted", "Janet works hard and listens.")
        until = dt.date(2026, 6, 8)
        target_answers(client, request, {"action": "defer", "defer-until": until.isoformat()})
    assert request.status == Status.DEFERRED and request.deferred_until == until
    deferred_mail = OutboxMessage.objects.get(to=[janet.email], subject__contains="not now")
    assert cao.email not in deferred_mail.body_text
    assert len(mail(cao.email, asked)) == 1

    # Nobody asks her again before her date; on it, at the start of her hours, she is asked once.
    reask_at = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)
    assert request.next_action_at == reask_at
    assert sweep_at(reask_at - dt.timedelta(days=3)) == {}
    assert sweep_at(reask_at - dt.timedelta(minutes=5)) == {}
    assert sweep_at(reask_at) == {"intro_reasked": 1}
    for later in (reask_at, reask_at + dt.timedelta(minutes=1), reask_at + dt.timedelta(days=2)):
        assert sweep_at(later).get("intro_reasked", 0) == 0
    request.refresh_from_db()
    assert request.status == Status.AWAITING_TARGET and request.reask_count == 1
    asks = mail(cao.email, asked)
    assert len(asks) == 2 and "asked to be asked again" in asks[1].body_text
    assert asks[1].created_at == reask_at

    # She does not answer the re-ask: after the wait the request expires, and she is not asked a third time.
    assert request.next_action_at == reask_at + dt.timedelta(days=settings.TARGET_ANSWER_WAIT_DAYS)
    assert sweep_at(request.next_action_at) == {"intro_expired": 1}
    request.refresh_from_db()
    assert request.status == Status.EXPIRED
    assert len(mail(cao.email, asked)) == 2


def test_story_2_the_ill_prepared_request(client):
    cohort = CohortFactory()
    priya, omar = UserFactory(full_name="Priya Raman"), UserFactory(full_name="Omar Haddad")
    MembershipFactory(cohort=cohort, user=priya)
    MembershipFactory(cohort=cohort, user=omar)
    manager = ContactFactory(owner=priya, name="Henry Brooks", shareable=True)

    # No goal, no research, no questions: it cannot be submitted, and says why.
    client.force_login(omar)
    thin = {
        "goal": "",
        "research_company": "",
        "research_person": "",
        "questions": "",
        "followup_plan": "",
        "fit": "I am good.",
        "blurb": "Omar wants a job.",
    }
    response = client.post(reverse("intros:create", args=[manager.pk]), {**thin, "submit": "1"})
    assert response.status_code == 422
    page = response.content.decode()
    for field in ("goal", "research_company", "research_person", "questions"):
        assert f'id="id_{field}_error"' in page
    request = IntroRequest.objects.get(seeker=omar)
    assert request.status == Status.DRAFT

    # Omar fills it in; Priya asks for changes; Omar improves it; Priya approves as "acquainted".
    client.post(reverse("intros:edit", args=[request.pk]), {**GOOD_PREPARATION, "submit": "1"})
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    client.force_login(priya)
    client.post(
        reverse("intros:request_changes", args=[request.pk]),
        {"changes-note": "Name two of Lumen's products you have used."},
    )
    request.refresh_from_db()
    assert request.status == Status.NEEDS_CHANGES
    client.force_login(omar)
    edit_page = client.get(reverse("intros:edit", args=[request.pk])).content.decode()
    assert "Name two of Lumen" in edit_page
    better = {**GOOD_PREPARATION, "research_company": GOOD_PREPARATION["research_company"] + " I use Lumen Pulse."}
    client.post(reverse("intros:edit", args=[request.pk]), {**better, "submit": "1"})
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    request = approve(client, priya, request, "acquainted", "We met twice at meetups; he prepared thoroughly.")
    assert request.vouch_strength == "acquainted"

    # The manager sees the vouch and the blurb before accepting.
    page = target_answers(client, request, {"action": "accept", "accept-writes_first": "seeker"})
    assert "Acquainted" in page and "We met twice at meetups" in page
    assert GOOD_PREPARATION["blurb"][:40] in page
    assert request.status == Status.INTRODUCED


def test_story_5_the_referral_chain(client):
    group = CohortFactory(name="Tuesday Networking Group")
    kevin, michael, jacob = (UserFactory(full_name=n) for n in ("Kevin Walsh", "Michael Byrne", "Jacob Stein"))
    for person in (kevin, michael, jacob):
        MembershipFactory(cohort=group, user=person)
    laura = ContactFactory(owner=kevin, name="Laura Perez", title="Head of Sales", shareable=True)
    diane = ContactFactory(owner=michael, name="Diane Foster", title="Hiring Manager", shareable=True)

    first = approve(client, kevin, ask(client, michael, laura), "close", "Michael and I sold together.")
    target_answers(client, first, {"action": "accept", "accept-writes_first": "seeker"})
    meet_and_report(client, michael, first, Outcome.HIRED, "Laura hired me.")

    second = ask(client, jacob, diane)
    client.force_login(michael)
    vetting = client.get(reverse("intros:detail", args=[second.pk])).content.decode()
    assert "This follows from one of your own introductions" in vetting
    second = approve(client, michael, second, "close", "Jacob is who I'd want in my old seat.", parent=first.pk)
    target_answers(client, second, {"action": "accept", "accept-writes_first": "seeker"})
    meet_and_report(client, jacob, second, Outcome.HIRED, "Diane hired me.")

    assert second.parent == first
    chain = [second, second.parent]
    assert [i.outcome for i in chain] == [Outcome.HIRED, Outcome.HIRED]
    assert [i.connector for i in chain] == [michael, kevin]

    # Both hires show in one chain, each credited to the connector who made that introduction,
    # from either end: Jacob's request (Jacob, Michael) and Michael's (Kevin, who cannot see Jacob's).
    for person, intro in ((jacob, second), (michael, second), (kevin, first)):
        client.force_login(person)
        page = client.get(reverse("intros:chain", args=[intro.pk])).content.decode()
        assert "2 introductions, each opened by the one before." in page
        assert page.index("Laura Perez") < page.index("Diane Foster")
        for connector in ("Kevin Walsh", "Michael Byrne"):
            assert f'<th scope="row">{connector}</th><td class="num">1</td><td class="num">1</td>' in page
