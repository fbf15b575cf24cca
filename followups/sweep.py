"""The reminder sweep, run by Celery beat every minute.

Each pass claims due rows through the partial `next_action_at` indexes with
`SELECT … FOR UPDATE SKIP LOCKED`, in batches, each batch in one transaction: the
reminder (an outbox row), its `ReminderLog` key and the new `next_action_at` commit
together or not at all. So a worker killed mid-batch sends nothing twice, two sweeps
at once share the work, and a sweep that was down for hours finds each item once and
sends one catch-up, inside its recipient's hours (the policy decides when).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.outbox import outbox_enqueue
from intros import services as intro_services
from intros.models import IntroRequest
from intros.states import Status

from . import digests, policy
from .models import DigestSchedule, FollowUp, Offer, ReminderLog
from .services import OFFER_NUDGE_AFTER, OFFER_STALE_AFTER, user_window

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# An item whose handling raised is looked at again after this, not on every tick.
RETRY_AFTER = dt.timedelta(hours=1)
# Due within this much of now counts as now (the beat ticks every minute).
SLACK = dt.timedelta(seconds=59)


def _when(wanted: dt.datetime, window, now: dt.datetime) -> dt.datetime | None:
    # Compare in UTC: two local times in one zone compare by wall clock, ignoring DST's fold.
    return policy.next_allowed(wanted=max(wanted.astimezone(dt.UTC), now.astimezone(dt.UTC)), window=window, now=now)


# --- follow-ups ---------------------------------------------------------------------------------


def _followup(item: FollowUp, now: dt.datetime) -> str:
    if item.is_open and item.kind == FollowUp.Kind.TARGET_FEEDBACK and item.intro is not None:
        return _ask_target_feedback(item, now)
    if not item.is_open or item.owner is None:
        item.next_action_at = None
        item.save(update_fields=["next_action_at"])
        return "cleared"
    wanted = item.due_at
    if item.kind == FollowUp.Kind.REACH_OUT and item.intro is not None:
        # Never tell the seeker to write before the target's window opens…
        opens = _when(wanted, item.intro.target.window(), now)
        if opens is None:  # do not contact
            item.next_action_at = None
            item.save(update_fields=["next_action_at"])
            return "cleared"
        wanted = opens
    # …and only inside the seeker's own hours.
    at = _when(wanted, user_window(item.owner), now)
    if at is not None and at > now + SLACK:
        item.next_action_at = at
        item.save(update_fields=["next_action_at"])
        return "rescheduled"
    sequence = item.reminders_sent + 1
    if ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.FOLLOWUP, object_id=item.pk, sequence=sequence, recipient=item.owner.email
    ):
        outbox_enqueue(
            to=[item.owner.email],
            subject=f"Reminder: {item.get_kind_display().lower()} — {item.counterpart}",
            template="followup_reminder",
            context={"followup": item, "owner": item.owner, "url": settings.SITE_URL + "/follow-ups/"},
        )
    # One reminder per follow-up per due date; after that it lives in the daily digest.
    item.reminders_sent = sequence
    item.next_action_at = None
    item.save(update_fields=["reminders_sent", "next_action_at"])
    return "reminded"


def _ask_target_feedback(item: FollowUp, now: dt.datetime) -> str:
    at = _when(item.due_at, item.intro.target.window(), now)
    if at is not None and at > now + SLACK:
        item.next_action_at = at
        item.save(update_fields=["next_action_at"])
        return "rescheduled"
    if at is not None and ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.FOLLOWUP, object_id=item.pk, sequence=1, recipient=item.intro.target.email
    ):
        intro_services.intro_ask_feedback(intro=item.intro)
    item.mark_done(when=now)
    return "feedback_asked"


# --- offers -----------------------------------------------------------------------------------


def _offer(offer: Offer, now: dt.datetime) -> str:
    if offer.status not in {Offer.Status.OPEN, Offer.Status.SELF_CONTACT}:
        offer.next_action_at = None
        offer.save(update_fields=["next_action_at"])
        return "cleared"
    if offer.nudges_sent >= len(OFFER_NUDGE_AFTER):
        offer.status, offer.next_action_at = Offer.Status.STALE, None
        offer.save(update_fields=["status", "next_action_at"])
        return "stale"
    at = _when(offer.next_action_at, user_window(offer.seeker), now)
    if at is not None and at > now + SLACK:
        offer.next_action_at = at
        offer.save(update_fields=["next_action_at"])
        return "rescheduled"
    sequence = offer.nudges_sent + 1
    if ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.OFFER_NUDGE, object_id=offer.pk, sequence=sequence, recipient=offer.seeker.email
    ):
        outbox_enqueue(
            to=[offer.seeker.email],
            subject=f"{offer.offered_by_name} offered to introduce you to {offer.contact_name}",
            template="offer_nudge",
            context={"offer": offer, "sequence": sequence, "url": settings.SITE_URL + "/follow-ups/offers/"},
        )
    offer.nudges_sent = sequence
    following = OFFER_NUDGE_AFTER[sequence] if sequence < len(OFFER_NUDGE_AFTER) else OFFER_STALE_AFTER
    offer.next_action_at = max(offer.created_at + following, now + SLACK)
    offer.save(update_fields=["nudges_sent", "next_action_at"])
    return "nudged"


# --- requests waiting on the target ------------------------------------------------------------


def _intro(intro: IntroRequest, now: dt.datetime) -> str:
    if intro.status not in {Status.DEFERRED, Status.AWAITING_TARGET}:
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=None)
        return "cleared"
    if intro.status == Status.AWAITING_TARGET and intro.reask_count >= settings.TARGET_MAX_REASKS:
        if ReminderLog.objects.record_once(
            kind=ReminderLog.Kind.EXPIRE, object_id=intro.pk, sequence=1, recipient=intro.seeker.email
        ):
            intro_services.intro_expire(intro=intro)
        return "expired"
    # Re-ask inside the target's own days and hours (the deferral date itself is the wanted time).
    window = intro.target.window()
    at = _when(intro.next_action_at, window, now)
    if at is None:  # do not contact: nobody may ask again
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=None)
        return "cleared"
    if at > now + SLACK:
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=at)
        return "rescheduled"
    if not ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.REASK, object_id=intro.pk, sequence=intro.reask_count + 1, recipient=intro.target.email
    ):
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=None)
        return "cleared"
    if intro.status == Status.DEFERRED:
        intro_services.intro_reask(intro=intro)
    else:
        intro_services.intro_remind_target(intro=intro)
    return "reasked"


# --- digests ------------------------------------------------------------------------------------


def _digest(schedule: DigestSchedule, now: dt.datetime) -> str:
    return digests.send_due(schedule=schedule, now=now)


# --- the loop -------------------------------------------------------------------------------------


def _drain(
    queryset: QuerySet,
    due_field: str,
    handle: Callable[[Model, dt.datetime], str],
    now: dt.datetime,
    counts: Counter,
    label: str,
    batch_size: int,
) -> None:
    while True:
        with transaction.atomic():
            batch = list(
                queryset.select_for_update(skip_locked=True, of=("self",))
                .filter(**{f"{due_field}__lte": now + SLACK})
                .order_by(due_field, "pk")[:batch_size]
            )
            for item in batch:
                try:
                    with transaction.atomic():  # a savepoint: one bad row must not stop the rest
                        outcome = handle(item, now)
                except Exception:
                    log.exception("Sweep could not handle %s %s; it is retried in an hour", label, item.pk)
                    type(item).objects.filter(pk=item.pk).update(**{due_field: now + RETRY_AFTER})
                    outcome = "failed"
                counts[f"{label}_{outcome}"] += 1
        if len(batch) < batch_size:
            return


def sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Handle everything due at `now`; returns counts such as {"followup_reminded": 3}."""
    now = now or timezone.now()
    counts: Counter = Counter()
    _drain(
        FollowUp.objects.select_related("owner", "intro__target"),
        "next_action_at",
        _followup,
        now,
        counts,
        "followup",
        batch_size,
    )
    _drain(Offer.objects.select_related("seeker"), "next_action_at", _offer, now, counts, "offer", batch_size)
    _drain(
        IntroRequest.objects.select_related("seeker", "connector", "target"),
        "next_action_at",
        _intro,
        now,
        counts,
        "intro",
        batch_size,
    )
    _drain(DigestSchedule.objects.select_related("user"), "next_at", _digest, now, counts, "digest", batch_size)
    return dict(counts)
