from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Strength
from lib.outbox.models import DeliveryReport, OutboxMessage

from .guidance import Guidance
from .states import (
    CARRIED_STATES,
    EDITABLE_STATES,
    FINAL_STATES,
    GUIDED_STATES,
    MET_OR_LATER,
    OPEN_STATES,
    OUTREACH_STATES,
    SAID_NO_STATES,
    TARGET_DETAILS_VISIBLE,
    Actor,
    LinkPurpose,
    Mode,
    Outcome,
    Status,
)

# A request cannot be submitted until each of these says something real.
PREPARATION_FIELDS = (
    "goal",
    "research_company",
    "research_person",
    "questions",
    "followup_plan",
    "fit",
    "blurb",
)

# What the connector reads and may send back for changes: the preparation and, when the seeker
# asks someone who said no before, why now. Kept as it stood when sent back (IntroEvent.preparation)
# so the connector sees what changed when it comes back.
REVIEWED_FIELDS = (*PREPARATION_FIELDS, "why_now")
# Each of them as the connector hears of it ("Janet changed the goal and the questions").
REVIEWED_FIELD_NAMES = {
    "goal": "the goal",
    "research_company": "the research on the organisation",
    "research_person": "the research on the person",
    "questions": "the questions",
    "followup_plan": "the follow-up plan",
    "fit": "why they fit",
    "blurb": "the forwardable blurb",
    "why_now": "why ask again now",
}


# What a list row of requests reads (templates and `next_step`); see IntroRequestQuerySet.listed.
LIST_FIELDS = (
    "pk",
    "status",
    "mode",
    "outcome",
    "target_writes_first",
    "deferred_until",
    "updated_at",
    "seeker__id",
    "seeker__full_name",
    "connector__id",
    "connector__full_name",
    "target__id",
    "target__name",
    "target__organisation",
    # The guidance (intros.guidance) of an introduced request reads the target's window.
    "introduced_at",
    "target__time_zone",
    "target__weekdays",
    "target__hours_start",
    "target__hours_end",
    "target__unavailable_until",
    "target__min_days_between",
    "target__last_contacted_at",
    "target__do_not_contact",
)


def list_fields_via(relation: str) -> tuple[str, ...]:
    """`LIST_FIELDS` through a relation to a request (`"intro"`): for the rows of another model
    that show their request as a seeker's list row does (the seeker being the reader)."""
    return (
        f"{relation}__seeker",
        *(f"{relation}__{name}" for name in LIST_FIELDS if name != "pk" and not name.startswith("seeker__")),
    )


def seen_as_seeker(user) -> Q:
    return Q(seeker=user)


def seen_as_connector(user) -> Q:
    # A request is its connector's to see once it was first submitted to them. Before that it
    # is the seeker's own draft, and stays theirs if they withdraw it unsubmitted.
    return Q(connector=user, first_submitted_at__isnull=False)


# The states the querysets below filter on, as conditions a count can reuse (Count(filter=...))
# on the side of `visible_to` it already stands on: one query for several numbers, no subquery.
OPEN = Q(status__in=OPEN_STATES)
AWAITING_CONNECTOR = Q(status=Status.SUBMITTED)
CARRIED = Q(status__in=CARRIED_STATES)


