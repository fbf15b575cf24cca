import datetime as dt
import io
import re
import smtplib
import threading
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from lib.outbox import services as outbox
from lib.outbox.models import OutboxMessage
from tests.mail_backends import LockProbingBackend, SlowBackend, mailer

State = OutboxMessage.State

pytestmark = pytest.mark.django_db


def enqueue(**overrides):
    kwargs = {
        "to": ["seeker@example.com"],
        "subject": "Hello",
        "template": "intro_withdrawn",
        "context": {"intro": None, "note": ""},
    }
    kwargs.update(overrides)
    return outbox.outbox_enqueue(**kwargs)


def test_a_message_is_a_row_until_sent_and_is_sent_once():
    message = enqueue()
    assert OutboxMessage.objects.pending().count() == 1
    assert outbox.outbox_send(message_id=message.pk) is True
    assert outbox.outbox_send(message_id=message.pk) is False  # a task delivered twice
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["seeker@example.com"]
    assert sent.alternatives and sent.alternatives[0][1] == "text/html"
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


def test_the_row_rolls_back_with_the_change_that_caused_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the transition failed")
    assert not OutboxMessage.objects.exists()


def test_after_commit_the_worker_is_asked_to_send(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue()
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1  # Celery runs eagerly in tests
    assert not OutboxMessage.objects.pending().exists()


def test_a_broker_that_is_away_leaves_the_message_for_the_flush(monkeypatch, django_capture_on_commit_callbacks):
    from lib.outbox import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_outbox_message, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue()
    assert OutboxMessage.objects.pending().count() == 1
    assert outbox.outbox_flush() == 1
    assert outbox.outbox_flush() == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("field", ["subject", "to", "cc"])
def test_a_line_break_in_a_header_is_refused(field):
    value = "Hi\r\nBcc: everyone@example.com"
    overrides = {"subject": value} if field == "subject" else {field: ["a@example.com\nBcc: x@example.com"]}
    with pytest.raises(outbox.HeaderInjectionError):
        enqueue(**overrides)
    assert not OutboxMessage.objects.exists()


def test_a_key_is_written_once():
    assert enqueue(key="intro:1:introduce") is not None
    assert enqueue(key="intro:1:introduce") is None
    assert OutboxMessage.objects.count() == 1


def test_a_failed_send_stays_pending_with_the_error(monkeypatch):
    message = enqueue()
    smtp_fails(monkeypatch, OSError("SMTP unreachable"))
    assert outbox.outbox_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1 and "SMTP unreachable" in message.last_error
    assert message.state == State.PENDING and message.claim is None


# --- retries, back-off and giving up ---------------------------------------------------------

T0 = dt.datetime(2027, 3, 2, 12, 0, tzinfo=dt.UTC)
SCHEDULE = [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2)]
SCHEDULE += [dt.timedelta(hours=12)]


def smtp_fails(monkeypatch, *errors: BaseException) -> list[str]:
    """Every send raises the next of `errors` (the last one again and again); returns the
    subjects of the messages it was asked to send."""
    asked: list[str] = []

    def send(self, *args, **kwargs):
        asked.append(self.subject)
        raise errors[min(len(asked), len(errors)) - 1]

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", send)
    return asked


def smtp_works(monkeypatch) -> None:
    monkeypatch.undo()


def test_each_failed_attempt_waits_longer_then_the_message_fails_for_good(monkeypatch, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 6
    with time_machine.travel(T0, tick=False) as clock:
        message = enqueue()
        smtp_fails(monkeypatch, TimeoutError("timed out"))
        for attempt, wait in enumerate(SCHEDULE, 1):
            assert outbox.outbox_flush() == 0
            message.refresh_from_db()
            assert (message.state, message.attempts, message.last_error) == (
                State.PENDING,
                attempt,
                "TimeoutError: timed out",
            )
            waited = message.next_attempt_at - timezone.now()
            assert wait * 0.8 <= waited <= wait * 1.2, (attempt, waited)
            clock.move_to(message.next_attempt_at - dt.timedelta(seconds=1))
            assert outbox.outbox_flush() == 0  # not due yet: not tried
            message.refresh_from_db()
            assert message.attempts == attempt
            clock.move_to(message.next_attempt_at)
        last_attempt = timezone.now()
        assert outbox.outbox_flush() == 0  # the sixth attempt, the last
    message.refresh_from_db()
    assert (message.state, message.attempts, message.next_attempt_at) == (State.FAILED, 6, None)
    assert message.failed_at == last_attempt
    assert list(OutboxMessage.objects.failed()) == [message]
    assert not OutboxMessage.objects.pending().exists()


def test_a_retry_that_works_sends_the_message_once(monkeypatch):
    with time_machine.travel(T0, tick=False) as clock:
        message = enqueue()
        smtp_fails(monkeypatch, ConnectionRefusedError(111, "Connection refused"))
        assert outbox.outbox_flush() == 0
        smtp_works(monkeypatch)
        assert outbox.outbox_flush() == 0  # its wait is not over
        clock.shift(dt.timedelta(minutes=2))
        assert outbox.outbox_flush() == 1
        assert outbox.outbox_flush() == 0
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.SENT, 2) and message.sent_at is not None
    assert len(mail.outbox) == 1


