"""Contact import: upload, reading the file, preview, choices, confirm, and the import itself.

The upload is only checked at the door (size, type, encoding, header) and held on the
batch; a worker reads its rows, sorts them and writes the preview, reporting progress
through the cache, so no request does work that grows with the file.

Nothing touches Contact until the owner confirms. The import then runs in one
transaction, all or nothing, with bulk writes (a constant number of queries per
thousand rows, never one per row).

Progress is reported through the cache, not the database: the import's own
transaction cannot commit a progress count half way without giving up being atomic,
and a second connection writing to the same database would wait on (SQLite) or
race (PostgreSQL) that transaction. The cache is shared by the worker and the web:
Redis in production, files under WARM_VAR_DIR in the embedded default. (With a cache
the worker cannot reach, the page would show a bar without a value until the import
is done, then the counts, which are in the database.)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User

from .fileformats import ImportFileError, ParsedFile, contact_values, parse_upload
from .models import (
    DEFAULT_ACTION,
    Contact,
    ImportBatch,
    ImportRow,
    ImportStatus,
    RowAction,
    RowKind,
    Strength,
    Tag,
)

logger = logging.getLogger(__name__)

WRITE_CHUNK = 1000  # contacts per bulk insert, and how often progress is reported
# A bulk update is one CASE per field over its rows: its cost grows with the square of
# the chunk, so merges are written in smaller chunks than new contacts.
UPDATE_CHUNK = 200
PROGRESS_TIMEOUT = 60 * 60

# What a merge may fill in on an existing contact. Strength, the window and sharing are
# the owner's own judgement and stay as they are.
MERGE_FILL = ("email", "organisation", "title", "profile_url", "connected_on")
MERGE_APPEND = ("how_we_know", "notes")

ProgressCallback = Callable[[int, int], None]


class ImportStateError(Exception):
    """The batch is not in a state where this can be done; the message says why."""


def _email_key(data: dict) -> str:
    """The address that tells this person apart, whether or not we can send to it."""
    return (data.get("email") or data.get("email_unusable") or "").strip().lower()


def _url_key(url: str) -> str:
    """LinkedIn writes the same profile as http or https, with or without www and a slash."""
    url = url.strip().lower()
    for prefix in ("https://", "http://"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").split("?")[0].rstrip("/")


def _name_org_key(name: str, organisation: str) -> tuple[str, str]:
    return (" ".join(name.lower().split()), " ".join(organisation.lower().split()))


def import_upload(*, owner: User, filename: str, raw: bytes, source: str = "", enqueue: bool = True) -> ImportBatch:
    """Hold an uploaded file for a worker to read. With `enqueue`, the worker is asked
    once this transaction commits; the request returns at once."""
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            owner=owner, filename=filename[:255], source=source, upload=raw, status=ImportStatus.PARSING
        )
        if enqueue:
            batch_id = batch.pk
            transaction.on_commit(lambda: _enqueue_parse(batch_id))
    return batch


def _enqueue_parse(batch_id: int) -> None:
    from .tasks import parse_import

    try:
        parse_import.delay(batch_id)
    except Exception:
        logger.warning("Contact import %s not read: broker unreachable", batch_id, exc_info=True)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.PARSING).update(
            status=ImportStatus.REFUSED,
            upload=b"",
            finished_at=timezone.now(),
            error="The importer could not be reached, so your file was not read. "
            "Please upload it again in a few minutes.",
        )


def import_parse(*, batch_id: int, progress: ProgressCallback | None = None) -> ImportBatch | None:
    """Read an uploaded file into the preview's rows (the worker's half of the upload).

    Safe to run twice: only a batch still being read is read, under its row lock, and the
    rows, the status and the dropped upload commit together. A file that cannot be
    imported (too many rows, a broken line) ends as refused, with the reason for its owner.
    """
    key = ImportBatch(pk=batch_id).parse_progress_key

    def report(done: int, total: int) -> None:
        cache.set(key, (done, total), PROGRESS_TIMEOUT)
        if progress is not None:
            progress(done, total)

    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("owner").filter(pk=batch_id).first()
            if batch is None or batch.status != ImportStatus.PARSING:
                return batch
            try:
                parsed = parse_upload(
                    batch.filename, bytes(batch.upload), max_rows=settings.IMPORT_MAX_ROWS, progress=report
                )
            except ImportFileError as exc:
                batch.status, batch.error, batch.upload = ImportStatus.REFUSED, str(exc), b""
                batch.finished_at = timezone.now()
                batch.save(update_fields=["status", "error", "upload", "finished_at"])
                return batch
            # Every row is read; what is left is sorting them and saving the preview.
            report(len(parsed.rows), len(parsed.rows))
            _sort_rows(batch, parsed)
            batch.status, batch.source, batch.total, batch.upload = (
                ImportStatus.PREVIEWED,
                parsed.source,
                len(parsed.rows),
                b"",
            )
            batch.save(update_fields=["status", "source", "total", "upload"])
    finally:
        cache.delete(key)
    return batch


def import_parse_progress(batch: ImportBatch) -> tuple[int, int] | None:
    """(rows read, rows in the file) while a worker reads it, when the shared cache knows."""
    if batch.status != ImportStatus.PARSING:
        return None
    return cache.get(batch.parse_progress_key)


@transaction.atomic
def import_preview(*, owner: User, parsed: ParsedFile, filename: str) -> ImportBatch:
    """Hold a file read already (the command line, tests) as a preview."""
    batch = ImportBatch.objects.create(
        owner=owner, source=parsed.source, filename=filename[:255], total=len(parsed.rows)
    )
    _sort_rows(batch, parsed)
    return batch


@dataclass(frozen=True)
class _Person:
    """What tells one contact (or one earlier row) apart from another."""

    ref: int  # a contact's pk, or an earlier row's line
    email: str
    url: str

    def told_apart_from(self, email: str, url: str) -> bool:
        """Different addresses or different profiles are different people, whatever the name:
        LinkedIn has many people of the same name at the same company."""
        return bool((email and self.email and email != self.email) or (url and self.url and url != self.url))


class _People:
    def __init__(self) -> None:
        self.by_email: dict[str, list[_Person]] = defaultdict(list)
        self.by_url: dict[str, list[_Person]] = defaultdict(list)
        self.by_name_org: dict[tuple[str, str], list[_Person]] = defaultdict(list)

    def add(self, person: _Person, name_org: tuple[str, str]) -> None:
        if person.email:
            self.by_email[person.email].append(person)
        if person.url:
            self.by_url[person.url].append(person)
        self.by_name_org[name_org].append(person)

    def same(self, email: str, url: str) -> _Person | None:
        """The same profile (one person's own page, whatever addresses they use), or the
        same address with no other profile."""
        if people := self.by_url.get(url):
            return people[0]
        for person in self.by_email.get(email, ()):
            if not person.told_apart_from(email, url):
                return person
        return None

    def likely(self, name_org: tuple[str, str], email: str, url: str) -> _Person | None:
        """The same name and organisation, and nothing that tells them apart."""
        for person in self.by_name_org.get(name_org, ()):
            if not person.told_apart_from(email, url):
                return person
        return None


def _sort_rows(batch: ImportBatch, parsed: ParsedFile) -> None:
    """Each row sorted into new / exact duplicate / likely duplicate / cannot be imported."""
    existing = _People()
    contacts = (
        Contact.objects.owned_by(batch.owner)
        .order_by("pk")
        .values_list("pk", "email", "email_unusable", "profile_url", "name", "organisation")
    )
    for pk, email, unusable, url, name, organisation in contacts.iterator(chunk_size=2000):
        person = _Person(pk, (email or unusable).lower(), _url_key(url) if url else "")
        existing.add(person, _name_org_key(name, organisation))

    # Earlier rows of the same file, so a file that lists someone twice adds them once.
    earlier = _People()
    rows = []
    for parsed_row in parsed.rows:
        data = parsed_row.data
        row = ImportRow(batch=batch, line=parsed_row.line, data=data, warnings=parsed_row.warnings)
        if parsed_row.problem:
            row.kind, row.problem = RowKind.INVALID, parsed_row.problem
        else:
            email = _email_key(data)
            url = _url_key(data["profile_url"]) if data.get("profile_url") else ""
            name_org = _name_org_key(data["name"], data.get("organisation", ""))
            if match := existing.same(email, url):
                row.kind, row.match_id = RowKind.EXACT, match.ref
            elif match := earlier.same(email, url):
                row.kind, row.match_line = RowKind.EXACT, match.ref
            elif match := existing.likely(name_org, email, url):
                row.kind, row.match_id = RowKind.LIKELY, match.ref
            elif match := earlier.likely(name_org, email, url):
                row.kind, row.match_line = RowKind.LIKELY, match.ref
            else:
                row.kind = RowKind.NEW
            earlier.add(_Person(row.line, email, url), name_org)
        row.action = DEFAULT_ACTION[row.kind]
        rows.append(row)
    ImportRow.objects.bulk_create(rows, batch_size=WRITE_CHUNK)


def import_summary(batch: ImportBatch) -> dict[str, dict[str, int]]:
    """How many rows of each kind, and what will happen to them: {kind: {action: count}}."""
    summary: dict[str, dict[str, int]] = {kind: {} for kind in RowKind.values}
    for row in batch.rows.values("kind", "action").annotate(n=Count("pk")).order_by():
        summary[row["kind"]][row["action"]] = row["n"]
    return summary


def import_choose(*, batch: ImportBatch, choices: dict[int, str]) -> None:
    """Set what happens to rows, by row id. Choices a row does not offer are ignored."""
    _require_choosing(batch)
    by_action: dict[str, list[int]] = {}
    for row_id, action in choices.items():
        if action in RowAction.values:
            by_action.setdefault(action, []).append(row_id)
    with transaction.atomic():
        for action, ids in by_action.items():
            _rows_that_offer(batch.rows.filter(pk__in=ids), action).update(action=action)


def import_choose_kind(*, batch: ImportBatch, kind: str, action: str) -> int:
    """Set what happens to every row of one kind (e.g. merge all likely duplicates)."""
    _require_choosing(batch)
    if kind not in RowKind.values or action not in RowAction.values:
        return 0
    return _rows_that_offer(batch.rows.filter(kind=kind), action).update(action=action)


def _rows_that_offer(rows, action: str):
    rows = rows.exclude(kind=RowKind.INVALID)
    if action == RowAction.MERGE:
        rows = rows.filter(kind__in=[RowKind.EXACT, RowKind.LIKELY])
    return rows


def _require_choosing(batch: ImportBatch) -> None:
    if not batch.choosing:
        raise ImportStateError(f"“{batch.filename}” is {batch.get_status_display().lower()}; it can no longer change.")


def import_confirm(*, batch: ImportBatch, enqueue: bool = True) -> ImportBatch:
    """Queue the import. With `enqueue`, a Celery task runs it once this transaction commits."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _require_choosing(batch)
        batch.status = ImportStatus.QUEUED
        batch.error = ""
        batch.save(update_fields=["status", "error"])
        if enqueue:
            batch_id = batch.pk
            transaction.on_commit(lambda: _enqueue_import(batch_id))
    return batch


def _enqueue_import(batch_id: int) -> None:
    from .tasks import run_import

    try:
        run_import.delay(batch_id)
    except Exception:
        # The broker is away. Say so rather than leave the page waiting on a task
        # that will never come; the owner's choices are kept for another try.
        logger.warning("Contact import %s not queued: broker unreachable", batch_id, exc_info=True)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.FAILED,
            error="The importer could not be reached, so nothing was imported. Please try again in a few minutes.",
        )


