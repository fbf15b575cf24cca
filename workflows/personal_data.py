"""What is a person's own, across every app: "Download all my data" and "Delete my account".

`PARTS` is the one list of what each app holds of a person, in the order the apps depend on
each other (accounts ← contacts ← intros ← followups ← cohorts ← webhooks): the download writes them in
this order, and deleting an account erases them in reverse — the app furthest to the right
first, since it may still read what those to its left hold — and `accounts` last.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from accounts import data_exports
from accounts import personal_data as accounts_data
from accounts.models import DataExport, User
from accounts.personal_data import AccountNotDeletable, Part
from cohorts import personal_data as cohorts_data
from contacts import personal_data as contacts_data
from followups import personal_data as followups_data
from intros import personal_data as intros_data
from intros.models import IntroRequest
from intros.states import TRANSITIONS
from webhooks import personal_data as webhooks_data

from .intros import do_connector_left, do_withdraw

SEEKER_LEFT_NOTE = "Closed because they deleted their Warm Intros account."
CONNECTOR_LEFT_NOTE = "The connector deleted their Warm Intros account, so they can't make this introduction."


def _erase_requests(user: User) -> None:
    """Close what is open through its workflow, so the other person is told (and its open
    follow-ups are skipped); then `intros` keeps, for them, each request without the departed
    person's own writing."""
    for intro in IntroRequest.objects.of_seeker(user).open().order_by("pk"):
        do_withdraw(intro=intro, seeker=user, note=SEEKER_LEFT_NOTE)
    waiting = IntroRequest.objects.filter(connector=user, status__in=TRANSITIONS["connector_left"].sources)
    for intro in waiting.order_by("pk"):
        do_connector_left(intro=intro, connector=user, note=CONNECTOR_LEFT_NOTE)
    intros_data.erase(user)


PARTS: tuple[Part, ...] = (
    contacts_data.PART,  # contacts, tags, imports; those a request names stay, stripped
    Part(app="intros", export=intros_data.export, erase=_erase_requests),
    followups_data.PART,  # follow-ups, outreach, offers, digests, calendar feed
    cohorts_data.PART,  # memberships and invitations; a coach with cohorts is refused (blocker)
    webhooks_data.PART,  # endpoints (never their secret), deliveries and attempts
)


def account_blockers(*, user: User) -> list[str]:
    """Why the account cannot be deleted yet (a coach who still coaches a cohort)."""
    return [reason for part in PARTS if part.blocker and (reason := part.blocker(user))]


def write_account_export(*, user: User, out: TextIO) -> None:
    """The download: the profile, then every part in order, streamed to `out`."""
    accounts_data.write_export(user=user, out=out, parts=PARTS)


def account_export(*, user: User) -> dict:
    """The same document as a dict (for the tests and the shell; the download streams)."""
    import io
    import json

    out = io.StringIO()
    write_account_export(user=user, out=out)
    return json.loads(out.getvalue())


def do_build_data_export(*, export_id: int) -> DataExport | None:
    """The worker's job (accounts.tasks.build_data_export): write the person's file."""
    return data_exports.data_export_build(export_id=export_id, write=write_account_export)


def do_account_delete(*, user: User) -> User:
    """Delete a person's account, in one transaction: each part erased, the last app first
    (closing through their workflows the requests that wait on them, so the others are told),
    then `accounts`' own share — their mail, their prepared downloads, and the row, which
    stays as an anonymous tombstone. Safe to call twice."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_deleted:
            return locked
        reasons = account_blockers(user=locked)
        if reasons:
            raise AccountNotDeletable(reasons)
        for part in reversed(PARTS):
            part.erase(locked)
        accounts_data.erase_account(locked)
    return locked
