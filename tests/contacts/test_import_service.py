"""The import's workflow: preview sorts rows, nothing is written until confirm, the
import is all or nothing, and its cost does not grow per row."""

import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts import services
from contacts.fileformats import parse_upload, write_csv, write_vcard
from contacts.models import Contact, ImportBatch, ImportRow, ImportStatus, RowAction, RowKind, Strength, Tag
from tests.contacts.import_samples import linkedin_csv, linkedin_rows, vcard_file
from tests.factories import ContactFactory, UserFactory


def preview(owner, raw: bytes, filename: str = "Connections.csv") -> ImportBatch:
    return services.import_preview(owner=owner, parsed=parse_upload(filename, raw), filename=filename)


def run(batch: ImportBatch, **kwargs) -> ImportBatch:
    services.import_confirm(batch=batch, enqueue=False)
    return services.import_run(batch_id=batch.pk, **kwargs)


def rows_by_name(batch: ImportBatch) -> dict[str, ImportRow]:
    return {row.name: row for row in batch.rows.all()}


# --- Preview ------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_sorts_rows_into_new_exact_and_likely_duplicates(connector):
    by_email = ContactFactory(owner=connector, name="Robert Chen", email="BO.CHEN@example.com")
    by_url = ContactFactory(
        owner=connector, name="Annie L.", email="", profile_url="http://linkedin.com/in/ann-lee-1234/"
    )
    by_name = ContactFactory(owner=connector, name="zoë  ångström", email="", organisation="Nordic design")
    ContactFactory(
        owner=UserFactory(), name="Ann Lee", email="", profile_url="https://www.linkedin.com/in/ann-lee-1234"
    )

    batch = preview(connector, linkedin_csv())

    rows = rows_by_name(batch)
    assert (rows["Bo Chen"].kind, rows["Bo Chen"].match, rows["Bo Chen"].action) == (RowKind.EXACT, by_email, "merge")
    assert (rows["Ann Lee"].kind, rows["Ann Lee"].match) == (RowKind.EXACT, by_url)
    assert (rows["Zoë Ångström"].kind, rows["Zoë Ångström"].match) == (RowKind.LIKELY, by_name)
    assert rows["Zoë Ångström"].action == RowAction.SKIP  # a guess changes nothing unless chosen
    assert batch.status == ImportStatus.PREVIEWED
    assert batch.total == 3


@pytest.mark.django_db
def test_preview_writes_no_contact(connector):
    before = list(Contact.objects.values_list("pk", "name", "email", "updated_at"))

    batch = preview(connector, linkedin_csv() + "\r\n".join(linkedin_rows(50)).encode())

    assert list(Contact.objects.values_list("pk", "name", "email", "updated_at")) == before
    assert batch.rows.filter(kind=RowKind.NEW).count() == 53


@pytest.mark.django_db
def test_someone_listed_twice_in_one_file_is_a_duplicate_of_their_first_line(connector):
    raw = linkedin_csv(
        [
            "Ann,Lee,https://www.linkedin.com/in/ann,ann@example.com,Acme,CTO,21 Nov 2023",
            "Ann,Lee,https://www.linkedin.com/in/ann/,,Acme,CTO,21 Nov 2023",
            "Bo,Chen,,,Beta,,21 Nov 2023",
            "Bo,Chen,,,Beta,Engineer,21 Nov 2023",
        ]
    )

    batch = run(
        preview(connector, raw),
    )

    assert batch.status == ImportStatus.DONE
    assert list(Contact.objects.owned_by(connector).values_list("name", flat=True)) == ["Ann Lee", "Bo Chen"]
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (2, 1, 1)


# --- Importing ----------------------------------------------------------------------


@pytest.mark.django_db
def test_linkedin_connections_arrive_as_online_only_with_their_connection_date(connector):
    connector.time_zone = "Europe/Berlin"
    connector.save()

    batch = run(preview(connector, linkedin_csv()))

    ann = Contact.objects.get(owner=connector, name="Ann Lee")
    assert ann.strength == Strength.ONLINE_ONLY
    assert ann.connected_on == dt.date(2023, 11, 21)
    assert ann.organisation == "Acme, Inc."
    assert ann.email == ""
    assert ann.time_zone == "Europe/Berlin"
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (3, 0, 0)
    assert not batch.rows.exists()  # the copy of the file goes once it is imported


