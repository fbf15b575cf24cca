"""Sending through an email service (django-anymail) and hearing back from it (its tracking
webhook, Mailgun's here): the outbox keeps the service's message id, a report is accepted only
with the service's signature, and the same report twice is acted on once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings as django_settings
from django.core import mail

from lib.outbox import services as outbox
from lib.outbox.models import DeliveryReport, OutboxMessage
from tests import mailgun
from tests.mail_backends import mailer
from tests.security.world import diff, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def email_service(settings):
    """anymail's test backend (it records instead of calling the service, and gives each message
    an id), and Mailgun's webhook configured with a signing key."""
    settings.MAILERS = mailer("anymail.backends.test.EmailBackend")
    settings.ANYMAIL = dict(mailgun.SETTINGS)


def sent_message(**kwargs) -> OutboxMessage:
    fields = {"to": ["ann@example.org"], "subject": "Hello Ann", "template": "coach_nudge", "context": {}}
    message = outbox.outbox_enqueue(**(fields | kwargs))
    assert outbox.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_the_email_service_sends_from_the_outbox_and_its_message_id_is_kept():
    mail.outbox.clear()
    message = sent_message()
    assert message.state == OutboxMessage.State.SENT
    (email,) = mail.outbox
    # The service's id for it (anymail's test backend numbers them) and ours, sent along with it.
    assert message.provider_message_id == str(email.anymail_status.message_id)
    assert email.anymail_test_params["metadata"] == {"outbox": str(message.pk)}
    assert email.anymail_test_params["to"][0].addr_spec == "ann@example.org"


def test_a_service_that_refuses_every_recipient_fails_the_message_at_once():
    assert outbox.is_permanent(AnymailRecipientsRefused("every recipient was rejected"))


