"""Transitions create follow-ups (DESIGN.md, "Follow-ups and reminders"); writes mark their
people as changed, so answers kept about them (accounts.freshness) are computed again."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts import freshness
from intros.guidance import gentle_note_from
from intros.models import IntroEvent, IntroRequest
from intros.signals import intro_transitioned

from . import digests
from .models import DigestSchedule, FollowUp, Offer, Outreach

DAY = dt.timedelta(days=1)


def _not_before_window(intro, wanted: dt.datetime) -> dt.datetime:
    opens = intro.target.unavailable_until_moment()
    return max(wanted, opens) if opens else wanted


@receiver(intro_transitioned)
def create_followups(sender, *, intro, transition: str, event, **kwargs) -> None:
    now = event.created_at or timezone.now()
    target_name = intro.target.name
    connector_name = intro.connector.full_name
    specs: list[tuple[str, object, str, dt.datetime]] = []
    if event.to_status == "introduced":
        if intro.target_writes_first:
            # They said they would write: the seeker waits; a gentle note only some days after their date.
            gentle = gentle_note_from(introduced_at=now, busy_until=intro.target.unavailable_until_moment())
            specs.append((FollowUp.Kind.WAIT_FOR_TARGET, intro.seeker, target_name, gentle))
        else:
            specs.append((FollowUp.Kind.REACH_OUT, intro.seeker, target_name, _not_before_window(intro, now + 2 * DAY)))
        specs.append((FollowUp.Kind.THANK_CONNECTOR, intro.seeker, connector_name, now + DAY))
    elif event.to_status == "met":
        specs += [
            (FollowUp.Kind.THANK_TARGET, intro.seeker, target_name, now + DAY),
            (FollowUp.Kind.REPORT_OUTCOME, intro.seeker, connector_name, now + 7 * DAY),
            (
                FollowUp.Kind.CONNECTOR_CHECK_IN,
                intro.connector,
                f"{intro.seeker.full_name} and {target_name}",
                now + 3 * DAY,
            ),
            # The target is asked (through a link) how good the match was; nobody owns it.
            (FollowUp.Kind.TARGET_FEEDBACK, None, target_name, now + 2 * DAY),
        ]
    elif event.to_status in {"withdrawn", "dropped_by_target", "closed"}:
        FollowUp.objects.filter(intro=intro, status=FollowUp.Status.OPEN).update(
            status=FollowUp.Status.SKIPPED, next_action_at=None
        )
    elif event.to_status == "outcome":
        FollowUp.objects.filter(intro=intro, kind=FollowUp.Kind.REPORT_OUTCOME, status=FollowUp.Status.OPEN).update(
            status=FollowUp.Status.DONE, done_at=now, next_action_at=None
        )
    if specs:
        FollowUp.objects.bulk_create(
            [
                FollowUp(owner=owner, intro=intro, kind=kind, counterpart=who, due_at=due, next_action_at=due)
                for kind, owner, who, due in specs
            ],
            ignore_conflicts=True,
        )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def schedule_daily_digest(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """Every user gets a daily digest at their own local hour; a change of hour or zone moves it."""
    if kwargs.get("raw") or instance.deleted_at is not None:  # a deleted account gets nothing
        return
    if created or update_fields is None or {"digest_hour", "time_zone"} & set(update_fields):
        digests.schedule_for(instance, DigestSchedule.Kind.DAILY, timezone.now())


# --- what is known about a person changed (the dashboard's numbers, the calendar feed) ---------
# A transition writes its follow-ups in bulk (no post_save), so its event marks the seeker and
# the connector; single writes mark their owner. Bulk updates elsewhere (the sweep's reminder
# counts, a deleted account's clean-up) touch nothing a kept answer shows, or age out with it.


@receiver(post_save, sender=IntroEvent, dispatch_uid="freshness-intro-event")
def _intro_event_changed(sender, instance, **kwargs) -> None:
    intro = instance.intro
    freshness.users_changed(intro.seeker_id, intro.connector_id, instance.actor_id)


@receiver(post_save, sender=IntroRequest, dispatch_uid="freshness-intro")
@receiver(post_delete, sender=IntroRequest, dispatch_uid="freshness-intro-gone")
def _intro_changed(sender, instance, **kwargs) -> None:
    freshness.users_changed(instance.seeker_id, instance.connector_id)


@receiver(post_save, sender=FollowUp, dispatch_uid="freshness-followup")
@receiver(post_delete, sender=FollowUp, dispatch_uid="freshness-followup-gone")
def _followup_changed(sender, instance, **kwargs) -> None:
    freshness.users_changed(instance.owner_id)


@receiver(post_save, sender=Outreach, dispatch_uid="freshness-outreach")
@receiver(post_delete, sender=Outreach, dispatch_uid="freshness-outreach-gone")
@receiver(post_save, sender=Offer, dispatch_uid="freshness-offer")
@receiver(post_delete, sender=Offer, dispatch_uid="freshness-offer-gone")
def _seeker_changed(sender, instance, **kwargs) -> None:
    freshness.users_changed(instance.seeker_id)
