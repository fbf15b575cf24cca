import datetime as dt

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from contacts.models import weekdays_to_mask
from intros import services
from intros.models import IntroEvent, IntroRequest, TargetLink
from intros.states import OPEN_STATES, TRANSITIONS, Actor, Mode, Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory, IntroRequestFactory, UserFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions

pytestmark = pytest.mark.django_db


def test_every_transition_in_the_table_names_known_states():
    states = set(Status.values)
    for transition in TRANSITIONS.values():
        assert transition.target in states
        assert transition.sources <= states
        assert transition.actors


def test_submit_refuses_thin_preparation_and_says_what_is_missing():
    intro = IntroRequestFactory(goal="", research_company="tbd", questions="What do you do?")
    with pytest.raises(services.PreparationIncomplete) as raised:
        actions.do_submit(intro=intro, seeker=intro.seeker)
    assert set(raised.value.problems) == {"goal", "research_company", "questions"}
    assert "Missing" in raised.value.problems["goal"]
    intro.refresh_from_db()
    assert intro.status == Status.DRAFT
    assert not OutboxMessage.objects.exists()


def test_submit_moves_to_submitted_writes_event_and_tells_connector():
    intro = IntroRequestFactory()
    result = actions.do_submit(intro=intro, seeker=intro.seeker)
    assert result.changed
    assert result.intro.status == Status.SUBMITTED
    event = IntroEvent.objects.get(intro=intro, transition="submit")
    assert (event.from_status, event.to_status, event.actor_id, event.actor_role) == (
        Status.DRAFT,
        Status.SUBMITTED,
        intro.seeker_id,
        Actor.SEEKER,
    )
    message = OutboxMessage.objects.get()
    assert message.to == [intro.connector.email]
    assert intro.target.email not in message.body_text


def test_submit_twice_is_idempotent():
    intro = submitted()
    again = actions.do_submit(intro=intro, seeker=intro.seeker)
    assert not again.changed
    assert "already" in again.message
    assert IntroEvent.objects.filter(intro=intro, transition="submit").count() == 1
    assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize("who", ["connector", "stranger"])
def test_only_the_seeker_submits(who):
    intro = IntroRequestFactory()
    user = intro.connector if who == "connector" else UserFactory()
    with pytest.raises(services.NotAllowed):
        actions.do_submit(intro=intro, seeker=user)
    intro.refresh_from_db()
    assert intro.status == Status.DRAFT


@pytest.mark.parametrize("who", ["seeker", "stranger"])
def test_only_the_connector_approves(who):
    intro = submitted()
    user = intro.seeker if who == "seeker" else UserFactory()
    with pytest.raises(services.NotAllowed):
        actions.do_approve(
            intro=intro,
            connector=user,
            vouch_strength="close",
            vouch_note="Good person to know",
            mode=Mode.DOUBLE_OPT_IN,
        )
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED


def test_approve_double_opt_in_asks_the_target_with_a_signed_link():
    intro = awaiting_target()
    assert intro.status == Status.AWAITING_TARGET
    assert list(intro.events.values_list("transition", flat=True)) == ["submit", "approve", "ask_target"]
    link, _ = last_link_token(intro)
    assert link.purpose == TargetLink.Purpose.ANSWER and link.used_at is None
    ask = OutboxMessage.objects.get(to=[intro.target.email])
    assert intro.blurb[:40] in ask.body_text
    assert "Acquainted" in ask.body_text
    assert intro.seeker.email not in ask.body_text  # nothing is shared before the target agrees


def test_approve_twice_changes_nothing():
    intro = awaiting_target()
    again = actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="Changed my mind about this",
        mode=Mode.MENTION_NAME,
    )
    assert not again.changed
    intro.refresh_from_db()
    assert intro.vouch_strength == "acquainted"
    assert intro.target_links.count() == 1


def test_approve_needs_the_target_email_for_double_opt_in():
    intro = submitted(target=ContactFactory(email=""))
    with pytest.raises(services.NotAllowed, match="email address"):
        actions.do_approve(
            intro=intro,
            connector=intro.connector,
            vouch_strength="close",
            vouch_note="A sentence of vouching here",
            mode=Mode.DOUBLE_OPT_IN,
        )
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED
    assert not intro.events.filter(transition="approve").exists()


def test_mention_name_mode_lets_the_seeker_write_and_tells_the_connector():
    intro = submitted()
    result = actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="I have known Janet for ten years",
        mode=Mode.MENTION_NAME,
    )
    assert result.intro.status == Status.INTRODUCED
    to_seeker = OutboxMessage.objects.get(to=[intro.seeker.email])
    assert intro.target.email in to_seeker.body_text
    assert OutboxMessage.objects.filter(to=[intro.connector.email], subject__contains="mentioning you").exists()
    assert not intro.target_links.exists()


