"""What happens when an introduction moves: every action, with its effects in plain sight.

Each `do_*` action is atomic. It moves the request through `intros.services.transition` (the
state table in `intros.states` says from where, to where and who may; each transition there
names its action here), then, in the open: who is told (an email in the outbox, in the same
transaction), which follow-ups are created, done or skipped (`followups.services`), and what
else changes. Kept answers about the people involved (`lib.freshness`) are dropped by the
writes themselves: cache invalidation is what signals are for here.

Views, tasks, the sweep and the demo call these; no domain app's own logic imports this
package (tests/test_architecture.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Strength, weekdays_to_mask
from contacts.windows import day_in_words, days_in_words, zone_in_words
from followups import services as followups
from intros.guidance import guidance_for, terms_in_words
from intros.models import REVIEWED_FIELD_NAMES, IntroRequest, TargetLink
from intros.services import (
    FEEDBACK_RATINGS,
    WHY_NOW_MISSING,
    LinkProblem,
    NotAllowed,
    PreparationIncomplete,
    Result,
    TargetTerms,
    asked_before,
    connector_at_capacity,
    intro_create_draft,
    preparation_changes,
    queue_position,
    reloaded,
    sent_back_version,
    target_link_create,
    target_link_url,
    transition,
    use_link,
)
from intros.states import Actor, Mode, Outcome, Status
from lib.outbox.services import outbox_enqueue
from webhooks.events import emit
from webhooks.models import EventType


def transition_announced(**kwargs) -> Result:
    """`intros.services.transition` (the state table decides), and when the request moved, its
    subscribers hear it: one `request.transitioned` webhook event per move, written in the same
    transaction (`webhooks.events` says who hears what)."""
    result = transition(**kwargs)
    if result.changed:
        emit(EventType.REQUEST_TRANSITIONED, result.event)
    return result


# --- the seeker -----------------------------------------------------------------------------


def do_submit(*, intro: IntroRequest, seeker) -> Result:
    """draft / needs_changes → submitted. Told: the connector (what changed since their note,
    when they sent it back); the seeker, when the connector is at capacity (their place in the
    queue). No follow-ups."""

    def check(locked: IntroRequest) -> None:
        problems = locked.missing_preparation()
        if not locked.why_now.strip() and asked_before(seeker=seeker, target=locked.target):
            problems["why_now"] = WHY_NOW_MISSING
        if problems:
            raise PreparationIncomplete(problems)

    with transaction.atomic():
        result = transition_announced(
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


def do_withdraw(*, intro: IntroRequest, seeker, note: str = "") -> Result:
    """Any open state → withdrawn. Follow-ups: the open ones are skipped. Told: the connector,
    unless it never went further than a draft."""
    with transaction.atomic():
        result = transition_announced(
            intro_id=intro.pk,
            name="withdraw",
            role=Actor.SEEKER,
            user=seeker,
            note=note,
            updates={"next_action_at": None},
        )
        if result.changed:
            followups.followups_skip_open(intro=result.intro)
        if result.changed and result.intro.events.exclude(transition__in=["create"]).count() > 1:
            i = result.intro
            outbox_enqueue(
                to=[i.connector.email],
                subject=f"{i.seeker.full_name} withdrew the request to meet {i.target.name}",
                template="intro_withdrawn",
                context={"intro": i, "note": note, "url": settings.SITE_URL + reverse("intros:inbox")},
            )
    return result


def do_record_meeting(*, intro: IntroRequest, seeker, met_on: dt.date, note: str = "") -> Result:
    """introduced → met. Follow-ups: the seeker thanks the target (1 day) and reports the outcome
    (7 days), the connector checks in (3 days), the target is asked for feedback (2 days, by the
    sweep). Nobody is emailed now."""
    if met_on > timezone.localdate():
        raise NotAllowed("The meeting date can't be in the future.")
    with transaction.atomic():
        result = transition_announced(
            intro_id=intro.pk,
            name="record_meeting",
            role=Actor.SEEKER,
            user=seeker,
            note=note,
            updates={"met_on": met_on},
        )
        if result.changed:
            followups.followups_for_meeting(intro=result.intro, now=result.event.created_at)
    return result


def do_record_outcome(
    *, intro: IntroRequest, seeker, outcome: str, note: str = "", referred_to: dict[str, str] | None = None
) -> Result:
    """met → outcome. `referred_on` needs `referred_to` (name, organisation, title) and starts
    the next request in the chain (a draft, to be vetted by the same connector, on a new contact
    of theirs). Follow-ups: "report the outcome" is done. Told: the connector."""
    if outcome not in Outcome.values:
        raise NotAllowed("Choose one of the outcomes.")
    if outcome == Outcome.REFERRED_ON and not (referred_to and referred_to.get("name", "").strip()):
        raise NotAllowed("Say who they referred you to.")
    with transaction.atomic():
        result = transition_announced(
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
        followups.followup_outcome_reported(intro=i, now=result.event.created_at)
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


def do_close(*, intro: IntroRequest, user) -> Result:
    """outcome → closed, by the seeker or the connector. Follow-ups: the open ones are skipped.
    Nobody is emailed."""
    role = intro.role_of(user)
    if role is None:
        raise NotAllowed("Only the seeker or the connector can close this.")
    with transaction.atomic():
        result = transition_announced(intro_id=intro.pk, name="close", role=role, user=user)
        if result.changed:
            followups.followups_skip_open(intro=result.intro)
    return result


# --- the connector -----------------------------------------------------------------------


def do_request_changes(*, intro: IntroRequest, connector, note: str) -> Result:
    """submitted → needs_changes (the preparation kept as it stood, to show what changed).
    Told: the seeker, with the connector's note."""
    if not note.strip():
        raise NotAllowed("Say what should change, so they can improve it.")
    with transaction.atomic():
        result = transition_announced(
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


def do_decline(*, intro: IntroRequest, connector, note: str) -> Result:
    """submitted → declined_by_connector. Told: the seeker, with the connector's kind word."""
    if not note.strip():
        raise NotAllowed("Write a kind word to the seeker: they will read it.")
    with transaction.atomic():
        result = transition_announced(
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


def do_connector_left(*, intro: IntroRequest, connector, note: str) -> Result:
    """The connector deleted their account before the introduction was made (→ declined_by_connector):
    the request is closed, and the seeker is told why. (After the introduction the seeker and the target are
    in touch already, and the request goes on without the connector.)"""
    with transaction.atomic():
        result = transition_announced(
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


def do_approve(
    *,
    intro: IntroRequest,
    connector,
    vouch_strength: str,
    vouch_note: str,
    mode: str,
    parent: IntroRequest | None = None,
) -> Result:
    """submitted → approved, with the connector's vouch. Then, double opt-in: the target is asked
    (`do_ask_target`) and the seeker told so; mention-my-name: the seeker may write (`do_mention_name`)."""
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
        result = transition_announced(
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
            do_ask_target(result.intro)
            i = result.intro
            outbox_enqueue(
                to=[i.seeker.email],
                subject=f"{i.connector.full_name} approved your request: {i.target.name} is being asked",
                template="intro_approved_seeker",
                context={"intro": i, "url": settings.SITE_URL + i.get_absolute_url()},
            )
        else:
            do_mention_name(result.intro)
    return reloaded(result)


# --- asking the target -------------------------------------------------------------------


def _answer_deadline() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.TARGET_ANSWER_WAIT_DAYS)


def do_ask_target(intro: IntroRequest, *, name: str = "ask_target") -> None:
    """approved (or deferred, `name="reask"`) → awaiting_target. Told: the target alone, with a
    new answer link (a key). The sweep looks again after the wait: one re-ask, then expiry."""
    result = transition_announced(
        intro_id=intro.pk, name=name, role=Actor.SYSTEM, updates={"next_action_at": _answer_deadline()}
    )
    _email_target_ask(result.intro, kind=name)


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


def do_ask_target_again(*, intro: IntroRequest, connector) -> Result:
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
    return reloaded(Result(locked, True, f"{locked.target.name} is asked again, at {locked.target.email}."))


def do_remind_target(*, intro: IntroRequest) -> Result:
    """No answer yet: the target is asked once more, alone, with a fresh link (no state change)."""
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


def do_expire(*, intro: IntroRequest) -> Result:
    """awaiting_target → expired: no answer after the last allowed re-ask. Told: the seeker,
    copying the connector, kindly."""
    with transaction.atomic():
        result = transition_announced(
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


def do_mention_name(intro: IntroRequest) -> None:
    """approved → introduced, without asking the target: the seeker writes, naming the connector.
    Told: the seeker (when they may write) and the connector. Follow-ups: as for `do_introduce`."""
    result = transition_announced(intro_id=intro.pk, name="mention_name", role=Actor.SYSTEM)
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
    if result.changed:
        followups.followups_for_introduction(intro=i, now=result.event.created_at)


def _mention_subject(intro: IntroRequest, guidance) -> str:
    """Never "you may write" while the target's window is closed: the subject names when."""
    mentioning = f"{intro.target.name}, mentioning {intro.connector.full_name}"
    if guidance.tells_to_write:
        return f"You may write to {mentioning}"
    if guidance.next_in_target_zone is not None:
        return f"You may write to {mentioning}, from {day_in_words(guidance.next_in_target_zone)}"
    return f"Approved: {mentioning} — {guidance.label.lower()}"


def do_reask(*, intro: IntroRequest) -> Result:
    """deferred → awaiting_target: the deferral date has come; the target is asked once more,
    with a new link (`do_ask_target`)."""
    with transaction.atomic():
        locked = IntroRequest.objects.select_for_update().get(pk=intro.pk)
        if locked.status != Status.DEFERRED:
            return Result(locked, False, "Nothing to re-ask.")
        IntroRequest.objects.filter(pk=locked.pk).update(reask_count=locked.reask_count + 1)
        locked.reask_count += 1
        do_ask_target(locked, name="reask")
    return reloaded(Result(locked, True, "asked again"))


# --- the target (through a link) ---------------------------------------------------------


def _link_for_answer(link: TargetLink, purpose: str, used_for: str) -> TargetLink:
    if link.purpose != purpose:
        raise LinkProblem("wrong_purpose", "This link is for something else.", link)
    return use_link(link.pk, used_for)


def do_target_accept(*, link: TargetLink, terms: TargetTerms) -> Result:
    """awaiting_target → accepted, through the target's answer link (spent here: single use), with
    their terms (their window on the contact); then `do_introduce`."""
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
        result = transition_announced(
            intro_id=link.intro_id,
            name="target_accept",
            role=Actor.TARGET,
            note=note,
            updates={"target_writes_first": terms.target_writes_first, "next_action_at": None},
        )
        do_introduce(result.intro)
    return reloaded(result)


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


def do_introduce(intro: IntroRequest) -> None:
    """accepted → introduced: both said yes. Effects, all here:

    - told: the target and the seeker, in one email copying the connector (with the target's
      terms and when the seeker may write; no link that acts for anyone), and the target alone,
      in a message of their own, their step-back link (a key);
    - follow-ups (`followups.services.followups_for_introduction`): the seeker reaches out to the
      target in 2 days, never before the target's window opens — or, when the target writes
      first, waits, with one gentle note allowed some days after their date — and thanks the
      connector in 1 day; they show in the seeker's list, calendar feed and daily digest;
    - kept answers: the seeker's and the connector's ("user:<id>", lib.freshness; the
      dashboard's numbers and calendar feeds) are dropped by the request's save and the new
      follow-ups.
    """
    result = transition_announced(intro_id=intro.pk, name="introduce", role=Actor.SYSTEM)
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
    if result.changed:
        followups.followups_for_introduction(intro=i, now=result.event.created_at)


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


def do_target_decline(*, link: TargetLink, note: str = "") -> Result:
    """awaiting_target → declined_by_target, through the answer link (spent). Told: the seeker,
    copying the connector."""
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.ANSWER, "decline")
        result = transition_announced(
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
    return reloaded(result)


def do_target_defer(*, link: TargetLink, until: dt.date, note: str = "") -> Result:
    """awaiting_target → deferred, through the answer link (spent): "Not now — ask me after DATE".
    The request waits and is re-asked once, at that date, in the target's hours (the sweep calls
    `do_reask`). Told: the seeker, copying the connector."""
    today = timezone.localdate(timezone=link.intro.target.zone)
    if until <= today:
        raise NotAllowed("Choose a date after today.")
    if until > today + dt.timedelta(days=365):
        raise NotAllowed("Choose a date within the next year.")
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.ANSWER, "defer")
        contact = link.intro.target
        reask_at = dt.datetime.combine(until, contact.hours_start, tzinfo=contact.zone)
        result = transition_announced(
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
    return reloaded(result)


def do_target_step_back(*, link: TargetLink, note: str = "") -> Result:
    """accepted / introduced → dropped_by_target, through the step-back link (spent). Follow-ups:
    the open ones are skipped. Told: the connector (with any boundary breaches by the seeker)
    and the seeker, each in their own email."""
    with transaction.atomic():
        _link_for_answer(link, TargetLink.Purpose.STEP_BACK, "step_back")
        result = transition_announced(
            intro_id=link.intro_id,
            name="target_step_back",
            role=Actor.TARGET,
            note=note,
            updates={"next_action_at": None},
        )
        i = result.intro
        if result.changed:
            followups.followups_skip_open(intro=i)
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
    return reloaded(result)


# --- feedback on the match (after the meeting) -------------------------------------------


def do_ask_feedback(*, intro: IntroRequest) -> bool:
    """Email the target (alone) a link to say how good the match was, once per introduction,
    after they met (the sweep calls it for the "target feedback" follow-up). No state change."""
    with transaction.atomic():
        i = IntroRequest.objects.select_for_update().select_related("seeker", "connector", "target").get(pk=intro.pk)
        if not i.is_met_or_later or not i.target.email:
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


def do_target_feedback(*, link: TargetLink, rating: int, note: str = "") -> IntroRequest:
    """The target's rating of the match, through the feedback link (spent). Told: the connector."""
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
