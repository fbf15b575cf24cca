"""Workflows of an introduction. Each is atomic, locks the request row, checks who
may act and from which state, writes an IntroEvent, and is idempotent: repeating a
transition that already happened changes nothing and says so."""

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

from contacts.models import Contact, Strength, weekdays_to_mask
from contacts.windows import day_in_words, days_in_words, zone_in_words
from lib.outbox.services import outbox_enqueue

from .diffs import FieldChange, field_change
from .guidance import guidance_for, terms_in_words
from .models import REVIEWED_FIELD_NAMES, REVIEWED_FIELDS, STAGE_STAMPS, IntroEvent, IntroRequest, TargetLink
from .signals import intro_transitioned
from .states import TRANSITIONS, Actor, Mode, Outcome, Status

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


def _transition(
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
    intro_transitioned.send(sender=IntroRequest, intro=intro, transition=name, event=event, actor=user)
    return Result(intro, True, spec.verb)


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


def _use_link(link_id: int, used_for: str) -> TargetLink:
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
    first, each with `ended_at` and `ended_note`, as `viewer` (the seeker by default) may see them."""
    return list(
        IntroRequest.objects.visible_to(viewer or seeker)
        .filter(seeker=seeker, target=target)
        .said_no()
        .with_ending()
        .with_people()
        .order_by("-updated_at", "-pk")
    )


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
        if locked.status not in {Status.DRAFT, Status.NEEDS_CHANGES}:
            raise NotAllowed("The preparation can be edited only while it is a draft or changes are asked.")
        for field in REVIEWED_FIELDS:
            if field in preparation:
                setattr(locked, field, preparation[field])
        locked.save(update_fields=[*REVIEWED_FIELDS, "updated_at"])
    return locked


WHY_NOW_MISSING = "Say what has changed since you last asked them: the connector reads it with that history."


def intro_submit(*, intro: IntroRequest, seeker) -> Result:
    def check(locked: IntroRequest) -> None:
        problems = locked.missing_preparation()
        if not locked.why_now.strip() and asked_before(seeker=seeker, target=locked.target):
            problems["why_now"] = WHY_NOW_MISSING
        if problems:
            raise PreparationIncomplete(problems)

    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="submit",
            role=Actor.SEEKER,
            user=seeker,
            check=check,
            updates={"submitted_at": timezone.now()},
        )
        if result.changed:
            i = result.intro
            sent_back = sent_back_version(i)
            if sent_back is None:
                subject = f"{i.seeker.full_name} asks you for an introduction to {i.target.name}"
                changes = None
            else:
                subject = f"{i.seeker.full_name}'s request to meet {i.target.name}: changed since your note"
                changes = preparation_changes(i, sent_back)
            outbox_enqueue(
                to=[i.connector.email],
                subject=subject,
                template="intro_submitted",
                context={
                    "intro": i,
                    "url": settings.SITE_URL + i.get_absolute_url(),
                    "sent_back": sent_back,
                    "changed": [REVIEWED_FIELD_NAMES[c.name] for c in changes or () if c.changed],
                },
            )
            position = queue_position(i)
            if position is not None:
                # Never silently: the seeker hears that the connector is at capacity, and where they stand.
                outbox_enqueue(
                    to=[i.seeker.email],
                    subject=f"{i.connector.full_name} is at capacity: your request waits in the queue",
                    template="intro_queued",
                    context={
                        "intro": i,
                        "position": position,
                        "capacity": i.connector.intro_capacity,
                        "url": settings.SITE_URL + i.get_absolute_url(),
                    },
                )
                return Result(
                    i,
                    True,
                    result.message,
                    warning=f"{i.connector.full_name} is carrying as many introductions as they can right now; "
                    f"your request is number {position} in their queue. You'll hear when it comes up.",
                )
    return result


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


def intro_withdraw(*, intro: IntroRequest, seeker, note: str = "") -> Result:
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="withdraw",
            role=Actor.SEEKER,
            user=seeker,
            note=note,
            updates={"next_action_at": None},
        )
        if result.changed and result.intro.events.exclude(transition__in=["create"]).count() > 1:
            i = result.intro
            outbox_enqueue(
                to=[i.connector.email],
                subject=f"{i.seeker.full_name} withdrew the request to meet {i.target.name}",
                template="intro_withdrawn",
                context={"intro": i, "note": note, "url": settings.SITE_URL + reverse("intros:inbox")},
            )
    return result


def intro_record_meeting(*, intro: IntroRequest, seeker, met_on: dt.date, note: str = "") -> Result:
    if met_on > timezone.localdate():
        raise NotAllowed("The meeting date can't be in the future.")
    with transaction.atomic():
        return _transition(
            intro_id=intro.pk,
            name="record_meeting",
            role=Actor.SEEKER,
            user=seeker,
            note=note,
            updates={"met_on": met_on},
        )


def intro_record_outcome(
    *, intro: IntroRequest, seeker, outcome: str, note: str = "", referred_to: dict[str, str] | None = None
) -> Result:
    """Report the outcome. `referred_on` needs `referred_to` (name, organisation, title)
    and starts the next request in the chain, to be vetted by the same connector."""
    if outcome not in Outcome.values:
        raise NotAllowed("Choose one of the outcomes.")
    if outcome == Outcome.REFERRED_ON and not (referred_to and referred_to.get("name", "").strip()):
        raise NotAllowed("Say who they referred you to.")
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="record_outcome",
            role=Actor.SEEKER,
            user=seeker,
            note=note,
            updates={"outcome": outcome, "outcome_note": note},
        )
        if not result.changed:
            return result
        i = result.intro
        # A connector who has left can't vet the next request: the chain stops with this outcome.
        if outcome == Outcome.REFERRED_ON and not i.connector.is_deleted:
            person = Contact.objects.create(
                owner=i.connector,
                name=referred_to["name"].strip()[:150],
                organisation=referred_to.get("organisation", "").strip()[:150],
                title=referred_to.get("title", "").strip()[:150],
                strength=Strength.NEVER_MET,
                how_we_know=f"{i.target.name} referred {i.seeker.full_name} on to them (introduction #{i.pk}).",
            )
            intro_create_draft(seeker=i.seeker, target=person, parent=i, blurb=i.blurb, fit=i.fit)
        outbox_enqueue(
            to=[i.connector.email],
            subject=f"{i.seeker.full_name} reports: {i.get_outcome_display()} after meeting {i.target.name}",
            template="intro_outcome",
            context={"intro": i, "url": settings.SITE_URL + reverse("intros:connector_record")},
        )
    return result


def intro_close(*, intro: IntroRequest, user) -> Result:
    role = intro.role_of(user)
    if role is None:
        raise NotAllowed("Only the seeker or the connector can close this.")
    with transaction.atomic():
        return _transition(intro_id=intro.pk, name="close", role=role, user=user)


# --- the connector ----------------------------------------------------------------------


def intro_request_changes(*, intro: IntroRequest, connector, note: str) -> Result:
    if not note.strip():
        raise NotAllowed("Say what should change, so they can improve it.")
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="request_changes",
            role=Actor.CONNECTOR,
            user=connector,
            note=note,
            updates={"connector_message": note},
            keep_preparation=True,  # to show the connector what changed when it comes back
        )
        if result.changed:
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                subject=f"{i.connector.full_name} asks for a few changes before introducing you to {i.target.name}",
                template="intro_changes_requested",
                context={"intro": i, "note": note, "url": settings.SITE_URL + i.get_absolute_url()},
            )
    return result


def intro_decline(*, intro: IntroRequest, connector, note: str) -> Result:
    if not note.strip():
        raise NotAllowed("Write a kind word to the seeker: they will read it.")
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="decline",
            role=Actor.CONNECTOR,
            user=connector,
            note=note,
            updates={"connector_message": note},
        )
        if result.changed:
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                subject=f"About your request to meet {i.target.name}",
                template="intro_declined_by_connector",
                context={"intro": i, "note": note, "url": settings.SITE_URL + reverse("intros:find")},
            )
    return result


def intro_connector_left(*, intro: IntroRequest, connector, note: str) -> Result:
    """The connector deleted their account before the introduction was made: the request is
    closed, and the seeker hears why. (After the introduction the seeker and the target are
    in touch already, and the request goes on without the connector.)"""
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="connector_left",
            role=Actor.CONNECTOR,
            user=connector,
            note=note,
            updates={"connector_message": note, "next_action_at": None},
        )
        if result.changed:
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                subject=f"Your request to meet {i.target.name} has been closed",
                template="intro_connector_left",
                context={"intro": i, "note": note, "url": settings.SITE_URL + reverse("intros:find")},
            )
    return result


def intro_approve(
    *,
    intro: IntroRequest,
    connector,
    vouch_strength: str,
    vouch_note: str,
    mode: str,
    parent: IntroRequest | None = None,
) -> Result:
    """Approve and vouch. Double opt-in asks the target; mention-my-name lets the seeker write."""
    if vouch_strength not in Strength.values:
        raise NotAllowed("Say how well you know the seeker.")
    if not vouch_note.strip():
        raise NotAllowed("Write a vouch note: the target reads it before deciding.")
    if mode not in Mode.values:
        raise NotAllowed("Choose how the introduction is made.")

    def check(locked: IntroRequest) -> None:
        if connector_at_capacity(locked.connector):
            raise NotAllowed(
                f"You are carrying {locked.connector.intro_capacity} open introductions, your capacity. "
                "Let one finish, or raise your capacity in your profile, before approving another."
            )
        if not locked.target.email and locked.target.email_unusable:
            raise NotAllowed(
                f"{locked.target.name}'s address “{locked.target.email_unusable}” can't receive email: "
                f"{locked.target.email_problem}. Fix it on their contact page first: it is needed to ask them."
            )
        if not locked.target.email:
            raise NotAllowed(
                f"Add {locked.target.name}'s email address to the contact first: it is needed to write to them."
            )
        if locked.target.do_not_contact:
            raise NotAllowed(f"{locked.target.name} is marked “do not contact”.")

    updates: dict[str, Any] = {"vouch_strength": vouch_strength, "vouch_note": vouch_note, "mode": mode}
    if parent is not None:
        updates["parent"] = parent
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="approve",
            role=Actor.CONNECTOR,
            user=connector,
            note=vouch_note,
            updates=updates,
            check=check,
        )
        if not result.changed:
            return result
        if mode == Mode.DOUBLE_OPT_IN:
            _ask_target(result.intro)
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                subject=f"{i.connector.full_name} approved your request: {i.target.name} is being asked",
                template="intro_approved_seeker",
                context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url()},
            )
        else:
            _mention_name(result.intro)
    return _reload(result)


def _reload(result: Result) -> Result:
    return Result(IntroRequest.objects.with_people().get(pk=result.intro.pk), result.changed, result.message)


def _answer_deadline() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.TARGET_ANSWER_WAIT_DAYS)


def _ask_target(intro: IntroRequest, *, transition: str = "ask_target") -> None:
    # The sweep looks again after the wait: one re-ask, then expiry (followups.sweep).
    result = _transition(
        intro_id=intro.pk, name=transition, role=Actor.SYSTEM, updates={"next_action_at": _answer_deadline()}
    )
    _email_target_ask(result.intro, kind=transition)


def _email_target_ask(i: IntroRequest, *, kind: str, key: str | None = None) -> None:
    _, token = target_link_create(intro=i, purpose=TargetLink.Purpose.ANSWER)
    ask = outbox_enqueue(
        to=[i.target.email],
        reply_to=[i.connector.email],
        subject=f"{i.connector.full_name} would like to introduce you to {i.seeker.full_name}",
        template="target_ask",
        context={"intro": i, "url": target_link_url(intro=i, token=token), "kind": kind},
        key=key or f"intro:{i.pk}:{kind}:{i.reask_count}",
        refs={"intro": i.pk},
        # If it never reaches the target, both are told (undelivered_ask_context renders it).
        tell_if_undelivered={"target": i.target.email, "connector": i.connector.email, "seeker": i.seeker.email},
    )
    if ask is not None:
        IntroRequest.objects.filter(pk=i.pk).update(last_ask=ask)
        i.last_ask = ask


def undelivered_ask_context(refs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Renders the notice that our ask never reached the target, to the connector or the seeker
    (lib.outbox.services.TELL_IF_UNDELIVERED; registered in apps.py), when it is sent. Nothing is
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
    connector (lib.outbox.services.TELL_IF_UNDELIVERED; registered in apps.py), when it is sent.
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


def intro_ask_again(*, intro: IntroRequest, connector) -> Result:
    """Our latest email asking the target was not delivered: once the connector has checked the
    address, ask again with a fresh link. No state change, and not a re-ask (the target never
    had the first): the wait for an answer starts over."""
    with transaction.atomic():
        locked = (
            IntroRequest.objects.select_for_update().select_related("seeker", "connector", "target").get(pk=intro.pk)
        )
        if locked.connector_id != connector.pk:
            raise NotAllowed("Only the connector can ask again.")
        if locked.undelivered_ask() is None:
            return Result(
                locked, False, f"Nothing to send again: our last email to {locked.target.name} was not refused."
            )
        if not locked.target.email:
            raise NotAllowed(f"Add {locked.target.name}'s email address to the contact first.")
        if locked.target.do_not_contact:
            raise NotAllowed(f"{locked.target.name} is marked “do not contact”.")
        locked.next_action_at = _answer_deadline()
        locked.save(update_fields=["next_action_at", "updated_at"])
        _email_target_ask(locked, kind="resend", key=f"intro:{locked.pk}:resend:{locked.last_ask_id}")
    return _reload(Result(locked, True, f"{locked.target.name} is asked again, at {locked.target.email}."))


def intro_remind_target(*, intro: IntroRequest) -> Result:
    """No answer yet: ask once more, with a fresh link (no state change)."""
    with transaction.atomic():
        locked = (
            IntroRequest.objects.select_for_update().select_related("seeker", "connector", "target").get(pk=intro.pk)
        )
        if locked.status != Status.AWAITING_TARGET:
            return Result(locked, False, "Nothing to re-ask.")
        locked.reask_count += 1
        locked.next_action_at = _answer_deadline()
        locked.save(update_fields=["reask_count", "next_action_at", "updated_at"])
        _email_target_ask(locked, kind="reminder")
    return Result(locked, True, "asked again")


def intro_expire(*, intro: IntroRequest) -> Result:
    """No answer after the last allowed re-ask: close it, and tell both kindly."""
    with transaction.atomic():
        result = _transition(
            intro_id=intro.pk,
            name="expire",
            role=Actor.SYSTEM,
            updates={"next_action_at": None},
            note="No answer after the last reminder.",
        )
        if result.changed:
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                cc=[i.connector.email],
                subject=f"No answer from {i.target.name} — the request has been closed",
                template="intro_expired",
                context={"intro": i, "url": settings.SITE_URL + reverse("intros:find")},
                key=f"intro:{i.pk}:expire",
            )
    return result


def _mention_name(intro: IntroRequest) -> None:
    result = _transition(intro_id=intro.pk, name="mention_name", role=Actor.SYSTEM)
    i = result.intro
    terms = _seeker_terms(i)
    guidance = terms["seeker_guidance"]
    outbox_enqueue(
        to=[i.seeker.email],
        subject=_mention_subject(i, guidance),
        template="intro_mention_name_seeker",
        context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url(), **terms},
    )
    outbox_enqueue(
        to=[i.connector.email],
        subject=f"{i.seeker.full_name} will write to {i.target.name}, mentioning you",
        template="intro_mention_name_connector",
        context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url()},
    )


def _mention_subject(intro: IntroRequest, guidance) -> str:
    """Never "you may write" while the target's window is closed: the subject names when."""
    mentioning = f"{intro.target.name}, mentioning {intro.connector.full_name}"
    if guidance.tells_to_write:
        return f"You may write to {mentioning}"
    if guidance.next_in_target_zone is not None:
        return f"You may write to {mentioning}, from {day_in_words(guidance.next_in_target_zone)}"
    return f"Approved: {mentioning} — {guidance.label.lower()}"


def intro_reask(*, intro: IntroRequest) -> Result:
    """The deferral date has come: ask the target once more, with a new link."""
    with transaction.atomic():
        locked = IntroRequest.objects.select_for_update().get(pk=intro.pk)
        if locked.status != Status.DEFERRED:
            return Result(locked, False, "Nothing to re-ask.")
        IntroRequest.objects.filter(pk=locked.pk).update(reask_count=locked.reask_count + 1)
        locked.reask_count += 1
        _ask_target(locked, transition="reask")
    return _reload(Result(locked, True, "asked again"))


# --- the target (through a link) ---------------------------------------------------------


@dataclass(frozen=True)
class TargetTerms:
    busy_until: dt.date | None = None
    weekdays: list[int] | None = None
    hours_start: dt.time | None = None
    hours_end: dt.time | None = None
    time_zone: str | None = None
    target_writes_first: bool = False


def _link_for_answer(link: TargetLink, purpose: str, used_for: str) -> TargetLink:
    if link.purpose != purpose:
        raise LinkProblem("wrong_purpose", "This link is for something else.", link)
    return _use_link(link.pk, used_for)


def target_accept(*, link: TargetLink, terms: TargetTerms) -> Result:
    """Accept, with the target's terms, then introduce both (double opt-in)."""
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.ANSWER, "accept")
        contact = Contact.objects.select_for_update().get(pk=link.intro.target_id)
        changed_window = []
        if terms.busy_until is not None:
            contact.unavailable_until = terms.busy_until
            changed_window.append("unavailable_until")
        if terms.weekdays:
            contact.weekdays = weekdays_to_mask(terms.weekdays)
            changed_window.append("weekdays")
        if terms.hours_start is not None and terms.hours_end is not None:
            contact.hours_start, contact.hours_end = terms.hours_start, terms.hours_end
            changed_window += ["hours_start", "hours_end"]
        if terms.time_zone:
            contact.time_zone = terms.time_zone
            changed_window.append("time_zone")
        if changed_window:
            contact.full_clean(validate_unique=False, validate_constraints=False)
            contact.save(update_fields=[*changed_window, "updated_at"])
        note = _describe_terms(contact, terms) if (changed_window or terms.target_writes_first) else ""
        result = _transition(
            intro_id=link.intro_id,
            name="target_accept",
            role=Actor.TARGET,
            note=note,
            updates={"target_writes_first": terms.target_writes_first, "next_action_at": None},
        )
        _introduce(result.intro)
    return _reload(result)


