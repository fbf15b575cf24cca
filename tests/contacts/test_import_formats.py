"""Reading contact files: the real formats, and a clear message for each bad file."""

import datetime as dt

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts.fileformats import (
    MAX_FILE_BYTES,
    VCARD_EXTRA,
    ImportFileError,
    Source,
    contact_fields,
    neutralise,
    parse_date,
    parse_upload,
    unneutralise,
    vcard_card,
    vcard_fold,
)
from contacts.models import Contact
from tests.contacts.import_samples import (
    LINKEDIN_HEADER,
    VCARD_21,
    VCARD_30,
    VCARD_40,
    linkedin_csv,
    vcard_file,
)


def error_for(filename: str, raw: bytes) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        parse_upload(filename, raw)
    return caught.value


# --- LinkedIn -----------------------------------------------------------------------


def test_linkedin_export_with_preamble_bom_and_empty_emails_is_read():
    parsed = parse_upload("Connections.csv", linkedin_csv())

    assert parsed.source == Source.LINKEDIN
    ann, bo, zoe = parsed.rows
    assert ann.line == 5  # after four lines of preamble and the header
    assert ann.data == {
        "name": "Ann Lee",
        "organisation": "Acme, Inc.",
        "title": "Chief Technology Officer",
        "profile_url": "https://www.linkedin.com/in/ann-lee-1234",
        "connected_on": "2023-11-21",
        "strength": "online_only",
    }
    assert "email" not in ann.data
    assert bo.data["email"] == "bo.chen@example.com"
    assert zoe.data["name"] == "Zoë Ångström"
    assert zoe.data["title"] == "Head of Design, Nordics"
    assert not any(row.problem for row in parsed.rows)


def test_linkedin_export_without_preamble_or_bom_is_read_too():
    parsed = parse_upload("Connections.csv", linkedin_csv(bom=False, preamble=False))

    assert [row.data["name"] for row in parsed.rows] == ["Ann Lee", "Bo Chen", "Zoë Ångström"]
    assert parsed.rows[0].line == 2


def test_windows_1252_file_is_read():
    raw = (LINKEDIN_HEADER + "Zoë,Ångström,,,Café Crème,Barista,7 Feb 2019\r\n").encode("cp1252")

    (row,) = parse_upload("Connections.csv", raw).rows

    assert row.data["name"] == "Zoë Ångström"
    assert row.data["organisation"] == "Café Crème"


def test_utf16_file_with_bom_is_read():
    raw = (LINKEDIN_HEADER + "Ann,Lee,,,,,\r\n").encode("utf-16")

    assert parse_upload("Connections.csv", raw).rows[0].data["name"] == "Ann Lee"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21 Nov 2023", "2023-11-21"),
        ("7 Feb 2019", "2019-02-07"),
        ("2023-11-21", "2023-11-21"),
        ("Nov 21, 2023", "2023-11-21"),
    ],
)
def test_connection_dates_are_read_whatever_the_locale(text, expected):
    assert parse_date(text).isoformat() == expected


def test_a_row_is_kept_whatever_value_cannot_be_used_and_only_a_row_saying_nobody_is_refused():
    raw = linkedin_csv(
        [
            "Ann,Lee,,not-an-email,,,21 Nov 2023",
            ",,,,,,21 Nov 2023",
            "Bo,Chen,,,,,31 Feb 2023",
            "Cy,Dunn,,,,,21 Nov 2023",
        ]
    )

    rows = parse_upload("Connections.csv", raw).rows

    assert [row.problem for row in rows] == [
        "",
        "Line 6: there is no name, email address or profile URL, so nothing says who this is.",
        "",
        "",
    ]
    ann, _, bo, cy = rows
    assert ann.data["email_unusable"] == "not-an-email" and "email" not in ann.data
    assert ann.warnings == [
        "The email address “not-an-email” can't receive email: it has no @, so it is not an email address. "
        "It is kept on the contact for you to fix; nothing is sent to it."
    ]
    assert "connected_on" not in bo.data
    assert bo.warnings == [
        "Connected On “31 Feb 2023” is not a date we can read (e.g. 21 Nov 2023 or 2023-11-21): left out; "
        "the value from the file is in the notes."
    ]
    assert bo.data["notes"] == "Not used as it was in the imported file:\n- Connected On: 31 Feb 2023"
    assert cy.warnings == []


# --- vCard --------------------------------------------------------------------------