def import_discard(*, batch: ImportBatch) -> None:
    if batch.busy:
        doing = "read" if batch.status == ImportStatus.PARSING else "imported"
        raise ImportStateError(f"“{batch.filename}” is being {doing}; it can be removed once that is done.")
    batch.delete()


def import_progress(batch: ImportBatch) -> int | None:
    """Rows handled so far by a running import, when the cache shared with the worker knows."""
    if batch.status == ImportStatus.DONE:
        return batch.total
    if batch.status != ImportStatus.RUNNING:
        return None
    return cache.get(batch.progress_key)


def import_run(*, batch_id: int, progress: ProgressCallback | None = None) -> ImportBatch | None:
    """Write a confirmed batch's contacts, all or nothing. Safe to run twice: a batch
    that is done (or gone) is left alone, and a second worker waits on the row lock."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or not batch.in_progress:
            return batch
        # Committed on its own so the page can say "importing"; a crash leaves it
        # running, and the redelivered task (acks_late) picks it up again.
        batch.status = ImportStatus.RUNNING
        batch.save(update_fields=["status"])

    def report(done: int, total: int) -> None:
        cache.set(batch.progress_key, done, PROGRESS_TIMEOUT)
        if progress is not None:
            progress(done, total)

    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("owner").get(pk=batch_id)
            if batch.status != ImportStatus.RUNNING:
                return batch
            created, merged, skipped = _write_contacts(batch, report)
            batch.status = ImportStatus.DONE
            batch.created_count, batch.merged_count, batch.skipped_count = created, merged, skipped
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "created_count", "merged_count", "skipped_count", "finished_at"])
            # The counts stay, and the rows the owner's list of what was skipped or changed
            # needs (for REPORT_KEPT_FOR); the rest of the copy of the file goes.
            ImportRow.objects.filter(batch=batch).exclude(_reported()).delete()
    except Exception:
        logger.exception("Contact import %s failed; rolled back", batch_id)
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            error=(
                "The import stopped part way, so nothing was imported and your contacts are as they were. "
                "You can try again; if it fails again, check the file or import it in smaller parts."
            ),
        )
        batch.refresh_from_db()
    finally:
        cache.delete(batch.progress_key)
    return batch


def _write_contacts(batch: ImportBatch, report: ProgressCallback) -> tuple[int, int, int]:
    owner = batch.owner
    rows = list(batch.rows.only("line", "data", "kind", "action", "match_id", "match_line"))
    total = len(rows)
    wanted_matches = {row.match_id for row in rows if row.action == RowAction.MERGE and row.match_id}
    existing = Contact.objects.owned_by(owner).in_bulk(wanted_matches) if wanted_matches else {}

    new: list[Contact] = []
    changed: dict[int, Contact] = {}
    changed_fields: set[str] = set()
    by_line: dict[int, Contact] = {}
    tags_for: dict[int, tuple[Contact, set[str]]] = {}  # keyed by id(contact): new ones have no pk yet
    created = merged = skipped = 0
    for row in rows:
        if row.action == RowAction.SKIP or row.kind == RowKind.INVALID:
            skipped += 1
            continue
        target = None
        if row.action == RowAction.MERGE:
            target = existing.get(row.match_id) if row.match_id else by_line.get(row.match_line)
        if target is not None:
            fields = merge_into(target, row.data)
            if fields and target.pk:
                changed[target.pk] = target
                changed_fields |= fields
            merged += 1
        else:
            # Merging into a contact deleted since the preview, or into a skipped row, adds.
            target = Contact(owner=owner, **_new_contact_values(row.data, batch=batch))
            new.append(target)
            created += 1
        by_line[row.line] = target
        if row.data.get("tags"):
            tags_for.setdefault(id(target), (target, set()))[1].update(row.data["tags"])

    done = skipped
    report(done, total)
    for chunk in _chunks(new, WRITE_CHUNK):
        Contact.objects.bulk_create(chunk)
        done += len(chunk)
        report(min(done, total), total)
    now = timezone.now()
    for contact in changed.values():
        contact.updated_at = now  # bulk_update does not touch auto_now fields
    for chunk in _chunks(list(changed.values()), UPDATE_CHUNK):
        Contact.objects.bulk_update(chunk, [*sorted(changed_fields), "updated_at"])
        done += len(chunk)
        report(min(done, total), total)
    _add_tags(owner, tags_for.values())
    report(total, total)
    return created, merged, skipped


def _new_contact_values(data: dict, *, batch: ImportBatch) -> dict:
    values = {"time_zone": batch.owner.time_zone, "strength": Strength.ACQUAINTED}
    values.update(contact_values(data))
    return values


def merge_into(contact: Contact, data: dict) -> set[str]:
    """Fill what the contact lacks from an imported row; never overwrite what the owner wrote.

    Notes and "how we know" that differ are appended, so nothing from either side is lost.
    A "do not contact" in the file is kept: dropping it would be the costly mistake.
    """
    values = contact_values(data)
    changed: set[str] = set()
    if values.get("email") and not contact.email and contact.email_unusable:
        # An address we can send to replaces one we cannot; the old one stays in the notes.
        values["notes"] = "\n\n".join(
            part
            for part in (
                values.get("notes", ""),
                f"Earlier address, which can't receive email: {contact.email_unusable}",
            )
            if part
        )
        contact.email_unusable = ""
        changed.add("email_unusable")
    for name in MERGE_FILL:
        if values.get(name) and not getattr(contact, name):
            setattr(contact, name, values[name])
            changed.add(name)
    if values.get("email_unusable") and not contact.email and not contact.email_unusable:
        contact.email_unusable = values["email_unusable"]
        changed.add("email_unusable")
    # The same person under another address (one profile, two inboxes): kept in the notes.
    others = [
        values.get(name)
        for name in ("email", "email_unusable")
        if values.get(name) and values[name].lower() not in (contact.email.lower(), contact.email_unusable.lower())
    ]
    if others and (line := "Other email from an import: " + ", ".join(others)) not in contact.notes:
        contact.notes = f"{contact.notes}\n\n{line}" if contact.notes else line
        changed.add("notes")
    for name in MERGE_APPEND:
        incoming = values.get(name, "")
        current = getattr(contact, name)
        # Imported text has "\n" line ends; text typed into a browser form has "\r\n".
        if incoming and incoming not in current.replace("\r\n", "\n"):
            setattr(contact, name, f"{current}\n\n{incoming}" if current else incoming)
            changed.add(name)
    if values.get("do_not_contact") and not contact.do_not_contact:
        contact.do_not_contact = True
        changed.add("do_not_contact")
    return changed


def _add_tags(owner: User, contacts_and_names: Iterable[tuple[Contact, set[str]]]) -> None:
    """Tag imported contacts in a fixed number of queries, reusing the owner's tags whatever their case."""
    contacts_and_names = list(contacts_and_names)
    if not contacts_and_names:
        return
    wanted = {name.lower(): name for _, names in contacts_and_names for name in names}
    existing = {tag.name.lower(): tag for tag in Tag.objects.filter(owner=owner)}
    missing = [Tag(owner=owner, name=name) for lowered, name in wanted.items() if lowered not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name.lower(): tag for tag in Tag.objects.filter(owner=owner)}
    through = Contact.tags.through
    links = [
        through(contact_id=contact.pk, tag_id=existing[name.lower()].pk)
        for contact, names in contacts_and_names
        for name in names
    ]
    through.objects.bulk_create(links, batch_size=WRITE_CHUNK, ignore_conflicts=True)


