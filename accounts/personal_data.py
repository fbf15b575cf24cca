"""What is a person's own: "Download all my data" gathers it, "Delete my account" removes it.

Each app has a `personal_data` module with its part; `workflows.personal_data` lists the parts,
in the one order they are written and (reversed) erased, and runs the deletion. This module
holds what a part is, how the download is written, and `accounts`' own share. A part has:

- `export(user)`: sections of the download, holding only what is the user's to see (a
  target's email only once the target accepted; never another member's notes). A section is
  a JSON-ready value, or an iterable of JSON-ready records: a generator over
  `.iterator(chunk_size=…)` for anything that grows with the account, so the file is written
  one record at a time and a 200,000-contact address book is never held in memory whole;
- `erase(user)`: inside the deletion's transaction, delete what is only theirs, anonymise
  what other people still need, and close what waits on them through the app's own
  transitions, so that the other people are told;
- `blocker(user)`: why the account cannot be deleted yet (a coach's cohorts), or None.

Deleting erases the app furthest to the right first, since it may still read what the
apps to its left hold, and `accounts` last (`erase_account`): the user row stays as an
anonymous tombstone (`User.make_tombstone`) so the requests, events and cohorts of other
people keep pointing at something, which every page, email and CSV then names "A former member".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from lib.outbox.models import DeliveryReport, OutboxMessage

from .models import FORMER_MEMBER, AccessToken, User

FORMAT = "warm-intros-export"
VERSION = 1
# Rows read per round trip by a section that grows with the account (its relations are
# prefetched per chunk, so the queries grow with chunks, never with rows).
CHUNK = 2000


@dataclass(frozen=True)
class Part:
    app: str
    export: Callable[[User], dict[str, Any]]
    erase: Callable[[User], None]
    blocker: Callable[[User], str | None] | None = None


class AccountNotDeletable(Exception):
    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(" ".join(reasons))


# --- the download ---------------------------------------------------------------------------


def _profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "time_zone": user.time_zone,
        "quiet_hours_start": user.quiet_hours_start,
        "quiet_hours_end": user.quiet_hours_end,
        "digest_hour": user.digest_hour,
        "intro_capacity": user.intro_capacity,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def _access_tokens(user: User) -> list[dict[str, Any]]:
    """The API tokens they made: names and dates, never a secret (only its hash is kept)."""
    return list(
        AccessToken.objects.owned_by(user)
        .order_by("created_at", "pk")
        .values("name", "scope", "hint", "created_at", "last_used_at")
    )


def _records(value: Any) -> bool:
    """A section written as an array, one record per line: a list, or a generator of records."""
    return isinstance(value, (list, tuple, Iterator))


def write_export(*, user: User, out: TextIO, parts: Sequence[Part]) -> None:
    """Everything that is the user's, as one JSON document written to `out` as it is read:
    their profile, then each part's sections in order, each section's records one per line,
    each encoded on its own, so memory stays flat whatever the account holds
    (`workflows.personal_data.write_account_export` gives the parts)."""
    encode = DjangoJSONEncoder(ensure_ascii=False).encode
    sections: list[tuple[str, Any]] = [
        ("format", FORMAT),
        ("version", VERSION),
        ("exported_at", timezone.now()),
        ("profile", _profile(user)),
        ("access_tokens", _access_tokens(user)),
    ]
    out.write("{")
    separator = "\n"
    for key, value in itertools.chain(sections, *(part.export(user).items() for part in parts)):
        out.write(f"{separator}{encode(key)}: ")
        separator = ",\n"
        if not _records(value):
            out.write(encode(value))
            continue
        out.write("[")
        between = "\n"
        for record in value:
            out.write(between)
            out.write(encode(record))
            between = ",\n"
        out.write("\n]" if between != "\n" else "]")
    out.write("\n}\n")


# --- deleting ---------------------------------------------------------------------------------


def _erase_outbox(user: User) -> None:
    """Mail to them: what waits is never sent, what was sent is theirs and goes; a message to
    several people keeps going to the others, without their address. Nor are they told
    any more when a message to someone else is not delivered (its `tell` addresses), and what
    the email service reported about their copies goes too."""
    address = user.email.lower()
    DeliveryReport.objects.filter(recipient=address).delete()
    candidates = OutboxMessage.objects.annotate(
        to_text=Cast("to", TextField()),
        cc_text=Cast("cc", TextField()),
        reply_text=Cast("reply_to", TextField()),
        context_text=Cast("context", TextField()),
    ).filter(
        Q(to_text__icontains=address)
        | Q(cc_text__icontains=address)
        | Q(reply_text__icontains=address)
        | Q(context_text__icontains=address)
    )
    for message in candidates:
        to, cc, reply_to = (
            [a for a in field if a.lower() != address] for field in (message.to, message.cc, message.reply_to)
        )
        context = dict(message.context)
        if "tell" in context:
            context["tell"] = {role: a for role, a in context["tell"].items() if a.lower() != address}
        if not to:
            message.delete()
        elif (to, cc, reply_to, context) != (message.to, message.cc, message.reply_to, message.context):
            message.to, message.cc, message.reply_to, message.context = to, cc, reply_to, context
            message.save(update_fields=["to", "cc", "reply_to", "context"])


def _erase_admin_history(user: User) -> None:
    """The admin's history names each changed object as it was (their name, when staff changed
    their account); it keeps the change and no longer the name."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=FORMER_MEMBER
    )


def erase_account(user: User) -> None:
    """`accounts`' own share, last, inside the deletion's transaction: mail to and about them,
    the admin's history, their prepared downloads (the files after commit), then the row
    becomes a tombstone."""
    from . import data_exports  # which writes its files with this module

    _erase_outbox(user)
    _erase_admin_history(user)
    AccessToken.objects.owned_by(user).delete()  # the API no longer answers to them
    data_exports.data_export_erase(user=user)
    user.make_tombstone(now=timezone.now())
