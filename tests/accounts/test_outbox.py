import pytest
from django.core import mail
from django.db import transaction

from accounts import outbox
from accounts.models import OutboxMessage

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
    from accounts import tasks

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

    def smtp_down(self, *args, **kwargs):
        raise OSError("SMTP unreachable")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", smtp_down)
    assert outbox.outbox_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1 and "SMTP unreachable" in message.last_error