@pytest.mark.django_db
def test_merge_fills_gaps_and_keeps_what_the_owner_wrote(connector):
    bo = ContactFactory(
        owner=connector,
        name="Bo Chen",
        email="bo.chen@example.com",
        organisation="",
        title="Staff engineer",
        strength=Strength.CLOSE,
        notes="Owes me a coffee.",
    )
    bo.tags.add(Tag.objects.create(owner=connector, name="Mentors"))

    batch = run(preview(connector, vcard_file(), filename="contacts.vcf"))

    bo.refresh_from_db()
    assert bo.organisation == "Beta Labs"  # filled in
    assert bo.title == "Staff engineer"  # kept
    assert bo.strength == Strength.CLOSE  # the owner's judgement stays
    assert bo.notes == "Owes me a coffee.\n\nIntroduced by Priya, 2021"
    assert bo.profile_url == "https://www.linkedin.com/in/bochen"
    assert batch.merged_count == 1
    adaeze = Contact.objects.get(owner=connector, name="Adaeze Okafor")
    # "mentors" reuses the owner's "Mentors" rather than making a second tag.
    assert sorted(adaeze.tags.values_list("name", flat=True)) == ["Mentors", "transport"]
    assert Tag.objects.filter(owner=connector).count() == 2


@pytest.mark.django_db
def test_choices_decide_each_row(connector):
    existing = ContactFactory(owner=connector, name="Bo Chen", email="bo.chen@example.com", organisation="Old")
    likely = ContactFactory(owner=connector, name="Zoë Ångström", email="", organisation="Nordic Design")
    batch = preview(connector, linkedin_csv())
    rows = rows_by_name(batch)

    services.import_choose(
        batch=batch,
        choices={
            rows["Ann Lee"].pk: "skip",
            rows["Bo Chen"].pk: "add",
            rows["Zoë Ångström"].pk: "merge",
            999_999: "add",  # not a row of this batch: ignored
        },
    )
    batch = services.import_run(batch_id=services.import_confirm(batch=batch, enqueue=False).pk)

    assert not Contact.objects.filter(name="Ann Lee").exists()
    assert Contact.objects.filter(owner=connector, name="Bo Chen").count() == 2
    likely.refresh_from_db()
    assert likely.profile_url == "https://www.linkedin.com/in/zoe-angstrom"
    existing.refresh_from_db()
    assert existing.organisation == "Old"
    assert (batch.created_count, batch.merged_count, batch.skipped_count) == (1, 1, 1)


@pytest.mark.django_db
def test_a_new_row_cannot_be_merged_and_an_invalid_row_cannot_be_added(connector):
    batch = preview(connector, linkedin_csv(["Ann,Lee,,,,,21 Nov 2023", ",,,,,,21 Nov 2023"]))
    ann, nobody = batch.rows.all()

    services.import_choose(batch=batch, choices={ann.pk: "merge", nobody.pk: "add"})

    ann.refresh_from_db()
    nobody.refresh_from_db()
    assert (ann.action, nobody.action) == (RowAction.ADD, RowAction.SKIP)
    assert nobody.kind == RowKind.INVALID


@pytest.mark.django_db
def test_confirmed_batch_can_no_longer_change(connector):
    batch = run(preview(connector, linkedin_csv()))

    with pytest.raises(services.ImportStateError):
        services.import_confirm(batch=batch, enqueue=False)
    with pytest.raises(services.ImportStateError):
        services.import_choose_kind(batch=batch, kind="new", action="skip")


@pytest.mark.django_db
def test_running_the_import_twice_imports_once(connector):
    batch = run(preview(connector, linkedin_csv()))

    again = services.import_run(batch_id=batch.pk)

    assert again.status == ImportStatus.DONE
    assert Contact.objects.owned_by(connector).count() == 3
    assert services.import_run(batch_id=0) is None  # gone: nothing to do


