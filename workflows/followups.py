"""Follow-up moments that subscribers hear of, with their effects in plain sight: an outreach
logged (a breach is announced to the webhooks), follow-ups falling due and offers going stale
(both found by the sweep, `followups.sweep`, which calls these)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from followups import services as followups
from followups.models import FollowUp, Offer, Outreach
from intros.models import IntroRequest
from webhooks.events import anyone_listens, emit
from webhooks.models import EventType


def do_record_outreach(
    *, intro: IntroRequest, seeker, at: dt.datetime, channel: str, note: str = "", confirmed: bool = False
) -> Outreach:
    """Log one contact attempt (`followups.services.outreach_record`: outside the target's
    window it needs `confirmed`, and is a breach). Told: the webhooks of the seeker, the
    connector and the seeker's coach, when it is a breach."""
    with transaction.atomic():
        outreach = followups.outreach_record(
            intro=intro, seeker=seeker, at=at, channel=channel, note=note, confirmed=confirmed
        )
        if outreach.is_breach:
            emit(EventType.OUTREACH_BREACH, outreach)
    return outreach


def announce_due(*, reminded: list[FollowUp], now: dt.datetime) -> None:
    """The sweep reminded these owners (once per due date): their webhooks hear `followup.due`.
    A sweep batch of thousands asks one query when nobody listens, not one each."""
    if not anyone_listens(EventType.FOLLOWUP_DUE):
        return
    for followup in reminded:
        if followup.owner_id is not None:
            emit(EventType.FOLLOWUP_DUE, followup, now=now)


def announce_stale_offer(*, offer: Offer, now: dt.datetime) -> None:
    """The sweep marked an offer not acted on as stale: the seeker's (and coach's) webhooks hear it."""
    emit(EventType.OFFER_STALE, offer, now=now)
