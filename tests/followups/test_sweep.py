import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from followups import sweep as sweep_module
from followups.models import FollowUp, Offer, ReminderLog
from followups.sweep import sweep
from intros.states import Status
from lib.outbox.models import OutboxMessage
from tests.factories import UserFactory
from tests.stories import awaiting_target, last_link_token
from workflows import intros as actions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_digests(monkeypatch):
    """Daily digests have their own tests; here users are made without a digest schedule."""
    from followups import receivers

    monkeypatch.setattr(receivers.digests, "schedule_for", lambda *args, **kwargs: None)


NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)  # a Tuesday, inside default hours (08:00–21:00 UTC)


def due_followups(count: int, *, due: dt.datetime = NOON, owner=None) -> list[FollowUp]:
    owner = owner or UserFactory()
    return FollowUp.objects.bulk_create(
        [
            FollowUp(
                owner=owner,
                kind=FollowUp.Kind.THANK_CONNECTOR,
                counterpart=f"Person {i}",
                due_at=due,
                next_action_at=due,
            )
            for i in range(count)
        ]
    )


def reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(subject__startswith="Reminder:"))


def test_a_due_follow_up_is_reminded_once_however_often_the_sweep_runs():
    due_followups(3)
    first = sweep(now=NOON)
    again = sweep(now=NOON)
    later = sweep(now=NOON + dt.timedelta(hours=3))
    assert first == {"followup_reminded": 3}
    assert again == {} and later == {}
    assert len(reminders()) == 3
    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP).count() == 3
    assert not FollowUp.objects.filter(next_action_at__isnull=False).exists()


def test_quiet_hours_hold_a_reminder_until_the_owner_is_awake():
    owner = UserFactory(time_zone="America/New_York")  # quiet 21:00–08:00 New York
    night = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)  # 02:00 in New York
    [item] = due_followups(1, due=night, owner=owner)
    assert sweep(now=night) == {"followup_rescheduled": 1}
    item.refresh_from_db()
    local = item.next_action_at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert (local.hour, local.minute) == (8, 0)
    assert not reminders()
    assert sweep(now=item.next_action_at) == {"followup_reminded": 1}
    assert len(reminders()) == 1


def test_a_sweep_down_for_six_hours_sends_one_catch_up_each_inside_hours():
    owner = UserFactory(time_zone="Europe/London")
    start = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    # One follow-up fell due every half hour while nothing ran.
    for step in range(12):
        due_followups(1, due=start + dt.timedelta(minutes=30 * step), owner=owner)
    back = start + dt.timedelta(hours=6)  # 12:00 London: inside the owner's hours
    counts = sweep(now=back)
    assert counts == {"followup_reminded": 12}
    assert sweep(now=back + dt.timedelta(minutes=1)) == {}
    assert len(reminders()) == 12
    assert ReminderLog.objects.values("object_id").distinct().count() == 12


def test_a_worker_killed_mid_batch_sends_nothing_twice(monkeypatch):
    due_followups(5)
    real = sweep_module._followup
    handled = []

    def dies_on_the_third(item, now, *outreaches):
        handled.append(item.pk)
        if len(handled) == 3:
            raise SystemExit("worker killed")
        return real(item, now, *outreaches)

    monkeypatch.setattr(sweep_module, "_followup", dies_on_the_third)
    with pytest.raises(SystemExit):
        sweep(now=NOON, batch_size=10)
    # The whole batch rolled back: nothing was logged or written to the outbox.
    assert not ReminderLog.objects.exists() and not reminders()
    monkeypatch.setattr(sweep_module, "_followup", real)
    assert sweep(now=NOON) == {"followup_reminded": 5}
    assert len(reminders()) == 5


def test_the_once_only_key_stops_a_second_send_even_if_rows_were_not_moved():
    [item] = due_followups(1)
    # Sent, logged, and the worker died before moving the row on — two days ago (so not held
    # back by the one-nudge-a-day rule: the key alone must stop it).
    ReminderLog.objects.create(
        kind=ReminderLog.Kind.FOLLOWUP, object_id=item.pk, sequence=1, sent_at=NOON - dt.timedelta(days=2)
    )
    assert sweep(now=NOON) == {"followup_reminded": 1}
    assert not reminders()  # the log said it went already: the outbox stays empty


