"""Beat down for six hours, and two beats at once: real `celery beat` and worker processes.

tests/followups/test_sweep.py checks the same rules in one process; here the sweep runs in
the worker the way production runs it, ticked by a beat process, against PostgreSQL.
"""

import ast
import datetime as dt
import sys
import zoneinfo

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from followups.models import FollowUp, ReminderLog
from lib.outbox.models import OutboxMessage
from loadtest import mailbox
from loadtest.stack import await_ready, tasks_succeeded, wait_until
from tests.factories import UserFactory

from .conftest import open_hours_now

pytestmark = [pytest.mark.faults, pytest.mark.services(redis=True), pytest.mark.django_db(transaction=True)]

SWEEP = "followups.tasks.sweep_due"
CLOCK = "warm_faults:clock"

T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)  # a Tuesday; beat stops here
T1 = T0 + dt.timedelta(hours=6)  # and comes back here

# owner: (time zone, quiet hours); at T1 (12:00 UTC) the first two are awake, the rest are not.
OWNERS = {
    "london": ("Europe/London", (dt.time(21), dt.time(8))),  # 12:00
    "kolkata": ("Asia/Kolkata", (dt.time(21), dt.time(8))),  # 17:30
    "new_york": ("America/New_York", (dt.time(21), dt.time(8))),  # 07:00, wakes 08:00 = 13:00 UTC
    "lunch": ("Europe/London", (dt.time(11), dt.time(14, 30))),  # 12:00, quiet until 14:30
    "los_angeles": ("America/Los_Angeles", (dt.time(21), dt.time(8))),  # 04:00, wakes 16:00 UTC
    "tokyo": ("Asia/Tokyo", (dt.time(21), dt.time(8))),  # 21:00, wakes 08:00 = 23:00 UTC
}
# Each owner's follow-ups fell due while beat was down; one of London's falls due later.
DUE = [T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=5, minutes=30)]
LATER = T1 + dt.timedelta(hours=3)


def asleep(owner, moment: dt.datetime) -> bool:
    local = moment.astimezone(zoneinfo.ZoneInfo(owner.time_zone)).time()
    start, end = owner.quiet_hours_start, owner.quiet_hours_end
    return (start <= local or local < end) if start > end else (start <= local < end)


def launcher(*options: str) -> list[str]:
    return [sys.executable, "-m", "tests.faults.launch", *options, "--"]


