"""The development email backend: every message to the console and to a file.

`files_only()` keeps the console quiet for a while (the demo's history writes a few hundred
past emails to files while `make run` starts; on the console they would push the demo logins
off the screen)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend

_to_console: ContextVar[bool] = ContextVar("warm_mail_to_console", default=True)


def mail_folder() -> str | None:
    """The folder the default mailer writes each message to (this backend's, or Django's file
    backend's), or None when it sends them away (SMTP, an email service)."""
    path = settings.MAILERS["default"].get("OPTIONS", {}).get("file_path")
    return str(path) if path else None


@contextmanager
def files_only() -> Iterator[None]:
    token = _to_console.set(False)
    try:
        yield
    finally:
        _to_console.reset(token)


class ConsoleAndFileBackend(BaseEmailBackend):
    """A mailer in MAILERS; OPTIONS {"file_path": ...} says where the files go."""

    def __init__(self, *, file_path=None, **kwargs):
        super().__init__(**kwargs)
        self._file = FileBackend(alias=self.alias, file_path=file_path)
        self._console = ConsoleBackend(alias=self.alias)

    def send_messages(self, email_messages):
        sent = self._file.send_messages(email_messages) or 0
        if _to_console.get():
            self._console.send_messages(email_messages)
        return sent