def test_vcard_21_quoted_printable_and_photo_are_read():
    (row,) = parse_upload("contacts.vcf", vcard_file(VCARD_21)).rows

    assert row.line == 1
    assert row.data == {
        "name": "Jürgen Müller",
        "email": "juergen@example.de",
        "organisation": "Müller & Söhne",
        "title": "Sales Director",
        "notes": "Met at the Hannover fair; wants an intro to a logistics firm\nSpeaks German and English",
    }


def test_vcard_30_folded_lines_escapes_and_categories_are_read():
    (row,) = parse_upload("Adaeze.vcf", vcard_file(VCARD_30)).rows

    assert row.data["organisation"] == "Lagos Municipal Transport Authority and Partners in Urban Mobility Consulting"
    assert row.data["title"] == "Director, Planning"
    assert row.data["email"] == "adaeze@example.ng"  # the preferred one
    assert row.data["notes"] == "Other emails: ada.home@example.com"
    assert row.data["profile_url"] == "https://www.linkedin.com/in/adaeze-okafor"
    assert row.data["tags"] == ["mentors", "transport"]  # not Google's "myContacts"


def test_vcard_40_is_read():
    (row,) = parse_upload("bo.vcf", vcard_file(VCARD_40)).rows

    assert row.data == {
        "name": "Bo Chen",
        "email": "bo.chen@example.com",
        "organisation": "Beta Labs",
        "profile_url": "https://www.linkedin.com/in/bochen",
        "notes": "Introduced by Priya, 2021",
    }


def test_many_cards_of_every_version_in_one_file_keep_their_lines():
    parsed = parse_upload("all.vcf", vcard_file())

    assert parsed.source == Source.VCARD
    assert [row.data["name"] for row in parsed.rows] == ["Jürgen Müller", "Adaeze Okafor", "Bo Chen"]
    lines = vcard_file().decode().split("\r\n")
    assert all(lines[row.line - 1] == "BEGIN:VCARD" for row in parsed.rows)


def test_card_without_any_name_cannot_be_imported_but_others_can():
    nameless = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nN:;;;;\r\nEND:VCARD\r\n"

    rows = parse_upload("x.vcf", vcard_file(VCARD_40, nameless)).rows

    assert rows[0].problem == ""
    assert rows[1].problem == "Line 12: there is no name, email address or profile URL, so nothing says who this is."


# --- Bad files: a clear message naming the problem and the line ------------------------


def test_excel_workbook_is_refused_as_the_wrong_type():
    error = error_for("Connections.xlsx", b"PK\x03\x04" + b"\x00" * 100)

    assert "Excel workbook" in str(error)


@pytest.mark.parametrize("filename", ["photo.png", "notes.docx"])
def test_other_file_types_are_refused_by_name(filename):
    assert "cannot be imported" in str(error_for(filename, b"First Name,Last Name\r\nAnn,Lee\r\n"))


