"""The development email backend: every message to the console and to a file.

`files_only()` keeps the console quiet for a while (the demo's history writes a few hundred
past emails to files while `make run` starts; on the console they would push the demo logins
off the screen)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend

_to_console: ContextVar[bool] = ContextVar("warm_mail_to_console", default=True)


@contextmanager
def files_only() -> Iterator[None]:
    token = _to_console.set(False)
    try:
        yield
    finally:
        _to_console.reset(token)


class ConsoleAndFileBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self._file = FileBackend(fail_silently=fail_silently)
        self._console = ConsoleBackend(fail_silently=fail_silently)

    def send_messages(self, email_messages):
        sent = self._file.send_messages(email_messages) or 0
        if _to_console.get():
            self._console.send_messages(email_messages)
        return sent
