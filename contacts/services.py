"""Contact import: preview, choices, confirm, and the import itself.

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
from collections.abc import Callable, Iterable, Sequence

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User

from .fileformats import ParsedFile, contact_values
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
    return data.get("email", "").strip().lower()


def _url_key(url: str) -> str:
    """LinkedIn writes the same profile as http or https, with or without www and a slash."""
    url = url.strip().lower()
    for prefix in ("https://", "http://"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").split("?")[0].rstrip("/")


def _name_org_key(name: str, organisation: str) -> tuple[str, str]:
    return (" ".join(name.lower().split()), " ".join(organisation.lower().split()))


@transaction.atomic
def import_preview(*, owner: User, parsed: ParsedFile, filename: str) -> ImportBatch:
    """Hold a parsed file's rows, each sorted into new / exact duplicate / likely duplicate."""
    batch = ImportBatch.objects.create(
        owner=owner, source=parsed.source, filename=filename[:255], total=len(parsed.rows)
    )

    by_email: dict[str, int] = {}
    by_url: dict[str, int] = {}
    by_name_org: dict[tuple[str, str], int] = {}
    existing = (
        Contact.objects.owned_by(owner).order_by("pk").values_list("pk", "email", "profile_url", "name", "organisation")
    )
    for pk, email, url, name, organisation in existing.iterator(chunk_size=2000):
        if email:
            by_email.setdefault(email.lower(), pk)
        if url:
            by_url.setdefault(_url_key(url), pk)
        by_name_org.setdefault(_name_org_key(name, organisation), pk)

    # Earlier rows of the same file, so a file that lists someone twice adds them once.
    line_by_email: dict[str, int] = {}
    line_by_url: dict[str, int] = {}
    line_by_name_org: dict[tuple[str, str], int] = {}
    rows = []
    for parsed_row in parsed.rows:
        data = parsed_row.data
        row = ImportRow(batch=batch, line=parsed_row.line, data=data)
        if parsed_row.problem:
            row.kind, row.problem = RowKind.INVALID, parsed_row.problem
        else:
            email = _email_key(data)
            url = _url_key(data["profile_url"]) if data.get("profile_url") else ""
            name_org = _name_org_key(data["name"], data.get("organisation", ""))
            exact = (email and by_email.get(email)) or (url and by_url.get(url))
            exact_line = (email and line_by_email.get(email)) or (url and line_by_url.get(url))
            if exact:
                row.kind, row.match_id = RowKind.EXACT, exact
            elif exact_line:
                row.kind, row.match_line = RowKind.EXACT, exact_line
            elif name_org in by_name_org:
                row.kind, row.match_id = RowKind.LIKELY, by_name_org[name_org]
            elif name_org in line_by_name_org:
                row.kind, row.match_line = RowKind.LIKELY, line_by_name_org[name_org]
            else:
                row.kind = RowKind.NEW
            if email:
                line_by_email.setdefault(email, row.line)
            if url:
                line_by_url.setdefault(url, row.line)
            line_by_name_org.setdefault(name_org, row.line)
        row.action = DEFAULT_ACTION[row.kind]
        rows.append(row)
    ImportRow.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
    return batch


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
    if batch.in_progress:
        raise ImportStateError(f"“{batch.filename}” is being imported; it can be removed once it is done.")
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
            # The counts stay; the rows (a copy of the file) are not needed any more.
            ImportRow.objects.filter(batch=batch).delete()
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
    for name in MERGE_FILL:
        if values.get(name) and not getattr(contact, name):
            setattr(contact, name, values[name])
            changed.add(name)
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


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A preview is a copy of someone's file: kept for a week, then dropped.
PREVIEW_KEPT_FOR = dt.timedelta(days=7)
# Queued or running this long means the task was lost (a worker died, a broker was wiped).
LOST_AFTER = dt.timedelta(hours=2)


def import_cleanup(*, now: dt.datetime) -> dict[str, int]:
    """Drop old previews and fail imports whose task was lost, so nothing waits for ever."""
    _, deleted = ImportBatch.objects.filter(
        status=ImportStatus.PREVIEWED, created_at__lt=now - PREVIEW_KEPT_FOR
    ).delete()
    dropped = deleted.get(ImportBatch._meta.label, 0)
    lost = ImportBatch.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], created_at__lt=now - LOST_AFTER
    ).update(
        status=ImportStatus.FAILED,
        finished_at=now,
        error="The import did not finish, so nothing was imported and your contacts are as they were. "
        "Your choices are kept: you can start it again.",
    )
    return {"previews_dropped": dropped, "imports_failed": lost}
