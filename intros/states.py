"""The double-opt-in state machine, as one table.

Views and tasks never assign `status`; they call a function in `intros.services`,
which looks its transition up here: where it may start, where it ends, and who may
make it.
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


OPEN_STATES = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.NEEDS_CHANGES,
        Status.APPROVED,
        Status.AWAITING_TARGET,
        Status.DEFERRED,
        Status.ACCEPTED,
        Status.INTRODUCED,
    }
)
FINAL_STATES = frozenset(
    {
        Status.DECLINED_BY_CONNECTOR,
        Status.DECLINED_BY_TARGET,
        Status.CLOSED,
        Status.WITHDRAWN,
        Status.EXPIRED,
        Status.DROPPED_BY_TARGET,
    }
)
# How a request ends when someone said no, or never answered: asking the same person again
# shows that history to the seeker and the connector, and needs a reason ("why now").
SAID_NO_STATES = frozenset(
    {
        Status.DECLINED_BY_CONNECTOR,
        Status.DECLINED_BY_TARGET,
        Status.DROPPED_BY_TARGET,
        Status.EXPIRED,
    }
)
# The target's email is the seeker's to see only from here on.
TARGET_DETAILS_VISIBLE = frozenset({Status.ACCEPTED, Status.INTRODUCED, Status.MET, Status.OUTCOME, Status.CLOSED})


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]
    verb: str  # how the timeline says it


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
        # can't go on without them (accounts.personal_data). Not "decline", whose email quotes
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


def transitions_from(status: str, actor: Actor) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources and actor in t.actors]