def test_request_changes_keeps_the_note_and_the_seeker_can_submit_again():
    intro = submitted()
    actions.do_request_changes(intro=intro, connector=intro.connector, note="Add the questions you will ask.")
    intro.refresh_from_db()
    assert intro.status == Status.NEEDS_CHANGES
    assert intro.connector_message == "Add the questions you will ask."
    result = actions.do_submit(intro=intro, seeker=intro.seeker)
    assert result.changed and result.intro.status == Status.SUBMITTED
    assert intro.events.filter(transition="submit").count() == 2


def test_decline_needs_a_note_and_tells_the_seeker_kindly():
    intro = submitted()
    with pytest.raises(services.NotAllowed):
        actions.do_decline(intro=intro, connector=intro.connector, note="  ")
    actions.do_decline(intro=intro, connector=intro.connector, note="She is not hiring this year, sorry.")
    intro.refresh_from_db()
    assert intro.status == Status.DECLINED_BY_CONNECTOR
    assert OutboxMessage.objects.filter(to=[intro.seeker.email], body_text__contains="not hiring").exists()


@pytest.mark.parametrize(
    "action",
    [
        lambda i: actions.do_request_changes(intro=i, connector=i.connector, note="x y z"),
        lambda i: actions.do_decline(intro=i, connector=i.connector, note="x y z"),
        lambda i: actions.do_record_meeting(intro=i, seeker=i.seeker, met_on=dt.date(2020, 1, 1)),
        lambda i: actions.do_record_outcome(intro=i, seeker=i.seeker, outcome=Outcome.ADVICE),
        lambda i: actions.do_close(intro=i, user=i.seeker),
    ],
)
def test_transitions_from_the_wrong_state_are_refused(action):
    intro = IntroRequestFactory()  # a draft
    with pytest.raises(services.NotAllowed):
        action(intro)
    intro.refresh_from_db()
    assert intro.status == Status.DRAFT
    assert not intro.events.exists()


def test_target_accept_with_terms_updates_the_window_and_introduces_both():
    busy = timezone.localdate() + dt.timedelta(days=4)
    terms = services.TargetTerms(
        busy_until=busy,
        weekdays=[0, 2],
        hours_start=dt.time(10),
        hours_end=dt.time(12),
        time_zone="Asia/Tokyo",
        target_writes_first=True,
    )
    intro = accepted(terms=terms)
    assert intro.status == Status.INTRODUCED
    assert intro.target_writes_first is True
    assert [e.transition for e in intro.events.all()][-2:] == ["target_accept", "introduce"]
    contact = intro.target
    contact.refresh_from_db()
    assert contact.unavailable_until == busy
    assert contact.weekdays == weekdays_to_mask([0, 2])
    assert (contact.hours_start, contact.hours_end, contact.time_zone) == (dt.time(10), dt.time(12), "Asia/Tokyo")
    intro_mail = OutboxMessage.objects.get(subject__startswith="Introduction:")
    assert sorted(intro_mail.to) == sorted([intro.target.email, intro.seeker.email])
    assert intro_mail.cc == [intro.connector.email]
    # The seeker reads the terms and is told not to write (intros.guidance).
    words = " ".join(intro_mail.body_text.split())
    assert f"What {intro.target.name} asked for: - Days: Monday and Wednesday - Hours: 10:00–12:00 Tokyo time" in words
    assert f"- Writes first: {intro.target.name}" in words
    assert f"don't write: {intro.target.name} said they would write to you first" in words
    assert intro.target_links.filter(purpose=TargetLink.Purpose.STEP_BACK).exists()


def test_a_link_works_once():
    intro = awaiting_target()
    link, token = last_link_token(intro)
    actions.do_target_decline(link=link)
    resolved = services.target_link_resolve(intro_id=intro.pk, token=token)
    assert resolved.used_at is not None
    with pytest.raises(services.LinkProblem) as raised:
        actions.do_target_accept(link=resolved, terms=services.TargetTerms())
    assert raised.value.kind == "used"
    intro.refresh_from_db()
    assert intro.status == Status.DECLINED_BY_TARGET


def test_a_tampered_token_is_refused():
    intro = awaiting_target()
    _, token = last_link_token(intro)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with pytest.raises(services.LinkProblem) as raised:
        services.target_link_resolve(intro_id=intro.pk, token=tampered)
    assert raised.value.kind == "invalid"


def test_a_token_with_the_wrong_nonce_is_refused():
    intro = awaiting_target()
    link, _ = last_link_token(intro)
    forged = signing.dumps({"l": link.pk, "n": "guessed"}, salt=services.LINK_SALT, compress=True)
    with pytest.raises(services.LinkProblem) as raised:
        services.target_link_resolve(intro_id=intro.pk, token=forged)
    assert raised.value.kind == "invalid"


def test_a_link_for_another_request_is_refused():
    intro = awaiting_target()
    other = awaiting_target()
    _, token = last_link_token(intro)
    with pytest.raises(services.LinkProblem) as raised:
        services.target_link_resolve(intro_id=other.pk, token=token)
    assert raised.value.kind == "wrong_request"


