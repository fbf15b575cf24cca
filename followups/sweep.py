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
import functools
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone

from contacts import policy
from intros.guidance import FINISHED_KINDS, NO_OUTREACH, OutreachLog, decide_for, guidance_for, outreach_logs
from intros.models import IntroRequest
from intros.states import WAITING_ON_TARGET, Status
from lib.outbox.services import Pending, outbox_enqueue, outbox_enqueue_many

# The beat's sweep is an entry point, like a view: it runs the workflows of what came due.
from workflows import intros as actions
from workflows.digests import DIGESTS
from workflows.followups import announce_due, announce_stale_offer

from . import digests, numbers
from .models import NUDGE_SPACING, DigestSchedule, FollowUp, Offer, ReminderLog
from .services import user_window

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# An item whose handling raised is looked at again after this, not on every tick.
RETRY_AFTER = dt.timedelta(hours=1)
# Due within this much of now counts as now (the beat ticks every minute).
SLACK = dt.timedelta(seconds=59)


def _when(wanted: dt.datetime, window, now: dt.datetime) -> dt.datetime | None:
    # Compare in UTC: two local times in one zone compare by wall clock, ignoring DST's fold.
    return _next_allowed(max(wanted.astimezone(dt.UTC), now.astimezone(dt.UTC)), window, now.astimezone(dt.UTC))


# The policy is pure and windows are frozen values: after a quiet night thousands of due
# items share a handful of (moment, window) pairs, so each pair is worked out once.
@functools.lru_cache(maxsize=4096)
def _next_allowed(wanted: dt.datetime, window, now: dt.datetime) -> dt.datetime | None:
    return policy.next_allowed(wanted=wanted, window=window, now=now)


# --- follow-ups ---------------------------------------------------------------------------------
# The bulk of the work (thousands due after a quiet night): each one is *decided* in Python,
# then a whole batch is *written* in a handful of statements — the log rows, the outbox rows
# (rendered when sent), and the new `next_action_at` values.


@dataclass(frozen=True)
class Decision:
    outcome: str  # "reminded", "rescheduled", "cleared", "failed", or "feedback" (handled on its own)
    at: dt.datetime | None = None  # the new next_action_at for "rescheduled" and "failed"
    email: Pending | None = None  # what a "reminded" one sends, unless the log says it went already


def _followup(item: FollowUp, now: dt.datetime, outreaches: Mapping[int, OutreachLog]) -> Decision:
    if item.is_open and item.kind == FollowUp.Kind.TARGET_FEEDBACK and item.intro is not None:
        return Decision("feedback")
    if not item.is_open or item.owner is None:
        return Decision("cleared")
    wanted = item.due_at
    if item.about_first_contact:
        # The same decision the pages and emails show (intros.guidance): after a breach, a message
        # inside the window or "do not contact", nothing asks the seeker to write again…
        guided = decide_for(item.intro, outreaches=outreaches.get(item.intro_id, NO_OUTREACH), now=now)
        if guided is not None and guided.kind in FINISHED_KINDS:
            return Decision("cleared")
        if guided is not None and guided.next_good_moment is not None:
            wanted = max(wanted, guided.next_good_moment)
        # …never before the target's window opens (or the gentle note's wait is over)…
        opens = _when(wanted, item.intro.target.window(), now)
        if opens is None:  # do not contact
            return Decision("cleared")
        wanted = opens
    # …and only inside the seeker's own hours.
    at = _when(wanted, user_window(item.owner), now)
    if at is not None and at > now + SLACK:
        return Decision("rescheduled", at=at)
    return Decision(
        "reminded",
        email=Pending(
            to=item.owner.email,
            subject=f"Reminder: {item.get_kind_display().lower()} — {item.counterpart}",
            template="followup_reminder",
            refs={"followup": item.pk, "at": now.isoformat()},
        ),
    )


