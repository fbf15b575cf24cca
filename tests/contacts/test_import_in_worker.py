"""The upload returns at once; a worker reads the file, with progress the page polls; a file
over the row limit is refused naming the limit and its count; uploads are rate limited."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import fileformats, services
from contacts.models import Contact, ImportBatch, ImportRow, ImportStatus, RowKind
from tests.conftest import login
from tests.contacts.import_samples import LINKEDIN_HEADER, linkedin_csv, linkedin_rows, vcard_file

HTMX = {"HTTP_HX_REQUEST": "true"}


def upload(client, raw: bytes, name: str = "Connections.csv"):
    return client.post(reverse("contacts:import"), {"file": SimpleUploadedFile(name, raw)})


def test_the_upload_reads_no_row_in_the_request(client, connector, monkeypatch, django_capture_on_commit_callbacks):
    """The class of the 30 s upload: nothing that grows with the rows runs before the answer."""

    def no_rows_in_the_request(*args, **kwargs):
        raise AssertionError("a row was read inside the upload request")

    monkeypatch.setattr(fileformats, "clean_row", no_rows_in_the_request)
    login(client, connector)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, linkedin_csv(linkedin_rows(2_000)))

    batch = ImportBatch.objects.get(owner=connector)
    assert response.status_code == 302
    assert response["Location"] == batch.get_absolute_url()
    assert batch.status == ImportStatus.PARSING
    assert batch.source == "linkedin"  # the header was checked at the door
    assert not batch.rows.exists()
    assert len(callbacks) == 1  # the worker is asked once the upload is committed


def test_upload_queries_do_not_grow_with_the_file(client, connector, django_assert_max_num_queries):
    login(client, connector)
    upload(client, linkedin_csv(linkedin_rows(5)))  # session and user are warm

    with django_assert_max_num_queries(8):
        upload(client, linkedin_csv(linkedin_rows(5)))
    with django_assert_max_num_queries(8):
        upload(client, linkedin_csv(linkedin_rows(20_000)))


def test_the_page_polls_the_reading_then_turns_into_the_preview(client, connector, django_capture_on_commit_callbacks):
    login(client, connector)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, linkedin_csv(linkedin_rows(3_500)))
    batch = ImportBatch.objects.get(owner=connector)

    waiting = client.get(batch.get_absolute_url()).content.decode()
    cache.set(batch.parse_progress_key, (2_000, 3_500))
    reading = client.get(batch.get_absolute_url() + "?reading=1", **HTMX)
    cache.delete(batch.parse_progress_key)
    for callback in callbacks:  # the worker reads the file
        callback()
    done = client.get(batch.get_absolute_url() + "?reading=1", **HTMX)
    preview = client.get(batch.get_absolute_url()).content.decode()

    assert "Reading your file…" in waiting
    assert "Waiting for the importer to start." in waiting
    assert 'hx-trigger="every 1s"' in waiting
    body = reading.content.decode()
    assert "<html" not in body
    assert '<progress max="3500" value="2000"' in body
    assert "2,000 of 3,500 rows read" in body
    assert done.status_code == 200
    assert done["HX-Refresh"] == "true"  # the whole page changes, into the preview
    assert "Importing will add <strong>3500</strong> new contacts" in preview
    assert cache.get(batch.parse_progress_key) is None


def test_the_worker_reports_its_progress_to_the_cache(connector, monkeypatch):
    monkeypatch.setattr(fileformats, "PROGRESS_EVERY", 100)
    batch = services.import_upload(
        owner=connector, filename="Connections.csv", raw=linkedin_csv(linkedin_rows(250)), enqueue=False
    )
    seen = []

    def progress(done, total):
        seen.append((done, total, cache.get(batch.parse_progress_key)))

    batch = services.import_parse(batch_id=batch.pk, progress=progress)

    assert [(done, total) for done, total, _ in seen] == [(100, 250), (200, 250), (250, 250)]
    assert all(cached == (done, total) for done, total, cached in seen)  # what the polling page reads
    assert batch.status == ImportStatus.PREVIEWED
    assert batch.total == 250
    assert bytes(batch.upload) == b""  # the copy of the file goes once its rows are held
    assert cache.get(batch.parse_progress_key) is None


def test_reading_twice_reads_once(connector):
    batch = services.import_upload(owner=connector, filename="c.csv", raw=linkedin_csv(), enqueue=False)

    services.import_parse(batch_id=batch.pk)
    again = services.import_parse(batch_id=batch.pk)

    assert again.status == ImportStatus.PREVIEWED
    assert ImportRow.objects.filter(batch=batch).count() == 3
    assert services.import_parse(batch_id=0) is None


# --- The row limit ------------------------------------------------------------------------


def test_the_row_limit_defaults_to_fifty_thousand():
    from django.conf import settings

    assert settings.IMPORT_MAX_ROWS == 50_000


def test_a_file_of_many_short_rows_is_refused_naming_the_limit_and_its_count(
    client, connector, django_capture_on_commit_callbacks
):
    """The 5 MB file of 535,000 short rows that took the site down: now a message."""
    raw = (LINKEDIN_HEADER + "A,B,,,,,\n" * 535_000).encode()
    assert len(raw) <= fileformats.MAX_FILE_BYTES
    login(client, connector)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, raw)

    batch = ImportBatch.objects.get(owner=connector)
    assert response.status_code == 302
    assert batch.status == ImportStatus.REFUSED
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "The file has 535,000 contacts; the most one import can take is 50,000." in page
    assert "Split it into files of up to 50,000 rows" in page
    assert 'type="file"' in page  # the form to try again is right there
    assert not batch.rows.exists()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (linkedin_csv(linkedin_rows(11)), "Connections.csv"),
        (vcard_file() * 4, "contacts.vcf"),  # twelve cards
    ],
)
def test_the_row_limit_holds_for_every_format(connector, settings, raw, name):
    settings.IMPORT_MAX_ROWS = 10
    batch = services.import_upload(owner=connector, filename=name, raw=raw, enqueue=False)

    batch = services.import_parse(batch_id=batch.pk)

    assert batch.status == ImportStatus.REFUSED
    assert "the most one import can take is 10." in batch.error
    assert "The file has 1" in batch.error
    assert not batch.rows.exists()


def test_a_file_at_the_limit_is_read(connector, settings):
    settings.IMPORT_MAX_ROWS = 10
    batch = services.import_upload(
        owner=connector, filename="c.csv", raw=linkedin_csv(linkedin_rows(10)), enqueue=False
    )

    assert services.import_parse(batch_id=batch.pk).status == ImportStatus.PREVIEWED
    assert batch.rows.filter(kind=RowKind.NEW).count() == 10


def test_the_upload_page_names_both_limits(client, connector, settings):
    settings.IMPORT_MAX_ROWS = 12_345

    page = login(client, connector).get(reverse("contacts:import")).content.decode()

    assert "Up to 5 MB and 12,345 contacts a file." in page


# --- When the worker is away ----------------------------------------------------------------


def test_broker_away_at_upload_says_so_instead_of_waiting_forever(
    client, connector, monkeypatch, django_capture_on_commit_callbacks
):
    from contacts.tasks import parse_import

    def broker_away(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(parse_import, "delay", broker_away)
    login(client, connector)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, linkedin_csv())

    batch = ImportBatch.objects.get(owner=connector)
    assert batch.status == ImportStatus.REFUSED
    assert (
        "The importer could not be reached, so your file was not read."
        in client.get(batch.get_absolute_url()).content.decode()
    )


def test_cleanup_refuses_a_file_whose_reading_was_lost(connector):
    lost = services.import_upload(owner=connector, filename="c.csv", raw=linkedin_csv(), enqueue=False)
    fresh = services.import_upload(owner=connector, filename="d.csv", raw=linkedin_csv(), enqueue=False)
    now = dt.datetime.now(dt.UTC)
    ImportBatch.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(minutes=20))

    services.import_cleanup(now=now)

    lost.refresh_from_db()
    assert lost.status == ImportStatus.REFUSED
    assert "Please upload it again" in lost.error
    assert bytes(lost.upload) == b""
    assert ImportBatch.objects.get(pk=fresh.pk).status == ImportStatus.PARSING


def test_a_file_being_read_cannot_be_removed_under_the_worker(client, connector):
    batch = services.import_upload(owner=connector, filename="c.csv", raw=linkedin_csv(), enqueue=False)

    response = login(client, connector).post(reverse("contacts:import_discard", args=[batch.pk]), follow=True)

    assert "is being read; it can be removed once that is done" in response.content.decode()
    assert ImportBatch.objects.filter(pk=batch.pk).exists()
