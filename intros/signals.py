"""Apps to the right of `intros` (follow-ups, cohorts) react to transitions here,
inside the same transaction, without `intros` importing them."""

from django.dispatch import Signal

# Sent with: intro, transition (name), event (IntroEvent), actor (User or None).
intro_transitioned = Signal()
