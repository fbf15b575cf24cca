import datetime as dt
import zoneinfo

import pytest

from followups import digests
from followups.models import DigestSchedule, FollowUp, ReminderLog
from followups.sweep import sweep
from lib.outbox.models import OutboxMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def digest_mails():
    return list(OutboxMessage.objects.filter(subject__startswith="Today:"))


def test_every_user_gets_a_schedule_at_their_own_local_hour():
    user = UserFactory(time_zone="America/New_York", digest_hour=7)
    schedule = DigestSchedule.objects.get(user=user, kind=DigestSchedule.Kind.DAILY)
    assert schedule.next_at.astimezone(NEW_YORK).hour == 7
    user.digest_hour = 18
    user.save(update_fields=["digest_hour"])
    schedule.refresh_from_db()
    assert schedule.next_at.astimezone(NEW_YORK).hour == 18


def test_the_digest_lists_overdue_and_today_once_per_day():
    user = UserFactory(time_zone="America/New_York", digest_hour=7)
    at = local(2026, 11, 24, 7, 0)
    DigestSchedule.objects.filter(user=user).update(next_at=at)
    FollowUp.objects.create(
        owner=user, kind=FollowUp.Kind.THANK_CONNECTOR, counterpart="Jill", due_at=at - dt.timedelta(days=2)
    )
    FollowUp.objects.create(
        owner=user, kind=FollowUp.Kind.THANK_TARGET, counterpart="Carol", due_at=at + dt.timedelta(hours=5)
    )
    FollowUp.objects.create(
        owner=user, kind=FollowUp.Kind.REPORT_OUTCOME, counterpart="Jill", due_at=at + dt.timedelta(days=3)
    )
    assert sweep(now=at)["digest_sent"] == 1
    assert sweep(now=at + dt.timedelta(minutes=5)).get("digest_sent") is None
    [mail] = digest_mails()
    assert mail.subject == "Today: 1 follow-up due, 1 overdue"
    body = mail.body_text
    assert body.index("Overdue:") < body.index("Thank the connector — Jill") < body.index("Due today:")
    assert "Thank them for meeting — Carol" in body and "Coming up:" in body
    schedule = DigestSchedule.objects.get(user=user)
    assert schedule.next_at == local(2026, 11, 25, 7, 0)


def test_nothing_due_means_no_digest_but_the_schedule_moves_on():
    user = UserFactory(time_zone="America/New_York", digest_hour=7)
    at = local(2026, 11, 24, 7, 0)
    DigestSchedule.objects.filter(user=user).update(next_at=at)
    assert sweep(now=at) == {"digest_empty": 1}
    assert not digest_mails()
    assert DigestSchedule.objects.get(user=user).next_at == local(2026, 11, 25, 7, 0)


def test_a_sweep_down_for_three_days_sends_one_digest_not_three():
    user = UserFactory(time_zone="America/New_York", digest_hour=7)
    at = local(2026, 11, 24, 7, 0)
    DigestSchedule.objects.filter(user=user).update(next_at=at)
    FollowUp.objects.create(owner=user, kind=FollowUp.Kind.THANK_CONNECTOR, counterpart="Jill", due_at=at)
    back = at + dt.timedelta(days=3, hours=2)
    sweep(now=back)
    sweep(now=back + dt.timedelta(minutes=1))
    assert len(digest_mails()) == 1
    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.DIGEST).count() == 1
    assert DigestSchedule.objects.get(user=user).next_at == local(2026, 11, 28, 7, 0)


@pytest.mark.parametrize(
    ("hour", "after", "expected"),
    [
        # Spring forward in New York on 2027-03-14: 02:00 does not exist; the digest comes at 03:00 EDT.
        (2, local(2027, 3, 13, 12, 0), dt.datetime(2027, 3, 14, 7, 0, tzinfo=dt.UTC)),
        # Fall back on 2026-11-01: 01:00 happens twice; the first one (EDT) is used, once.
        (1, local(2026, 10, 31, 12, 0), dt.datetime(2026, 11, 1, 5, 0, tzinfo=dt.UTC)),
        # An ordinary day after the change keeps the wall-clock hour (now EST).
        (1, local(2026, 11, 1, 12, 0), dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)),
    ],
)
def test_the_next_digest_keeps_its_local_hour_across_dst_changes(hour, after, expected):
    user = UserFactory.build(time_zone="America/New_York", digest_hour=hour)
    assert digests.next_daily_at(user, after) == expected


def test_next_weekly_is_a_monday_at_the_digest_hour():
    user = UserFactory.build(time_zone="Europe/London", digest_hour=9)
    got = digests.next_weekly_at(user, dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))  # a Wednesday
    london = got.astimezone(zoneinfo.ZoneInfo("Europe/London"))
    assert (london.weekday(), london.hour, london.date()) == (0, 9, dt.date(2026, 11, 30))
