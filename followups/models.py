from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from intros.models import IntroRequest


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUp.Status.OPEN)

    def owned_by(self, user) -> FollowUpQuerySet:
        return self.filter(owner=user)

    def overdue(self, now) -> FollowUpQuerySet:
        return self.open().filter(due_at__lt=now)

    def due(self, now) -> FollowUpQuerySet:
        """Follow-ups whose reminder the sweep should look at now (uses the partial index)."""
        return self.filter(next_action_at__lte=now)


class FollowUp(models.Model):
    """A promise or follow-up with a due date, owned by the person who must do it."""

    class Kind(models.TextChoices):
        REACH_OUT = "reach_out", "Reach out to them"
        WAIT_FOR_TARGET = "wait_for_target", "Wait for them to write first"
        THANK_CONNECTOR = "thank_connector", "Thank the connector"
        THANK_TARGET = "thank_target", "Thank them for meeting"
        REPORT_OUTCOME = "report_outcome", "Report the outcome to the connector"
        CONNECTOR_CHECK_IN = "connector_check_in", "Check in with both"
        TARGET_FEEDBACK = "target_feedback", "Feedback on the match"
        OFFER_CONTACT = "offer_contact", "Make the contact you were offered"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
        help_text="Empty when the one to act is the target, who has no login.",
    )
    intro = models.ForeignKey(IntroRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="followups")
    offer = models.ForeignKey("Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="followups")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    counterpart = models.CharField(max_length=200, blank=True, help_text="Who the follow-up is with, in words.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    # When the reminder sweep should next look at this follow-up; None once reminded.
    next_action_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"]),
            # The coach's thank-you rate: a member's thank-yous due (or done) in a period, counted
            # from the index alone (status and done_at in it: no visit to each row).
            models.Index(
                fields=["owner", "due_at"],
                condition=Q(kind__in=["thank_connector", "thank_target"]),
                include=["status", "done_at"],
                name="followup_thanks_idx",
            ),
            models.Index(
                fields=["next_action_at"], condition=Q(next_action_at__isnull=False), name="followup_next_action_idx"
            ),
            # "Recently done" on the follow-up list: a person's last ten, read from the index in
            # order (without it every finished follow-up is joined to its introduction, then sorted).
            models.Index(
                fields=["owner", "-done_at", "-id"], condition=~Q(status="open"), name="followup_recent_done_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["intro", "kind"], condition=Q(intro__isnull=False), name="followup_one_kind_per_intro"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.counterpart})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def about_first_contact(self) -> bool:
        """Whether the seeker is to write to (or wait for) the target: then the introduction's
        guidance (intros.guidance) says when, on every page and in every email."""
        return self.intro_id is not None and self.kind in FIRST_CONTACT_KINDS

    def mark_done(self, *, when: dt.datetime | None = None) -> None:
        self.status = self.Status.DONE
        self.done_at = when or timezone.now()
        self.next_action_at = None
        self.save(update_fields=["status", "done_at", "next_action_at"])

    def skip(self) -> None:
        self.status = self.Status.SKIPPED
        self.next_action_at = None
        self.save(update_fields=["status", "next_action_at"])

    def snooze(self, *, until: dt.datetime) -> None:
        self.due_at = until
        self.next_action_at = until
        self.save(update_fields=["due_at", "next_action_at"])


# The follow-ups about the seeker's first contact with the target.
FIRST_CONTACT_KINDS = frozenset({FollowUp.Kind.REACH_OUT, FollowUp.Kind.WAIT_FOR_TARGET})


class Outreach(models.Model):
    """One attempt by the seeker to contact a target. Inside the target's window or not."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        MESSAGE = "message", "Message (LinkedIn, text…)"
        MEETING = "meeting", "In person"

    intro = models.ForeignKey(IntroRequest, on_delete=models.CASCADE, related_name="outreaches")
    seeker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outreaches")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="outreaches")
    at = models.DateTimeField("when")
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.EMAIL)
    note = models.TextField(blank=True)
    is_breach = models.BooleanField(default=False)
    # Each rule the attempt broke, as the policy said it: [{"code": ..., "message": ...}].
    breach_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["intro", "at"]),
            models.Index(fields=["seeker", "is_breach"]),
            # The coach's "last activity": a member's latest outreach, read from the index's end.
            models.Index(fields=["seeker", "at"], name="outreach_seeker_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.seeker} → {self.contact} at {self.at:%Y-%m-%d %H:%M}"


class OfferQuerySet(models.QuerySet["Offer"]):
    def of_seeker(self, user) -> OfferQuerySet:
        return self.filter(seeker=user)


class Offer(models.Model):
    """Someone offered the seeker an introduction ("I can introduce you to X")."""

    class Status(models.TextChoices):
        OPEN = "open", "Not acted on yet"
        SELF_CONTACT = "self_contact", "I'll contact them myself, mentioning the name"
        REQUESTED = "requested", "Asked for the introduction"
        DONE = "done", "Contact made"
        STALE = "stale", "Gone stale"
        DISMISSED = "dismissed", "Dismissed"

    seeker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offers_made",
        help_text="The member who offered, when they use Warm Intros.",
    )
    offered_by_name = models.CharField("who offered", max_length=150)
    contact_name = models.CharField("who they offered to introduce", max_length=150)
    contact_organisation = models.CharField("their organisation", max_length=150, blank=True)
    contact_title = models.CharField("their role", max_length=150, blank=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    intro = models.ForeignKey(IntroRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    nudges_sent = models.PositiveSmallIntegerField(default=0)
    next_action_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acted_at = models.DateTimeField(null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["seeker", "status"]),
            models.Index(
                fields=["next_action_at"], condition=Q(next_action_at__isnull=False), name="offer_next_action_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offered_by_name} offered {self.contact_name}"

    def get_absolute_url(self) -> str:
        return reverse("followups:offers")


# Never two nudges about one thing within this long (followups.numbers).
NUDGE_SPACING = dt.timedelta(days=1)


class ReminderLogManager(models.Manager["ReminderLog"]):
    def record_once(
        self, *, kind: str, object_id: int, sequence: int, recipient: str = "", at: dt.datetime | None = None
    ) -> bool:
        """Record a send (at `at`, the moment the sweep decides for; now by default); False if this
        exact reminder was already recorded (then it must not go out)."""
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a duplicate
                self.create(
                    kind=kind, object_id=object_id, sequence=sequence, recipient=recipient, sent_at=at or timezone.now()
                )
        except IntegrityError:
            return False
        return True

    def nudged_within(self, *, kinds, object_ids, now: dt.datetime) -> dict[int, dt.datetime]:
        """Of `object_ids`, those a nudge of one of `kinds` went to within NUDGE_SPACING before
        `now`, each with when the last one went: they get no other nudge until a day after it."""
        rows = self.filter(kind__in=kinds, object_id__in=object_ids, sent_at__gt=now - NUDGE_SPACING)
        last: dict[int, dt.datetime] = {}
        for object_id, sent_at in rows.values_list("object_id", "sent_at"):
            last[object_id] = max(sent_at, last.get(object_id, sent_at))
        return last


class ReminderLog(models.Model):
    """What the sweep sent. The unique key makes a second send of the same reminder impossible."""

    class Kind(models.TextChoices):
        FOLLOWUP = "followup", "Follow-up reminder"
        OFFER_NUDGE = "offer_nudge", "Offer nudge"
        REASK = "reask", "Target re-asked"
        EXPIRE = "expire", "Request expired"
        DIGEST = "digest", "Daily digest"
        COACH_SUMMARY = "coach_summary", "Weekly cohort summary"
        # A follow-up named in a daily digest (object: the follow-up; sequence: the local day).
        DIGEST_ITEM = "digest_item", "Follow-up named in a digest"
        # A coach's note to a member (object: the membership; sequence: the day).
        COACH_NUDGE = "coach_nudge", "Coach's note"

    # The nudges about a follow-up: its own reminders and the digests that named it.
    FOLLOWUP_NUDGES = (Kind.FOLLOWUP, Kind.DIGEST_ITEM)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.BigIntegerField()
    sequence = models.PositiveIntegerField()
    recipient = models.CharField(max_length=254, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    objects = ReminderLogManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "sequence"], name="reminder_sent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} #{self.sequence}"


class DigestSchedule(models.Model):
    """When a user's next digest (or a coach's weekly summary) is due; the sweep reads `next_at`."""

    class Kind(models.TextChoices):
        DAILY = "daily", "Daily digest"
        COACH_WEEKLY = "coach_weekly", "Weekly cohort summary"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_schedules")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    next_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="digest_one_per_kind")]
        indexes = [models.Index(fields=["next_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id} at {self.next_at}"


class CalendarFeed(models.Model):
    """A user's secret calendar (ICS) URL; resetting the token retires the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar of {self.user_id}"

    def reset(self) -> None:
        self.token = secrets.token_urlsafe()
        self.created_at = timezone.now()
        self.save(update_fields=["token", "created_at"])
