"""The import and export pages: upload → preview → confirm → progress, and downloads."""

import csv
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import fileformats, services
from contacts import views as contact_views
from contacts.fileformats import MAX_FILE_BYTES, parse_upload
from contacts.models import Contact, ImportBatch, ImportStatus, RowAction, RowKind, Strength, Tag
from tests.conftest import login
from tests.contacts.import_samples import linkedin_csv, linkedin_rows, vcard_file
from tests.factories import ContactFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def upload(client, raw: bytes, name: str = "Connections.csv"):
    return client.post(reverse("contacts:import"), {"file": SimpleUploadedFile(name, raw)})


def make_batch(owner, raw: bytes | None = None) -> ImportBatch:
    raw = linkedin_csv() if raw is None else raw
    return services.import_preview(owner=owner, parsed=parse_upload("Connections.csv", raw), filename="Connections.csv")


# --- Upload and preview -----------------------------------------------------------


def test_upload_page_offers_the_formats_and_the_exports(client, connector):
    page = login(client, connector).get(reverse("contacts:import")).content.decode()

    assert 'enctype="multipart/form-data"' in page
    assert "Connections.csv" in page
    assert reverse("contacts:export_csv") in page
    assert reverse("contacts:export_vcard") in page


def test_upload_shows_a_preview_and_saves_no_contact(client, connector, django_capture_on_commit_callbacks):
    ContactFactory(owner=connector, name="Robert Chen", email="bo.chen@example.com")
    login(client, connector)

    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file
        response = upload(client, linkedin_csv())

    batch = ImportBatch.objects.get(owner=connector)
    assert response.status_code == 302
    assert response["Location"] == batch.get_absolute_url()
    assert Contact.objects.owned_by(connector).count() == 1
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "Ann Lee" in page
    assert "Exact duplicate" in page
    assert "Robert Chen" in page  # the contact it duplicates
    assert "Importing will add <strong>2</strong> new contacts, merge <strong>1</strong>" in page
    assert 'name="row-' in page


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("Connections.xlsx", b"PK\x03\x04\x00\x00", "Excel workbook"),
        (
            "Connections.csv",
            b"First Name,Last Name\r\nAnn,L\x81e\r\n",
            "Line 2: the file is not UTF-8 or Windows-1252 text",
        ),
        ("Connections.csv", b"Ann,Lee,,,,,\r\n", "no header row"),
        ("Connections.csv", b"Vorname,Nachname,E-Mail-Adresse\r\nAnn,Lee,\r\n", "“Vorname”, “Nachname”"),
        ("Connections.csv", b"", "The file is empty"),
    ],
)
def test_bad_file_is_refused_on_the_page_with_422(client, connector, name, raw, message):
    response = upload(login(client, connector), raw, name)

    page = response.content.decode()
    assert response.status_code == 422
    assert message in page
    assert "Nothing was imported" in page
    assert 'type="file"' in page  # the form is still there to try again
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (linkedin_csv(["Ann,Lee,,,,,", "Bo,Chen,,,,"]), "Line 6: this row has 6 fields but the header has 7."),
        (linkedin_csv([]), "no contacts"),
    ],
)
def test_a_file_the_worker_cannot_read_says_why_beside_a_form_to_try_again(
    client, connector, raw, message, django_capture_on_commit_callbacks
):
    login(client, connector)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, raw)

    batch = ImportBatch.objects.get(owner=connector)
    assert response.status_code == 302
    assert batch.status == ImportStatus.REFUSED
    assert bytes(batch.upload) == b""  # the copy of the file is not kept
    page = client.get(batch.get_absolute_url()).content.decode()
    assert message in page
    assert "Nothing was imported, and your contacts are as they were." in page
    assert 'type="file"' in page
    assert not Contact.objects.exists()


def test_file_over_the_size_limit_is_refused_before_reading(client, connector):
    response = upload(login(client, connector), b"x" * (MAX_FILE_BYTES + 1))

    assert response.status_code == 422
    assert "the most we can import at once is 5 MB" in response.content.decode()


def test_upload_without_a_file_is_refused(client, connector):
    response = login(client, connector).post(reverse("contacts:import"), {})

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_preview_filters_by_kind_and_pages(client, connector):
    batch = make_batch(connector, linkedin_csv([*linkedin_rows(150), ",,,,,,1 Jan 2020"]))
    login(client, connector)

    invalid = client.get(batch.get_absolute_url() + "?kind=invalid").content.decode()
    second = client.get(batch.get_absolute_url() + "?page=2").content.decode()

    assert "there is no name, email address or profile URL" in invalid
    assert "First0 Last0" not in invalid
    assert "Rows 101–151 of 151" in second


