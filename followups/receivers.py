"""Signals, for what must follow any write of a row, whoever writes it: writes mark their people
as changed, so answers kept about them (lib.freshness) are computed again; and a user's daily
digest follows their hour and zone. What a transition does (follow-ups, emails) is not here:
it is called in plain sight by its action in `workflows.intros`."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from intros.models import IntroEvent, IntroRequest
from lib import freshness

from . import digests
from .models import DigestSchedule, FollowUp, Offer, Outreach


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def schedule_daily_digest(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """Every user gets a daily digest at their own local hour; a change of hour or zone moves it."""
    if kwargs.get("raw") or instance.deleted_at is not None:  # a deleted account gets nothing
        return
    if created or update_fields is None or {"digest_hour", "time_zone"} & set(update_fields):
        digests.schedule_for(instance, DigestSchedule.Kind.DAILY, timezone.now())


# --- what is known about a person changed (the dashboard's numbers, the calendar feed) ---------
# A transition's follow-ups are written in bulk (no post_save) and mark their owners themselves
# (followups.services); single writes mark their owner here. Bulk updates elsewhere (the sweep's reminder
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