def _describe_terms(contact: Contact, terms: TargetTerms) -> str:
    """The timeline's note of the terms given: "Busy through Wed 9 Dec 2026. Prefers
    Monday–Friday, 09:00–17:00 (Chicago time). Will write first." """
    parts = []
    if terms.busy_until:
        parts.append(f"Busy through {day_in_words(terms.busy_until, year=True)}.")
    if terms.weekdays or terms.hours_start or terms.time_zone:
        parts.append(
            f"Prefers {days_in_words(contact.weekday_set)}, {contact.hours_start:%H:%M}–{contact.hours_end:%H:%M} "
            f"({zone_in_words(contact.time_zone)})."
        )
    parts.append("Will write first." if terms.target_writes_first else "The seeker writes first.")
    return " ".join(parts)


def _introduce(intro: IntroRequest) -> None:
    result = _transition(intro_id=intro.pk, name="introduce", role=Actor.SYSTEM)
    i = result.intro
    # The shared email introduces both, copying the connector: it carries no link that acts
    # for anyone. The target's step-back link is a key, so it goes to them alone.
    outbox_enqueue(
        to=[i.target.email, i.seeker.email],
        cc=[i.connector.email],
        subject=f"Introduction: {i.seeker.full_name} ↔ {i.target.name}",
        template="intro_introduction",
        context={
            "intro": i,
            "seeker_url": settings.SITE_URL + i.get_absolute_url(),
            **_seeker_terms(i),
        },
        key=i.introduction_key,
        refs={"intro": i.pk},
        # If the target's copy bounces, the seeker and the connector are told
        # (undelivered_introduction_context renders it).
        tell_if_undelivered={"target": i.target.email, "seeker": i.seeker.email, "connector": i.connector.email},
    )
    _, step_back_token = target_link_create(intro=i, purpose=TargetLink.Purpose.STEP_BACK)
    outbox_enqueue(
        to=[i.target.email],
        reply_to=[i.connector.email],
        subject=f"If meeting {i.seeker.full_name} stops suiting you",
        template="target_step_back_link",
        context={"intro": i, "url": target_link_url(intro=i, token=step_back_token)},
        key=f"intro:{i.pk}:step-back-link",
    )


