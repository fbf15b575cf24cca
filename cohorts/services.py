"""Workflows of a cohort: inviting members and joining through an emailed link.

An invitation link is signed (salt `cohorts.invitation`), expires twice over (the
signature's `max_age` and the row's `expires_at`, whichever comes first), names its
invitation's random nonce, and works once (`accepted_at`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from followups.models import ReminderLog
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_enqueue

from .models import Cohort, Invitation, Membership

INVITATION_SALT = "cohorts.invitation"

ProblemKind = Literal["invalid", "expired", "used", "wrong_person"]


class InvitationProblem(Exception):
    """Why an invitation link cannot be used; its message is for the person holding it."""

    def __init__(self, kind: ProblemKind, message: str, invitation: Invitation | None = None):
        self.kind = kind
        self.invitation = invitation
        super().__init__(message)


@dataclass(frozen=True)
class InviteOutcome:
    invited: list[Invitation] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)  # invited before: the older link stops working
    already_members: list[str] = field(default_factory=list)


def _max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)


def invitation_url(*, invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("cohorts:join", args=[invitation_token(invitation=invitation)])


def invitation_create(*, cohort: Cohort, email: str, invited_by: User) -> Invitation:
    """Invite one address and write the email with its link.

    An earlier pending invitation to the same address is closed, so only the newest
    link works.
    """
    email = email.strip().lower()
    now = timezone.now()
    with transaction.atomic():
        cohort.invitations.pending().for_email(email).update(expires_at=now)
        invitation = Invitation.objects.create(
            cohort=cohort, email=email, invited_by=invited_by, created_at=now, expires_at=now + _max_age()
        )
        outbox_enqueue(
            to=[email],
            reply_to=[invited_by.email],
            subject=f"{invited_by.get_full_name() or invited_by.email} invites you to join {cohort.name} on Warm Intros",
            template="invitation",
            context={
                "cohort": cohort,
                "coach": invited_by,
                "url": invitation_url(invitation=invitation),
                "expires_at": invitation.expires_at,
            },
            key=f"invitation:{invitation.pk}",
        )
    return invitation


def invitations_send(*, cohort: Cohort, emails: Iterable[str], invited_by: User) -> InviteOutcome:
    """Invite each address that is not in the cohort yet; report the ones that are."""
    wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e.strip()))
    members = set(
        Membership.objects.filter(cohort=cohort)
        .annotate(email_lower=Lower("user__email"))
        .filter(email_lower__in=wanted)
        .values_list("email_lower", flat=True)
    )
    pending = set(
        cohort.invitations.pending()
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted)
        .values_list("email_lower", flat=True)
    )
    outcome = InviteOutcome()
    with transaction.atomic():
        for email in wanted:
            if email in members:
                outcome.already_members.append(email)
                continue
            outcome.invited.append(invitation_create(cohort=cohort, email=email, invited_by=invited_by))
            if email in pending:
                outcome.resent.append(email)
    return outcome


def invitation_resolve(*, token: str) -> Invitation:
    """The invitation a token names, if the token is genuine, current and unused."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=_max_age())
    except signing.SignatureExpired:
        raise InvitationProblem("expired", "This invitation has expired.") from None
    except signing.BadSignature:
        raise InvitationProblem(
            "invalid", "This invitation link is not valid. It may have been copied incompletely."
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int) or not isinstance(payload.get("n"), str):
        raise InvitationProblem("invalid", "This invitation link is not valid.")
    invitation = Invitation.objects.select_related("cohort__coach").filter(pk=payload["i"]).first()
    if invitation is None or not constant_time_compare(invitation.nonce, payload["n"]):
        raise InvitationProblem("invalid", "This invitation link is not valid.")
    _check_usable(invitation)
    return invitation


