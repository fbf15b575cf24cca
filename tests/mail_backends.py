"""Email backends for tests: Django's in-memory one (`django.core.mail.outbox`) with an SMTP
server's behaviour added where a test needs it. Tests select one as the default mailer:
`settings.MAILERS = mailer("tests.mail_backends.RefusingBackend")`."""

from __future__ import annotations

import smtplib
import threading

import psycopg
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.db import connection


def mailer(backend: str) -> dict:
    """settings.MAILERS whose default mailer is `backend` (a dotted path)."""
    return {"default": {"BACKEND": backend}}


# A server refuses every mailbox at this domain for good, as a real one refuses an unknown user.
BOUNCING_DOMAIN = "bounces.example.org"


class RefusingBackend(MemoryBackend):
    """Refuses (550) a message whose every recipient is at BOUNCING_DOMAIN; delivers the rest."""

    def send_messages(self, email_messages):
        for message in email_messages:
            recipients = message.recipients()
            if recipients and all(a.endswith("@" + BOUNCING_DOMAIN) for a in recipients):
                raise smtplib.SMTPRecipientsRefused({a: (550, b"5.1.1 No such user here") for a in recipients})
        return super().send_messages(email_messages)


def other_connection() -> psycopg.Connection:
    """A database connection of its own, as another worker (or an operator) would hold."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=False,
    )


class LockProbingBackend(MemoryBackend):
    """While it "talks to the SMTP server", asks from another connection for the message's row
    with `FOR UPDATE NOWAIT`: that fails at once if the sending worker still holds a lock."""

    seen: list[tuple[int, str]] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            with other_connection() as probe:
                rows = probe.execute(
                    "SELECT id, state FROM accounts_outboxmessage WHERE subject = %s FOR UPDATE NOWAIT",
                    [message.subject],
                ).fetchall()
                probe.rollback()
            type(self).seen.extend(rows)
        return super().send_messages(email_messages)


class SlowBackend(MemoryBackend):
    """Stays "in the SMTP conversation" until the test lets it go, so a test can act meanwhile."""

    talking = threading.Event()
    go_on = threading.Event()

    def send_messages(self, email_messages):
        type(self).talking.set()
        if not type(self).go_on.wait(timeout=30):
            raise TimeoutError("The test never let the SMTP conversation finish.")
        return super().send_messages(email_messages)