def test_preview_query_count_does_not_grow_with_rows(client, connector, django_assert_max_num_queries):
    small = make_batch(connector, linkedin_csv(linkedin_rows(5)))
    large = make_batch(connector, linkedin_csv(linkedin_rows(300)))
    login(client, connector)
    client.get(small.get_absolute_url())  # session and user are warm

    with django_assert_max_num_queries(8):
        client.get(small.get_absolute_url())
    with django_assert_max_num_queries(8):
        client.get(large.get_absolute_url())


# --- Choices ----------------------------------------------------------------------


def test_choosing_one_row_with_htmx_answers_with_the_new_summary(client, connector):
    batch = make_batch(connector)
    ann = batch.rows.get(data__name="Ann Lee")

    response = login(client, connector).post(
        reverse("contacts:import_choices", args=[batch.pk]), {f"row-{ann.pk}": "skip"}, **HTMX
    )

    ann.refresh_from_db()
    assert ann.action == RowAction.SKIP
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="import-summary"' in page
    assert "Importing will add <strong>2</strong>" in page
    assert "<html" not in page


def test_choosing_every_row_of_a_kind(client, connector):
    batch = make_batch(connector, linkedin_csv(linkedin_rows(20)))

    response = login(client, connector).post(
        reverse("contacts:import_choices", args=[batch.pk]), {"all_kind": "new", "all_action": "skip", "kind": "new"}
    )

    assert response.status_code == 302
    assert response["Location"] == batch.get_absolute_url() + "?kind=new"
    assert set(batch.rows.values_list("action", flat=True)) == {RowAction.SKIP}


# --- Confirm, progress, done ------------------------------------------------------


def test_confirm_runs_the_import_and_the_page_shows_the_counts(client, connector, django_capture_on_commit_callbacks):
    existing = ContactFactory(owner=connector, name="Bo Chen", email="bo.chen@example.com", organisation="")
    batch = make_batch(connector)
    rows = {row.name: row for row in batch.rows.all()}
    login(client, connector)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("contacts:import_confirm", args=[batch.pk]), {f"row-{rows['Ann Lee'].pk}": "skip"}
        )

    assert len(callbacks) == 1  # the Celery task, enqueued once the choices are committed
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (1, 1, 1)
    existing.refresh_from_db()
    assert existing.organisation == "Beta Labs"
    assert Contact.objects.get(owner=connector, name="Zoë Ångström").strength == Strength.ONLINE_ONLY
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "1 new contact" in page
    assert "1 into contacts you had" in page
    assert 'hx-trigger="every 1s"' not in page


def test_confirm_with_htmx_is_told_where_to_go(client, connector, django_capture_on_commit_callbacks):
    batch = make_batch(connector)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, connector).post(reverse("contacts:import_confirm", args=[batch.pk]), **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == batch.get_absolute_url()


def test_progress_fragment_polls_while_running_and_stops_when_done(client, connector):
    batch = make_batch(connector)
    services.import_confirm(batch=batch, enqueue=False)
    login(client, connector)

    queued = client.get(batch.get_absolute_url(), **HTMX).content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING)
    cache.set(batch.progress_key, 2)
    running = client.get(batch.get_absolute_url(), **HTMX).content.decode()
    cache.delete(batch.progress_key)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
    services.import_run(batch_id=batch.pk)
    done = client.get(batch.get_absolute_url(), **HTMX).content.decode()

    assert 'hx-trigger="every 1s"' in queued
    assert "Waiting for the importer to start" in queued
    assert 'hx-trigger="every 1s"' in running
    assert '<progress max="3" value="2"' in running
    assert "2 of 3 rows" in running
    assert 'hx-trigger="every 1s"' not in done
    assert "3 new contacts" in done
    assert "<html" not in done


def test_a_failed_import_says_so_and_can_be_tried_again(
    client, connector, monkeypatch, django_capture_on_commit_callbacks
):
    batch = make_batch(connector)
    login(client, connector)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Contact.objects, "bulk_create", broken)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_confirm", args=[batch.pk]))
    page = client.get(batch.get_absolute_url()).content.decode()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_confirm", args=[batch.pk]))

    assert "your contacts are as they were" in page
    assert 'name="row-' in page  # the choices, to try again
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert Contact.objects.owned_by(connector).count() == 3


