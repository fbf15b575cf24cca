"""What the email file backend actually wrote: every message the worker handed to "SMTP".

Django's file backend appends each message to a file in its `file_path` (MAIL_DIR), followed by a line
of 79 dashes. Counting these, not the outbox's own `sent_at`, is what shows a message sent
twice (or marked sent and never written).
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

SEPARATOR = "\n" + "-" * 79 + "\n"


def parse(chunk: str) -> EmailMessage:
    # From bytes: parsed from a str, an 8bit UTF-8 body would decode to "\u2014" escapes.
    return email.message_from_bytes(chunk.lstrip("\n").encode(), policy=email.policy.default)


def read(directory: Path) -> list[EmailMessage]:
    messages: list[EmailMessage] = []
    if not directory.exists():
        return messages
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_text(errors="replace").split(SEPARATOR):
            if chunk.strip():
                messages.append(parse(chunk))
    return messages


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())


def content_key(to: list[str] | str, subject: str, body: str) -> tuple[str, str, str]:
    """What makes two deliveries "the same message": recipients, subject and text body."""
    recipients = ", ".join(sorted(a.strip().lower() for a in (to.split(",") if isinstance(to, str) else to)))
    return recipients, " ".join(subject.split()), normalise(body)


def delivered(directory: Path) -> Counter:
    """How many times each message was written by the backend, keyed by `content_key`."""
    return Counter(content_key(str(m["To"]), str(m["Subject"]), text_of(m)) for m in read(directory))


def addressed(directory: Path, subject_startswith: str = "") -> Counter:
    """(recipient, subject) → times delivered, for messages whose subject starts with the prefix."""
    return Counter(
        (str(m["To"]).lower(), " ".join(str(m["Subject"]).split()))
        for m in read(directory)
        if str(m["Subject"]).startswith(subject_startswith)
    )