def _seeker_terms(intro: IntroRequest) -> dict[str, Any]:
    """What the introduction email tells the seeker (emails/_seeker_terms.*): the target's terms and
    whether to write now, in the seeker's own time as well as the target's."""
    now = timezone.now()
    return {
        "seeker_guidance": guidance_for(intro, reader_zone=intro.seeker.time_zone, now=now),
        "target_terms": terms_in_words(
            intro.target,
            target_writes_first=intro.target_writes_first,
            writer_name=intro.target.name,
            seeker_name=intro.seeker.full_name,
            now=now,
        ),
    }


def target_decline(*, link: TargetLink, note: str = "") -> Result:
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.ANSWER, "decline")
        result = _transition(
            intro_id=link.intro_id,
            name="target_decline",
            role=Actor.TARGET,
            note=note,
            updates={"next_action_at": None},
        )
        i = result.intro
        outbox_enqueue(
            to=[i.seeker.email],
            cc=[i.connector.email],
            subject=f"{i.target.name} can't take the introduction right now",
            template="target_declined",
            context={"intro": i, "url": settings.SITE_URL + reverse("intros:find")},
        )
    return _reload(result)


def target_defer(*, link: TargetLink, until: dt.date, note: str = "") -> Result:
    """ "Not now — ask me after DATE": the request waits and is re-asked once, at that date."""
    today = timezone.localdate(timezone=link.intro.target.zone)
    if until <= today:
        raise NotAllowed("Choose a date after today.")
    if until > today + dt.timedelta(days=365):
        raise NotAllowed("Choose a date within the next year.")
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.ANSWER, "defer")
        contact = link.intro.target
        reask_at = dt.datetime.combine(until, contact.hours_start, tzinfo=contact.zone)
        result = _transition(
            intro_id=link.intro_id,
            name="target_defer",
            role=Actor.TARGET,
            note=note or f"Ask again after {until:%a %-d %b %Y}.",
            updates={"deferred_until": until, "next_action_at": reask_at},
        )
        i = result.intro
        outbox_enqueue(
            to=[i.seeker.email],
            cc=[i.connector.email],
            subject=f"{i.target.name} says: not now — ask again after {until:%-d %b}",
            template="target_deferred",
            context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url()},
        )
    return _reload(result)