def _check_usable(invitation: Invitation) -> None:
    if invitation.is_accepted:
        raise InvitationProblem("used", "This invitation has already been used.", invitation)
    if invitation.is_expired():
        raise InvitationProblem("expired", "This invitation has expired.", invitation)


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the invited person to the cohort and spend the invitation."""
    with transaction.atomic():
        # The lock makes a double click, or two tabs, spend the link only once.
        locked = Invitation.objects.select_for_update().select_related("cohort").get(pk=invitation.pk)
        _check_usable(locked)
        if not locked.is_for(user):
            raise InvitationProblem("wrong_person", "This invitation was sent to a different email address.", locked)
        membership, _ = Membership.objects.get_or_create(cohort=locked.cohort, user=user)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
    invitation.accepted_at, invitation.accepted_by = locked.accepted_at, user
    return membership


def invitation_signup(*, invitation: Invitation, full_name: str, password: str, time_zone: str) -> User:
    """Create the invited person's account and join them to the cohort, together."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=full_name.strip(), time_zone=time_zone
        )
        invitation_accept(invitation=invitation, user=user)
    return user


def cohort_create(*, name: str, coach: User) -> Cohort:
    return Cohort.objects.create(name=name.strip(), coach=coach)


# --- the coach's actions on the dashboard ------------------------------------------------


class NotAMember(Exception):
    """The person is not (or no longer) a member of the cohort."""


def _check_coach_and_member(cohort: Cohort, coach: User, member: User) -> None:
    if cohort.coach_id != coach.pk:
        raise PermissionError("Only the cohort's coach can do this.")
    if not Membership.objects.filter(cohort=cohort, user=member).exists():
        raise NotAMember(f"{member.get_full_name() or 'This person'} is not a member of {cohort.name}.")


def last_coach_nudge(*, cohort: Cohort, member: User, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the coach's last note went to this member of the cohort, if less than a day ago."""
    now = now or timezone.now()
    membership = Membership.objects.filter(cohort=cohort, user=member).values_list("pk", flat=True).first()
    if membership is None:
        return None
    kinds = [ReminderLog.Kind.COACH_NUDGE]
    return ReminderLog.objects.nudged_within(kinds=kinds, object_ids=[membership], now=now).get(membership)


def cohort_nudge(*, cohort: Cohort, coach: User, member: User, note: str) -> OutboxMessage | None:
    """Email a member a note from their coach, through the outbox.

    Never two nudges about one thing within a day (followups.numbers): one note to a member
    of a cohort a day, whatever it says, so a double click, a second tab or a second thought
    sends one email; returns None then (`last_coach_nudge` says when the last one went). The
    log's key (membership, day) makes a second one the same day impossible even at once; the
    lock on the membership makes the check across midnight safe too.
    """
    _check_coach_and_member(cohort, coach, member)
    note = note.strip()
    if not note:
        raise ValueError("A nudge needs a note.")
    now = timezone.now()
    digest = hashlib.sha256(note.encode()).hexdigest()[:16]
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(cohort=cohort, user=member)
        kinds = [ReminderLog.Kind.COACH_NUDGE]
        if ReminderLog.objects.nudged_within(kinds=kinds, object_ids=[membership.pk], now=now):
            return None
        if not ReminderLog.objects.record_once(
            kind=ReminderLog.Kind.COACH_NUDGE,
            object_id=membership.pk,
            sequence=now.astimezone(dt.UTC).date().toordinal(),
            recipient=member.email,
            at=now,
        ):
            return None
        return outbox_enqueue(
            to=[member.email],
            reply_to=[coach.email],
            subject=f"A note from {coach.get_full_name() or 'your coach'}, your coach in {cohort.name}",
            template="coach_nudge",
            context={
                "cohort": cohort,
                "coach": coach,
                "member": member,
                "note": note,
                "url": settings.SITE_URL + reverse("intros:home"),
            },
            key=f"coach_nudge:{cohort.pk}:{member.pk}:{now:%Y%m%d%H%M%S}:{digest}",
        )


def membership_remove(*, cohort: Cohort, coach: User, member: User) -> None:
    """Take a member out of the cohort. Their account, requests and contacts stay theirs."""
    _check_coach_and_member(cohort, coach, member)
    Membership.objects.filter(cohort=cohort, user=member).delete()