def reminder_context(refs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Renders a reminder written by the sweep, when it is sent (settings.OUTBOX_CONTEXT_BUILDERS)."""
    item = (
        FollowUp.objects.select_related("owner", "intro__target", "intro__connector")
        .filter(pk=refs["followup"])
        .first()
    )
    if item is None or item.owner is None:
        return None
    context = {"followup": item, "owner": item.owner, "url": settings.SITE_URL + "/follow-ups/"}
    if item.about_first_contact:
        # In words as of when the sweep decided to send it (a send delayed by a broker outage
        # still names the moments it was decided on).
        decided = dt.datetime.fromisoformat(refs["at"]) if "at" in refs else timezone.now()
        context["guidance"] = guidance_for(item.intro, reader_zone=item.owner.time_zone, now=decided)
    return context


def _ask_target_feedback(item: FollowUp, now: dt.datetime) -> Decision:
    at = _when(item.due_at, item.intro.target.window(), now)
    if at is not None and at > now + SLACK:
        return Decision("rescheduled", at=at)
    if at is not None and ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.FOLLOWUP, object_id=item.pk, sequence=1, recipient=item.intro.target.email, at=now
    ):
        actions.do_ask_feedback(intro=item.intro)
    item.mark_done(when=now)
    return Decision("feedback_asked")


def _write_followups(decided: list[tuple[FollowUp, Decision]], now: dt.datetime) -> set[int]:
    """One batch's writes: a few statements whatever its size. Returns the follow-ups due a
    reminder that had a nudge less than a day ago, so got none."""
    by_outcome: dict[str, list[tuple[FollowUp, Decision]]] = defaultdict(list)
    for item, decision in decided:
        by_outcome[decision.outcome].append((item, decision))
    moved = [(item, d.at) for item, d in by_outcome["rescheduled"] + by_outcome["failed"]]
    if moved:
        for item, at in moved:
            item.next_action_at = at
        FollowUp.objects.bulk_update([item for item, _ in moved], ["next_action_at"])
    if cleared := [item.pk for item, _ in by_outcome["cleared"]]:
        FollowUp.objects.filter(pk__in=cleared).update(next_action_at=None)
    reminded = by_outcome["reminded"]
    if not reminded:
        return set()
    ids = [item.pk for item, _ in reminded]
    # The rows are locked by this transaction, so the log read here cannot change under us.
    logged = set(
        ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP, object_id__in=ids).values_list(
            "object_id", "sequence"
        )
    )
    # Never two nudges about one thing within a day: a follow-up a digest named (or a reminder
    # went out for) less than a day ago counts as reminded, without another email.
    recent = ReminderLog.objects.nudged_within(kinds=ReminderLog.FOLLOWUP_NUDGES, object_ids=ids, now=now)
    fresh = [
        (item, d) for item, d in reminded if (item.pk, item.reminders_sent + 1) not in logged and item.pk not in recent
    ]
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(
                kind=ReminderLog.Kind.FOLLOWUP,
                object_id=item.pk,
                sequence=item.reminders_sent + 1,
                recipient=d.email.to,
                sent_at=now,
            )
            for item, d in fresh
        ],
        ignore_conflicts=True,
    )
    outbox_enqueue_many(d.email for _, d in fresh)
    # Due, whether or not a recent nudge spared the email (webhooks: once per due date, keyed by
    # the reminder's number, which the items still hold from before the update below).
    announce_due(reminded=[item for item, _ in reminded], now=now)
    # One reminder per follow-up per due date; after that it lives in the daily digest.
    FollowUp.objects.filter(pk__in=ids).update(reminders_sent=F("reminders_sent") + 1, next_action_at=None)
    return set(recent)


def _drain_followups(now: dt.datetime, counts: Counter, batch_size: int) -> None:
    queryset = FollowUp.objects.select_related("owner", "intro__target").select_for_update(
        skip_locked=True, of=("self",)
    )
    while True:
        with transaction.atomic():
            batch = list(queryset.filter(next_action_at__lte=now + SLACK).order_by("next_action_at", "pk")[:batch_size])
            # The outreach log of the introductions whose first contact is due: one query, if any.
            outreaches = outreach_logs(item.intro_id for item in batch if item.about_first_contact)
            decided = []
            for item in batch:
                try:
                    decision = _followup(item, now, outreaches)
                    if decision.outcome == "feedback":  # a transition of its own: isolated in a savepoint
                        with transaction.atomic():
                            decision = _ask_target_feedback(item, now)
                except SoftTimeLimitExceeded:
                    raise  # out of time: the open batch rolls back whole, the next tick goes on
                except Exception:
                    log.exception("Sweep could not handle followup %s; it is retried in an hour", item.pk)
                    decision = Decision("failed", at=now + RETRY_AFTER)
                decided.append((item, decision))
            try:
                with transaction.atomic():  # a savepoint: if the batch's writes fail, the batch waits
                    recent = _write_followups(decided, now)
                decided = [(item, Decision("nudged_recently") if item.pk in recent else d) for item, d in decided]
            except SoftTimeLimitExceeded:
                raise  # out of time: the open batch rolls back whole, the next tick goes on
            except Exception:
                log.exception("Sweep could not write a batch of %s follow-ups; retried in an hour", len(batch))
                FollowUp.objects.filter(pk__in=[item.pk for item in batch]).update(next_action_at=now + RETRY_AFTER)
                decided = [(item, Decision("failed")) for item in batch]
            counts.update(f"followup_{decision.outcome}" for _, decision in decided)
        if len(batch) < batch_size:
            return


# --- offers -----------------------------------------------------------------------------------


def _offer(offer: Offer, now: dt.datetime) -> str:
    """Nudge the seeker about an offer they have not acted on (followups.numbers: day 3 and
    day 10, only the latest due after a pause, never two within a day), then mark it stale."""
    if offer.status not in numbers.NOT_ACTED_ON or offer.status == Offer.Status.STALE:
        # Taken up, done or dismissed (a follow-up reminds them now), or already stale.
        offer.next_action_at = None
        offer.save(update_fields=["next_action_at"])
        return "cleared"
    if numbers.offer_is_stale(offer, now=now):
        offer.status, offer.next_action_at = Offer.Status.STALE, None
        offer.save(update_fields=["status", "next_action_at"])
        announce_stale_offer(offer=offer, now=now)
        return "stale"
    sequence = numbers.offer_nudge_due(offer, now=now)
    if sequence is None:  # nothing due yet (a nudge was sent already, or the clock moved back)
        offer.next_action_at = max(numbers.offer_next_moment(offer), now + SLACK)
        offer.save(update_fields=["next_action_at"])
        return "rescheduled"
    at = _when(offer.next_action_at, user_window(offer.seeker), now)
    last = ReminderLog.objects.nudged_within(kinds=[ReminderLog.Kind.OFFER_NUDGE], object_ids=[offer.pk], now=now)
    if offer.pk in last:
        at = max(at or now, last[offer.pk] + NUDGE_SPACING)
    if at is not None and at > now + SLACK:
        offer.next_action_at = at
        offer.save(update_fields=["next_action_at"])
        return "rescheduled"
    if ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.OFFER_NUDGE,
        object_id=offer.pk,
        sequence=sequence,
        recipient=offer.seeker.email,
        at=now,
    ):
        outbox_enqueue(
            to=[offer.seeker.email],
            subject=f"{offer.offered_by_name} offered to introduce you to {offer.contact_name}",
            template="offer_nudge",
            context={"offer": offer, "sequence": sequence, "url": settings.SITE_URL + "/follow-ups/offers/"},
        )
    offer.nudges_sent = sequence
    offer.next_action_at = max(numbers.offer_next_moment(offer), now + SLACK)
    offer.save(update_fields=["nudges_sent", "next_action_at"])
    return "nudged"


# --- requests waiting on the target ------------------------------------------------------------


def _intro(intro: IntroRequest, now: dt.datetime) -> str:
    if intro.status not in WAITING_ON_TARGET:
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=None)
        return "cleared"
    if intro.status == Status.AWAITING_TARGET and intro.reask_count >= settings.TARGET_MAX_REASKS:
        if ReminderLog.objects.record_once(
            kind=ReminderLog.Kind.EXPIRE, object_id=intro.pk, sequence=1, recipient=intro.seeker.email, at=now
        ):
            actions.do_expire(intro=intro)
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
        kind=ReminderLog.Kind.REASK,
        object_id=intro.pk,
        sequence=intro.reask_count + 1,
        recipient=intro.target.email,
        at=now,
    ):
        IntroRequest.objects.filter(pk=intro.pk).update(next_action_at=None)
        return "cleared"
    if intro.status == Status.DEFERRED:
        actions.do_reask(intro=intro)
    else:
        actions.do_remind_target(intro=intro)
    return "reasked"


# --- digests ------------------------------------------------------------------------------------


def _digest(schedule: DigestSchedule, now: dt.datetime) -> str:
    return digests.send_due(schedule=schedule, now=now, handler=DIGESTS.get(schedule.kind))


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
                except SoftTimeLimitExceeded:
                    raise  # out of time: the open batch rolls back whole, the next tick goes on
                except Exception:
                    log.exception("Sweep could not handle %s %s; it is retried in an hour", label, item.pk)
                    type(item).objects.filter(pk=item.pk).update(**{due_field: now + RETRY_AFTER})
                    outcome = "failed"
                counts[f"{label}_{outcome}"] += 1
        if len(batch) < batch_size:
            return


def _what_is_due(now: dt.datetime) -> dict[str, bool]:
    """One round trip to learn which tables have anything due: most ticks find nothing,
    and then that is all a tick costs (each EXISTS is one probe of a partial index)."""
    sources = {
        "followup": (FollowUp, "next_action_at"),
        "offer": (Offer, "next_action_at"),
        "intro": (IntroRequest, "next_action_at"),
        "digest": (DigestSchedule, "next_at"),
    }
    probes = ", ".join(
        f"EXISTS (SELECT 1 FROM {model._meta.db_table} WHERE {model._meta.get_field(field).column} <= %s)"
        for model, field in sources.values()
    )
    with connection.cursor() as cursor:
        cutoff = connection.ops.adapt_datetimefield_value(now + SLACK)  # UTC, as the ORM would send it
        cursor.execute(f"SELECT {probes}", [cutoff] * len(sources))
        flags = cursor.fetchone()
    return {name: bool(flag) for name, flag in zip(sources, flags, strict=True)}


def sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Handle everything due at `now`; returns counts such as {"followup_reminded": 3}."""
    now = now or timezone.now()
    counts: Counter = Counter()
    due = _what_is_due(now)
    if due["followup"]:
        _drain_followups(now, counts, batch_size)
    if due["offer"]:
        _drain(Offer.objects.select_related("seeker"), "next_action_at", _offer, now, counts, "offer", batch_size)
    if due["intro"]:
        _drain(
            IntroRequest.objects.select_related("seeker", "connector", "target"),
            "next_action_at",
            _intro,
            now,
            counts,
            "intro",
            batch_size,
        )
    if due["digest"]:
        _drain(DigestSchedule.objects.select_related("user"), "next_at", _digest, now, counts, "digest", batch_size)
    return dict(counts)
