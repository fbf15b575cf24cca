"""A request's stage stamps (first submitted, approved, accepted, introduced, met, outcome
recorded): set by the transition that first reaches the stage, never moved by a repeat, and
filled from the events for requests made before the stamps existed (migration 0007)."""

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps

from intros.models import STAGE_STAMP_FIELDS as STAMPS
from intros.models import IntroEvent, IntroRequest
from intros.states import Mode, Outcome
from tests.stories import accepted, submitted
from workflows import intros as actions

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def _first_event_at(intro: IntroRequest, *transitions: str) -> dt.datetime | None:
    event = intro.events.filter(transition__in=transitions).order_by("created_at", "pk").first()
    return event.created_at if event else None


def _double_opt_in_to_outcome() -> IntroRequest:
    with time_machine.travel(at(0), tick=False):
        intro = accepted()  # submit, approve, ask_target, target_accept, introduce
    with time_machine.travel(at(30), tick=False):
        actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=at(30).date())
    with time_machine.travel(at(50), tick=False):
        actions.do_record_outcome(intro=intro, seeker=intro.seeker, outcome=Outcome.OFFER)
    intro.refresh_from_db()
    return intro


def test_each_transition_stamps_its_stage_with_its_event_time():
    intro = _double_opt_in_to_outcome()
    assert intro.first_submitted_at == _first_event_at(intro, "submit") == at(0)
    assert intro.approved_at == _first_event_at(intro, "approve")
    assert intro.accepted_at == _first_event_at(intro, "target_accept")
    assert intro.introduced_at == _first_event_at(intro, "introduce")
    assert intro.met_at == _first_event_at(intro, "record_meeting") == at(30)
    assert intro.outcome_recorded_at == _first_event_at(intro, "record_outcome") == at(50)


def test_a_second_submit_keeps_the_first_submission_and_moves_the_queue_time():
    with time_machine.travel(at(0), tick=False):
        intro = submitted()
    with time_machine.travel(at(5), tick=False):
        actions.do_request_changes(intro=intro, connector=intro.connector, note="Add your questions.")
    with time_machine.travel(at(20), tick=False):
        actions.do_submit(intro=intro, seeker=intro.seeker)
    intro.refresh_from_db()
    assert intro.events.filter(transition="submit").count() == 2
    assert intro.first_submitted_at == at(0)
    assert intro.submitted_at == at(20)  # the queue order: the latest submission


def test_mention_my_name_counts_as_accepted_and_introduced():
    with time_machine.travel(at(0), tick=False):
        intro = submitted()
    with time_machine.travel(at(3), tick=False):
        actions.do_approve(
            intro=intro,
            connector=intro.connector,
            vouch_strength="close",
            vouch_note="Ten years.",
            mode=Mode.MENTION_NAME,
        )
    intro.refresh_from_db()
    assert intro.approved_at == intro.accepted_at == intro.introduced_at == at(3)
    assert intro.met_at is None and intro.outcome_recorded_at is None


def test_the_migration_fills_the_stamps_from_each_requests_events():
    stamped = _double_opt_in_to_outcome()
    with time_machine.travel(at(0), tick=False):
        only_submitted = submitted()
    expected = {pk: IntroRequest.objects.values(*STAMPS).get(pk=pk) for pk in (stamped.pk, only_submitted.pk)}
    assert IntroEvent.objects.filter(intro=stamped).count() >= 7
    IntroRequest.objects.update(**dict.fromkeys(STAMPS))

    migration = importlib.import_module("intros.migrations.0007_stage_stamps")
    migration.stamp_from_events(apps, None)

    for pk, stamps in expected.items():
        assert IntroRequest.objects.values(*STAMPS).get(pk=pk) == stamps
    assert expected[only_submitted.pk]["first_submitted_at"] == at(0)
    assert expected[only_submitted.pk]["approved_at"] is None
