"""Where events come from, for now: signals of the apps to the left, heard in the same
transaction. Each call moves into the workflow action that makes the event when transitions
become `do_*` actions (see the README's "Webhooks": the emit points)."""

from __future__ import annotations

from django.dispatch import receiver

from followups.signals import followups_fell_due, offer_went_stale, outreach_breached
from intros.signals import intro_transitioned

from .events import anyone_listens, emit
from .models import EventType


@receiver(intro_transitioned)
def request_transitioned(sender, *, event, **kwargs) -> None:
    emit(EventType.REQUEST_TRANSITIONED, event)  # moves into the workflow action on merge


@receiver(followups_fell_due)
def followups_due(sender, *, followups, now, **kwargs) -> None:
    if not anyone_listens(EventType.FOLLOWUP_DUE):  # a sweep batch of thousands: one query, not one each
        return
    for followup in followups:
        if followup.owner_id is not None:
            emit(EventType.FOLLOWUP_DUE, followup, now=now)  # moves into the workflow action on merge


@receiver(outreach_breached)
def outreach_breach(sender, *, outreach, **kwargs) -> None:
    emit(EventType.OUTREACH_BREACH, outreach)  # moves into the workflow action on merge


@receiver(offer_went_stale)
def offer_stale(sender, *, offer, now, **kwargs) -> None:
    emit(EventType.OFFER_STALE, offer, now=now)  # moves into the workflow action on merge
