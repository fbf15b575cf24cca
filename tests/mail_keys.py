"""The rule every email obeys: a no-login link is a key, so it goes only to the person it acts
for, in a message with exactly one recipient (To one address; no Cc, no Bcc). A Reply-To is
not a recipient of the message and may name someone else (the connector, to answer them).

Which links are keys is read from the URLconf, not listed by hand: every URL pattern whose view
lets an anonymous visitor in (no `login_required`) and takes a parameter from the path (a
token, a signed id) is a key. A new no-login route is covered the day it is added.

tests/conftest.py checks every email of every test against `problems()`: each outbox row as it
is written (most tests never run the after-commit send), each message the locmem backend
receives (whatever reached `mail.outbox`), and the files a real worker wrote in the fault and
worker tests (`check_mail_dir`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

URL = re.compile(r"https?://[^\s\"'<>]+")


def _api_operations(view) -> list | None:
    """The operations behind a django-ninja view (its path's view closes over them), or None."""
    for cell in getattr(view, "__closure__", None) or ():
        try:
            operations = getattr(cell.cell_contents, "operations", None)
        except ValueError:  # an empty cell
            continue
        if isinstance(operations, list):
            return operations
    return None


def _requires_login(view) -> bool:
    """Whether an anonymous visitor is sent to log in: `login_required` (any `user_passes_test`)
    somewhere in the view's decorators, a class-based view with `LoginRequiredMixin`, an
    admin view (Django wraps it, for its site, when called), or an API route (django-ninja)
    whose every operation needs a token or a session (an anonymous caller gets a 401)."""
    if getattr(view, "login_required", True) is False:  # Django's @login_not_required
        return False
    operations = _api_operations(view)
    if operations is not None:
        return all(getattr(operation, "auth_callbacks", None) for operation in operations)
    if getattr(view, "admin_site", None) or getattr(view, "model_admin", None):
        return True  # the admin: its site lets only logged-in staff in (lib.staff_admin)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        from django.contrib.auth.mixins import LoginRequiredMixin

        return issubclass(view_class, LoginRequiredMixin)
    func = view
    while func is not None:
        # `functools.wraps` copies the name of the view onto each wrapper, but not its code.
        code = getattr(func, "__code__", None)
        if code is not None and code.co_qualname.startswith("user_passes_test."):
            return True
        func = getattr(func, "__wrapped__", None)
    return False


def _takes_path_parameters(pattern) -> bool:
    converters = getattr(pattern, "converters", None)
    if converters is not None:
        return bool(converters)
    return pattern.regex.groups > 0


def key_url_names(resolver: URLResolver | None = None, namespace: str = "") -> frozenset[str]:
    """Names of the no-login views that take a key from their path (`intros:target`, …)."""
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= key_url_names(pattern, inner)
        elif (
            isinstance(pattern, URLPattern)
            and not _requires_login(pattern.callback)
            and _takes_path_parameters(pattern.pattern)
        ):
            names.add(f"{namespace}{pattern.name}")
    return frozenset(names)


@lru_cache(maxsize=4)
def _keys_for(urlconf: str) -> frozenset[str]:
    names = key_url_names(get_resolver(urlconf))
    if not names:
        raise AssertionError(
            f"No no-login URL pattern with a key was found in {urlconf}: the email key check "
            "would check nothing. Has the way views require a login changed?"
        )
    return names


def keys() -> frozenset[str]:
    from django.conf import settings

    return _keys_for(settings.ROOT_URLCONF)


def key_links(*bodies: str) -> list[tuple[str, str]]:
    """(URL name, link) of every key link in the bodies (text or HTML)."""
    found = []
    names = keys()
    for body in bodies:
        for url in URL.findall(html.unescape(body or "")):
            path = urlsplit(url.rstrip(".,;:)")).path
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.view_name in names:
                found.append((match.view_name, url))
    return found


@dataclass(frozen=True)
class Mail:
    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    bodies: tuple[str, ...]
    where: str  # how the message was seen: outbox row, locmem backend, a worker's mail file


def problems(mail: Mail) -> list[str]:
    links = key_links(*mail.bodies)
    if not links:
        return []
    recipients = [*mail.to, *mail.cc, *mail.bcc]
    if len(mail.to) == 1 and not mail.cc and not mail.bcc:
        return []
    kinds = sorted({name for name, _ in links})
    return [
        f"“{mail.subject}” ({mail.where}) carries a no-login link ({', '.join(kinds)}) but goes to "
        f"{len(recipients)} recipients (to={list(mail.to)}, cc={list(mail.cc)}, bcc={list(mail.bcc)}): "
        "a key goes only to the person it acts for, in a message of their own."
    ]


def from_outbox_row(row) -> Mail:
    return Mail(
        subject=row.subject,
        to=tuple(row.to or ()),
        cc=tuple(row.cc or ()),
        bcc=(),
        bodies=(row.body_text, row.body_html),
        where=f"outbox row {row.pk}",
    )


def from_email_message(message) -> Mail:
    bodies = [message.body]
    for alternative in getattr(message, "alternatives", ()) or ():
        content = alternative[0]
        bodies.append(content.decode() if isinstance(content, bytes) else str(content))
    return Mail(
        subject=str(message.subject),
        to=tuple(message.to),
        cc=tuple(message.cc),
        bcc=tuple(message.bcc),
        bodies=tuple(bodies),
        where="sent through the email backend",
    )


def _addresses(header) -> tuple[str, ...]:
    if header is None:
        return ()
    return tuple(a.strip() for a in str(header).split(",") if a.strip())


def check_mail_dir(directory: Path) -> list[str]:
    """The same rule over what a real worker wrote with the file backend (one file per
    connection, each message followed by a line of dashes)."""
    from loadtest import mailbox

    found: list[str] = []
    for message in mailbox.read(Path(directory)):
        bodies = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
        found += problems(
            Mail(
                subject=str(message["Subject"]),
                to=_addresses(message["To"]),
                cc=_addresses(message["Cc"]),
                bcc=_addresses(message["Bcc"]),
                bodies=tuple(bodies),
                where=f"written by a worker to {directory}",
            )
        )
    return found


class Recorder:
    """Collects the problems of every email seen while installed, until `drain()`."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.seen = 0
        self._undo: list = []

    def install(self) -> None:
        from django.core.mail.backends import locmem
        from django.db.models.signals import post_save

        from lib.outbox.models import OutboxMessage

        def row_written(sender, instance, created, **kwargs):
            # Rows the sweep writes in bulk carry no body yet (rendered at send) and one `to`
            # by construction (`lib.outbox.services.Pending`); they are checked when sent.
            if created and (instance.body_text or instance.body_html):
                self.check(from_outbox_row(instance))

        post_save.connect(row_written, sender=OutboxMessage, weak=False, dispatch_uid="mail-keys-recorder")
        self._undo.append(lambda: post_save.disconnect(sender=OutboxMessage, dispatch_uid="mail-keys-recorder"))

        real_send = locmem.EmailBackend.send_messages

        def send_messages(backend, messages):
            for message in messages or ():
                self.check(from_email_message(message))
            return real_send(backend, messages)

        locmem.EmailBackend.send_messages = send_messages
        self._undo.append(lambda: setattr(locmem.EmailBackend, "send_messages", real_send))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def check(self, mail: Mail) -> None:
        self.seen += 1
        self.found += problems(mail)

    def drain(self) -> list[str]:
        found, self.found = self.found, []
        return found


def assert_no_problems(found: Iterable[str]) -> None:
    found = list(found)
    assert not found, "No-login links sent to more than their owner:\n" + "\n".join(found)