def test_a_bounce_marks_the_row_with_its_reason(client):
    message = sent_message()
    response = mailgun.post(
        client,
        mailgun.event("failed", recipient="ann@example.org", message=message),
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.BOUNCED and message.failed_at is not None
    assert message.last_error.startswith("Not delivered to ann@example.org: bounced (Mailgun).")
    assert "5.1.1 The email account that you tried to reach does not exist." in message.last_error
    (report,) = message.reports.all()
    assert (report.kind, report.recipient, report.provider) == (
        DeliveryReport.Kind.BOUNCED,
        "ann@example.org",
        "Mailgun",
    )


def test_the_same_report_twice_is_recorded_once(client):
    message = sent_message()
    body = mailgun.event("failed", recipient="ann@example.org", message=message)
    assert mailgun.post(client, body).status_code == 200
    assert mailgun.post(client, body).status_code == 200
    assert DeliveryReport.objects.count() == 1


def test_a_refusal_by_the_service_counts_as_a_bounce(client):
    message = sent_message()
    assert (
        mailgun.post(client, mailgun.event("rejected", recipient="ann@example.org", message=message)).status_code == 200
    )
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.BOUNCED
    assert message.reports.get().kind == DeliveryReport.Kind.REJECTED


def test_a_delivered_report_changes_nothing(client):
    message = sent_message()
    before = snapshot()
    assert (
        mailgun.post(client, mailgun.event("delivered", recipient="ann@example.org", message=message)).status_code
        == 200
    )
    assert not diff(before, snapshot())


def test_a_complaint_marks_the_row_and_tells_nobody(client):
    message = sent_message()
    assert (
        mailgun.post(client, mailgun.event("complained", recipient="ann@example.org", message=message)).status_code
        == 200
    )
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.COMPLAINED
    assert message.last_error == "ann@example.org marked it as spam (Mailgun)."
    assert OutboxMessage.objects.count() == 1


def test_a_report_found_by_the_services_message_id_alone(client):
    message = sent_message()
    body = mailgun.event("failed", recipient="ann@example.org", message_id=message.provider_message_id)
    assert body["event-data"]["user-variables"] == {}
    assert mailgun.post(client, body).status_code == 200
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.BOUNCED


@pytest.mark.parametrize(
    "wrong",
    ["not ours", "another message with our id", "not a recipient"],
)
def test_a_report_that_does_not_match_a_message_of_ours_changes_nothing(client, wrong):
    message = sent_message()
    body = {
        "not ours": mailgun.event("failed", recipient="ann@example.org", message_id="<elsewhere@mg.example.net>"),
        # Another site sending through the same Mailgun account numbers its rows too.
        "another message with our id": mailgun.event(
            "failed", recipient="ann@example.org", outbox_id=message.pk, message_id="<elsewhere@mg.example.net>"
        ),
        "not a recipient": mailgun.event("failed", recipient="bob@example.org", message=message),
    }[wrong]
    before = snapshot()
    assert mailgun.post(client, body).status_code == 200
    assert not diff(before, snapshot())


@pytest.mark.parametrize("signed", ["unsigned", "another key", "altered after signing"])
def test_a_report_without_the_services_signature_is_refused_and_changes_nothing(client, signed):
    message = sent_message()
    body = mailgun.event("failed", recipient="ann@example.org", message=message)
    if signed == "unsigned":
        del body["signature"]
    elif signed == "another key":
        body = mailgun.event("failed", recipient="ann@example.org", message=message, key="someone-elses-key")
    else:
        body["signature"]["token"] = "0" * 50
    before = snapshot()
    assert mailgun.post(client, body).status_code == 400
    assert not diff(before, snapshot())


def test_without_a_signing_key_the_webhook_is_not_there(client, settings):
    message = sent_message()
    settings.ANYMAIL = {}
    before = snapshot()
    response = mailgun.post(client, mailgun.event("failed", recipient="ann@example.org", message=message))
    assert response.status_code == 404
    assert not diff(before, snapshot())


def test_a_report_that_outruns_the_send_is_asked_again_later(client):
    """The service can report before our worker has recorded that it sent the message: the
    service is told to try again (Mailgun does, on any answer but 2xx), and then it counts."""
    message = outbox.outbox_enqueue(to=["ann@example.org"], subject="Hello Ann", template="coach_nudge", context={})
    claimed = outbox._claim(message.pk, now=message.created_at, due_only=False)
    assert claimed is not None
    body = mailgun.event("failed", recipient="ann@example.org", message=message)
    response = mailgun.post(client, body)
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert not DeliveryReport.objects.exists()
    outbox._mark_sent(*claimed, provider_message_id="")
    assert mailgun.post(client, body).status_code == 200
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.BOUNCED


def _settings_of(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"EMAIL_SERVICE", "MAILGUN_API_KEY", "EMAIL_URL"}}
    code = "import django; django.setup(); from django.conf import settings as s; m = s.MAILERS['default']; print(m['BACKEND'], sorted(s.ANYMAIL), m.get('OPTIONS'))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=clean | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_email_service_setting_switches_the_backend_and_refuses_what_it_cannot_use():
    smtp = _settings_of(EMAIL_URL="smtp+tls://ann:s%40cret@mail.example.org:587")
    assert smtp.stdout.strip() == (
        "django.core.mail.backends.smtp.EmailBackend [] {'host': 'mail.example.org', 'port': 587, "
        "'username': 'ann', 'password': 's@cret', 'use_tls': True, 'timeout': 20}"
    ), smtp.stderr
    development = _settings_of(WARM_VAR_DIR="/tmp/warm-var")
    assert (
        development.stdout.strip() == "lib.mail.ConsoleAndFileBackend [] {'file_path': PosixPath('/tmp/warm-var/mail')}"
    )
    ok = _settings_of(EMAIL_SERVICE="mailgun", MAILGUN_API_KEY="key-abc", MAILGUN_WEBHOOK_SIGNING_KEY="sign")
    assert (
        ok.stdout.strip()
        == "anymail.backends.mailgun.EmailBackend ['MAILGUN_API_KEY', 'MAILGUN_WEBHOOK_SIGNING_KEY'] None"
    ), ok.stderr
    unknown = _settings_of(EMAIL_SERVICE="postmark")
    assert unknown.returncode != 0 and "EMAIL_SERVICE='postmark' is not supported; use mailgun" in unknown.stderr
    keyless = _settings_of(EMAIL_SERVICE="mailgun")
    assert keyless.returncode != 0 and "EMAIL_SERVICE=mailgun needs MAILGUN_API_KEY" in keyless.stderr
