""" "Download all my data", prepared by a worker rather than in the request.

A large account's file is tens of megabytes and takes seconds to write, longer than a web
request may hold a worker. So the settings page asks for it (`data_export_request`, a row
that says "requested"), a Celery task writes it (`workflows.personal_data.do_build_data_export`: the JSON streamed
record by record into a temporary file, then saved to the "data_exports" storage), the page
polls until it is ready, and an email says so with a link to that page, which needs a log-in.
The owner downloads it from there for DATA_EXPORT_KEPT_DAYS; then the beat sweep deletes it
(`data_export_sweep`), as does the next ready file and deleting the account.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
import tempfile
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from lib.outbox.services import outbox_enqueue

from .models import DataExport, User

log = logging.getLogger(__name__)

Status = DataExport.Status
# Requested this long ago and no worker has started: the enqueue after commit was lost (the
# broker was away); the sweep enqueues it again.
LOST_AFTER = dt.timedelta(minutes=5)
# Preparing for this long: the worker died with it. The sweep says so, and the person may ask again.
STALLED_AFTER = dt.timedelta(hours=1)
FAILED_MESSAGE = "Something went wrong while we prepared your file, and it was not finished. Please ask for it again."
STALLED_MESSAGE = "Preparing your file took too long and was stopped. Please ask for it again."


def storage() -> Storage:
    return storages["data_exports"]


def kept_for() -> dt.timedelta:
    return dt.timedelta(days=settings.DATA_EXPORT_KEPT_DAYS)


def data_export_current(*, user: User, now: dt.datetime | None = None) -> DataExport | None:
    """The person's latest download, in progress, ready or failed; None when there is none,
    or when its file is past its days (the sweep deletes it within minutes)."""
    export = DataExport.objects.filter(user=user).order_by("-requested_at", "-pk").first()
    if export is not None and export.status == Status.READY and not export.is_ready(now=now or timezone.now()):
        return None
    return export


def data_export_request(*, user: User) -> tuple[DataExport, bool]:
    """Ask for a new file unless one is already on its way: (the export, whether it is new).
    The worker starts after commit."""
    existing = DataExport.objects.in_progress().filter(user=user).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            transaction.on_commit(lambda: _enqueue_build(export.pk))
    except IntegrityError:  # another tab asked at the same moment (data_export_one_in_progress)
        return DataExport.objects.in_progress().get(user=user), False
    return export, True


def _enqueue_build(export_id: int) -> None:
    from .tasks import build_data_export

    try:
        build_data_export.delay(export_id)
    except Exception:  # the broker is away: the sweep enqueues it again
        log.warning("Data export %s waits for the sweep: broker unreachable", export_id, exc_info=True)


def data_export_build(*, export_id: int, write: Callable[..., None]) -> DataExport | None:
    """Write the file with `write(user=…, out=…)` and mark it ready, then email its owner.
    Returns None, doing nothing, when it is already being prepared, ready, or gone (a task
    delivered twice). The worker runs it as `workflows.personal_data.do_build_data_export`,
    which gives the writer of every app's parts."""
    claimed = DataExport.objects.filter(pk=export_id, status=Status.REQUESTED).update(
        status=Status.BUILDING, started_at=timezone.now()
    )
    if not claimed:
        return None
    export = DataExport.objects.select_related("user").get(pk=export_id)
    name = f"{export.user_id}/{secrets.token_hex(16)}.json"
    try:
        name, size = _write(export.user, name, write)
    except Exception:
        log.exception("Data export %s failed", export_id)
        DataExport.objects.filter(pk=export_id, status=Status.BUILDING).update(
            status=Status.FAILED, error=FAILED_MESSAGE
        )
        return None
    with transaction.atomic():
        export = DataExport.objects.select_for_update().filter(pk=export_id, status=Status.BUILDING).first()
        if export is None:  # the account was deleted meanwhile, or the sweep gave up on it
            transaction.on_commit(lambda: storage().delete(name))
            return None
        now = timezone.now()
        export.status, export.path, export.size = Status.READY, name, size
        export.ready_at, export.expires_at = now, now + kept_for()
        export.save(update_fields=["status", "path", "size", "ready_at", "expires_at"])
        # One file per person: the one before (or a failed attempt) goes.
        _discard(
            DataExport.objects.filter(user_id=export.user_id)
            .exclude(pk=export.pk)
            .exclude(status__in=DataExport.IN_PROGRESS)
        )
        _email_ready(export)
    return export


def _write(user: User, name: str, write: Callable[..., None]) -> tuple[str, int]:
    """The JSON into a temporary file (on disk, never whole in memory), then into the storage."""
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        write(user=user, out=text)
        text.flush()
        text.detach()  # the file stays open for the copy below
        size = raw.tell()
        raw.seek(0)
        saved = storage().save(name, File(raw, name=name))
    return saved, size


def _email_ready(export: DataExport) -> None:
    user = export.user
    # Dates in the email are the person's own.
    with timezone.override(zoneinfo.ZoneInfo(user.time_zone)):
        outbox_enqueue(
            to=[user.email],
            subject="Your Warm Intros data is ready to download",
            template="data_export_ready",
            context={
                "user": user,
                "export": export,
                "expires_at": timezone.localtime(export.expires_at),
                # The settings page, behind the log-in: never a link that works without one.
                "url": settings.SITE_URL + reverse("accounts:data_export"),
            },
            key=f"data-export:{export.pk}:ready",
        )


def _discard(exports: QuerySet[DataExport]) -> int:
    """Delete the rows now and their files once that is committed (a rollback keeps both)."""
    paths = [path for path in exports.values_list("path", flat=True) if path]
    deleted, _ = exports.delete()
    if paths:
        transaction.on_commit(lambda: _delete_files(paths))
    return deleted


def _delete_files(paths: list[str]) -> None:
    files = storage()
    for path in paths:
        files.delete(path)


def data_export_erase(*, user: User) -> None:
    """Part of deleting the account (inside its transaction): every download, its file, and
    anything else in the person's folder, such as a file whose worker died before recording it."""
    _discard(DataExport.objects.filter(user=user))
    folder = str(user.pk)

    def delete_folder() -> None:
        files = storage()
        if not files.exists(folder):
            return
        _, names = files.listdir(folder)
        _delete_files([f"{folder}/{name}" for name in names])

    transaction.on_commit(delete_folder)


def data_export_sweep(*, now: dt.datetime) -> dict[str, int]:
    """Beat's clean-up: files past their days go; a request no worker took is enqueued again;
    one stalled for an hour is failed with a message, so the person can ask again."""
    with transaction.atomic():
        expired = _discard(DataExport.objects.filter(status=Status.READY, expires_at__lte=now))
    lost = list(
        DataExport.objects.filter(status=Status.REQUESTED, requested_at__lt=now - LOST_AFTER).values_list(
            "pk", flat=True
        )
    )
    for export_id in lost:
        _enqueue_build(export_id)
    stalled = DataExport.objects.filter(status=Status.BUILDING, started_at__lt=now - STALLED_AFTER).update(
        status=Status.FAILED, error=STALLED_MESSAGE
    )
    return {"expired": expired, "enqueued_again": len(lost), "stalled": stalled}