def test_beat_down_six_hours_sends_one_catch_up_per_item_each_inside_its_owners_hours(faults):
    owners = {
        name: UserFactory(email=f"{name}@example.org", time_zone=zone, quiet_hours_start=q[0], quiet_hours_end=q[1])
        for name, (zone, q) in OWNERS.items()
    }
    items = FollowUp.objects.bulk_create(
        [
            FollowUp(
                owner=owner,
                kind=FollowUp.Kind.THANK_CONNECTOR,
                counterpart=f"{name} {n:02d}",
                due_at=due,
                next_action_at=due,
            )
            for name, owner in owners.items()
            for n, due in enumerate(DUE)
        ]
        + [
            FollowUp(
                owner=owners["london"],
                kind=FollowUp.Kind.THANK_CONNECTOR,
                counterpart="london later",
                due_at=LATER,
                next_action_at=LATER,
            )
        ]
    )
    clock = redis.Redis.from_url(settings.REDIS_URL)

    def set_clock(moment: dt.datetime, *processes) -> None:
        clock.set(CLOCK, moment.isoformat())
        wanted = {str(p.pid): moment.isoformat().encode() for p in processes}
        wait_until(
            lambda: all(clock.hget(f"{CLOCK}:ack", pid) == iso for pid, iso in wanted.items()),
            timeout=10,
            what=f"the processes' clocks at {moment}",
        )

    # Beat and worker run at T0, when nothing is due yet; then beat stops.
    set_clock(T0)
    schedule = faults.dir / "beat-schedule"
    worker = faults.worker(launcher=launcher("--clock", settings.REDIS_URL, CLOCK), wait=False)
    beat = faults.beat(schedule=schedule, launcher=launcher("--clock", settings.REDIS_URL, CLOCK), wait=False)
    await_ready(worker, beat)
    wait_until(lambda: tasks_succeeded(worker, SWEEP), timeout=20, what="a sweep at T0", diagnostics=faults.logs)
    beat.stop()
    assert not OutboxMessage.objects.exists()

    # Six hours later beat starts again, with the schedule it saved at T0.
    set_clock(T1, worker)
    swept = len(tasks_succeeded(worker, SWEEP))
    beat = faults.beat(schedule=schedule, launcher=launcher("--clock", settings.REDIS_URL, CLOCK))
    awake_now = [i for i in items if i.due_at <= T1 and not asleep(i.owner, T1)]
    asleep_now = [i for i in items if i.due_at <= T1 and asleep(i.owner, T1)]
    assert len(awake_now) == 6 and len(asleep_now) == 12  # the scenario is what it says

    def caught_up() -> bool:
        return (
            ReminderLog.objects.count() >= len(awake_now)
            and not FollowUp.objects.filter(next_action_at__lte=T1 + dt.timedelta(minutes=1)).exists()
        )

    wait_until(caught_up, timeout=30, what="the catch-up sweep at T1", diagnostics=faults.logs)
    wait_until(lambda: len(tasks_succeeded(worker, SWEEP)) >= swept + 3, timeout=20, what="more sweeps at T1")
    assert set(ReminderLog.objects.values_list("object_id", flat=True)) == {i.pk for i in awake_now}

    # Those asleep were moved to the moment their quiet hours end, each exactly then.
    held = {f.pk: f.next_action_at for f in FollowUp.objects.filter(pk__in=[i.pk for i in asleep_now])}
    for item in asleep_now:
        local = held[item.pk].astimezone(zoneinfo.ZoneInfo(item.owner.time_zone))
        assert local.time() == item.owner.quiet_hours_end, (item.counterpart, local)

    # The clock runs on to each of those moments (and past London's later item): sent then.
    for moment in sorted({*held.values(), LATER}):
        set_clock(moment, worker, beat)
        wait_until(
            lambda moment=moment: not FollowUp.objects.filter(next_action_at__lte=moment).exists(),
            timeout=20,
            what=f"the sweep at {moment}",
            diagnostics=faults.logs,
        )
    swept = len(tasks_succeeded(worker, SWEEP))
    wait_until(lambda: len(tasks_succeeded(worker, SWEEP)) >= swept + 3, timeout=20, what="more sweeps at the end")
    wait_until(
        lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists(),
        timeout=20,
        what="every reminder sent",
        diagnostics=faults.logs,
    )

    logs = {log.object_id: log for log in ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP)}
    assert sorted(logs) == sorted(i.pk for i in items), "one reminder per item"
    for item in items:
        sent = logs[item.pk].sent_at
        assert sent >= max(item.due_at, T1), (item.counterpart, sent)
        assert not asleep(item.owner, sent), (item.counterpart, sent, item.owner.time_zone)
        # Sent at the first tick of the moment it was allowed, not hours later.
        allowed = held.get(item.pk, max(item.due_at, T1))
        assert sent - allowed < dt.timedelta(minutes=1), (item.counterpart, sent, allowed)
    assert OutboxMessage.objects.count() == len(items)
    delivered = mailbox.addressed(faults.mail_dir, "Reminder:")
    assert sum(delivered.values()) == len(items) and set(delivered.values()) == {1}


def test_two_beats_and_two_workers_sweeping_at_once_send_each_reminder_once(faults):
    now = timezone.now()
    owners = [UserFactory(email=f"owner{i}@example.org", **open_hours_now()) for i in range(30)]
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=owner,
            kind=FollowUp.Kind.THANK_CONNECTOR,
            counterpart=f"Person {o:02d}-{n:02d}",
            due_at=now - dt.timedelta(minutes=1),
            next_action_at=now - dt.timedelta(minutes=1),
        )
        for o, owner in enumerate(owners)
        for n in range(10)
    )
    total = 300
    barrier = launcher("--barrier", settings.REDIS_URL, "warm_faults:barrier", "2")
    # Both beats tick before the workers start: each worker finds ticks from both waiting.
    beats = [faults.beat(f"beat{n}", wait=False) for n in (1, 2)]
    await_ready(*beats)
    workers = [faults.worker(f"worker{n}", launcher=barrier, wait=False) for n in (1, 2)]
    await_ready(*workers)

    wait_until(
        lambda: OutboxMessage.objects.filter(sent_at__isnull=False).count() >= total,
        timeout=40,
        what=f"{total} reminders sent",
        diagnostics=faults.logs,
    )
    for worker in workers:
        assert "barrier warm_faults:barrier passed with 2 of 2" in worker.output(), worker.tail()

    def reminded() -> list[int]:
        """What each finished sweep says it reminded, across both workers."""
        return [
            ast.literal_eval(result).get("followup_reminded", 0)
            for w in workers
            for result in tasks_succeeded(w, SWEEP)
        ]

    # A sweep that sent the last reminders may still be reporting. Wait for the sweeps' own
    # counts rather than for more sweeps by each worker: which worker takes the next sweep
    # is up to the broker, and one of them can take every sweep for a while.
    wait_until(lambda: sum(reminded()) >= total, timeout=20, what="the sweeps' reports to cover every reminder")
    for beat in beats:
        assert "Sending due task reminder-sweep" in beat.output(), beat.tail()

    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP).count() == total
    assert OutboxMessage.objects.count() == total
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    # What the sweeps say they did adds up to one reminder per item, across both workers.
    assert sum(reminded()) == total, reminded()
    delivered = mailbox.addressed(faults.mail_dir, "Reminder:")
    assert len(delivered) == total and set(delivered.values()) == {1}
