from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class CohortQuerySet(models.QuerySet["Cohort"]):
    def coached_by(self, user) -> CohortQuerySet:
        return self.filter(coach=user)

    def joined_by(self, user) -> CohortQuerySet:
        # A subquery rather than a join, so a later Count("memberships") counts everyone.
        return self.filter(pk__in=Membership.objects.filter(user=user).values("cohort_id"))

    def visible_to(self, user) -> CohortQuerySet:
        """Cohorts this person coaches or belongs to; everyone else's are a 404."""
        return self.filter(
            models.Q(coach=user) | models.Q(pk__in=Membership.objects.filter(user=user).values("cohort_id"))
        )

    def with_member_count(self) -> CohortQuerySet:
        return self.annotate(member_count=models.Count("memberships"))


class Cohort(models.Model):
    """A group run by a coach: a boot camp, a networking group."""

    name = models.CharField(max_length=120)
    coach = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cohorts_coached")
    created_at = models.DateTimeField(default=timezone.now)

    objects = CohortQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cohorts:detail", args=[self.pk])

    def is_coached_by(self, user) -> bool:
        return user.is_authenticated and self.coach_id == user.pk


class Membership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohort_memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "cohort"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())

    def for_email(self, email: str) -> InvitationQuerySet:
        # Matches the Lower("email") index.
        return self.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower())


class Invitation(models.Model):
    """A coach's invitation to join a cohort; its emailed link is signed, expires, and works once."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64, default=secrets.token_urlsafe, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(Lower("email"), "cohort", name="invitation_email_idx")]

    def __str__(self) -> str:
        return f"{self.email} → {self.cohort}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    def cancel(self) -> None:
        """Stop the link working; the row stays as a record of who was invited."""
        self.expires_at = timezone.now()
        self.save(update_fields=["expires_at"])

    def is_for(self, user) -> bool:
        """Whether this is the person the coach invited: the same email, in any case."""
        return user.is_authenticated and user.email.strip().lower() == self.email.strip().lower()
