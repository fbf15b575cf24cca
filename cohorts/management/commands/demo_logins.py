"""The last thing `make run` prints: once the web server answers, the address and the demo
logins, below the worker's and beat's start-up banners rather than above them. Then it waits
quietly until honcho stops everything (a process that ended would make honcho stop the rest).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from lib.mail import mail_folder

from .load_demo import DOMAIN, PASSWORD, PEOPLE

WAIT_SECONDS = 120


class Command(BaseCommand):
    help = "Print the demo logins once the web server answers (for `make run`), then wait."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
        parser.add_argument("--no-wait", action="store_true", help="Print and return (no waiting at either end).")

    def handle(self, *args, port: int, no_wait: bool, **options) -> None:
        url = f"http://127.0.0.1:{port}/"
        if not no_wait and not self._answers(port):
            self.stderr.write(f"The web server did not answer at {url} within {WAIT_SECONDS} s; see its lines above.")
        elif not User.objects.filter(email=f"dana@{DOMAIN}").exists():
            self.stdout.write(f"Warm Intros is up at {url} (no demo data: `manage.py load_demo` loads it).")
        else:
            self.stdout.write(f"Warm Intros is up at {url}  ·  demo logins, password for all: {PASSWORD}")
            for key, name, _, role in PEOPLE:
                self.stdout.write(f"  {key + '@' + DOMAIN:<32} {name:<16} {role}")
            if settings.MAILERS["default"]["BACKEND"] == settings.DEV_MAIL_BACKEND:  # lib.mail
                self.stdout.write(f"Emails: on the console and in {mail_folder()}/ (the demo's past ones: there only).")
            self.stdout.write("Ctrl-C stops everything.")
        self.stdout.flush()
        if not no_wait:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every process; honcho reports it
                signal.pause()

    @staticmethod
    def _answers(port: int) -> bool:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.5)
            else:
                return True
        return False