def test_binary_file_with_a_csv_name_is_refused():
    assert "not a text file" in str(error_for("Connections.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))


def test_file_that_is_neither_utf8_nor_windows_1252_names_the_line():
    raw = LINKEDIN_HEADER.encode() + b"Ann,Lee,,,,,\r\nBo,Ch\x81en,,,,,\r\n"

    error = error_for("Connections.csv", raw)

    assert error.line == 3
    assert str(error).startswith("Line 3: the file is not UTF-8 or Windows-1252 text (byte 0x81")


def test_missing_header_is_named():
    error = error_for("Connections.csv", b"Ann,Lee,https://www.linkedin.com/in/ann,,Acme,CTO,21 Nov 2023\r\n")

    assert "no header row" in str(error)
    assert "“First Name”, “Last Name”, “URL”" in str(error)


def test_row_with_the_wrong_number_of_fields_names_its_line():
    raw = linkedin_csv(["Ann,Lee,,,Acme,CTO,21 Nov 2023", "Bo,Chen,,,Beta, Inc,Engineer,03 Jan 2022"])

    error = error_for("Connections.csv", raw)

    assert error.line == 6
    assert str(error) == (
        "Line 6: this row has 8 fields but the header has 7. A value with a comma in it needs double quotes around it."
    )


def test_file_over_the_size_limit_is_refused():
    error = error_for("Connections.csv", b"x" * (MAX_FILE_BYTES + 1))

    assert "the most we can import at once is 5 MB" in str(error)


@pytest.mark.parametrize(
    ("filename", "raw"),
    [
        ("Connections.csv", b""),
        ("Connections.csv", b"\xef\xbb\xbf\r\n"),
        ("Connections.csv", linkedin_csv([])),
        ("empty.vcf", b"\r\n"),
    ],
)
def test_file_with_zero_contacts_says_so(filename, raw):
    error = error_for(filename, raw)

    assert "no contacts" in str(error)


def test_vcf_without_cards_is_not_a_vcard():
    assert "no BEGIN:VCARD" in str(error_for("contacts.vcf", b"Hello\r\n"))


def test_unreadable_vcard_line_is_named():
    broken = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nthis line has no colon\r\nEND:VCARD\r\n"

    error = error_for("x.vcf", vcard_file(VCARD_40, broken))

    assert error.line == 15
    assert str(error).startswith("Line 15: this vCard line cannot be read")


# --- Formula neutralisation -----------------------------------------------------------


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(cell):
    assert neutralise(cell) == "'" + cell
    assert unneutralise(neutralise(cell)) == cell


def test_ordinary_cells_are_left_alone():
    assert neutralise("O'Brien") == "O'Brien"
    assert unneutralise("'quoted'") == "'quoted'"


@settings(deadline=None)  # a busy test machine is not a slow function
@given(st.text())
def test_neutralise_round_trips_any_text(text):
    neutral = neutralise(text)

    assert not neutral.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(neutral) == text


# --- Writing vCards (by hand, not through vobject: see contacts.fileformats) --------------


def _lines_read_back(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(deadline=None, max_examples=300)
@given(
    name=st.text(min_size=1),
    notes=st.text(),
    organisation=st.text(),
    title=st.text(),
    how_we_know=st.text(),
    tags=st.lists(st.text(min_size=1), max_size=3),
)
def test_any_text_survives_a_vcard_and_no_line_is_longer_than_75_octets(
    name, notes, organisation, title, how_we_know, tags
):
    contact = Contact(name=name, notes=notes, organisation=organisation, title=title, how_we_know=how_we_know)

    text = vcard_card(contact, tags)

    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    card = vobject.readOne(text)  # the reader the import uses
    assert card.fn.value == _lines_read_back(name)
    given_name, _, family = name.rpartition(" ")
    assert (card.n.value.family, card.n.value.given) == (_lines_read_back(family), _lines_read_back(given_name))
    for prop, value in (("note", notes), ("title", title), ("x-warm-intros-how-we-know", how_we_know)):
        assert card.contents[prop][0].value == _lines_read_back(value) if value else prop not in card.contents
    assert card.org.value == [_lines_read_back(organisation)] if organisation else "org" not in card.contents
    assert card.categories.value == [_lines_read_back(t) for t in tags] if tags else "categories" not in card.contents


def test_folding_never_splits_a_character():
    line = "NOTE:" + "é漢😀" * 40

    folded = vcard_fold(line)

    assert folded.endswith("\r\n")
    parts = folded[:-2].split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert parts[0] + "".join(part[1:] for part in parts[1:]) == line  # each continuation starts with a space


def _vobject_card(contact: Contact, tags: list[str]) -> str:
    """What the export wrote through vobject before it was written by hand."""
    fields = contact_fields(contact, tags)
    card = vobject.vCard()
    card.add("fn").value = contact.name
    given_name, _, family = contact.name.rpartition(" ")
    card.add("n").value = vobject.vcard.Name(family=family, given=given_name)
    email = card.add("email")
    email.value = contact.email
    email.type_param = "INTERNET"
    card.add("org").value = [contact.organisation]
    card.add("title").value = contact.title
    card.add("url").value = contact.profile_url
    card.add("note").value = contact.notes
    card.add("categories").value = tags
    for field_name, prop_name in VCARD_EXTRA.items():
        if fields[field_name]:
            card.add(prop_name).value = fields[field_name]
    return card.serialize()


def test_a_card_is_the_text_vobject_wrote():
    contact = Contact(
        name="Carol; the \\Target, Jr",
        email="carol@example.org",
        organisation="Acme; Inc, Ltd",
        title="Head of Operations, EMEA",
        profile_url="https://www.linkedin.com/in/carol,target",
        notes="First line\r\nSecond line, with a comma; and a semicolon, and enough words to fold twice " * 2,
        how_we_know="Met at the conference",
        connected_on=dt.date(2023, 11, 21),
        unavailable_until=dt.date(2031, 1, 2),
        min_days_between=7,
        weekdays=0b0010101,
        time_zone="America/New_York",
        shareable=True,
    )
    tags = ["Berlin, Germany", "operations"]

    assert vcard_card(contact, tags) == _vobject_card(contact, tags)
