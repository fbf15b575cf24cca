"""Scheduled summaries: each user's daily digest at their own local hour, and the coach's
weekly cohort summary (written by `cohorts.summary`; `workflows.digests` says which is which).

A `DigestSchedule` row per user and kind holds `next_at`; the sweep claims due rows
like any reminder, and a `ReminderLog` key per user and local date (or week) makes a
second send of the same digest impossible.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.conf import settings

from intros.guidance import guidance_for_many
from lib.dates import end_of_today, local_moment
from lib.outbox.services import outbox_enqueue

from .models import DigestSchedule, FollowUp, ReminderLog

# Writes one digest: handler(schedule, now) -> whether there was anything to send.
Handler = Callable[[DigestSchedule, dt.datetime], bool]


def next_daily_at(user, after: dt.datetime) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(user.time_zone)
    local = after.astimezone(zone)
    candidate = local_moment(local.date(), user.digest_hour, zone)
    if candidate <= after:
        candidate = local_moment(local.date() + dt.timedelta(days=1), user.digest_hour, zone)
    return candidate.astimezone(dt.UTC)


def next_weekly_at(user, after: dt.datetime, *, weekday: int = 0) -> dt.datetime:
    """The coach's summary: Monday at their digest hour."""
    zone = zoneinfo.ZoneInfo(user.time_zone)
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        if day.weekday() == weekday:
            candidate = local_moment(day, user.digest_hour, zone)
            if candidate > after:
                return candidate.astimezone(dt.UTC)
    raise AssertionError("a weekday recurs within eight days")


def schedule_for(user, kind: str, now: dt.datetime) -> DigestSchedule:
    at = next_daily_at(user, now) if kind == DigestSchedule.Kind.DAILY else next_weekly_at(user, now)
    schedule, _ = DigestSchedule.objects.update_or_create(user=user, kind=kind, defaults={"next_at": at})
    return schedule


def daily_digest(schedule: DigestSchedule, now: dt.datetime) -> bool:
    """Open follow-ups: overdue, due today, and the next few; nothing to say, nothing sent."""
    user = schedule.user
    zone = zoneinfo.ZoneInfo(user.time_zone)
    tomorrow = end_of_today(now, zone)
    mine = FollowUp.objects.owned_by(user)
    open_items = list(mine.open().select_related("intro__target", "intro__connector").order_by("due_at")[:50])
    # A follow-up about the first contact says what the introduction's guidance says, and while
    # that is not "write", it is not due: it waits, with the reason and the next good moment.
    first_contact = {f.intro_id: f for f in open_items if f.about_first_contact}
    guidance = guidance_for_many([f.intro for f in first_contact.values()], reader_zone=user.time_zone, now=now)
    waiting = []
    for followup in open_items:
        followup.guidance = guidance.get(followup.intro_id) if followup.about_first_contact else None
        if followup.guidance is not None and not followup.guidance.tells_to_write and followup.due_at < tomorrow:
            waiting.append(followup)
    actionable = [f for f in open_items if f not in waiting]
    due = [f for f in actionable if f.due_at < tomorrow]
    # Never two nudges about one thing within a day: the digest does not name a follow-up that
    # was reminded (or named in a digest) less than a day ago, nor one whose own reminder is still
    # to come (the sweep times that one for the person's hours and the target's window).
    recent = ReminderLog.objects.nudged_within(
        kinds=ReminderLog.FOLLOWUP_NUDGES, object_ids=[f.pk for f in due], now=now
    )
    named = [f for f in due if f.pk not in recent and f.next_action_at is None]
    overdue = [f for f in named if f.due_at < now]
    today = [f for f in named if f.due_at >= now]
    upcoming = [f for f in actionable if f.due_at >= tomorrow][:5]
    if not overdue and not today:
        return False
    # The counts in the subject are the app's own (followups.numbers), named or not, less the
    # follow-ups that are not yet to be done (the "Not yet: wait" section).
    mine = mine.exclude(pk__in=[f.pk for f in waiting])
    overdue_count = mine.overdue(now).count()
    today_count = mine.open().filter(due_at__gte=now, due_at__lt=tomorrow).count()
    outbox_enqueue(
        to=[user.email],
        subject=f"Today: {today_count} follow-up{'s' if today_count != 1 else ''} due, {overdue_count} overdue",
        template="digest_daily",
        context={
            "user": user,
            "overdue": overdue,
            "today": today,
            "upcoming": upcoming,
            "reminded_recently": sum(f.pk in recent for f in due),
            "reminder_to_come": sum(f.pk not in recent and f.next_action_at is not None for f in due),
            "waiting": waiting,
            "url": settings.SITE_URL + "/follow-ups/",
        },
    )
    day = now.astimezone(zone).date().toordinal()
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(
                kind=ReminderLog.Kind.DIGEST_ITEM, object_id=f.pk, sequence=day, recipient=user.email, sent_at=now
            )
            for f in overdue + today
        ],
        ignore_conflicts=True,
    )
    return True


def send_due(*, schedule: DigestSchedule, now: dt.datetime, handler: Handler | None) -> str:
    """Called by the sweep with the row locked, with the kind's handler (workflows.digests).
    One digest per user, kind and local day."""
    user = schedule.user
    local_day = schedule.next_at.astimezone(zoneinfo.ZoneInfo(user.time_zone)).date()
    kind = ReminderLog.Kind.DIGEST if schedule.kind == DigestSchedule.Kind.DAILY else ReminderLog.Kind.COACH_SUMMARY
    outcome = "skipped"
    first_time = (
        handler is not None
        and user.is_active
        and ReminderLog.objects.record_once(
            kind=kind, object_id=user.pk, sequence=local_day.toordinal(), recipient=user.email, at=now
        )
    )
    if first_time:
        outcome = "sent" if handler(schedule, now) else "empty"
    # A sweep that was down for days sends one digest, then moves on to the next hour.
    schedule.next_at = (
        next_daily_at(user, max(now, schedule.next_at))
        if schedule.kind == DigestSchedule.Kind.DAILY
        else next_weekly_at(user, max(now, schedule.next_at))
    )
    schedule.save(update_fields=["next_at"])
    return outcome
