"""A Celery worker killed with SIGKILL in the middle of a sweep batch.

The worker is a real `celery worker` running the beat's sweep; PostgreSQL stops its batch
transaction at the 12th reminder it records (a trigger waiting on a lock the test holds), so
the kill lands mid-batch every time, whatever the batch size or the order of the writes.
"""

import datetime as dt

import pytest
from django.utils import timezone

from followups.models import FollowUp, ReminderLog
from lib.outbox.models import OutboxMessage
from loadtest import mailbox
from loadtest.stack import await_ready, tasks_succeeded, wait_until
from tests.factories import UserFactory

from .conftest import open_hours_now

pytestmark = [pytest.mark.faults, pytest.mark.services(redis=True), pytest.mark.django_db(transaction=True)]

RECIPIENTS, EACH = 8, 5


def test_a_worker_killed_mid_batch_leaves_every_reminder_to_be_sent_exactly_once(faults, gate):
    now = timezone.now()
    owners = [UserFactory(email=f"owner{i}@example.org", **open_hours_now()) for i in range(RECIPIENTS)]
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=owner,
            kind=FollowUp.Kind.THANK_CONNECTOR,
            counterpart=f"Person {o}-{n}",
            due_at=now - dt.timedelta(minutes=5),
            next_action_at=now - dt.timedelta(minutes=5),
        )
        for o, owner in enumerate(owners)
        for n in range(EACH)
    )
    total = RECIPIENTS * EACH
    stopped = gate("followups_reminderlog", at=12, when="NEW.kind = 'followup'")

    beat, worker = faults.beat(wait=False), faults.worker(wait=False)
    await_ready(beat, worker)
    [backend] = wait_until(stopped.waiting, timeout=30, what="the sweep stops mid-batch", diagnostics=faults.logs)
    committed_at_kill = ReminderLog.objects.count()
    assert committed_at_kill < total

    assert worker.kill() == -9
    # The dead worker's backend notices its client is gone once it may go on, and rolls back.
    stopped.open()
    wait_until(lambda: not stopped.backend_alive(backend), timeout=20, what="the orphaned transaction ends")
    assert ReminderLog.objects.count() == committed_at_kill, "the unfinished batch must roll back whole"
    assert OutboxMessage.objects.count() == committed_at_kill

    worker = faults.worker("worker-restarted")
    wait_until(
        lambda: OutboxMessage.objects.filter(sent_at__isnull=False).count() >= total,
        timeout=40,
        what=f"{total} reminders sent after the restart",
        diagnostics=faults.logs,
    )
    # Two more complete sweeps after that: nothing more may be written or sent.
    swept = len(tasks_succeeded(worker, "followups.tasks.sweep_due"))
    wait_until(
        lambda: len(tasks_succeeded(worker, "followups.tasks.sweep_due")) >= swept + 2,
        timeout=20,
        what="two more sweeps",
        diagnostics=faults.logs,
    )
    assert beat.alive

    assert ReminderLog.objects.filter(kind=ReminderLog.Kind.FOLLOWUP).count() == total
    assert FollowUp.objects.filter(reminders_sent=1, next_action_at__isnull=True).count() == total
    per_recipient = {o.email: OutboxMessage.objects.filter(to=[o.email]).count() for o in owners}
    assert per_recipient == {o.email: EACH for o in owners}
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    delivered = mailbox.addressed(faults.mail_dir, "Reminder:")
    assert len(delivered) == total, sorted(delivered)
    assert set(delivered.values()) == {1}, [k for k, n in delivered.items() if n > 1]