def test_confirming_twice_imports_once(client, connector, django_capture_on_commit_callbacks):
    batch = make_batch(connector)
    login(client, connector)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_confirm", args=[batch.pk]))
    with django_capture_on_commit_callbacks(execute=True) as second:
        response = client.post(reverse("contacts:import_confirm", args=[batch.pk]), follow=True)

    assert second == []
    assert "it can no longer change" in response.content.decode()
    assert Contact.objects.owned_by(connector).count() == 3


def test_discard_removes_the_preview_and_changes_no_contact(client, connector):
    ContactFactory(owner=connector)
    batch = make_batch(connector)

    response = login(client, connector).post(reverse("contacts:import_discard", args=[batch.pk]))

    assert response.status_code == 302
    assert not ImportBatch.objects.exists()
    assert Contact.objects.owned_by(connector).count() == 1


# --- Who may see and change a batch ----------------------------------------------------


@pytest.mark.parametrize("who", ["member", "outsider"])
@pytest.mark.parametrize("name", ["contacts:import_detail"])
def test_someone_elses_import_is_404(client, request, connector, who, name):
    batch = make_batch(connector)

    response = login(client, request.getfixturevalue(who)).get(reverse(name, args=[batch.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("who", ["member", "outsider"])
@pytest.mark.parametrize("name", ["contacts:import_choices", "contacts:import_confirm", "contacts:import_discard"])
def test_someone_else_cannot_act_on_an_import(client, request, connector, who, name):
    batch = make_batch(connector)
    row = batch.rows.first()

    response = login(client, request.getfixturevalue(who)).post(
        reverse(name, args=[batch.pk]), {f"row-{row.pk}": "skip"}
    )

    assert response.status_code == 404
    batch.refresh_from_db()
    row.refresh_from_db()
    assert (batch.status, row.action) == (ImportStatus.PREVIEWED, RowAction.ADD)


@pytest.mark.parametrize("name", ["contacts:import_choices", "contacts:import_confirm", "contacts:import_discard"])
def test_get_changes_nothing(client, connector, name):
    batch = make_batch(connector)

    response = login(client, connector).get(reverse(name, args=[batch.pk]))

    assert response.status_code == 405
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


@pytest.mark.parametrize(
    "url",
    [
        reverse("contacts:import"),
        reverse("contacts:import_detail", args=[1]),
        reverse("contacts:export_csv"),
        reverse("contacts:export_vcard"),
    ],
)
def test_import_and_export_need_a_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_owner_row_choices_cannot_reach_another_batch(client, connector):
    mine = make_batch(connector)
    theirs_owner = ContactFactory().owner
    theirs = make_batch(theirs_owner)
    their_row = theirs.rows.first()

    login(client, connector).post(reverse("contacts:import_choices", args=[mine.pk]), {f"row-{their_row.pk}": "skip"})

    their_row.refresh_from_db()
    assert their_row.action == RowAction.ADD


# --- Export ------------------------------------------------------------------------------


def test_csv_export_is_the_owners_contacts_with_formulas_neutralised(client, connector, outsider):
    carol = ContactFactory(owner=connector, name='=HYPERLINK("http://evil")', organisation="+Acme", title="@boss")
    carol.tags.add(Tag.objects.create(owner=connector, name="-minus"))
    ContactFactory(owner=outsider, name="Not Mine")

    response = login(client, connector).get(reverse("contacts:export_csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="warm-intros-contacts-')
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeffName,Email,Organisation,Title,Profile URL,Connected On,Strength")
    header, row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    cells = dict(zip(header, row, strict=True))
    assert cells["Name"] == '\'=HYPERLINK("http://evil")'
    assert cells["Organisation"] == "'+Acme"
    assert cells["Title"] == "'@boss"
    assert cells["Tags"] == "'-minus"
    assert "Not Mine" not in text


def test_vcard_export_is_the_owners_contacts(client, connector, outsider):
    ContactFactory(owner=connector, name="Carol Target", email="carol@example.org")
    ContactFactory(owner=outsider, name="Not Mine")

    response = login(client, connector).get(reverse("contacts:export_vcard"))

    text = response.getvalue().decode()
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert text.count("BEGIN:VCARD") == 1
    assert "FN:Carol Target" in text
    assert "Not Mine" not in text


@pytest.mark.parametrize("name", ["contacts:export_csv", "contacts:export_vcard"])
def test_exports_stream_in_pieces_with_a_constant_number_of_queries(
    client, connector, name, monkeypatch, django_assert_max_num_queries
):
    """The file is sent as it is written, read through a cursor a chunk of rows at a time, so a
    large address book neither waits for the whole file nor holds it in memory; tags come joined
    in the same query, never one per contact or per chunk."""
    monkeypatch.setattr(contact_views, "EXPORT_CHUNK", 10)
    monkeypatch.setattr(fileformats, "ROWS_PER_PIECE", 10)
    for n in range(30):
        contact = ContactFactory(owner=connector)
        contact.tags.add(*(Tag.objects.get_or_create(owner=connector, name=f"zebra{k}")[0] for k in range(n % 3)))
    login(client, connector)

    # The session, the user, then the contacts with their tags: one cursor, fetched 10 rows at a time.
    with django_assert_max_num_queries(3):
        response = client.get(reverse(name))
        pieces = list(response.streaming_content)

    assert response.streaming
    assert len(pieces) >= 3
    text = b"".join(pieces).decode()
    assert text.count("zebra") == 30  # 10 contacts with none, 10 with one, 10 with two


def test_for_export_gives_each_contact_once_in_order_with_its_tags_sorted(connector, outsider):
    tag = {name: Tag.objects.create(owner=connector, name=name) for name in ("zeta", "alpha", "mid")}
    bob = ContactFactory(owner=connector, name="Bob")
    bob.tags.add(tag["zeta"], tag["alpha"], tag["mid"])
    ContactFactory(owner=connector, name="Ann")
    ContactFactory(owner=connector, name="Bob").tags.add(tag["mid"])  # the same name: by id after name
    ContactFactory(owner=outsider, name="Abe").tags.add(Tag.objects.create(owner=outsider, name="alpha"))

    rows = list(Contact.objects.owned_by(connector).order_by("name", "pk").for_export("name", chunk_size=2))

    assert [(row.name, tags) for row, tags in rows] == [
        ("Ann", []),
        ("Bob", ["alpha", "mid", "zeta"]),
        ("Bob", ["mid"]),
    ]
    assert rows[1][0].id == bob.pk


@pytest.mark.parametrize(
    ("name", "filename"), [("contacts:export_csv", "export.csv"), ("contacts:export_vcard", "export.vcf")]
)
def test_export_then_import_through_the_pages_gives_the_same_contacts(
    client, connector, outsider, name, filename, django_capture_on_commit_callbacks
):
    ContactFactory(owner=connector, name="Carol Target", email="carol@example.org", strength=Strength.CLOSE)
    ContactFactory(owner=connector, name="-Dash Person", email="", organisation="=Formula Ltd")
    exported = login(client, connector).get(reverse(name)).getvalue()

    login(client, outsider)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, exported, filename)
    batch = ImportBatch.objects.get(owner=outsider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_confirm", args=[batch.pk]))

    fields = ("name", "email", "organisation", "strength")
    mine = list(Contact.objects.owned_by(connector).order_by("name").values_list(*fields))
    assert list(Contact.objects.owned_by(outsider).order_by("name").values_list(*fields)) == mine


# --- The list page -------------------------------------------------------------------


def test_contact_list_links_to_import_and_export(client, connector):
    ContactFactory(owner=connector)

    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert reverse("contacts:import") in page
    assert reverse("contacts:export_csv") in page
    assert reverse("contacts:export_vcard") in page


def test_empty_contact_list_offers_the_import(client, connector):
    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert "No contacts yet" in page
    assert "import them from LinkedIn" in page
    assert reverse("contacts:import") in page


def test_vcard_upload_through_the_page(client, connector, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(login(client, connector), vcard_file(), "contacts.vcf")

    batch = ImportBatch.objects.get(owner=connector)
    assert response.status_code == 302
    assert batch.source == "vcard"
    assert batch.rows.filter(kind=RowKind.NEW).count() == 3


def test_broker_away_fails_the_import_with_a_message_instead_of_waiting_forever(
    client, connector, monkeypatch, django_capture_on_commit_callbacks
):
    from contacts.tasks import run_import

    def broker_away(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(run_import, "delay", broker_away)
    batch = make_batch(connector)

    with django_capture_on_commit_callbacks(execute=True):
        login(client, connector).post(reverse("contacts:import_confirm", args=[batch.pk]))
    response = client.get(batch.get_absolute_url())

    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert "The importer could not be reached, so nothing was imported." in response.content.decode()
    assert not Contact.objects.exists()
