"""Nobody is dropped from an import for a value that cannot be used; different addresses or
profiles are different people; the result lists what was skipped or changed, and why."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts import services
from contacts.fileformats import CSV_COLUMNS, parse_upload
from contacts.models import Contact, ImportBatch, ImportStatus, RowAction, RowKind
from tests.conftest import login
from tests.contacts.import_samples import (
    GERMAN_HEADER_CSV,
    GOOGLE_CSV,
    INTERNATIONAL_ROWS,
    international_csv,
    linkedin_csv,
)
from tests.factories import ContactFactory


def preview(owner, raw: bytes, filename: str = "Connections.csv") -> ImportBatch:
    return services.import_preview(owner=owner, parsed=parse_upload(filename, raw), filename=filename)


def run(batch: ImportBatch) -> ImportBatch:
    services.import_confirm(batch=batch, enqueue=False)
    return services.import_run(batch_id=batch.pk)


def rows_by_line(batch: ImportBatch) -> dict[int, object]:
    return {row.line: row for row in batch.rows.all()}


# --- Nobody is dropped ----------------------------------------------------------------------


def test_an_accented_address_keeps_the_person_with_everything_else(connector):
    batch = run(preview(connector, international_csv()))

    lea = Contact.objects.get(owner=connector, name="Léa Müller")
    assert (lea.organisation, lea.title) == ("Société Générale", "Analyste crédit")
    assert lea.profile_url == "https://www.linkedin.com/in/lea-muller-7a1b2c"
    assert lea.connected_on.isoformat() == "2024-03-12"
    assert lea.email == ""  # never a recipient
    assert lea.email_unusable == "léa.müller@example.fr"  # kept, for the owner to fix
    assert "the part before the @ has letters (é, ü)" in lea.email_problem
    # Everyone in the file who has a name, an address or a profile is a contact now.
    assert batch.created_count == len(INTERNATIONAL_ROWS) - 1
    assert batch.skipped_count == 1  # the row with nothing but a date


def test_an_internationalised_domain_is_a_usable_address(connector):
    run(preview(connector, international_csv("jurgen")))

    jurgen = Contact.objects.get(owner=connector, name="Jürgen Groß")
    assert jurgen.email == "juergen@bücher.de"
    assert jurgen.email_unusable == ""


def test_an_address_that_is_not_one_is_kept_too(connector):
    run(preview(connector, international_csv("typo")))

    tom = Contact.objects.get(owner=connector, name="Tom Baker")
    assert (tom.email, tom.email_unusable) == ("", "tom.baker(at)example.co.uk")
    assert tom.email_problem == "it has no @, so it is not an email address"


def test_a_member_without_a_name_is_named_after_their_profile(connector):
    run(preview(connector, international_csv("nameless")))

    contact = Contact.objects.get(owner=connector)
    assert contact.name == "anonymous-member-4f2"
    assert contact.profile_url == "https://www.linkedin.com/in/anonymous-member-4f2"


def cells(max_size: int = 80):
    return st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=max_size)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=cells(), url=cells(), company=cells(), position=cells(300), date=cells())
def test_a_row_with_a_name_always_becomes_a_contact_whatever_else_it_holds(email, url, company, position, date):
    """The rule over every value LinkedIn (or a spreadsheet) might put beside a name."""
    record = io.StringIO()
    csv.writer(record).writerow(["Léa", "Müller", url, email, company, position, date])
    (row,) = parse_upload("Connections.csv", linkedin_csv([record.getvalue().rstrip("\r\n")])).rows

    assert row.problem == ""
    assert row.data["name"] == "Léa Müller"
    if email.strip():
        assert row.data.get("email") or row.data.get("email_unusable") or email.strip() in row.data.get("notes", "")


@pytest.mark.parametrize(
    ("column", "value", "field", "used", "kept"),
    [
        ("Email", "ana@example", "email_unusable", "ana@example", None),
        ("Profile URL", "not a link", "profile_url", None, "Profile URL: not a link"),
        ("Connected On", "someday", "connected_on", None, "Connected On: someday"),
        ("Strength", "besties", "strength", "acquainted", "Strength: besties"),
        ("Time Zone", "Mars/Olympus", "time_zone", "Europe/Berlin", "Time Zone: Mars/Olympus"),
        ("Weekdays", "Funday", "weekdays", 0b0011111, "Weekdays: Funday"),
        ("Hours Start", "9am", "hours_start", "09:00", "Hours Start: 9am"),
        ("Min Days Between", "lots", "min_days_between", 0, "Min Days Between: lots"),
        ("Shareable", "maybe", "shareable", False, "Shareable: maybe"),
        ("Do Not Contact", "maybe", "do_not_contact", True, "Do Not Contact: maybe"),  # the safe reading
        ("Title", "T" * 200, "title", "T" * 150, "Title: " + "T" * 200),
        ("Tags", "ok, " + "x" * 60, "tags", ["ok"], "Tag: " + "x" * 60),
    ],
)
def test_every_value_that_cannot_be_used_is_kept_where_the_owner_sees_it(connector, column, value, field, used, kept):
    connector.time_zone = "Europe/Berlin"
    connector.save()
    cells = {"Name": "Ana Souza", "Email": "", column: value}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow([cells.get(name, "") for name in CSV_COLUMNS])

    batch = preview(connector, out.getvalue().encode(), filename="contacts.csv")
    (row,) = batch.rows.all()
    run(batch)

    assert row.kind == RowKind.NEW and row.action == RowAction.ADD
    assert len(row.warnings) == 1
    ana = Contact.objects.get(owner=connector, name="Ana Souza")
    if field == "tags":
        assert list(ana.tags.values_list("name", flat=True)) == used
    elif used is not None:
        value_on_contact = getattr(ana, field)
        assert (value_on_contact.strftime("%H:%M") if field == "hours_start" else value_on_contact) == used
    if kept:
        assert kept in ana.notes


def test_hours_that_end_before_they_start_fall_back_and_are_kept(connector):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Hours Start", "Hours End"])
    writer.writerow(["Ana Souza", "", "17:00", "09:00"])

    run(preview(connector, out.getvalue().encode(), filename="contacts.csv"))

    ana = Contact.objects.get(owner=connector)
    assert (ana.hours_start.hour, ana.hours_end.hour) == (9, 17)
    assert "Hours: 17:00–09:00" in ana.notes


# --- Who is the same person -------------------------------------------------------------------


def test_same_name_same_company_with_different_profiles_are_two_people(connector):
    batch = preview(connector, international_csv("sanjay1", "sanjay2"))

    assert [row.kind for row in batch.rows.order_by("line")] == [RowKind.NEW, RowKind.NEW]
    run(batch)
    assert Contact.objects.owned_by(connector).filter(name="Sanjay Patel", organisation="Infosys").count() == 2


def test_same_name_same_company_with_different_addresses_are_two_people(connector):
    batch = preview(connector, international_csv("wei1", "wei2"))

    assert [row.kind for row in batch.rows.order_by("line")] == [RowKind.NEW, RowKind.NEW]


def test_an_existing_contact_with_another_profile_or_address_is_someone_else(connector):
    ContactFactory(
        owner=connector, name="Sanjay Patel", organisation="Infosys", email="", profile_url="https://linkedin.com/in/sp"
    )
    ContactFactory(owner=connector, name="Wei Zhang", organisation="Huawei", email="wei@other.example", profile_url="")

    batch = preview(connector, international_csv("sanjay1", "wei1"))

    assert set(batch.rows.values_list("kind", flat=True)) == {RowKind.NEW}


def test_a_likely_duplicate_is_one_nothing_tells_apart(connector):
    same = ContactFactory(owner=connector, name="Sanjay Patel", organisation="Infosys", email="", profile_url="")
    batch = preview(
        connector,
        linkedin_csv(
            [
                INTERNATIONAL_ROWS["sanjay1"],  # a profile against none: nothing says they differ
                "Sanjay,Patel,,,Infosys,Senior Engineer,14 Jun 2022",
            ]
        ),
    )

    first, second = batch.rows.order_by("line")
    assert (first.kind, first.match) == (RowKind.LIKELY, same)
    assert first.action == RowAction.SKIP
    assert second.kind == RowKind.LIKELY


def test_the_same_profile_is_the_same_person_whatever_address_and_the_other_address_is_kept(connector):
    bo = ContactFactory(
        owner=connector, name="Bo Chen", email="bo@work.example", profile_url="https://www.linkedin.com/in/bo-1"
    )

    batch = preview(connector, linkedin_csv(["Bo,Chen,http://linkedin.com/in/bo-1/,bo@home.example,Beta,,"]))

    row = batch.rows.get()
    assert (row.kind, row.match) == (RowKind.EXACT, bo)
    run(batch)
    bo.refresh_from_db()
    assert bo.email == "bo@work.example"
    assert "Other email from an import: bo@home.example" in bo.notes


def test_the_same_address_with_another_profile_is_not_an_exact_duplicate(connector):
    ContactFactory(
        owner=connector, name="Bo Chen", email="bo@example.com", profile_url="https://www.linkedin.com/in/bo-1"
    )

    batch = preview(connector, linkedin_csv(["Bo,Chen,https://www.linkedin.com/in/bo-2,bo@example.com,Beta,,"]))

    assert batch.rows.get().kind == RowKind.NEW


def test_an_accented_address_finds_the_contact_that_has_it(connector):
    lea = ContactFactory(
        owner=connector, name="L. Müller", organisation="", email="", email_unusable="Léa.Müller@example.fr"
    )

    batch = preview(connector, international_csv("lea"))

    row = batch.rows.get()
    assert (row.kind, row.match) == (RowKind.EXACT, lea)
    run(batch)
    lea.refresh_from_db()
    assert lea.organisation == "Société Générale"  # filled in by the merge


def test_merging_a_usable_address_replaces_an_unusable_one_and_keeps_it_in_the_notes(connector):
    lea = ContactFactory(
        owner=connector,
        name="Léa Müller",
        organisation="Société Générale",
        email="",
        email_unusable="léa.müller@example.fr",
        profile_url="https://www.linkedin.com/in/lea-muller-7a1b2c",
        notes="Met at VivaTech.",
    )

    run(
        preview(
            connector,
            linkedin_csv(["Léa,Müller,https://www.linkedin.com/in/lea-muller-7a1b2c,lea.muller@example.fr,,,"]),
        )
    )

    lea.refresh_from_db()
    assert (lea.email, lea.email_unusable) == ("lea.muller@example.fr", "")
    assert lea.notes == "Met at VivaTech.\n\nEarlier address, which can't receive email: léa.müller@example.fr"


# --- The preview and the result say what happened -----------------------------------------------


def test_the_preview_marks_rows_that_need_a_look(client, connector):
    batch = preview(connector, international_csv())
    login(client, connector)

    page = client.get(batch.get_absolute_url()).content.decode()
    marked = client.get(batch.get_absolute_url() + "?kind=warnings").content.decode()

    assert "6 rows have a value we could not use as it was" in page
    assert "Needs a look (6)" in page
    assert "léa.müller@example.fr" in marked and "Can’t receive email" in marked
    assert "can&#x27;t receive email: the part before the @ has letters (é, ü)" in marked
    assert "“31 Feb 2023” is not a date we can read" in marked
    assert "Jürgen Groß" not in marked  # nothing wrong with him


def test_the_result_lists_what_was_skipped_or_changed_and_why(client, connector):
    ContactFactory(owner=connector, name="Wei Zhang", organisation="Huawei", email="wei.zhang@example.cn")
    batch = preview(connector, international_csv())
    services.import_choose_kind(batch=batch, kind=RowKind.EXACT, action=RowAction.SKIP)
    batch = run(batch)
    login(client, connector)

    page = client.get(batch.get_absolute_url()).content.decode()

    assert batch.status == ImportStatus.DONE
    assert "What was skipped or changed" in page
    assert "8 rows were skipped or imported with a change" in page
    assert "You chose to skip it: it has the same email address or profile as your contact Wei Zhang." in page
    assert "There is no name, email address or profile URL, so nothing says who this is." in page
    assert "Added, with changes" in page
    assert reverse("contacts:import_report_csv", args=[batch.pk]) in page
    # The rows that were imported as they were are not kept.
    assert not batch.rows.filter(data__name="Jürgen Groß").exists()


def test_the_result_list_downloads_as_csv(client, connector):
    batch = run(preview(connector, international_csv("lea", "jurgen", "empty")))

    response = login(client, connector).get(reverse("contacts:import_report_csv", args=[batch.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="Connections - skipped or changed.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0] == ["Line", "Name", "Email", "Organisation", "Profile URL", "What happened", "Why"]
    assert rows[1][:4] == ["5", "Léa Müller", "léa.müller@example.fr", "Société Générale"]
    assert rows[1][5] == "Added, with changes"
    assert "can't receive email" in rows[1][6]
    assert rows[2][0] == "7" and rows[2][5] == "Skipped"
    assert len(rows) == 3


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_someone_elses_result_list_is_404(client, request, connector, who):
    batch = run(preview(connector, international_csv("lea")))

    response = login(client, request.getfixturevalue(who)).get(reverse("contacts:import_report_csv", args=[batch.pk]))

    assert response.status_code == 404


def test_the_result_list_of_an_unfinished_import_is_404(client, connector):
    batch = preview(connector, international_csv("lea"))

    response = login(client, connector).get(reverse("contacts:import_report_csv", args=[batch.pk]))

    assert response.status_code == 404


def test_the_result_page_query_count_does_not_grow_with_the_list(client, connector, django_assert_max_num_queries):
    small = run(preview(connector, linkedin_csv([",,,,,,1 Jan 2020"] * 2)))
    large = run(preview(connector, linkedin_csv([f",,,,,,{n % 28 + 1} Jan 2020" for n in range(300)])))
    login(client, connector)
    client.get(small.get_absolute_url())

    with django_assert_max_num_queries(8):
        client.get(small.get_absolute_url())
    with django_assert_max_num_queries(8):
        client.get(large.get_absolute_url())


def test_the_list_is_dropped_after_a_month(connector):
    import datetime as dt

    batch = run(preview(connector, international_csv("lea")))
    now = batch.finished_at + dt.timedelta(days=31)

    services.import_cleanup(now=now)

    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.DONE  # the counts stay
    assert not batch.rows.exists()


# --- A header we do not know -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        (GERMAN_HEADER_CSV, "“Vorname”, “Nachname”, “URL”, “E-Mail-Adresse”"),
        (GOOGLE_CSV, "“Name”, “Given Name”, “Additional Name”, “Family Name”, “E-mail 1 - Type”"),
    ],
)
def test_a_header_we_do_not_know_says_what_it_found_and_what_we_expected(client, connector, raw, found):
    response = login(client, connector).post(
        reverse("contacts:import"), {"file": SimpleUploadedFile("Connections.csv", raw)}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "no header row" not in page
    assert f"Line 1: the header row has the columns {found}" in page
    assert (
        "We expected LinkedIn’s “First Name”, “Last Name”, “URL”, “Email Address”, “Company”, “Position”, "
        "“Connected On”" in page
    )
    assert not ImportBatch.objects.exists()