def _reported() -> Q:
    """The rows the result page lists: skipped, or imported with a value changed or set aside."""
    return Q(action=RowAction.SKIP) | ~Q(warnings=[])


def import_report(batch: ImportBatch) -> QuerySet[ImportRow]:
    """What was skipped or changed in a finished import, in file order."""
    return batch.rows.filter(_reported()).select_related("match").order_by("line")


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A preview is a copy of someone's file: kept for a week, then dropped.
PREVIEW_KEPT_FOR = dt.timedelta(days=7)
# The list of what was skipped or changed, a copy of part of the file: kept for a month.
REPORT_KEPT_FOR = dt.timedelta(days=30)
# Queued or running this long means the task was lost (a worker died, a broker was wiped).
LOST_AFTER = dt.timedelta(hours=2)
# Reading even the largest file takes seconds: this long means the task was lost.
PARSE_LOST_AFTER = dt.timedelta(minutes=15)


def import_cleanup(*, now: dt.datetime) -> dict[str, int]:
    """Drop old previews and reports, and fail imports whose task was lost, so nothing waits for ever."""
    _, deleted = ImportBatch.objects.filter(
        status__in=[ImportStatus.PREVIEWED, ImportStatus.REFUSED], created_at__lt=now - PREVIEW_KEPT_FOR
    ).delete()
    dropped = deleted.get(ImportBatch._meta.label, 0)
    ImportRow.objects.filter(batch__status=ImportStatus.DONE, batch__finished_at__lt=now - REPORT_KEPT_FOR).delete()
    ImportBatch.objects.filter(status=ImportStatus.PARSING, created_at__lt=now - PARSE_LOST_AFTER).update(
        status=ImportStatus.REFUSED,
        upload=b"",
        finished_at=now,
        error="Your file was not read in time (the importer may have restarted). Please upload it again.",
    )
    lost = ImportBatch.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], created_at__lt=now - LOST_AFTER
    ).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        error="The import did not finish, so nothing was imported and your contacts are as they were. "
        "Your choices are kept: you can start it again.",
    )
    return {"previews_dropped": dropped, "imports_failed": lost}