def test_an_empty_sweep_costs_the_same_whatever_the_table_holds():
    def empty_sweep_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert sweep(now=NOON) == {}
        return len(ctx.captured_queries)

    due_followups(5, due=NOON + dt.timedelta(days=30))
    small = empty_sweep_queries()
    due_followups(200, due=NOON + dt.timedelta(days=30))
    assert empty_sweep_queries() == small


def test_sweep_queries_grow_with_what_is_due_not_with_what_exists():
    due_followups(300, due=NOON + dt.timedelta(days=30))  # exists, not due
    due_followups(4)

    with CaptureQueriesContext(connection) as ctx:
        sweep(now=NOON)
    four_due = len(ctx.captured_queries)
    due_followups(4, due=NOON + dt.timedelta(minutes=1))
    due_followups(300, due=NOON + dt.timedelta(days=40))
    with CaptureQueriesContext(connection) as ctx:
        sweep(now=NOON + dt.timedelta(minutes=1))
    assert len(ctx.captured_queries) == four_due


def test_a_request_without_answer_is_reasked_once_then_expires_kindly(settings):
    with time_machine.travel(NOON, tick=False):
        intro = awaiting_target()
    wait = dt.timedelta(days=settings.TARGET_ANSWER_WAIT_DAYS)
    intro.refresh_from_db()
    assert intro.next_action_at == NOON + wait
    with time_machine.travel(NOON + wait, tick=False):
        assert sweep(now=NOON + wait)["intro_reasked"] == 1
        assert sweep(now=NOON + wait) == {}
    asks = OutboxMessage.objects.filter(to=[intro.target.email], subject__contains="would like to introduce")
    assert asks.count() == 2
    assert "went astray" in asks.latest("pk").body_text
    intro.refresh_from_db()
    with time_machine.travel(intro.next_action_at, tick=False):
        assert sweep(now=intro.next_action_at)["intro_expired"] == 1
    intro.refresh_from_db()
    assert intro.status == Status.EXPIRED
    told = OutboxMessage.objects.get(subject__contains="has been closed")
    assert told.to == [intro.seeker.email] and told.cc == [intro.connector.email]


def test_a_deferred_request_is_reasked_at_the_date_inside_the_targets_hours():

    with time_machine.travel(NOON, tick=False):
        intro = awaiting_target()
        link, _ = last_link_token(intro)
        actions.do_target_defer(link=link, until=dt.date(2026, 12, 1))
    intro.refresh_from_db()
    assert intro.next_action_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # target's hours start (UTC)
    early = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert sweep(now=early) == {}
    with time_machine.travel(intro.next_action_at, tick=False):
        assert sweep(now=intro.next_action_at) == {"intro_reasked": 1}
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET and intro.reask_count == 1
    assert "asked to be asked again" in OutboxMessage.objects.filter(to=[intro.target.email]).latest("pk").body_text


def test_offers_are_nudged_twice_then_go_stale():
    from followups.services import offer_create

    offer = offer_create(seeker=UserFactory(), offered_by_name="Sam", contact_name="Theo", now=NOON)
    for days, expected in [(3, {"offer_nudged": 1}), (10, {"offer_nudged": 1}), (14, {"offer_stale": 1})]:
        moment = NOON + dt.timedelta(days=days)
        assert sweep(now=moment) == expected
        assert sweep(now=moment) == {}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.STALE and offer.nudges_sent == 2
    assert OutboxMessage.objects.filter(subject__contains="offered to introduce you to").count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reminder_once():
    due_followups(60)
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            results.append(sweep(now=NOON, batch_size=7))
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(r.get("followup_reminded", 0) for r in results) == 60
    assert len(reminders()) == 60
    assert ReminderLog.objects.count() == 60


def test_one_item_that_fails_does_not_stop_the_others(monkeypatch):
    items = due_followups(3)
    real = sweep_module._followup

    def fails_for_the_second(item, now, *outreaches):
        if item.pk == items[1].pk:
            raise ValueError("a window that broke")
        return real(item, now, *outreaches)

    monkeypatch.setattr(sweep_module, "_followup", fails_for_the_second)
    assert sweep(now=NOON) == {"followup_reminded": 2, "followup_failed": 1}
    items[1].refresh_from_db()
    assert items[1].next_action_at == NOON + sweep_module.RETRY_AFTER
    assert sweep(now=NOON) == {}  # not retried on every tick
