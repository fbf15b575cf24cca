"""Follow-up workflows: logging outreach inside (or outside) a target's window, and offers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contacts import policy
from contacts.models import Contact, Strength
from contacts.windows import Window
from intros import services as intro_services
from intros.guidance import gentle_note_for, gentle_note_from
from intros.models import IntroRequest
from lib import freshness

from .models import FollowUp, Offer, Outreach

# An offer nudges its seeker this long after it was recorded, then goes stale: defined with
# the other numbers in followups.numbers (and still importable from here).
from .numbers import OFFER_NUDGE_AFTER, OFFER_STALE_AFTER  # noqa: F401


def user_window(user) -> Window:
    """A user's own hours: every day, outside their quiet hours, in their time zone."""
    return Window(
        time_zone=user.time_zone,
        weekdays=frozenset(range(7)),
        hours_start=user.quiet_hours_end,
        hours_end=user.quiet_hours_start,
    )


# --- outreach -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryWarning(Exception):
    """The attempt breaks what the target asked for; the seeker must confirm to log it."""

    violations: tuple[policy.Violation, ...]
    allowed_from: dt.datetime | None


def outreach_violations(*, intro: IntroRequest, at: dt.datetime) -> list[policy.Violation]:
    contact = intro.target
    found = policy.violations(at, contact.window())
    # Earlier attempts that were themselves breaches do not lift "I'll write first".
    if intro.target_writes_first and not intro.outreaches.filter(is_breach=False).exists():
        gentle = gentle_note_for(intro)
        if at < gentle:
            when = timezone.localtime(gentle, contact.zone).strftime("%a %-d %b")
            found.append(
                policy.Violation(
                    "target_writes_first",
                    f"{contact.name} said they would write first; a gentle note is fine from {when} if you "
                    "have not heard by then.",
                )
            )
    return found


def outreach_record(
    *, intro: IntroRequest, seeker, at: dt.datetime, channel: str, note: str = "", confirmed: bool = False
) -> Outreach:
    """Log one contact attempt. Outside the target's window it needs `confirmed`, and is a breach."""
    intro = IntroRequest.objects.with_people().get(pk=intro.pk)  # decide on the current state, not a stale copy
    if intro.seeker_id != seeker.pk:
        raise intro_services.NotAllowed("Only the person introduced can log outreach.")
    if not intro.outreach_allowed:
        raise intro_services.NotAllowed("Outreach can be logged once you have been introduced.")
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise intro_services.NotAllowed("Log an attempt once it has happened: the time is in the future.")
    found = outreach_violations(intro=intro, at=at)
    if found and not confirmed:
        wanted = at
        if any(v.code == "target_writes_first" for v in found):
            # The gentle note is allowed from the end of the wait, not from when the window opens.
            wanted = max(at, gentle_note_for(intro))
        allowed = policy.next_allowed(wanted=wanted, window=intro.target.window(), now=at)
        raise BoundaryWarning(tuple(found), allowed)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=intro.target_id)
        outreach = Outreach.objects.create(
            intro=intro,
            seeker=seeker,
            contact=contact,
            at=at,
            channel=channel,
            note=note,
            is_breach=bool(found),
            breach_reasons=[{"code": v.code, "message": v.message} for v in found],
        )
        if contact.last_contacted_at is None or at > contact.last_contacted_at:
            contact.last_contacted_at = at
            contact.save(update_fields=["last_contacted_at", "updated_at"])
        # The first attempt fulfils the promise to reach out (a breach does not count as waiting).
        for followup in intro.followups.open().filter(kind=FollowUp.Kind.REACH_OUT):
            followup.mark_done(when=at)
    return outreach


# --- follow-ups --------------------------------------------------------------------------------


