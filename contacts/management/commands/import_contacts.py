"""Import a LinkedIn Connections.csv, a vCard file or a Warm Intros CSV for one user,
the same way the import page does, with a progress bar.

    manage.py import_contacts --user jill@example.com Connections.csv
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from contacts import services
from contacts.fileformats import MAX_FILE_BYTES
from contacts.models import ImportStatus, RowAction, RowKind

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import contacts for a user from a LinkedIn Connections.csv, a vCard (.vcf) or a Warm Intros CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, metavar="EMAIL", help="whose contacts these become")
        parser.add_argument(
            "--likely",
            choices=RowAction.values,
            default=RowAction.SKIP,
            help="what to do with likely duplicates (same name and organisation); default: skip",
        )
        parser.add_argument(
            "--exact",
            choices=RowAction.values,
            default=RowAction.MERGE,
            help="what to do with exact duplicates (same email or profile URL); default: merge",
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would happen and change nothing")

    def handle(self, *args, file: Path, user: str, likely: str, exact: str, dry_run: bool, **options) -> None:
        owner = User.objects.filter(email__iexact=user.strip()).first()
        if owner is None:
            raise CommandError(f"No user with the email {user}.")
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{file.name}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB; split it.")
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc

        # The same steps as the page, run here rather than by a worker: the file is held,
        # read (with the same row limit, IMPORT_MAX_ROWS), then previewed.
        batch = services.import_upload(owner=owner, filename=file.name, raw=raw, enqueue=False)
        batch = services.import_parse(batch_id=batch.pk, progress=self._draw)
        if batch.status != ImportStatus.PREVIEWED:
            services.import_discard(batch=batch)
            raise CommandError(f"{file.name}: {batch.error}")
        self.stdout.write("\r" + " " * (BAR_WIDTH + 30) + "\r", ending="")

        services.import_choose_kind(batch=batch, kind=RowKind.EXACT, action=exact)
        services.import_choose_kind(batch=batch, kind=RowKind.LIKELY, action=likely)
        summary = services.import_summary(batch)
        counts = {kind: sum(actions.values()) for kind, actions in summary.items()}
        self.stdout.write(
            f"{file.name}: {batch.total} rows — {counts['new']} new, {counts['exact']} exact duplicates "
            f"({exact}), {counts['likely']} likely duplicates ({likely}), {counts['invalid']} cannot be imported."
        )
        for row in batch.rows.filter(kind=RowKind.INVALID)[:20]:
            self.stdout.write(f"  {row.problem}")
        changed = batch.rows.exclude(warnings=[])
        if changed_count := changed.count():
            rows = "1 row is" if changed_count == 1 else f"{changed_count} rows are"
            self.stdout.write(f"{rows} imported with a value set aside for you to fix:")
            for row in changed[:20]:
                self.stdout.write(f"  Line {row.line} ({row.name}): {' '.join(row.warnings)}")
        if dry_run:
            services.import_discard(batch=batch)
            self.stdout.write("Dry run: nothing was changed.")
            return

        services.import_confirm(batch=batch, enqueue=False)
        batch = services.import_run(batch_id=batch.pk, progress=self._draw)
        self.stdout.write("")
        if batch.status != ImportStatus.DONE:
            raise CommandError(batch.error)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {batch.created_count} added, {batch.merged_count} merged, {batch.skipped_count} skipped."
            )
        )

    def _draw(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}% {done}/{total}", ending="")
        self.stdout.flush()
