"""Which summary each digest schedule sends, when the sweep finds it due (`followups.sweep`):
the daily digest of a person's follow-ups (`followups`), and the coach's weekly cohort summary
(`cohorts`, which sits above `followups`). A new kind of digest is a row here."""

from __future__ import annotations

from cohorts.summary import weekly_summary
from followups.digests import Handler, daily_digest
from followups.models import DigestSchedule

DIGESTS: dict[str, Handler] = {
    DigestSchedule.Kind.DAILY: daily_digest,
    DigestSchedule.Kind.COACH_WEEKLY: weekly_summary,
}
