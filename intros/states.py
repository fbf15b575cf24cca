"""The double-opt-in state machine, as one table, and the rules of each state beside it.

`TRANSITIONS`: where each transition may start, where it ends, and who may make it. Views and
tasks never assign `status`: each transition `name` is made by one action,
`workflows.intros.do_<name>` (`Transition.action`), which calls `intros.services.transition`
and then, in plain sight, tells the people and creates the follow-ups.

`STATE_RULES`: what holds in each state ("open", "editable", "met or later", which target link
still opens, …), one row per state naming every rule, so that a new state cannot be added
without saying. Every app asks these (`OPEN_STATES`, `link_open`, `IntroRequest.is_editable`)
rather than listing statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for the connector"
    NEEDS_CHANGES = "needs_changes", "Changes asked"
    DECLINED_BY_CONNECTOR = "declined_by_connector", "Declined by the connector"
    APPROVED = "approved", "Approved"
    AWAITING_TARGET = "awaiting_target", "Waiting for their answer"
    DEFERRED = "deferred", "Not now — ask again later"
    DECLINED_BY_TARGET = "declined_by_target", "Declined"
    ACCEPTED = "accepted", "Accepted"
    INTRODUCED = "introduced", "Introduced"
    MET = "met", "Met"
    OUTCOME = "outcome", "Outcome reported"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired — no answer"
    DROPPED_BY_TARGET = "dropped_by_target", "They stepped back"


class Actor(StrEnum):
    SEEKER = "seeker"
    CONNECTOR = "connector"
    TARGET = "target"
    SYSTEM = "system"


class Mode(models.TextChoices):
    DOUBLE_OPT_IN = "double_opt_in", "Double opt-in — ask them first, then introduce us both"
    MENTION_NAME = "mention_name", "Mention my name — write to them directly"


class Outcome(models.TextChoices):
    OFFER = "offer", "Job offer"
    HIRED = "hired", "Hired"
    REFERRED_ON = "referred_on", "Referred me on to someone else"
    ADVICE = "advice", "Advice"
    NO_FIT = "no_fit", "No fit"
    NO_RESPONSE = "no_response", "No response"


class LinkPurpose(models.TextChoices):
    """What a target's no-login link is for (`TargetLink.purpose`)."""

    ANSWER = "answer", "Answer the request"
    STEP_BACK = "step_back", "Step back"
    FEEDBACK = "feedback", "Feedback on the match"


@dataclass(frozen=True, kw_only=True)
class Rules:
    """What holds in one state. Every field is named in every row, so a new state must say."""

    open: bool  # still going somewhere: the seeker may withdraw it; one open request per person
    final: bool  # ended for good (met and outcome are neither open nor final)
    said_no: bool  # ended by a no or no answer: asking again shows that history, needs a "why now"
    carried: bool  # counts against the connector's capacity
    editable: bool  # the seeker may edit the preparation
    target_details_visible: bool  # the target's email is the seeker's to see
    guided: bool  # the seeker is to make (or hold back) the first contact (intros.guidance)
    outreach_allowed: bool  # the seeker may log an outreach to the target
    met_or_later: bool  # they met: feedback on the match may be asked for
    waiting_on_target: bool  # the sweep re-asks or expires it (followups.sweep)
    links: frozenset[LinkPurpose]  # which target links still open a page in this state


def _rules(*, links, **flags: bool) -> Rules:
    return Rules(links=frozenset(links), **flags)