@pytest.mark.django_db
def test_progress_is_reported_as_the_rows_are_written(connector, monkeypatch):
    monkeypatch.setattr(services, "WRITE_CHUNK", 10)
    seen = []

    def progress(done, total):
        seen.append((done, total, cache.get(f"contacts:import-progress:{batch.pk}")))

    batch = preview(connector, linkedin_csv(linkedin_rows(35)))
    run(batch, progress=progress)

    assert [(done, total) for done, total, _ in seen] == [(0, 35), (10, 35), (20, 35), (30, 35), (35, 35), (35, 35)]
    assert all(cached == done for done, _, cached in seen)  # what the polling page reads
    assert cache.get(batch.progress_key) is None


# --- All or nothing -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_half_way_leaves_the_contacts_as_they_were(connector, monkeypatch):
    kept = ContactFactory(owner=connector, name="Person0 Old", email="person0@example.net", organisation="")
    before = sorted(Contact.objects.values_list("pk", "name", "email", "organisation", "notes", "updated_at"))
    tags_before = list(Tag.objects.values_list("pk", flat=True))
    batch = preview(connector, linkedin_csv(linkedin_rows(50)))
    monkeypatch.setattr(services, "WRITE_CHUNK", 10)
    real_bulk_create = Contact.objects.bulk_create
    calls = []

    def fail_on_the_third_chunk(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(Contact.objects, "bulk_create", fail_on_the_third_chunk)

    batch = run(batch)

    assert calls == [10, 10, 10]  # two chunks were written before the failure
    assert sorted(Contact.objects.values_list("pk", "name", "email", "organisation", "notes", "updated_at")) == before
    assert list(Tag.objects.values_list("pk", flat=True)) == tags_before
    kept.refresh_from_db()
    assert kept.organisation == ""  # the merge into it was undone too
    assert batch.status == ImportStatus.FAILED
    assert "nothing was imported and your contacts are as they were" in batch.error
    assert batch.rows.count() == 50  # kept, so the owner can try again

    monkeypatch.setattr(Contact.objects, "bulk_create", real_bulk_create)
    batch = run(batch)

    assert batch.status == ImportStatus.DONE
    assert Contact.objects.owned_by(connector).count() == 50


# --- Cost -------------------------------------------------------------------------------


def count_queries(owner, rows: int) -> tuple[int, int]:
    raw = linkedin_csv(linkedin_rows(rows))
    parsed = parse_upload("Connections.csv", raw)
    with CaptureQueriesContext(connection) as previewing:
        batch = services.import_preview(owner=owner, parsed=parsed, filename="Connections.csv")
    with CaptureQueriesContext(connection) as importing:
        batch = run(batch)
    assert batch.status == ImportStatus.DONE
    assert Contact.objects.owned_by(owner).count() == rows
    return len(previewing), len(importing)


@pytest.mark.django_db
def test_ten_thousand_linkedin_rows_import_in_bulk(connector):
    """Queries grow with thousands of rows (one bulk write per chunk), never per row."""
    small = count_queries(UserFactory(), 1_000)
    large = count_queries(connector, 10_000)

    chunks = 10_000 // services.WRITE_CHUNK - 1_000 // services.WRITE_CHUNK
    # On SQLite a bulk insert is also split at its limit on query parameters.
    slack = 2 * chunks + 10
    assert large[0] <= small[0] + slack, (small, large)
    assert large[1] <= small[1] + slack, (small, large)
    assert large[0] + large[1] <= 60, (small, large)


@pytest.mark.django_db
def test_merges_are_bulk_updates(connector):
    rows = linkedin_rows(2_000)
    run(preview(connector, linkedin_csv(rows)))
    with_more = [row.replace("Role", "Senior Role") for row in rows]
    Contact.objects.owned_by(connector).update(title="")

    with CaptureQueriesContext(connection) as queries:
        batch = run(preview(connector, linkedin_csv(with_more)))

    assert batch.merged_count == 2_000
    assert Contact.objects.owned_by(connector).filter(title__startswith="Senior Role").count() == 2_000
    # One UPDATE per chunk of merged contacts, a few queries besides.
    assert len(queries) <= 2_000 // services.UPDATE_CHUNK + 25


# --- Round trip ---------------------------------------------------------------------------

ROUND_TRIP_FIELDS = [
    "name",
    "email",
    "organisation",
    "title",
    "profile_url",
    "connected_on",
    "strength",
    "how_we_know",
    "notes",
    "shareable",
    "time_zone",
    "weekdays",
    "hours_start",
    "hours_end",
    "unavailable_until",
    "min_days_between",
    "do_not_contact",
]


def every_kind_of_contact(owner) -> None:
    carol = ContactFactory(
        owner=owner,
        name="Carol =Target",
        email="carol@example.org",
        organisation="+Plus & Co, Ltd",
        title="-Head of Operations; Berlin",
        profile_url="https://www.linkedin.com/in/carol",
        connected_on=dt.date(2021, 5, 4),
        strength=Strength.CLOSE,
        how_we_know="Worked together at the library,\nfor six years.",
        notes='@mention; "quoted", comma\r\nand a second line with ünïcödé',
        shareable=True,
        time_zone="America/New_York",
        weekdays=0b0010101,
        hours_start=dt.time(8, 30),
        hours_end=dt.time(12, 0),
        unavailable_until=dt.date.today() + dt.timedelta(days=40),  # an import refuses years ahead
        min_days_between=7,
        do_not_contact=True,
    )
    carol.tags.add(Tag.objects.create(owner=owner, name="operations"), Tag.objects.create(owner=owner, name="Berlin"))
    ContactFactory(owner=owner, name="Dan Plain", email="", organisation="", title="", profile_url="")
    ContactFactory(owner=owner, name="'=Already Quoted", email="eve@example.org", strength=Strength.NEVER_MET)


def snapshot(owner) -> list[tuple]:
    contacts = Contact.objects.owned_by(owner).order_by("name").prefetch_related("tags")
    return [(*(getattr(c, f) for f in ROUND_TRIP_FIELDS), sorted(t.name for t in c.tags.all())) for c in contacts]


@pytest.mark.django_db
@pytest.mark.parametrize(("writer", "filename"), [(write_csv, "contacts.csv"), (write_vcard, "contacts.vcf")])
def test_what_goes_out_comes_back_in_as_the_same_contacts(connector, writer, filename):
    every_kind_of_contact(connector)
    out = io.StringIO()
    writer(Contact.objects.owned_by(connector).for_export(), out)
    someone_else = UserFactory(time_zone="Asia/Tokyo")

    batch = run(preview(someone_else, out.getvalue().encode("utf-8"), filename=filename))

    assert batch.created_count == 3
    expected = [tuple(v.replace("\r\n", "\n") if isinstance(v, str) else v for v in row) for row in snapshot(connector)]
    assert snapshot(someone_else) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("writer", "filename"), [(write_csv, "contacts.csv"), (write_vcard, "contacts.vcf")])
