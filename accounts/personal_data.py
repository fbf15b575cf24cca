"""What is a person's own: "Download all my data" gathers it, "Delete my account" removes it.

Each app above `accounts` adds its part from its AppConfig.ready (as `intros.track_record`
and `followups.digests` do), so no import runs the wrong way. A part has:

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
apps to its left hold, and `accounts` last: the user row stays as an anonymous tombstone
(`User.make_tombstone`) so the requests, events and cohorts of other people keep pointing
at something, which every page, email and CSV then names "A former member".
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
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


_PARTS: dict[str, Part] = {}


def register(part: Part) -> None:
    _PARTS[part.app] = part


def _parts() -> list[Part]:
    """In the order the apps depend on each other: accounts ← contacts ← … ← cohorts."""
    order = [config.label for config in apps.get_app_configs()]
    return sorted(_PARTS.values(), key=lambda part: order.index(part.app))


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


def write_account_export(*, user: User, out: TextIO) -> None:
    """Everything that is the user's, as one JSON document written to `out` as it is read:
    each section's records one per line, each encoded on its own, so memory stays flat
    whatever the account holds (`accounts.data_exports` runs this in a worker)."""
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
    for key, value in itertools.chain(sections, *(part.export(user).items() for part in _parts())):
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


def account_export(*, user: User) -> dict[str, Any]:
    """The same document as a dict (for the tests and the shell; the download streams)."""
    out = io.StringIO()
    write_account_export(user=user, out=out)
    return json.loads(out.getvalue())


# --- deleting ---------------------------------------------------------------------------------


def account_blockers(*, user: User) -> list[str]:
    return [reason for part in _parts() if part.blocker and (reason := part.blocker(user))]


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


def account_delete(*, user: User) -> User:
    """Delete a person's account, in one transaction: every app erases its part (closing what
    waits on them, so others hear), their prepared downloads go (the files after commit), then
    the row becomes a tombstone. Safe to call twice."""
    from . import data_exports  # which writes its files with this module

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_deleted:
            return locked
        reasons = account_blockers(user=locked)
        if reasons:
            raise AccountNotDeletable(reasons)
        for part in reversed(_parts()):
            part.erase(locked)
        _erase_outbox(locked)
        _erase_admin_history(locked)
        AccessToken.objects.owned_by(locked).delete()  # the API no longer answers to them
        data_exports.data_export_erase(user=locked)
        locked.make_tombstone(now=timezone.now())
    return locked
