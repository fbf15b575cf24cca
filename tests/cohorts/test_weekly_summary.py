import datetime as dt

import pytest

from followups.models import DigestSchedule, FollowUp
from followups.sweep import sweep
from lib.outbox.models import OutboxMessage
from tests.factories import CohortFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_coach_gets_one_weekly_summary_with_who_needs_attention():
    coach = UserFactory(full_name="Dana Coach", time_zone="Europe/London", digest_hour=9)
    cohort = CohortFactory(coach=coach, name="Boot Camp")
    schedule = DigestSchedule.objects.get(user=coach, kind=DigestSchedule.Kind.COACH_WEEKLY)
    monday = schedule.next_at
    assert monday.weekday() == 0
    janet = UserFactory(full_name="Janet Okafor")
    MembershipFactory(cohort=cohort, user=janet)
    FollowUp.objects.create(
        owner=janet, kind=FollowUp.Kind.THANK_CONNECTOR, counterpart="Jill", due_at=monday - dt.timedelta(days=2)
    )
    DigestSchedule.objects.exclude(pk=schedule.pk).delete()  # only the coach's summary is under test

    assert sweep(now=monday) == {"digest_sent": 1}
    assert sweep(now=monday + dt.timedelta(minutes=1)) == {}
    summary = OutboxMessage.objects.get(to=[coach.email])
    assert summary.subject == "Your cohorts this week: 1 member needs attention"
    assert "Boot Camp" in summary.body_text
    assert "Janet Okafor: 1 overdue follow-up" in summary.body_text
    schedule.refresh_from_db()
    assert schedule.next_at == monday + dt.timedelta(days=7)


def test_a_member_who_coaches_nothing_gets_no_summary():
    member = UserFactory()
    assert not DigestSchedule.objects.filter(user=member, kind=DigestSchedule.Kind.COACH_WEEKLY).exists()
