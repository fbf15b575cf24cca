"""The cohorts part of "Download all my data" and "Delete my account"
(accounts.personal_data)."""

from __future__ import annotations

from typing import Any

from accounts.personal_data import Part

from .models import Cohort, Invitation, Membership


def blocker(user) -> str | None:
    names = list(Cohort.objects.coached_by(user).order_by("name").values_list("name", flat=True))
    if not names:
        return None
    listed = ", ".join(f"“{name}”" for name in names)
    them = "it" if len(names) == 1 else "them"
    return (
        f"You coach {listed}. A cohort can't be left without its coach, so hand {them} over to another "
        "coach first; then you can delete your account."
    )


def export(user) -> dict[str, Any]:
    memberships = Membership.objects.filter(user=user).select_related("cohort__coach").order_by("joined_at", "pk")
    coached = Cohort.objects.coached_by(user).with_member_count().order_by("created_at", "pk")
    invitations = Invitation.objects.filter(invited_by=user).select_related("cohort").order_by("created_at", "pk")
    return {
        "cohort_memberships": [
            {"cohort": m.cohort.name, "coach": str(m.cohort.coach), "joined_at": m.joined_at} for m in memberships
        ],
        "cohorts_coached": [{"name": c.name, "members": c.member_count, "created_at": c.created_at} for c in coached],
        "invitations_sent": [
            {
                "cohort": i.cohort.name,
                "email": i.email,
                "created_at": i.created_at,
                "expires_at": i.expires_at,
                "accepted_at": i.accepted_at,
            }
            for i in invitations
        ],
    }


def erase(user) -> None:
    Membership.objects.filter(user=user).delete()
    # The coach's record of who accepted keeps the row, not the address.
    Invitation.objects.filter(accepted_by=user).update(email=user.tombstone_email)


PART = Part(app="cohorts", export=export, erase=erase, blocker=blocker)