class IntroRequestQuerySet(models.QuerySet["IntroRequest"]):
    def visible_to(self, user) -> IntroRequestQuerySet:
        """The one rule for which requests a person may see or act on: those they made, and
        those submitted to them as the connector. Every page and action about a request looks
        it up here, or through `of_seeker` / `of_connector` (each one side of this rule) and
        the methods built on them; anything else answers 404."""
        return self.filter(seen_as_seeker(user) | seen_as_connector(user))

    def of_seeker(self, user) -> IntroRequestQuerySet:
        """The seeker's side of `visible_to`: the requests they made, drafts included."""
        return self.filter(seen_as_seeker(user))

    def of_connector(self, user) -> IntroRequestQuerySet:
        """The connector's side of `visible_to`: requests submitted to them, in any state since."""
        return self.filter(seen_as_connector(user))

    def awaiting_connector(self, user) -> IntroRequestQuerySet:
        return self.of_connector(user).filter(AWAITING_CONNECTOR)

    def shown_in_chain_to(self, user) -> IntroRequestQuerySet:
        """The requests a referral chain shows as a line (names, state, outcome) to someone who
        may see one of its requests: every submitted one, but another person's draft never."""
        return self.filter(seen_as_seeker(user) | Q(first_submitted_at__isnull=False))

    def open(self) -> IntroRequestQuerySet:
        return self.filter(OPEN)

    def said_no(self) -> IntroRequestQuerySet:
        """Ended because someone said no or never answered (`SAID_NO_STATES`)."""
        return self.filter(status__in=SAID_NO_STATES)

    def with_ending(self) -> IntroRequestQuerySet:
        """Each request annotated with when it reached its present state (`ended_at`) and the
        note given then (`ended_note`): for a request that ended, what happened and when."""
        last = IntroEvent.objects.filter(intro=OuterRef("pk"), to_status=OuterRef("status")).order_by(
            "-created_at", "-pk"
        )
        return self.annotate(
            ended_at=Subquery(last.values("created_at")[:1]), ended_note=Subquery(last.values("note")[:1])
        )

    def carried_by(self, connector) -> IntroRequestQuerySet:
        """The introductions a connector is carrying: approved and not yet met or ended."""
        return self.of_connector(connector).filter(CARRIED)

    def queue_of(self, connector) -> IntroRequestQuerySet:
        """Requests waiting for the connector to vet, oldest first: the queue."""
        return self.awaiting_connector(connector).order_by("submitted_at", "pk")

    def with_people(self) -> IntroRequestQuerySet:
        return self.select_related("seeker", "connector", "target")

    def listed(self, *, mine: str | None = None) -> IntroRequestQuerySet:
        """`with_people`, loading only what a list row shows (its link, names, state and next
        step): not the preparation texts or the people's other columns, which at list length
        cost more to fetch, compile and build than the row costs to render.

        `mine` ("seeker" or "connector"): the list is the viewer's own, with them on that side
        of every row, so that side is not joined (a join fewer to plan); the view puts the
        viewer there (`intro.seeker = user`) before anything reads it."""
        if mine is None:
            return self.with_people().only(*LIST_FIELDS)
        others = [side for side in ("seeker", "connector") if side != mine]
        return self.select_related(*others, "target").only(
            *(f for f in LIST_FIELDS if not f.startswith(f"{mine}__")), f"{mine}_id"
        )


# Which stage stamps a transition sets, the first time it happens (intros.services). A
# mention-my-name request needs no acceptance: naming counts as accepted and introduced.
STAGE_STAMPS: dict[str, tuple[str, ...]] = {
    "submit": ("first_submitted_at",),
    "approve": ("approved_at",),
    "target_accept": ("accepted_at",),
    "mention_name": ("accepted_at", "introduced_at"),
    "introduce": ("introduced_at",),
    "record_meeting": ("met_at",),
    "record_outcome": ("outcome_recorded_at",),
}
STAGE_STAMP_FIELDS = tuple(sorted({stamp for stamps in STAGE_STAMPS.values() for stamp in stamps}))


