"""What happens in follow-ups that apps to the right (webhooks) hear of, inside the same
transaction, without `followups` importing them (as `intros.signals`)."""

from django.dispatch import Signal

# Sent by the sweep with: followups (FollowUp list, owner loaded), now — the follow-ups whose due
# moment came and that the sweep reminded their owner of (once per due date).
followups_fell_due = Signal()
# Sent with: outreach (Outreach) — logged although it broke what the target asked for.
outreach_breached = Signal()
# Sent with: offer (Offer, seeker loaded), now — an offer not acted on, marked stale by the sweep.
offer_went_stale = Signal()
