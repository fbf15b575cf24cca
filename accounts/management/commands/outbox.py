"""The outbox, for an operator: what waits, what failed, and sending failed messages again.

manage.py outbox                 how many messages are in each state, and what is next due
manage.py outbox --failed        every message that failed for good, newest first, with its error
manage.py outbox --retry 12 15   send these failed messages again (a fresh set of attempts)
manage.py outbox --retry all     send every failed message again
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Min
from django.utils import timezone

from accounts import outbox
from accounts.models import OutboxMessage

State = OutboxMessage.State


class Command(BaseCommand):
    help = "Show the outbox by state, list failed messages (--failed), or send them again (--retry ID…|all)."

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--failed", action="store_true", help="list the messages that failed for good")
        what.add_argument("--retry", nargs="+", metavar="ID", help="send these failed messages again, or `all` of them")

    def handle(self, *args, failed: bool, retry: list[str] | None, **options) -> None:
        if retry:
            self._retry(retry)
        elif failed:
            self._list_failed()
        else:
            self._summary()

    def _summary(self) -> None:
        counts = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("pk")).order_by())
        for state in State:
            self.stdout.write(f"{state.label:<20} {counts.get(state.value, 0):>8}")
        due = OutboxMessage.objects.pending().aggregate(next=Min("next_attempt_at"))["next"]
        if due is not None:
            when = "now" if due <= timezone.now() else f"at {due:%Y-%m-%d %H:%M:%S %Z}"
            self.stdout.write(f"Next attempt due {when}.")
        if counts.get(State.FAILED):
            self.stdout.write("See the failed ones with --failed; send them again with --retry ID… or --retry all.")

    def _list_failed(self) -> None:
        messages = OutboxMessage.objects.failed().order_by("-failed_at", "-pk")
        found = False
        for m in messages.only("pk", "to", "subject", "template", "attempts", "failed_at", "last_error"):
            found = True
            self.stdout.write(
                f"#{m.pk}  failed {m.failed_at:%Y-%m-%d %H:%M %Z} after {m.attempts} attempt{'s' * (m.attempts != 1)}"
                f"  {m.template or '-'}\n"
                f"    to {', '.join(m.to)}: {m.subject}\n"
                f"    {m.last_error or '(no error recorded)'}"
            )
        if not found:
            self.stdout.write("No failed messages.")

    def _retry(self, retry: list[str]) -> None:
        if retry == ["all"]:
            ids = outbox.outbox_retry()
        else:
            try:
                wanted = sorted({int(value) for value in retry})
            except ValueError:
                raise CommandError(f"--retry takes message ids (numbers) or `all`, not {' '.join(retry)!r}.") from None
            ids = outbox.outbox_retry(message_ids=wanted)
            not_failed = sorted(set(wanted) - set(ids))
            if not_failed:
                self.stderr.write(
                    f"Not failed (sent, waiting, or no such message), left as they are: "
                    f"{', '.join(f'#{pk}' for pk in not_failed)}"
                )
        if ids:
            self.stdout.write(
                f"{len(ids)} message{'s' * (len(ids) != 1)} will be sent again: {', '.join(f'#{pk}' for pk in ids)}"
            )
        else:
            self.stdout.write("Nothing to send again.")