class IntroRequest(models.Model):
    """A seeker's request that a connector introduce them to one of the connector's contacts."""

    Status = Status  # so that a template compares with the enum: intro.status == intro.Status.MET

    seeker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requests_made")
    connector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requests_received")
    target = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="intro_requests")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="The introduction whose outcome led to this one (a referral chain).",
    )
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.DRAFT)
    mode = models.CharField(max_length=20, choices=Mode.choices, blank=True)

    # The seeker's preparation.
    goal = models.TextField("what you hope to get from this conversation", blank=True)
    research_company = models.TextField("what you know about their organisation", blank=True)
    research_person = models.TextField("what you know about them", blank=True)
    questions = models.TextField("the questions you will ask", blank=True)
    followup_plan = models.TextField("how you will follow up", blank=True)
    fit = models.TextField("why you fit (qualifications, experience)", blank=True)
    blurb = models.TextField(
        "forwardable blurb",
        blank=True,
        help_text="A short paragraph about you the connector can forward as it stands.",
    )
    why_now = models.TextField(
        "why ask again now",
        blank=True,
        help_text="When the seeker asked this person before and they said no (or never answered): "
        "what has changed since. The connector reads it with that history.",
    )

    # The connector's vouch and messages.
    vouch_strength = models.CharField(
        "how well the connector knows the seeker", max_length=20, choices=Strength.choices, blank=True
    )
    vouch_note = models.TextField(blank=True)
    connector_message = models.TextField(blank=True, help_text="The connector's latest note to the seeker.")

    # The target's answer and terms.
    target_writes_first = models.BooleanField(null=True, blank=True)
    deferred_until = models.DateField(null=True, blank=True)
    reask_count = models.PositiveSmallIntegerField(default=0)

    met_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)

    # The target's feedback on the match, through a link after the meeting; the connector sees it.
    target_feedback_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    target_feedback_note = models.TextField(blank=True)
    target_feedback_at = models.DateTimeField(null=True, blank=True)

    # When the beat sweep should next look at this request (a re-ask, an expiry).
    next_action_at = models.DateTimeField(null=True, blank=True)
    # The latest email asking the target (first ask, re-ask, reminder or a resend): if it can
    # never be delivered, both people are told, the page says so, and the connector may resend.
    last_ask = models.ForeignKey(
        "outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="Latest submission: the queue order.")
    updated_at = models.DateTimeField(auto_now=True)

    # When the request first reached each stage (STAGE_STAMPS), kept beside its events so
    # the coach's funnel and medians read one row per request instead of probing events.
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    introduced_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = IntroRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["seeker", "status"]),
            models.Index(fields=["connector", "status"]),
            # Home and the inbox list a person's requests newest first, a page at a time.
            models.Index(fields=["seeker", "-updated_at"], name="intro_seeker_updated_idx"),
            models.Index(fields=["connector", "-updated_at"], name="intro_connector_updated_idx"),
            # The coach's funnel: a cohort's members' requests first submitted in a period, with
            # what the funnel counts (intros.numbers) in the index, so it is counted from the index
            # alone, without a visit to each request (bench: issue 17).
            models.Index(
                fields=["seeker", "first_submitted_at"],
                include=[
                    "approved_at",
                    "accepted_at",
                    "introduced_at",
                    "met_at",
                    "outcome_recorded_at",
                    "outcome",
                    "status",
                ],
                name="intro_seeker_submitted_idx",
            ),
            # …and per member, those introduced (medians, waiting) and met (outcomes) in it.
            models.Index(fields=["seeker", "introduced_at"], include=["id"], name="intro_seeker_introduced_idx"),
            models.Index(fields=["seeker", "met_at"], include=["outcome_recorded_at"], name="intro_seeker_met_idx"),
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="intro_next_action_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(seeker=models.F("connector")), name="intro_seeker_is_not_connector"),
            # One open request per seeker and person: a second one points to the first instead.
            models.UniqueConstraint(
                fields=["seeker", "target"],
                condition=Q(status__in=sorted(OPEN_STATES)),
                name="intro_one_open_request_per_target",
                violation_error_message="You already have a request open to meet this person.",
            ),
            models.CheckConstraint(
                condition=Q(target_feedback_rating__isnull=True) | Q(target_feedback_rating__range=(1, 5)),
                name="intro_feedback_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seeker} → {self.target} (via {self.connector})"

    def get_absolute_url(self) -> str:
        return reverse("intros:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def target_details_visible_to_seeker(self) -> bool:
        return self.status in TARGET_DETAILS_VISIBLE

    @property
    def is_editable(self) -> bool:
        """The seeker may edit the preparation (a draft, or changes asked)."""
        return self.status in EDITABLE_STATES

    @property
    def outreach_allowed(self) -> bool:
        """The seeker may log an outreach to the target."""
        return self.status in OUTREACH_STATES

    @property
    def is_met_or_later(self) -> bool:
        return self.status in MET_OR_LATER

    def undelivered_ask(self) -> OutboxMessage | None:
        """While the target should be answering: our latest email asking them, if it failed for
        good or bounced (a wrong address, most likely). Nobody will answer until the connector
        corrects it. One query, and only in that state."""
        if self.status != Status.AWAITING_TARGET or self.last_ask_id is None:
            return None
        return OutboxMessage.objects.undelivered().filter(pk=self.last_ask_id).only("to", "failed_at").first()

    @property
    def introduction_key(self) -> str:
        """The outbox key of the email that introduces the seeker and the target (one per request)."""
        return f"intro:{self.pk}:introduce"

    def undelivered_introduction(self) -> DeliveryReport | None:
        """Introduced, not yet met: the email service's report that the introduction bounced for
        the target, at the address their contact still has (once it is corrected, the report is
        about an old address and is not shown). One query, and only in that state."""
        if self.status != Status.INTRODUCED or not self.target.email:
            return None
        return (
            DeliveryReport.objects.filter(
                message__key=self.introduction_key,
                recipient=self.target.email.lower(),
                kind__in=[DeliveryReport.Kind.BOUNCED, DeliveryReport.Kind.REJECTED],
            )
            .order_by("received_at")
            .first()
        )

    def role_of(self, user) -> Actor | None:
        if user.pk == self.seeker_id:
            return Actor.SEEKER
        if user.pk == self.connector_id:
            return Actor.CONNECTOR
        return None

    @property
    def said_no_in_words(self) -> str:
        """ "Carol declined", "Carol stepped back after accepting": how it ended, in a sentence."""
        return said_no_in_words(self)

    def missing_preparation(self) -> dict[str, str]:
        """Each preparation field that is empty or too thin to help, with what is missing."""
        from .preparation import check_preparation

        return check_preparation({name: getattr(self, name) for name in PREPARATION_FIELDS})


class IntroEvent(models.Model):
    """One transition, kept for ever: who, when, from, to, and why."""

    intro = models.ForeignKey(IntroRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=12, choices=[(a.value, a.value) for a in Actor])
    transition = models.CharField(max_length=32)
    from_status = models.CharField(max_length=32, choices=Status.choices)
    to_status = models.CharField(max_length=32, choices=Status.choices)
    note = models.TextField(blank=True)
    # For "request_changes": the preparation (REVIEWED_FIELDS) as the connector sent it back,
    # to show them what changed when it is submitted again. The seeker's writing: erased with them.
    preparation = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["intro", "created_at"]),
            # The coach dashboard asks when requests reached each stage, and each member's last activity.
            models.Index(fields=["transition", "created_at"]),
            # "Did this request reach this stage in the period?", once per request and stage: an
            # index-only probe instead of reading the request's ~10 events (bench: cold
            # dashboard ~900 → ~670 ms at full scale).
            models.Index(fields=["intro", "transition", "created_at"], name="introevent_stage_idx"),
            models.Index(fields=["actor", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.intro_id}: {self.from_status} → {self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Intro events are append-only.")
        super().save(*args, **kwargs)


class TargetLink(models.Model):
    """A signed, expiring, single-use link emailed to a target (who has no login)."""

    Purpose = LinkPurpose  # which state each purpose is open in: intros.states.STATE_RULES

    intro = models.ForeignKey(IntroRequest, on_delete=models.CASCADE, related_name="target_links")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    nonce = models.CharField(max_length=64, default=secrets.token_urlsafe, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["intro", "purpose"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for intro {self.intro_id}"


NEXT_STEP_FOR_SEEKER = {
    Status.DRAFT: "Finish your preparation and submit it to {connector}.",
    Status.NEEDS_CHANGES: "Make the changes {connector} asked for, then submit again.",
    Status.SUBMITTED: "Waiting for {connector} to read your preparation.",
    Status.APPROVED: "Approved — {target} is being asked.",
    Status.AWAITING_TARGET: "Waiting for {target} to answer.",
    Status.DEFERRED: "{target} asked to be asked again after {deferred_until}.",
    Status.ACCEPTED: "{target} accepted — the introduction email is on its way.",
    Status.MET: "Report the outcome to {connector}.",
    Status.OUTCOME: "Close the introduction when nothing is left to do.",
}
NEXT_STEP_FOR_CONNECTOR = {
    Status.SUBMITTED: "Vet the request: approve, ask for changes, or decline.",
    Status.NEEDS_CHANGES: "Waiting for {seeker} to make the changes you asked for.",
    Status.AWAITING_TARGET: "Waiting for {target} to answer.",
    Status.DEFERRED: "{target} will be asked again after {deferred_until}.",
    Status.INTRODUCED: "Introduced — {seeker} follows up.",
    Status.MET: "They met — {seeker} reports the outcome.",
}


# How a request that ended in a no reads in its history (a new request to the same person).
SAID_NO_IN_WORDS = {
    Status.DECLINED_BY_TARGET: "{target} declined",
    Status.DROPPED_BY_TARGET: "{target} stepped back after accepting",
    Status.EXPIRED: "{target} did not answer, and the request expired",
    Status.DECLINED_BY_CONNECTOR: "{connector} declined to make the introduction",
}


def said_no_in_words(intro: IntroRequest) -> str:
    return SAID_NO_IN_WORDS.get(intro.status, intro.get_status_display()).format(
        target=intro.target.name, connector=intro.connector.full_name
    )


def next_step(intro: IntroRequest, role: Actor, guidance: Guidance | None = None) -> str:
    """What the person in `role` should know or do next, in one sentence. Whether and when the
    seeker writes to the target is never a fixed sentence: it is the `guidance`
    (intros.guidance), decided by the same policy as the reminders."""
    if role is Actor.SEEKER and intro.status in GUIDED_STATES:
        if guidance is None:
            raise ValueError("The seeker's next step on an introduction is its guidance: pass it.")
        return guidance.text
    table = NEXT_STEP_FOR_SEEKER if role is Actor.SEEKER else NEXT_STEP_FOR_CONNECTOR
    template = table.get(intro.status, "Nothing left to do.")
    return template.format(
        connector=intro.connector.full_name,
        seeker=intro.seeker.full_name,
        target=intro.target.name,
        deferred_until=f"{intro.deferred_until:%a %-d %b}" if intro.deferred_until else "a date",
    )