def target_step_back(*, link: TargetLink, note: str = "") -> Result:
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.STEP_BACK, "step_back")
        result = _transition(
            intro_id=link.intro_id,
            name="target_step_back",
            role=Actor.TARGET,
            note=note,
            updates={"next_action_at": None},
        )
        i = result.intro
        # The outreach log lives in `followups` (above this app): read through the relation's name.
        breaches = list(i.outreaches.filter(is_breach=True).order_by("at"))
        outbox_enqueue(
            to=[i.connector.email],
            subject=f"{i.target.name} stepped back from the introduction to {i.seeker.full_name}",
            template="target_stepped_back_connector",
            context={"intro": i, "note": note, "breaches": breaches, "url": settings.SITE_URL + i.get_absolute_url()},
        )
        outbox_enqueue(
            to=[i.seeker.email],
            subject=f"{i.target.name} has stepped back from the introduction",
            template="target_stepped_back_seeker",
            context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url()},
        )
    return _reload(result)


# --- feedback on the match (after the meeting) ---------------------------------------------

FEEDBACK_RATINGS = {
    5: "An excellent match",
    4: "A good match",
    3: "Fine",
    2: "Not a great fit",
    1: "Not a fit at all",
}


def intro_ask_feedback(*, intro: IntroRequest) -> bool:
    """Email the target a link to say how good the match was. Once per introduction."""
    with transaction.atomic():
        i = IntroRequest.objects.select_for_update().select_related("seeker", "connector", "target").get(pk=intro.pk)
        if i.status not in {Status.MET, Status.OUTCOME, Status.CLOSED} or not i.target.email:
            return False
        if i.target_links.filter(purpose=TargetLink.Purpose.FEEDBACK).exists():
            return False
        _, token = target_link_create(intro=i, purpose=TargetLink.Purpose.FEEDBACK)
        outbox_enqueue(
            to=[i.target.email],
            reply_to=[i.connector.email],
            subject=f"How was meeting {i.seeker.full_name}? One click for {i.connector.full_name}",
            template="target_feedback_ask",
            context={"intro": i, "url": target_link_url(intro=i, token=token)},
            key=f"intro:{i.pk}:feedback",
        )
    return True


def target_feedback(*, link: TargetLink, rating: int, note: str = "") -> IntroRequest:
    if rating not in FEEDBACK_RATINGS:
        raise NotAllowed("Choose one of the answers.")
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.FEEDBACK, "feedback")
        intro = IntroRequest.objects.select_for_update().get(pk=link.intro_id)
        intro.target_feedback_rating, intro.target_feedback_note = rating, note
        intro.target_feedback_at = timezone.now()
        intro.save(update_fields=["target_feedback_rating", "target_feedback_note", "target_feedback_at"])
        outbox_enqueue(
            to=[link.intro.connector.email],
            subject=f"{link.intro.target.name}'s feedback on meeting {link.intro.seeker.full_name}",
            template="target_feedback_connector",
            context={
                "intro": intro,
                "label": FEEDBACK_RATINGS[rating],
                "url": settings.SITE_URL + intro.get_absolute_url(),
            },
        )
    return intro
