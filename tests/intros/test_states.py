"""The state table and the rules beside it: every state says what holds in it, so a new state
fails here (and at import) until each rule, each transition and each link purpose is decided."""

from __future__ import annotations

import dataclasses

import pytest

from intros.models import NEXT_STEP_FOR_CONNECTOR, NEXT_STEP_FOR_SEEKER, SAID_NO_IN_WORDS, TargetLink
from intros.states import (
    CARRIED_STATES,
    EDITABLE_STATES,
    FINAL_STATES,
    MET_OR_LATER,
    OPEN_STATES,
    OUTREACH_STATES,
    SAID_NO_STATES,
    STATE_RULES,
    TARGET_DETAILS_VISIBLE,
    TRANSITIONS,
    WAITING_ON_TARGET,
    LinkPurpose,
    Rules,
    Status,
    link_open,
)

RULE_NAMES = [field.name for field in dataclasses.fields(Rules)]


def test_every_state_has_a_row_of_rules():
    assert set(STATE_RULES) == set(Status)


@pytest.mark.parametrize("status", list(Status))
def test_every_state_is_classified_by_every_rule(status):
    rules = STATE_RULES[status]
    for name in RULE_NAMES:
        value = getattr(rules, name)
        if name == "links":
            assert value <= set(LinkPurpose)
        else:
            assert isinstance(value, bool), f"{status}: {name} is {value!r}"


def test_a_row_without_every_rule_is_refused():
    with pytest.raises(TypeError):
        Rules(open=True, final=False)  # the rest unsaid


def test_open_and_final_never_overlap_and_only_the_meeting_stages_are_neither():
    assert set() == OPEN_STATES & FINAL_STATES
    assert set(Status) - OPEN_STATES - FINAL_STATES == {Status.MET, Status.OUTCOME}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            OPEN_STATES,
            {
                "draft",
                "submitted",
                "needs_changes",
                "approved",
                "awaiting_target",
                "deferred",
                "accepted",
                "introduced",
            },
        ),
        (
            FINAL_STATES,
            {"declined_by_connector", "declined_by_target", "closed", "withdrawn", "expired", "dropped_by_target"},
        ),
        (SAID_NO_STATES, {"declined_by_connector", "declined_by_target", "dropped_by_target", "expired"}),
        (CARRIED_STATES, {"approved", "awaiting_target", "deferred", "accepted", "introduced"}),
        (EDITABLE_STATES, {"draft", "needs_changes"}),
        (TARGET_DETAILS_VISIBLE, {"accepted", "introduced", "met", "outcome", "closed"}),
        (OUTREACH_STATES, {"introduced", "met", "outcome"}),
        (MET_OR_LATER, {"met", "outcome", "closed"}),
        (WAITING_ON_TARGET, {"awaiting_target", "deferred"}),
    ],
)
def test_each_rule_holds_in_the_states_it_always_held_in(rule, expected):
    assert {status.value for status in rule} == expected


def test_each_link_opens_only_while_it_can_still_be_acted_on():
    opens = {purpose: {s.value for s in Status if link_open(purpose, s)} for purpose in LinkPurpose}
    assert opens == {
        LinkPurpose.ANSWER: {"awaiting_target"},
        LinkPurpose.STEP_BACK: {"accepted", "introduced"},
        LinkPurpose.FEEDBACK: {"met", "outcome", "closed"},
    }
    assert TargetLink.Purpose is LinkPurpose


def test_a_link_is_open_only_where_its_transition_may_start():
    """The step-back link opens where the step back may happen, the answer where an answer may."""
    assert {s for s in Status if link_open(LinkPurpose.STEP_BACK, s)} == TRANSITIONS["target_step_back"].sources
    assert {s for s in Status if link_open(LinkPurpose.ANSWER, s)} == TRANSITIONS["target_accept"].sources


def test_every_transition_starts_and_ends_in_known_states():
    for transition in TRANSITIONS.values():
        assert transition.sources <= set(Status), transition.name
        assert transition.target in set(Status), transition.name
    assert TRANSITIONS["withdraw"].sources == OPEN_STATES


def test_every_state_is_reached_by_a_transition_or_is_where_requests_start():
    reached = {transition.target for transition in TRANSITIONS.values()}
    assert set(Status) - reached == {Status.DRAFT}


def test_next_step_tables_name_only_known_states():
    assert set(NEXT_STEP_FOR_SEEKER) <= set(Status)
    assert set(NEXT_STEP_FOR_CONNECTOR) <= set(Status)


def test_every_way_of_saying_no_has_words_in_the_history():
    assert set(SAID_NO_IN_WORDS) == SAID_NO_STATES