def followup_snooze(*, followup: FollowUp, days: int, now: dt.datetime) -> FollowUp:
    if not followup.is_open:
        raise intro_services.NotAllowed("Only an open follow-up can be snoozed.")
    if not 1 <= days <= 30:
        raise intro_services.NotAllowed("Snooze for 1 to 30 days.")
    # A new due date earns one new reminder: the sweep's next one is numbered after those sent
    # (a number already logged would never go out), and still not within a day of the last nudge.
    followup.snooze(until=max(followup.due_at, now) + dt.timedelta(days=days))
    return followup


# --- offers ----------------------------------------------------------------------------------


def offer_create(
    *,
    seeker,
    offered_by_name: str,
    contact_name: str,
    contact_organisation: str = "",
    contact_title: str = "",
    note: str = "",
    offered_by=None,
    now: dt.datetime | None = None,
) -> Offer:
    now = now or timezone.now()
    return Offer.objects.create(
        seeker=seeker,
        offered_by=offered_by,
        offered_by_name=offered_by_name.strip(),
        contact_name=contact_name.strip(),
        contact_organisation=contact_organisation.strip(),
        contact_title=contact_title.strip(),
        note=note,
        created_at=now,
        next_action_at=now + OFFER_NUDGE_AFTER[0],
    )


def offer_self_contact(*, offer: Offer, seeker, now: dt.datetime | None = None) -> Offer:
    """ "I'll contact them myself, mentioning your name": the follow-up is the seeker's, not the offerer's."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk, seeker=seeker)
        # A stale offer can still be taken up (the page offers it); anything else was already decided.
        if offer.status not in {Offer.Status.OPEN, Offer.Status.STALE}:
            return offer
        # The seeker acted: from now on the follow-up reminds them, not the offer's nudges.
        offer.status, offer.acted_at, offer.next_action_at = Offer.Status.SELF_CONTACT, now, None
        offer.save(update_fields=["status", "acted_at", "next_action_at"])
        due = now + dt.timedelta(days=2)
        FollowUp.objects.create(
            owner=seeker,
            offer=offer,
            kind=FollowUp.Kind.OFFER_CONTACT,
            counterpart=f"{offer.contact_name}, mentioning {offer.offered_by_name}",
            due_at=due,
            next_action_at=due,
        )
    return offer


def offer_contacted(*, offer: Offer, seeker, now: dt.datetime | None = None) -> Offer:
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk, seeker=seeker)
        if offer.status in {Offer.Status.DONE, Offer.Status.REQUESTED}:
            return offer
        offer.status, offer.acted_at, offer.next_action_at = Offer.Status.DONE, now, None
        offer.save(update_fields=["status", "acted_at", "next_action_at"])
        for followup in offer.followups.open():
            followup.mark_done(when=now)
    return offer


def offer_request_intro(*, offer: Offer, seeker, now: dt.datetime | None = None) -> IntroRequest:
    """ "I'll ask you to introduce me": a draft request to the offerer, who becomes the connector."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk, seeker=seeker)
        if offer.intro_id:
            return offer.intro
        if offer.offered_by is None:
            raise intro_services.NotAllowed(
                f"{offer.offered_by_name} is not on Warm Intros: contact {offer.contact_name} yourself, "
                "mentioning their name."
            )
        target = Contact.objects.owned_by(offer.offered_by).named(offer.contact_name).first() or Contact.objects.create(
            owner=offer.offered_by,
            name=offer.contact_name,
            organisation=offer.contact_organisation,
            title=offer.contact_title,
            strength=Strength.ACQUAINTED,
            how_we_know=f"Offered to introduce {seeker.full_name} on {now:%-d %b %Y}.",
        )
        try:
            intro = intro_services.intro_create_draft(seeker=seeker, target=target)
        except intro_services.AlreadyOpen as already:  # asked already: the offer points to that request
            intro = already.intro
        offer.status, offer.intro, offer.acted_at, offer.next_action_at = Offer.Status.REQUESTED, intro, now, None
        offer.save(update_fields=["status", "intro", "acted_at", "next_action_at"])
    return intro