_ = False
X = True
P = LinkPurpose
# fmt: off
STATE_RULES: dict[Status, Rules] = {
    Status.DRAFT:                 _rules(open=X, final=_, said_no=_, carried=_, editable=X, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.SUBMITTED:             _rules(open=X, final=_, said_no=_, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.NEEDS_CHANGES:         _rules(open=X, final=_, said_no=_, carried=_, editable=X, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.DECLINED_BY_CONNECTOR: _rules(open=_, final=X, said_no=X, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.APPROVED:              _rules(open=X, final=_, said_no=_, carried=X, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.AWAITING_TARGET:       _rules(open=X, final=_, said_no=_, carried=X, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=X, links={P.ANSWER}),
    Status.DEFERRED:              _rules(open=X, final=_, said_no=_, carried=X, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=X, links=()),
    Status.DECLINED_BY_TARGET:    _rules(open=_, final=X, said_no=X, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.ACCEPTED:              _rules(open=X, final=_, said_no=_, carried=X, editable=_, target_details_visible=X, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links={P.STEP_BACK}),
    Status.INTRODUCED:            _rules(open=X, final=_, said_no=_, carried=X, editable=_, target_details_visible=X, guided=X, outreach_allowed=X, met_or_later=_, waiting_on_target=_, links={P.STEP_BACK}),
    Status.MET:                   _rules(open=_, final=_, said_no=_, carried=_, editable=_, target_details_visible=X, guided=_, outreach_allowed=X, met_or_later=X, waiting_on_target=_, links={P.FEEDBACK}),
    Status.OUTCOME:               _rules(open=_, final=_, said_no=_, carried=_, editable=_, target_details_visible=X, guided=_, outreach_allowed=X, met_or_later=X, waiting_on_target=_, links={P.FEEDBACK}),
    Status.CLOSED:                _rules(open=_, final=X, said_no=_, carried=_, editable=_, target_details_visible=X, guided=_, outreach_allowed=_, met_or_later=X, waiting_on_target=_, links={P.FEEDBACK}),
    Status.WITHDRAWN:             _rules(open=_, final=X, said_no=_, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.EXPIRED:               _rules(open=_, final=X, said_no=X, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
    Status.DROPPED_BY_TARGET:     _rules(open=_, final=X, said_no=X, carried=_, editable=_, target_details_visible=_, guided=_, outreach_allowed=_, met_or_later=_, waiting_on_target=_, links=()),
}
# fmt: on
assert set(STATE_RULES) == set(Status), f"Say what holds in {sorted(set(Status) - set(STATE_RULES))}"
del _, X, P


def states_where(rule: str) -> frozenset[Status]:
    """The states in which the named rule of `Rules` holds."""
    return frozenset(status for status, rules in STATE_RULES.items() if getattr(rules, rule))


def rules_of(status: str) -> Rules:
    """The rules of a status, given as the enum or its stored value."""
    return STATE_RULES[Status(status)]


OPEN_STATES = states_where("open")
FINAL_STATES = states_where("final")
# How a request ends when someone said no, or never answered: asking the same person again
# shows that history to the seeker and the connector, and needs a reason ("why now").
SAID_NO_STATES = states_where("said_no")
# What counts against a connector's capacity.
CARRIED_STATES = states_where("carried")
# The seeker may edit the preparation: a draft, or changes asked.
EDITABLE_STATES = states_where("editable")
# The target's email is the seeker's to see only from here on.
TARGET_DETAILS_VISIBLE = states_where("target_details_visible")
# The states in which the seeker is to make (or hold back) the first contact with the target.
GUIDED_STATES = states_where("guided")
OUTREACH_STATES = states_where("outreach_allowed")
MET_OR_LATER = states_where("met_or_later")
WAITING_ON_TARGET = states_where("waiting_on_target")
# Past requests, as home and the connector's inbox list them: ended, or after the meeting.
PAST_FOR_SEEKER = FINAL_STATES | {Status.OUTCOME}
PAST_FOR_CONNECTOR = FINAL_STATES | MET_OR_LATER


def link_open(purpose: str, status: str) -> bool:
    """Whether a target link of this purpose still opens its page while the request is in `status`."""
    return LinkPurpose(purpose) in rules_of(status).links


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]
    verb: str  # how the timeline says it

    @property
    def action(self) -> str:
        """The workflow that makes this transition, with its effects (who is told, follow-ups)."""
        return f"workflows.intros.do_{self.name}"


def _t(name: str, sources, target: str, actors, verb: str) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(actors), verb)


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("submit", {S.DRAFT, S.NEEDS_CHANGES}, S.SUBMITTED, {Actor.SEEKER}, "submitted the request"),
        _t("request_changes", {S.SUBMITTED}, S.NEEDS_CHANGES, {Actor.CONNECTOR}, "asked for changes"),
        _t("decline", {S.SUBMITTED}, S.DECLINED_BY_CONNECTOR, {Actor.CONNECTOR}, "declined the request"),
        _t("approve", {S.SUBMITTED}, S.APPROVED, {Actor.CONNECTOR}, "approved and vouched"),
        _t("ask_target", {S.APPROVED}, S.AWAITING_TARGET, {Actor.SYSTEM}, "asked the target"),
        _t(
            "mention_name",
            {S.APPROVED},
            S.INTRODUCED,
            {Actor.SYSTEM},
            "let the seeker write, mentioning the connector",
        ),
        _t("target_accept", {S.AWAITING_TARGET}, S.ACCEPTED, {Actor.TARGET}, "accepted"),
        _t("target_decline", {S.AWAITING_TARGET}, S.DECLINED_BY_TARGET, {Actor.TARGET}, "declined"),
        _t("target_defer", {S.AWAITING_TARGET}, S.DEFERRED, {Actor.TARGET}, "said not now"),
        _t("reask", {S.DEFERRED}, S.AWAITING_TARGET, {Actor.SYSTEM}, "asked again after the deferral"),
        _t("expire", {S.AWAITING_TARGET}, S.EXPIRED, {Actor.SYSTEM}, "expired without an answer"),
        _t("introduce", {S.ACCEPTED}, S.INTRODUCED, {Actor.SYSTEM}, "introduced both by email"),
        _t(
            "target_step_back",
            {S.ACCEPTED, S.INTRODUCED},
            S.DROPPED_BY_TARGET,
            {Actor.TARGET},
            "stepped back",
        ),
        _t("record_meeting", {S.INTRODUCED}, S.MET, {Actor.SEEKER}, "recorded the meeting"),
        _t("record_outcome", {S.MET}, S.OUTCOME, {Actor.SEEKER}, "reported the outcome"),
        _t(
            "close",
            {S.OUTCOME},
            S.CLOSED,
            {Actor.SEEKER, Actor.CONNECTOR, Actor.SYSTEM},
            "closed the introduction",
        ),
        _t("withdraw", OPEN_STATES, S.WITHDRAWN, {Actor.SEEKER}, "withdrew the request"),
        # The connector deleted their account before the target was introduced: the request
        # can't go on without them (workflows.personal_data). Not "decline", whose email quotes
        # the connector's own words.
        _t(
            "connector_left",
            {S.DRAFT, S.SUBMITTED, S.NEEDS_CHANGES, S.APPROVED, S.AWAITING_TARGET, S.DEFERRED},
            S.DECLINED_BY_CONNECTOR,
            {Actor.CONNECTOR},
            "left Warm Intros, so the request was closed",
        ),
    ]
}


def allows(name: str, status: str) -> bool:
    """Whether the transition `name` may start from `status` (by the table; who may make it aside)."""
    return status in TRANSITIONS[name].sources


def transitions_from(status: str, actor: Actor) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources and actor in t.actors]
