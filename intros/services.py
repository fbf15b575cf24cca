"""What an introduction is made of, below the workflows that move it (`workflows.intros`).

`transition` is the one way a request's status changes: it locks the row, checks who may act
and from which state (the table in `intros.states`), stamps the stage, writes an IntroEvent,
and is idempotent: repeating a transition that already happened changes nothing and says so.
It has no effects beyond the request: each `do_*` action in `workflows.intros` calls it, then
tells the people and creates the follow-ups in plain sight. Here too: the target's no-login
links (signed, expiring, single-use), drafts and their preparation, and the queries the
workflows and the pages share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact

from .diffs import FieldChange, field_change
from .models import REVIEWED_FIELDS, STAGE_STAMPS, IntroEvent, IntroRequest, TargetLink
from .states import TRANSITIONS, Actor, Status

LINK_SALT = "intros.target-link"


class IntroError(Exception):
    """A transition that cannot happen; its message is for the person who tried."""


class NotAllowed(IntroError):
    pass


class AlreadyOpen(IntroError):
    """The seeker has a request open to this person already: point to it, don't open another."""

    def __init__(self, intro: IntroRequest):
        self.intro = intro
        super().__init__(f"You already have a request open to meet {intro.target.name}.")


class PreparationIncomplete(IntroError):
    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("The preparation is not complete yet: " + ", ".join(problems))


@dataclass(frozen=True)
class Result:
    intro: IntroRequest
    changed: bool
    message: str
    warning: str = ""  # something the person must know even though it worked
    event: IntroEvent | None = None  # what the transition wrote (None when nothing changed)


def transition(
    *,
    intro_id: int,
    name: str,
    role: Actor,
    user=None,
    note: str = "",
    updates: dict[str, Any] | None = None,
    check=None,
    keep_preparation: bool = False,
) -> Result:
    """Apply one transition from the table. Must run inside `transaction.atomic()`.
    `keep_preparation`: the event keeps the preparation as it stands (REVIEWED_FIELDS)."""
    spec = TRANSITIONS[name]
    intro = IntroRequest.objects.select_for_update().select_related("seeker", "connector", "target").get(pk=intro_id)
    if role not in spec.actors:
        raise NotAllowed(f"Only the {' or '.join(sorted(spec.actors))} can do this.")
    if role is Actor.SEEKER and (user is None or intro.seeker_id != user.pk):
        raise NotAllowed("Only the person who asked for this introduction can do this.")
    if role is Actor.CONNECTOR and (user is None or intro.connector_id != user.pk):
        raise NotAllowed("Only the connector of this introduction can do this.")
    if intro.status not in spec.sources:
        if intro.events.filter(transition=name).exists():
            return Result(intro, False, f"Nothing changed: this was already done ({spec.verb}).")
        raise NotAllowed(f"This can't be done now: the introduction is “{intro.get_status_display()}”.")
    if check is not None:
        check(intro)
    from_status = intro.status
    now = timezone.now()
    fields = ["status", "updated_at"]
    for field, value in (updates or {}).items():
        setattr(intro, field, value)
        fields.append(field)
    for stamp in STAGE_STAMPS.get(name, ()):
        if getattr(intro, stamp) is None:
            setattr(intro, stamp, now)
            fields.append(stamp)
    intro.status = spec.target
    intro.save(update_fields=fields)
    event = IntroEvent.objects.create(
        intro=intro,
        actor=user,
        actor_role=role.value,
        transition=name,
        from_status=from_status,
        to_status=spec.target,
        note=note,
        preparation={f: getattr(intro, f) for f in REVIEWED_FIELDS} if keep_preparation else None,
        created_at=now,
    )
    return Result(intro, True, spec.verb, event=event)


# --- links for the target (no login) ---------------------------------------------------


def _link_days(purpose: str) -> int:
    """How long a link of this kind stays valid. The step-back link is promised to work "at any
    time before you meet": it lasts as long as an introduction can wait for its meeting (the
    transition refuses it once they have met); an answer or feedback link is for now."""
    if purpose == TargetLink.Purpose.STEP_BACK:
        return settings.STEP_BACK_LINK_MAX_AGE_DAYS
    return settings.TARGET_LINK_MAX_AGE_DAYS


def target_link_create(*, intro: IntroRequest, purpose: str) -> tuple[TargetLink, str]:
    expires_at = timezone.now() + dt.timedelta(days=_link_days(purpose))
    link = TargetLink.objects.create(intro=intro, purpose=purpose, expires_at=expires_at)
    token = signing.dumps({"l": link.pk, "n": link.nonce}, salt=LINK_SALT, compress=True)
    return link, token