def offer_dismiss(*, offer: Offer, seeker) -> Offer:
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk, seeker=seeker)
        offer.status, offer.next_action_at = Offer.Status.DISMISSED, None
        offer.save(update_fields=["status", "next_action_at"])
        offer.followups.open().update(status=FollowUp.Status.SKIPPED, next_action_at=None)
    return offer


# --- what an introduction's transitions do to follow-ups (called by workflows.intros) -----------

DAY = dt.timedelta(days=1)


def _not_before_window(intro: IntroRequest, wanted: dt.datetime) -> dt.datetime:
    opens = intro.target.unavailable_until_moment()
    return max(wanted, opens) if opens else wanted


def _create(intro: IntroRequest, specs: list[tuple[str, object, str, dt.datetime]]) -> None:
    """In bulk (one INSERT; no post_save), so their owners' kept answers are dropped here."""
    FollowUp.objects.bulk_create(
        [
            FollowUp(owner=owner, intro=intro, kind=kind, counterpart=who, due_at=due, next_action_at=due)
            for kind, owner, who, due in specs
        ],
        ignore_conflicts=True,
    )
    freshness.users_changed(*{owner.pk for _, owner, _, _ in specs if owner is not None})


def followups_for_introduction(*, intro: IntroRequest, now: dt.datetime) -> None:
    """On introduced (DESIGN.md, "Follow-ups and reminders"): the seeker reaches out to the target
    (due in 2 days, never before the target's window opens) — or, when the target said they would
    write first, waits, with one gentle note only some days after their date — and thanks the
    connector (1 day)."""
    target_name, connector_name = intro.target.name, intro.connector.full_name
    if intro.target_writes_first:
        gentle = gentle_note_from(introduced_at=now, busy_until=intro.target.unavailable_until_moment())
        first = (FollowUp.Kind.WAIT_FOR_TARGET, intro.seeker, target_name, gentle)
    else:
        first = (FollowUp.Kind.REACH_OUT, intro.seeker, target_name, _not_before_window(intro, now + 2 * DAY))
    _create(intro, [first, (FollowUp.Kind.THANK_CONNECTOR, intro.seeker, connector_name, now + DAY)])


def followups_for_meeting(*, intro: IntroRequest, now: dt.datetime) -> None:
    """On met: the seeker thanks the target (1 day) and reports the outcome to the connector
    (7 days), the connector checks in with both (3 days), and the target is asked (through a
    link, by the sweep) for feedback on the match (2 days); nobody owns that one."""
    target_name = intro.target.name
    _create(
        intro,
        [
            (FollowUp.Kind.THANK_TARGET, intro.seeker, target_name, now + DAY),
            (FollowUp.Kind.REPORT_OUTCOME, intro.seeker, intro.connector.full_name, now + 7 * DAY),
            (
                FollowUp.Kind.CONNECTOR_CHECK_IN,
                intro.connector,
                f"{intro.seeker.full_name} and {target_name}",
                now + 3 * DAY,
            ),
            (FollowUp.Kind.TARGET_FEEDBACK, None, target_name, now + 2 * DAY),
        ],
    )


def followups_skip_open(*, intro: IntroRequest) -> None:
    """The introduction ended (withdrawn, the target stepped back, closed): what was still open
    about it is skipped, and no reminder about it goes out."""
    FollowUp.objects.filter(intro=intro, status=FollowUp.Status.OPEN).update(
        status=FollowUp.Status.SKIPPED, next_action_at=None
    )


def followup_outcome_reported(*, intro: IntroRequest, now: dt.datetime) -> None:
    """The seeker reported the outcome: their "report the outcome" follow-up is done."""
    FollowUp.objects.filter(intro=intro, kind=FollowUp.Kind.REPORT_OUTCOME, status=FollowUp.Status.OPEN).update(
        status=FollowUp.Status.DONE, done_at=now, next_action_at=None
    )