def test_importing_your_own_export_adds_nothing(connector, writer, filename):
    every_kind_of_contact(connector)
    before = snapshot(connector)
    out = io.StringIO()
    writer(Contact.objects.owned_by(connector).for_export(), out)

    batch = preview(connector, out.getvalue().encode("utf-8"), filename=filename)
    assert set(batch.rows.values_list("kind", flat=True)) <= {RowKind.EXACT, RowKind.LIKELY}
    services.import_choose_kind(batch=batch, kind=RowKind.LIKELY, action=RowAction.MERGE)
    run(batch)

    assert snapshot(connector) == before


def test_cleanup_drops_old_previews_and_fails_lost_imports_with_a_message(connector):
    old_preview = preview(connector, linkedin_csv(linkedin_rows(2)))
    fresh_preview = preview(connector, linkedin_csv(linkedin_rows(2)))
    lost = preview(connector, linkedin_csv(linkedin_rows(2)))
    now = dt.datetime.now(dt.UTC)
    ImportBatch.objects.filter(pk=old_preview.pk).update(created_at=now - dt.timedelta(days=8))
    ImportBatch.objects.filter(pk=lost.pk).update(status=ImportStatus.RUNNING, created_at=now - dt.timedelta(hours=3))

    assert services.import_cleanup(now=now) == {"previews_dropped": 1, "imports_failed": 1}
    assert not ImportBatch.objects.filter(pk=old_preview.pk).exists()
    assert ImportBatch.objects.get(pk=fresh_preview.pk).status == ImportStatus.PREVIEWED
    lost.refresh_from_db()
    assert lost.status == ImportStatus.FAILED and "nothing was imported" in lost.error
    assert lost.rows.count() == 2  # the choices are kept for another try
    assert not Contact.objects.exists()