def test_the_task_after_commit_sends_even_when_the_workers_clock_is_a_little_behind():
    with time_machine.travel(T0 + dt.timedelta(milliseconds=50), tick=False):
        message = enqueue()  # written on the web server's clock
    with time_machine.travel(T0, tick=False):  # the worker's clock
        assert outbox.outbox_flush() == 0  # the flush waits for what is due on its own clock
        assert outbox.outbox_send(message_id=message.pk) is True
    message.refresh_from_db()
    assert message.state == State.SENT


def test_the_waits_are_spread_so_messages_that_failed_together_come_back_apart():
    for attempts, base in enumerate(SCHEDULE, 1):
        assert outbox.retry_delay(attempts, rand=lambda: 0.0) == base * 0.8
        assert outbox.retry_delay(attempts, rand=lambda: 1.0) == base * 1.2
    assert outbox.retry_delay(9, rand=lambda: 0.5) == dt.timedelta(hours=12)  # the last wait repeats
    assert len({outbox.retry_delay(1) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"5.1.1 No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"4.2.0 Greylisted, try later")}), False),
        (smtplib.SMTPDataError(554, b"5.7.1 Rejected as spam"), True),
        (smtplib.SMTPDataError(552, b"5.3.4 Message too big"), True),
        (smtplib.SMTPDataError(451, b"4.3.0 Try again later"), False),
        (smtplib.SMTPSenderRefused(550, b"5.7.1 Not our sender", "hello@warm-intros.test"), False),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (TimeoutError("timed out"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (ValueError("Invalid address; only léa@example.org could be parsed"), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_only_a_refusal_of_the_message_itself_fails_it_at_once(monkeypatch, error, permanent):
    message = enqueue()
    smtp_fails(monkeypatch, error)
    outbox.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == (State.FAILED if permanent else State.PENDING)
    assert message.attempts == 1 and type(error).__name__ in message.last_error


def test_a_message_that_keeps_failing_does_not_hold_up_the_others(monkeypatch):
    with time_machine.travel(T0, tick=False) as clock:
        poison = enqueue(to=["poison@example.org"])
        clock.shift(dt.timedelta(seconds=1))
        others = [enqueue(to=[f"other{n}@example.org"]) for n in range(3)]

        def send(self, *args, **kwargs):
            if self.to == ["poison@example.org"]:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            mail.outbox.append(self)

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", send)
        clock.shift(dt.timedelta(seconds=1))
        # One at a time, oldest due first: the poison message is tried, then waits its turn.
        assert [outbox.outbox_flush(limit=1) for _ in range(4)] == [0, 1, 1, 1]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.to[0] for o in others)
    poison.refresh_from_db()
    assert poison.state == State.PENDING and poison.attempts == 1


def test_a_worker_that_died_while_sending_is_taken_over_when_its_claim_runs_out(monkeypatch, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2

    class WorkerKilled(BaseException):
        """Not an error the outbox handles: the process is simply gone."""

    with time_machine.travel(T0, tick=False) as clock:
        message = enqueue()
        smtp_fails(monkeypatch, WorkerKilled())
        with pytest.raises(WorkerKilled):
            outbox.outbox_flush()
        message.refresh_from_db()
        assert message.state == State.SENDING and message.attempts == 1
        claim_ends = message.next_attempt_at
        assert claim_ends == T0 + dt.timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
        smtp_works(monkeypatch)
        clock.move_to(claim_ends - dt.timedelta(seconds=1))
        assert outbox.outbox_flush() == 0 and not mail.outbox  # still claimed: nobody else sends it
        clock.move_to(claim_ends)
        assert outbox.outbox_flush() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.SENT, 2) and len(mail.outbox) == 1
    assert "stopped before it finished" in message.last_error


def test_a_message_whose_workers_keep_dying_fails_after_the_last_attempt(monkeypatch, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2

    class WorkerKilled(BaseException):
        pass

    claim = dt.timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    with time_machine.travel(T0, tick=False) as clock:
        message = enqueue()
        smtp_fails(monkeypatch, WorkerKilled())
        for _ in range(2):
            with pytest.raises(WorkerKilled):
                outbox.outbox_flush()
            clock.shift(claim)
        assert outbox.outbox_flush() == 0
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.FAILED, 2)
    assert "stopped before it finished" in message.last_error


def test_a_worker_whose_claim_was_taken_over_cannot_settle_the_message(monkeypatch):
    message = enqueue()
    claimed = outbox._claim(message.pk, now=timezone.now(), due_only=False)
    assert claimed is not None
    _, stale_claim = claimed
    OutboxMessage.objects.filter(pk=message.pk).update(claim=uuid.uuid4())  # another worker's now
    outbox._mark_sent(message, stale_claim)
    outbox._settle_failure(message, stale_claim, TimeoutError("late"))
    message.refresh_from_db()
    assert message.state == State.SENDING and message.sent_at is None and message.last_error == ""


# --- the lock is not held during SMTP; two workers, one send --------------------------------


@pytest.fixture
def broker_away(monkeypatch):
    """Committed messages are not sent after commit (in these tests every write commits, and
    tasks run eagerly): the test sends them itself, as a worker would."""
    monkeypatch.setattr(outbox, "_enqueue_send", lambda message_id: None)


@pytest.mark.django_db(transaction=True)
def test_no_lock_is_held_on_the_row_while_the_smtp_server_is_talked_to(settings, broker_away):
    settings.MAILERS = mailer("tests.mail_backends.LockProbingBackend")
    LockProbingBackend.seen = []
    message = enqueue(subject="Probed while sending")
    assert outbox.outbox_send(message_id=message.pk) is True
    # Another connection saw the row, claimed ("sending"), and could have locked it at once.
    assert LockProbingBackend.seen == [(message.pk, State.SENDING)]
    message.refresh_from_db()
    assert message.state == State.SENT


def _in_thread(target, results, *args):
    def run():
        try:
            results.append(target(*args))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_leaves_alone_a_message_the_first_is_sending(settings, broker_away):
    settings.MAILERS = mailer("tests.mail_backends.SlowBackend")
    SlowBackend.talking.clear()
    SlowBackend.go_on.clear()
    message = enqueue()
    first: list[bool] = []
    thread = _in_thread(lambda: outbox.outbox_send(message_id=message.pk), first)
    try:
        assert SlowBackend.talking.wait(timeout=30), "the first worker never reached the SMTP server"
        # The same task delivered twice, and the beat's flush, while the first is mid-send.
        assert outbox.outbox_send(message_id=message.pk) is False
        assert outbox.outbox_flush() == 0
    finally:
        SlowBackend.go_on.set()
        thread.join(timeout=30)
    assert first == [True]
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_message_send_it_exactly_once(broker_away):
    message = enqueue()
    racers = 4
    start = threading.Barrier(racers)
    results: list[bool] = []

    def race() -> bool:
        start.wait(timeout=30)
        return outbox.outbox_send(message_id=message.pk)

    threads = [_in_thread(race, results) for _ in range(racers)]
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * (racers - 1) + [True]
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.SENT, 1)


# --- the operator's view: manage.py outbox ---------------------------------------------------


def failed_messages(monkeypatch, count: int) -> list[OutboxMessage]:
    messages = [enqueue(to=[f"lost{n}@example.org"], subject=f"Lost message {n}") for n in range(count)]
    smtp_fails(monkeypatch, smtplib.SMTPRecipientsRefused({"x": (550, b"5.1.1 No such user")}))
    outbox.outbox_flush()
    smtp_works(monkeypatch)
    return messages


def run_outbox(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("outbox", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_outbox_command_counts_each_state_and_lists_the_failed(monkeypatch):
    lost = failed_messages(monkeypatch, 2)
    enqueue(subject="Still waiting")
    out, _ = run_outbox()
    assert re.search(r"Waiting to be sent\s+1\n", out) and re.search(r"Failed\s+2\n", out), out
    out, _ = run_outbox("--failed")
    for message in lost:
        assert f"#{message.pk}  failed" in out
        assert f"to lost{lost.index(message)}@example.org: {message.subject}" in out
    assert out.count("SMTPRecipientsRefused") == 2 and "Still waiting" not in out


def test_the_outbox_command_sends_failed_messages_again(monkeypatch, django_capture_on_commit_callbacks):
    lost = failed_messages(monkeypatch, 3)
    sent_already = enqueue(subject="Went out fine")
    outbox.outbox_send(message_id=sent_already.pk)
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run_outbox("--retry", str(lost[0].pk), str(sent_already.pk))
    assert f"1 message will be sent again: #{lost[0].pk}" in out
    assert f"#{sent_already.pk}" in err  # not failed: left as it was
    assert [m.to for m in mail.outbox] == [sent_already.to, lost[0].to]  # eager: sent at once
    lost[0].refresh_from_db()
    assert (lost[0].state, lost[0].attempts) == (State.SENT, 1)  # a fresh set of attempts
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_outbox("--retry", "all")
    assert "2 messages will be sent again" in out
    assert not OutboxMessage.objects.failed().exists()
    assert run_outbox("--retry", "all")[0] == "Nothing to send again.\n"
    assert run_outbox("--failed")[0] == "No failed messages.\n"
    with pytest.raises(CommandError, match="message ids"):
        run_outbox("--retry", "twelve")


# --- who is told ---------------------------------------------------------------------------------


def test_a_template_that_matters_to_others_must_say_whom_to_tell():
    with pytest.raises(ValueError, match="connector"):
        enqueue(template="target_ask", context={})
    with pytest.raises(ValueError, match="nobody"):
        enqueue(tell_if_undelivered={"seeker": "seeker@example.com"})
    assert not OutboxMessage.objects.exists()


def test_a_failed_message_that_matters_to_nobody_else_tells_nobody(monkeypatch):
    message = enqueue()
    smtp_fails(monkeypatch, smtplib.SMTPRecipientsRefused({"x": (550, b"5.1.1 No such user")}))
    outbox.outbox_send(message_id=message.pk)
    assert list(OutboxMessage.objects.all()) == [message]