def test_an_expired_link_is_refused(settings):
    intro = awaiting_target()
    _, token = last_link_token(intro)
    later = timezone.now() + dt.timedelta(days=settings.TARGET_LINK_MAX_AGE_DAYS, minutes=1)
    with time_machine.travel(later, tick=False), pytest.raises(services.LinkProblem) as raised:
        services.target_link_resolve(intro_id=intro.pk, token=token)
    assert raised.value.kind == "expired"


def test_defer_waits_and_reask_sends_one_new_link():
    intro = awaiting_target()
    link, _ = last_link_token(intro)
    until = timezone.localdate() + dt.timedelta(days=10)
    actions.do_target_defer(link=link, until=until)
    intro.refresh_from_db()
    assert intro.status == Status.DEFERRED
    assert intro.deferred_until == until
    assert timezone.localtime(intro.next_action_at, intro.target.zone).date() == until
    first = actions.do_reask(intro=intro)
    second = actions.do_reask(intro=intro)
    assert first.changed and not second.changed
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET and intro.reask_count == 1
    assert intro.target_links.filter(purpose=TargetLink.Purpose.ANSWER).count() == 2
    assert (
        OutboxMessage.objects.filter(to=[intro.target.email], subject__contains="would like to introduce").count() == 2
    )


def test_defer_refuses_a_date_in_the_past():
    intro = awaiting_target()
    link, _ = last_link_token(intro)
    with pytest.raises(services.NotAllowed):
        actions.do_target_defer(link=link, until=timezone.localdate())
    link.refresh_from_db()
    assert link.used_at is None


def test_step_back_after_introduction_tells_the_connector():
    intro = accepted()
    link, _ = last_link_token(intro, TargetLink.Purpose.STEP_BACK)
    actions.do_target_step_back(link=link, note="Too much on my plate.")
    intro.refresh_from_db()
    assert intro.status == Status.DROPPED_BY_TARGET
    told = OutboxMessage.objects.get(to=[intro.connector.email], subject__contains="stepped back")
    assert "Too much on my plate." in told.body_text


def test_withdraw_from_any_open_state_but_not_after_the_end():
    # The table allows it from every open state (approved and accepted pass within one transition)…
    assert TRANSITIONS["withdraw"].sources == OPEN_STATES
    # …and the seeker withdraws from each state a request can wait in.
    draft = IntroRequestFactory()
    needs_changes = submitted()
    actions.do_request_changes(intro=needs_changes, connector=needs_changes.connector, note="Add questions.")
    deferred = awaiting_target()
    actions.do_target_defer(link=last_link_token(deferred)[0], until=timezone.localdate() + dt.timedelta(days=9))
    waiting = {
        Status.DRAFT: draft,
        Status.SUBMITTED: submitted(),
        Status.NEEDS_CHANGES: needs_changes,
        Status.AWAITING_TARGET: awaiting_target(),
        Status.DEFERRED: deferred,
        Status.INTRODUCED: accepted(),
    }
    for status, intro in waiting.items():
        intro.refresh_from_db()
        assert intro.status == status
        assert actions.do_withdraw(intro=intro, seeker=intro.seeker, note="Found a job").changed
        intro.refresh_from_db()
        assert intro.status == Status.WITHDRAWN, status
    intro = waiting[Status.AWAITING_TARGET]
    again = actions.do_withdraw(intro=intro, seeker=intro.seeker)
    assert not again.changed
    declined = submitted()
    actions.do_decline(intro=declined, connector=declined.connector, note="Not this time, sorry.")
    with pytest.raises(services.NotAllowed):
        actions.do_withdraw(intro=declined, seeker=declined.seeker)


def test_meeting_then_outcome_then_close_tells_the_connector_the_outcome():
    intro = accepted()
    actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=timezone.localdate())
    actions.do_record_outcome(intro=intro, seeker=intro.seeker, outcome=Outcome.OFFER, note="An offer!")
    actions.do_close(intro=intro, user=intro.connector)
    intro.refresh_from_db()
    assert intro.status == Status.CLOSED and intro.outcome == Outcome.OFFER
    assert OutboxMessage.objects.filter(to=[intro.connector.email], subject__contains="Job offer").exists()
    assert [e.to_status for e in intro.events.all()][-3:] == [Status.MET, Status.OUTCOME, Status.CLOSED]


def test_referred_on_starts_the_next_request_in_the_chain():
    intro = accepted()
    actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=timezone.localdate())
    with pytest.raises(services.NotAllowed):
        actions.do_record_outcome(intro=intro, seeker=intro.seeker, outcome=Outcome.REFERRED_ON)
    actions.do_record_outcome(
        intro=intro,
        seeker=intro.seeker,
        outcome=Outcome.REFERRED_ON,
        referred_to={"name": "Laura Sales", "organisation": "Agency", "title": "Head of sales"},
    )
    child = IntroRequest.objects.get(parent=intro)
    assert child.status == Status.DRAFT
    assert (child.seeker, child.connector) == (intro.seeker, intro.connector)
    assert child.target.name == "Laura Sales" and child.target.strength == "never_met"


def test_events_are_append_only():
    intro = submitted()
    event = intro.events.first()
    event.note = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
