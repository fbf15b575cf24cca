"""The load test's people, in its own freshly migrated database; writes a manifest for locust.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=…/warm_loadtest \\
        python -m loadtest.seed MANIFEST USERS DURATION_SECONDS

Cohorts of ten: one coach, seekers and connectors (each connector shares ten contacts the
seekers can ask to meet). Apart from them, people who only receive reminders: follow-ups
falling due all through the run, so the sweep sends while the worker is being restarted.
Everyone is awake (quiet hours one minute long, twelve hours away) so every due reminder
must go out during the run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import django

PASSWORD = "loadtest-password-0"  # a throwaway database's test accounts
# Share of the locust users per journey; loadtest/locustfile.py uses the same weights.
WEIGHTS = {"seeker": 45, "connector": 20, "target": 25, "coach": 10}
REMINDER_PEOPLE, REMINDERS_EACH = 40, 5


def accounts_for(users: int, role: str) -> int:
    return max(2, math.ceil(users * WEIGHTS[role] / sum(WEIGHTS.values())) + 1)


def seed(users: int, duration: float) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from cohorts.models import Cohort, Membership
    from contacts.models import WEEKDAYS_ALL, Contact
    from followups import digests
    from followups.models import DigestSchedule, FollowUp

    now = timezone.now()
    hashed = make_password(PASSWORD)  # once: the default hasher is slow on purpose
    quiet = (now + dt.timedelta(hours=12)).time().replace(second=0, microsecond=0)
    quiet_end = (dt.datetime.combine(dt.date.today(), quiet) + dt.timedelta(minutes=1)).time()

    def person(email: str, name: str) -> User:
        return User(
            email=email,
            full_name=name,
            password=hashed,
            time_zone="UTC",
            quiet_hours_start=quiet,
            quiet_hours_end=quiet_end,
        )

    seekers = [person(f"seeker{i}@loadtest.test", f"Seeker {i}") for i in range(accounts_for(users, "seeker"))]
    connectors = [
        person(f"connector{i}@loadtest.test", f"Connector {i}") for i in range(accounts_for(users, "connector"))
    ]
    coaches = [person(f"coach{i}@loadtest.test", f"Coach {i}") for i in range(accounts_for(users, "coach"))]
    recipients = [person(f"reminded{i}@loadtest.test", f"Reminded {i}") for i in range(REMINDER_PEOPLE)]
    User.objects.bulk_create(seekers + connectors + coaches + recipients)

    cohorts = Cohort.objects.bulk_create(Cohort(name=f"Load cohort {i}", coach=c) for i, c in enumerate(coaches))
    # What post_save would have scheduled for each of them: daily digests, the coaches' summaries.
    for user in seekers + connectors + coaches + recipients:
        digests.schedule_for(user, DigestSchedule.Kind.DAILY, now)
    for coach in coaches:
        digests.schedule_for(coach, DigestSchedule.Kind.COACH_WEEKLY, now)
    Membership.objects.bulk_create(
        Membership(cohort=cohorts[i % len(cohorts)], user=u) for i, u in enumerate(seekers + connectors)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            owner=connector,
            name=f"Target {c}-{k}",
            email=f"target{c}-{k}@loadtest.test",
            organisation=f"Company {k}",
            title="Head of Operations",
            shareable=True,
            weekdays=WEEKDAYS_ALL,
            hours_start=dt.time(0, 0),
            hours_end=dt.time(23, 59),
        )
        for c, connector in enumerate(connectors)
        for k in range(10)
    )
    cohort_of = {u.pk: cohorts[i % len(cohorts)].pk for i, u in enumerate(seekers + connectors)}
    shared: dict[int, list[int]] = {}
    for contact in contacts:
        shared.setdefault(cohort_of[contact.owner_id], []).append(contact.pk)

    # Reminders: some already due (a catch-up at the start), the rest due through the run.
    count = REMINDER_PEOPLE * REMINDERS_EACH
    span = dt.timedelta(seconds=duration * 0.8)
    items = FollowUp.objects.bulk_create(
        FollowUp(
            owner=recipients[n % REMINDER_PEOPLE],
            kind=FollowUp.Kind.THANK_CONNECTOR,
            counterpart=f"Load reminder {n:04d}",
            due_at=now - dt.timedelta(minutes=5) + span * n / count,
            next_action_at=now - dt.timedelta(minutes=5) + span * n / count,
        )
        for n in range(count)
    )
    return {
        "password": PASSWORD,
        "seekers": [{"email": u.email, "contacts": shared[cohort_of[u.pk]]} for u in seekers],
        "connectors": [u.email for u in connectors],
        "coaches": [{"email": c.email, "cohort": cohorts[i].pk} for i, c in enumerate(coaches)],
        "reminders": {
            "ids": [i.pk for i in items],
            "last_due": max(i.due_at for i in items).isoformat(),
        },
    }


def main(argv: list[str]) -> None:
    manifest, users, duration = Path(argv[0]), int(argv[1]), float(argv[2])
    django.setup()
    manifest.write_text(json.dumps(seed(users, duration), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