def target_link_url(*, intro: IntroRequest, token: str) -> str:
    return settings.SITE_URL + reverse("intros:target", args=[intro.pk, token])


class LinkProblem(IntroError):
    """Why a target link cannot be used: shown on a page of its own."""

    def __init__(self, kind: str, message: str, link: TargetLink | None = None):
        self.kind = kind
        self.link = link
        super().__init__(message)


def target_link_resolve(*, intro_id: int, token: str) -> TargetLink:
    """The link a token names, if it is genuine, current and for this request. The signature
    allows the longest kind's age; each link's own `expires_at` is what holds it to its kind's."""
    max_age = dt.timedelta(days=max(settings.TARGET_LINK_MAX_AGE_DAYS, settings.STEP_BACK_LINK_MAX_AGE_DAYS))
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkProblem("expired", "This link has expired.") from None
    except signing.BadSignature:
        raise LinkProblem("invalid", "This link is not valid. It may have been copied incompletely.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("l"), int) or not isinstance(payload.get("n"), str):
        raise LinkProblem("invalid", "This link is not valid.")
    link = (
        TargetLink.objects.select_related("intro__seeker", "intro__connector", "intro__target")
        .filter(pk=payload["l"])
        .first()
    )
    if link is None or link.nonce != payload["n"]:
        raise LinkProblem("invalid", "This link is not valid.")
    if link.intro_id != intro_id:
        raise LinkProblem("wrong_request", "This link belongs to a different introduction.")
    if link.expires_at <= timezone.now():
        raise LinkProblem("expired", "This link has expired.", link)
    return link


def use_link(link_id: int, used_for: str) -> TargetLink:
    """Spend a link: a second use is refused (`LinkProblem("used")`), under the row's lock."""
    link = TargetLink.objects.select_for_update().get(pk=link_id)
    if link.used_at is not None:
        raise LinkProblem("used", "This link has already been used.", link)
    link.used_at = timezone.now()
    link.used_for = used_for
    link.save(update_fields=["used_at", "used_for"])
    return link


# --- the seeker -----------------------------------------------------------------------


def open_request_to(*, seeker, target: Contact) -> IntroRequest | None:
    """The seeker's open request to meet `target`, if there is one (there is at most one)."""
    return IntroRequest.objects.of_seeker(seeker).open().filter(target=target).with_people().first()


def asked_before(*, seeker, target: Contact, viewer=None) -> list[IntroRequest]:
    """The seeker's earlier requests to meet `target` that ended in a no (or no answer), newest
    first, each with `ended_at` and `ended_note`, as `viewer` (the seeker by default) may see them.

    Each row carries what a history line shows (its state, how it ended in words, when, the
    note, its link): the seeker and the target are the ones passed in, not loaded again."""
    rows = list(
        IntroRequest.objects.visible_to(viewer or seeker)
        .filter(seeker=seeker, target=target)
        .said_no()
        .with_ending()
        .select_related("connector")
        .only("status", "updated_at", "seeker_id", "target_id", "connector__full_name")
        .order_by("-updated_at", "-pk")
    )
    for row in rows:
        row.seeker, row.target = seeker, target
    return rows


def intro_create_draft(
    *, seeker, target: Contact, parent: IntroRequest | None = None, **preparation: str
) -> IntroRequest:
    """A new draft request. Refused with `AlreadyOpen` while one to the same person is open
    (also held by the database: one open request per seeker and person). `why_now` is asked
    for, and checked at submission, when the seeker asked this person before and heard no."""
    if target.owner_id == seeker.pk:
        raise NotAllowed("This is your own contact: you can write to them yourself.")
    unknown = set(preparation) - set(REVIEWED_FIELDS)
    if unknown:
        raise TypeError(f"Not preparation fields: {sorted(unknown)}")
    already = open_request_to(seeker=seeker, target=target)
    if already is not None:
        raise AlreadyOpen(already)
    try:
        with transaction.atomic():  # a savepoint: the one-open-request index may refuse the row
            intro = IntroRequest.objects.create(
                seeker=seeker, connector=target.owner, target=target, parent=parent, **preparation
            )
            IntroEvent.objects.create(
                intro=intro,
                actor=seeker,
                actor_role=Actor.SEEKER.value,
                transition="create",
                from_status=Status.DRAFT,
                to_status=Status.DRAFT,
                note="Started the request.",
            )
    except IntegrityError:
        already = open_request_to(seeker=seeker, target=target)
        if already is None:
            raise
        raise AlreadyOpen(already) from None  # another tab opened one at the same moment
    return intro


def intro_update_preparation(*, intro: IntroRequest, seeker, preparation: dict[str, str]) -> IntroRequest:
    with transaction.atomic():
        locked = IntroRequest.objects.select_for_update().get(pk=intro.pk)
        if locked.seeker_id != seeker.pk:
            raise NotAllowed("Only the person who asked for this introduction can edit it.")
        if not locked.is_editable:
            raise NotAllowed("The preparation can be edited only while it is a draft or changes are asked.")
        for field in REVIEWED_FIELDS:
            if field in preparation:
                setattr(locked, field, preparation[field])
        locked.save(update_fields=[*REVIEWED_FIELDS, "updated_at"])
    return locked


WHY_NOW_MISSING = "Say what has changed since you last asked them: the connector reads it with that history."


def sent_back_version(intro: IntroRequest) -> IntroEvent | None:
    """While a request waits on its connector again after they asked for changes: the event of
    that ask, which keeps the preparation as they sent it back (None on a first submission, or
    when the ask predates kept versions)."""
    if intro.status != Status.SUBMITTED:
        return None
    last_ask = intro.events.filter(transition="request_changes").order_by("-created_at", "-pk").first()
    return last_ask if last_ask is not None and last_ask.preparation is not None else None


def preparation_changes(intro: IntroRequest, sent_back: IntroEvent) -> list[FieldChange]:
    """Each reviewed field, old text against new, word by word (intros.diffs)."""
    return [
        field_change(
            name=name,
            label=intro._meta.get_field(name).verbose_name,
            before=sent_back.preparation.get(name, ""),
            after=getattr(intro, name),
        )
        for name in REVIEWED_FIELDS
        if name != "why_now" or intro.why_now or sent_back.preparation.get("why_now")
    ]


def connector_at_capacity(connector) -> bool:
    capacity = connector.intro_capacity
    return capacity is not None and IntroRequest.objects.carried_by(connector).count() >= capacity


def queue_position(intro: IntroRequest) -> int | None:
    """1-based place in the connector's queue, or None when the connector has room."""
    if intro.status != Status.SUBMITTED or not connector_at_capacity(intro.connector):
        return None
    ahead = IntroRequest.objects.queue_of(intro.connector).filter(submitted_at__lt=intro.submitted_at).count()
    return ahead + 1


# --- after a workflow -----------------------------------------------------------------------


def reloaded(result: Result) -> Result:
    """The result with its request read again, with its people (for the page that shows it)."""
    return Result(IntroRequest.objects.with_people().get(pk=result.intro.pk), result.changed, result.message)


def undelivered_ask_context(refs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Renders the notice that our ask never reached the target, to the connector or the seeker
    (lib.outbox.services.TELL_IF_UNDELIVERED; lib.outbox.services.CONTEXT_BUILDERS), when it is sent. Nothing is
    sent when the request has moved on: answered, closed, or asked again since."""
    intro = IntroRequest.objects.with_people().filter(pk=refs.get("intro")).first()
    if intro is None or intro.last_ask_id != refs.get("undelivered") or intro.undelivered_ask() is None:
        return None
    return {
        "intro": intro,
        "role": refs["role"],
        "url": settings.SITE_URL + intro.get_absolute_url(),
        "contact_url": settings.SITE_URL + reverse("contacts:edit", args=[intro.target_id]),
        "subject": f"Our email to {intro.target.name} could not be delivered",
    }


def undelivered_introduction_context(refs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Renders the notice that the introduction email bounced for the target, to the seeker or the
    connector (lib.outbox.services.TELL_IF_UNDELIVERED; lib.outbox.services.CONTEXT_BUILDERS), when it is sent.
    Nothing is sent once the request has ended (withdrawn, closed, the target stepped back)."""
    intro = IntroRequest.objects.with_people().filter(pk=refs.get("intro")).first()
    if intro is None or intro.is_final:
        return None
    return {
        "intro": intro,
        "role": refs["role"],
        "url": settings.SITE_URL + intro.get_absolute_url(),
        "contact_url": settings.SITE_URL + reverse("contacts:edit", args=[intro.target_id]),
        "subject": f"Our introduction email did not reach {intro.target.name}",
    }


# --- what the target answers (through a link) ------------------------------------------------


@dataclass(frozen=True)
class TargetTerms:
    busy_until: dt.date | None = None
    weekdays: list[int] | None = None
    hours_start: dt.time | None = None
    hours_end: dt.time | None = None
    time_zone: str | None = None
    target_writes_first: bool = False


# --- feedback on the match (after the meeting) ---------------------------------------------

FEEDBACK_RATINGS = {
    5: "An excellent match",
    4: "A good match",
    3: "Fine",
    2: "Not a great fit",
    1: "Not a fit at all",
}
