from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from intros.models import IntroRequest


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUp.Status.OPEN)

    def owned_by(self, user) -> FollowUpQuerySet:
        return self.filter(owner=user)

    def overdue(self, now) -> FollowUpQuerySet:
        return self.open().filter(due_at__lt=now)


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
    kind = models.CharField(max_length=24, choices=Kind.choices)
    counterpart = models.CharField(max_length=200, blank=True, help_text="Who the follow-up is with, in words.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    # When the reminder sweep should next look at this follow-up.
    next_action_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"]),
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="followup_next_action_idx",
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
