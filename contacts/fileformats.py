"""Contact files in and out: LinkedIn's Connections.csv, vCard 2.1/3.0/4.0, and our own CSV.

Pure functions: bytes in, rows out (and contacts in, text out). No database access,
so the import's preview, the Celery task and the command line all read a file the
same way, and the tests can check every format without the ORM.

A parsed row is a dict of the Contact fields the file gave (JSON-friendly: dates
and times as ISO strings, tags as a list). A field the file did not give is absent,
so a merge can tell "not in the file" from "empty in the file".
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import vobject
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.timezones import all_time_zones

from .models import WEEKDAY_NAMES, WEEKDAYS_ALL, Contact, Strength, mask_to_weekdays, weekdays_to_mask

MAX_FILE_BYTES = 5 * 1024 * 1024
HEADER_SEARCH_RECORDS = 30  # LinkedIn's "Notes:" preamble is a few lines; a header further down is not one

LINKEDIN_COLUMNS = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]

# Our export's columns, in order, and the Contact field each holds. The import reads
# them back, so what goes out comes back in as the same contacts.
CSV_COLUMNS = {
    "Name": "name",
    "Email": "email",
    "Organisation": "organisation",
    "Title": "title",
    "Profile URL": "profile_url",
    "Connected On": "connected_on",
    "Strength": "strength",
    "How We Know": "how_we_know",
    "Notes": "notes",
    "Tags": "tags",
    "Shareable": "shareable",
    "Time Zone": "time_zone",
    "Weekdays": "weekdays",
    "Hours Start": "hours_start",
    "Hours End": "hours_end",
    "Unavailable Until": "unavailable_until",
    "Min Days Between": "min_days_between",
    "Do Not Contact": "do_not_contact",
}
FIELD_COLUMNS = {field_name: column for column, field_name in CSV_COLUMNS.items()}

# vCard has no standard property for these; X- properties survive other address books.
VCARD_EXTRA = {
    "connected_on": "X-WARM-INTROS-CONNECTED-ON",
    "strength": "X-WARM-INTROS-STRENGTH",
    "how_we_know": "X-WARM-INTROS-HOW-WE-KNOW",
    "shareable": "X-WARM-INTROS-SHAREABLE",
    "time_zone": "X-WARM-INTROS-TIME-ZONE",
    "weekdays": "X-WARM-INTROS-WEEKDAYS",
    "hours_start": "X-WARM-INTROS-HOURS-START",
    "hours_end": "X-WARM-INTROS-HOURS-END",
    "unavailable_until": "X-WARM-INTROS-UNAVAILABLE-UNTIL",
    "min_days_between": "X-WARM-INTROS-MIN-DAYS-BETWEEN",
    "do_not_contact": "X-WARM-INTROS-DO-NOT-CONTACT",
}

# Google Contacts puts every card in this system group; it is not a tag anyone chose.
IGNORED_CATEGORIES = {"mycontacts"}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_RISKY_FIRST = frozenset([*FORMULA_START, "'"])  # a cell starting otherwise is never changed
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_MONTHS = {
    name: n
    for n, name in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_WEEKDAY_ABBR = [name[:3] for name in WEEKDAY_NAMES]


class ImportFileError(Exception):
    """The file cannot be imported at all. The message is for the person who uploaded it."""

    def __init__(self, message: str, *, line: int | None = None):
        self.line = line
        super().__init__(f"Line {line}: {message}" if line else message)


class Source:
    LINKEDIN = "linkedin"
    VCARD = "vcard"
    CSV = "csv"


@dataclass
class ParsedRow:
    line: int
    data: dict[str, Any]
    problem: str = ""  # set when this row cannot become a contact; the rest of the file still can


@dataclass
class ParsedFile:
    source: str
    rows: list[ParsedRow] = field(default_factory=list)


# --- Reading ----------------------------------------------------------------------


def parse_upload(filename: str, raw: bytes) -> ParsedFile:
    """Read an uploaded file into rows, or raise ImportFileError naming the problem (and line)."""
    if len(raw) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The file is {len(raw) / 1024 / 1024:.1f} MB; the most we can import at once is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
    suffix = PurePath(filename or "").suffix.lower()
    _refuse_wrong_type(suffix, raw)
    text = decode_text(raw)
    if not text.strip():
        raise ImportFileError("The file is empty: there are no contacts in it.")
    if re.search(r"^\s*BEGIN:VCARD", text, flags=re.IGNORECASE | re.MULTILINE):
        parsed = parse_vcard(text)
    elif suffix in (".vcf", ".vcard"):
        raise ImportFileError("The file is named like a vCard but has no BEGIN:VCARD line, so it is not one.")
    else:
        parsed = parse_csv(text)
    if not parsed.rows:
        raise ImportFileError("The file has no contacts in it: nothing was found after the header.")
    return parsed


def _refuse_wrong_type(suffix: str, raw: bytes) -> None:
    allowed = "a LinkedIn Connections.csv, a CSV exported from Warm Intros, or a vCard (.vcf) file"
    head = raw[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(f"This is a zip archive or an Excel workbook, not text. Upload {allowed}.")
    if head.startswith(b"%PDF"):
        raise ImportFileError(f"This is a PDF. Upload {allowed}.")
    if suffix and suffix not in (".csv", ".vcf", ".vcard", ".txt"):
        raise ImportFileError(f"“{suffix}” files cannot be imported. Upload {allowed}.")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(f"This is not a text file. Upload {allowed}.")


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), then Windows-1252, as the exporters we know write them.

    UTF-16 with a BOM (some Windows address books) is read too, rather than refused.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _encoding_error(raw, exc, "UTF-16") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise _encoding_error(raw, exc, "UTF-8 or Windows-1252") from exc


def _encoding_error(raw: bytes, exc: UnicodeDecodeError, tried: str) -> ImportFileError:
    line = raw[: exc.start].count(b"\n") + 1
    return ImportFileError(
        f"the file is not {tried} text (byte 0x{raw[exc.start]:02X} cannot be read). "
        "Save or export it again as UTF-8 CSV.",
        line=line,
    )


def parse_csv(text: str) -> ParsedFile:
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines)
    header: list[str] | None = None
    source = ""
    next_line = 1
    rows: list[ParsedRow] = []
    records_seen = 0
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines: LinkedIn leaves one after its preamble
            if header is None:
                records_seen += 1
                source = _header_kind(record)
                if source:
                    header = [cell.strip().lstrip("\ufeff") for cell in record]
                    continue
                if records_seen >= HEADER_SEARCH_RECORDS:
                    break
                continue
            if len(record) != len(header):
                raise ImportFileError(
                    f"this row has {len(record)} fields but the header has {len(header)}. "
                    "A value with a comma in it needs double quotes around it.",
                    line=line,
                )
            values = dict(zip(header, (unneutralise(cell) for cell in record), strict=True))
            rows.append(_linkedin_row(line, values) if source == Source.LINKEDIN else _csv_row(line, values))
    except csv.Error as exc:
        raise ImportFileError(f"the CSV cannot be read ({exc}).", line=next_line) from exc
    if header is None:
        raise ImportFileError(
            "The file has no header row. A LinkedIn export has the line "
            f"“{','.join(LINKEDIN_COLUMNS)}”; a Warm Intros export starts “Name,Email,Organisation,…”."
        )
    return ParsedFile(source=source, rows=rows)


def _header_kind(record: list[str]) -> str:
    cells = {cell.strip().lstrip("\ufeff").lower() for cell in record}
    if {"first name", "last name"} <= cells:
        return Source.LINKEDIN
    if {"name", "email"} <= cells:
        return Source.CSV
    return ""


def _linkedin_row(line: int, values: dict[str, str]) -> ParsedRow:
    get = {key.lower(): value.strip() for key, value in values.items()}.get
    name = " ".join(part for part in (get("first name", ""), get("last name", "")) if part)
    raw = {
        "name": name,
        "email": get("email address", ""),
        "organisation": get("company", ""),
        "title": get("position", ""),
        "profile_url": get("url", ""),
        "connected_on": get("connected on", ""),
    }
    # A LinkedIn connection is not knowing someone.
    return clean_row(line, raw, defaults={"strength": Strength.ONLINE_ONLY.value})


def _csv_row(line: int, values: dict[str, str]) -> ParsedRow:
    by_column = {key.strip().lower(): value for key, value in values.items()}
    raw = {}
    for column, field_name in CSV_COLUMNS.items():
        if column.lower() in by_column:
            raw[field_name] = by_column[column.lower()]
    return clean_row(line, raw)


def parse_vcard(text: str) -> ParsedFile:
    text = _drop_binary_properties(text)
    card_lines = [n for n, line in enumerate(_LINES.split(text), 1) if line.strip().upper() == "BEGIN:VCARD"]
    rows: list[ParsedRow] = []
    try:
        for index, card in enumerate(vobject.readComponents(text, allowQP=True)):
            line = card_lines[index] if index < len(card_lines) else 0
            if card.name.upper() != "VCARD":
                continue
            rows.append(_vcard_row(line, card))
    except vobject.base.VObjectError as exc:
        raise ImportFileError(f"this vCard line cannot be read ({_vobject_reason(exc)}).", line=exc.lineNumber) from exc
    except (ValueError, LookupError) as exc:  # a bad charset or a broken quoted-printable value
        line = card_lines[len(rows)] if len(rows) < len(card_lines) else None
        raise ImportFileError(f"this card cannot be read ({exc}).", line=line) from exc
    return ParsedFile(source=Source.VCARD, rows=rows)


def _vobject_reason(exc: Exception) -> str:
    message = getattr(exc, "msg", None) or str(exc)
    return re.sub(r"^At line \d+: ", "", str(message))


_LINES = re.compile(r"\r\n|\r|\n")
_BINARY_PROPERTY = re.compile(r"^(?:[\w-]+\.)?(PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)
_PROPERTY_START = re.compile(r"^(?:[\w-]+\.)?[A-Za-z][\w-]*[;:]")


def _drop_binary_properties(text: str) -> str:
    """Blank out embedded photos (and logos, sounds, keys): they are not imported, and a
    truncated one must not stop the import. Lines are blanked, not removed, so the line
    numbers in any message still match the file."""
    lines = _LINES.split(text)
    skipping = False
    for n, line in enumerate(lines):
        if _BINARY_PROPERTY.match(line):
            skipping = True
            lines[n] = ""
        elif skipping:
            # vCard 2.1 base64 runs until a blank line and is sometimes not indented;
            # base64 never contains ":" or ";", so the next property ends it.
            if line[:1] in (" ", "\t") or (line.strip() and not _PROPERTY_START.match(line)):
                lines[n] = ""
            else:
                skipping = False
    return "\r\n".join(lines) + "\r\n"


def _vcard_row(line: int, card) -> ParsedRow:
    contents = card.contents
    raw: dict[str, Any] = {}
    name = _text(contents.get("fn"))
    if not name and "n" in contents:
        n = contents["n"][0].value
        name = " ".join(
            part
            for part in (_join(n.prefix), _join(n.given), _join(n.additional), _join(n.family), _join(n.suffix))
            if part
        )
    raw["name"] = name
    emails = [str(e.value).strip() for e in _preferred_first(contents.get("email", [])) if str(e.value).strip()]
    if emails:
        raw["email"] = emails[0]
    if "org" in contents:
        org = contents["org"][0].value
        raw["organisation"] = (org[0] if isinstance(org, list) and org else str(org or "")).strip()
    raw["title"] = _text(contents.get("title"))
    urls = [str(u.value).strip() for u in contents.get("url", []) if str(u.value).strip()]
    if urls:
        # A LinkedIn profile is the one to match duplicates by.
        raw["profile_url"] = next((u for u in urls if "linkedin." in u.lower()), urls[0])
    notes = _text(contents.get("note"))
    others = emails[1:]
    if others:
        notes = "\n".join(part for part in (notes, "Other emails: " + ", ".join(others)) if part)
    raw["notes"] = notes
    categories: list[str] = []
    for prop in contents.get("categories", []):
        values = prop.value if isinstance(prop.value, list) else str(prop.value).split(",")
        categories += [v.strip() for v in values if v.strip() and v.strip().lower() not in IGNORED_CATEGORIES]
    raw["tags"] = categories
    for field_name, prop_name in VCARD_EXTRA.items():
        value = _text(contents.get(prop_name.lower()))
        if value:
            raw[field_name] = value
    return clean_row(line, {k: v for k, v in raw.items() if v not in ("", [])} | {"name": name})


def _preferred_first(props: list) -> list:
    def preferred(prop) -> bool:
        types = [t.lower() for t in prop.params.get("TYPE", [])]
        return "pref" in types or "PREF" in prop.singletonparams or "1" in prop.params.get("PREF", [])

    return sorted(props, key=lambda p: not preferred(p))


def _text(props: list | None) -> str:
    if not props:
        return ""
    value = props[0].value
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _join(part) -> str:
    return " ".join(part) if isinstance(part, list) else str(part or "")


# --- Cleaning one row ---------------------------------------------------------------


_MAX = {f.name: f.max_length for f in Contact._meta.get_fields() if getattr(f, "max_length", None)}


def clean_row(line: int, raw: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> ParsedRow:
    """Check and normalise one row's values. A row that cannot be a contact gets a problem."""
    data: dict[str, Any] = dict(defaults or {})
    try:
        for name, value in raw.items():
            if name == "tags":
                tags = _clean_tags(value)
                if tags:
                    data["tags"] = tags
                continue
            value = value.strip() if isinstance(value, str) else value
            if value in ("", None):
                continue
            data[name] = _CLEANERS.get(name, _clean_text)(name, value)
        if not data.get("name"):
            raise ValidationError("there is no name, so it cannot become a contact")
        if "hours_start" in data or "hours_end" in data:
            start = data.get("hours_start", "09:00")
            end = data.get("hours_end", "17:00")
            if end <= start:
                raise ValidationError(f"the hours end ({end}) before they start ({start})")
    except ValidationError as exc:
        return ParsedRow(line=line, data=data, problem=f"Line {line}: {exc.messages[0]}.")
    return ParsedRow(line=line, data=data)


def _clean_text(name: str, value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if name in ("name", "organisation", "title"):
        value = " ".join(value.split())  # one line: a name goes into email subjects
    limit = _MAX.get(name)
    if limit and len(value) > limit:
        raise ValidationError(f"the {FIELD_COLUMNS.get(name, name).lower()} is longer than {limit} characters")
    return value


def _clean_email(name: str, value: str) -> str:
    value = _clean_text(name, value)
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(f"“{value}” is not an email address") from None
    return value


def _clean_url(name: str, value: str) -> str:
    value = _clean_text(name, value)
    if "://" not in value:
        value = "https://" + value  # LinkedIn has exported bare "www.linkedin.com/in/…" in places
    # Cheaper than URLValidator, which is the slowest part of reading ten thousand rows.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or any(c.isspace() for c in value):
        raise ValidationError(f"“{value}” is not a web address")
    return value


def _clean_date(name: str, value: str) -> str:
    date = parse_date(value)
    if date is None:
        raise ValidationError(f"“{value}” is not a date we can read (e.g. 21 Nov 2023 or 2023-11-21)")
    return date.isoformat()


def _clean_time(name: str, value: str) -> str:
    try:
        return dt.time.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        raise ValidationError(f"“{value}” is not a time (e.g. 09:00)") from None


def _clean_strength(name: str, value: str) -> str:
    for choice, label in Strength.choices:
        if value.lower() in (choice, label.lower(), label.split(" — ")[0].lower()):
            return choice
    raise ValidationError(f"“{value}” is not a relationship strength ({', '.join(Strength.values)})")


def _clean_bool(name: str, value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.lower()
    if lowered in ("yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    raise ValidationError(f"“{value}” should be yes or no")


def _clean_time_zone(name: str, value: str) -> str:
    if value not in all_time_zones():
        raise ValidationError(f"“{value}” is not a time zone we know")
    return value


def _clean_weekdays(name: str, value: str) -> int:
    days = set()
    for part in re.split(r"[\s,]+", value):
        if not part:
            continue
        key = part[:3].title()
        if key not in _WEEKDAY_ABBR:
            raise ValidationError(f"“{part}” is not a weekday")
        days.add(_WEEKDAY_ABBR.index(key))
    mask = weekdays_to_mask(days)
    if not 0 < mask <= WEEKDAYS_ALL:
        raise ValidationError("no weekday is given, so the window could never open")
    return mask


def _clean_min_days(name: str, value: str) -> int:
    if not value.isdigit() or int(value) > 365:
        raise ValidationError(f"“{value}” is not a number of days from 0 to 365")
    return int(value)


def _clean_tags(value: list[str] | str) -> list[str]:
    from .forms import TAG_MAX_LENGTH, split_tags

    names = split_tags(",".join(value) if isinstance(value, list) else value)
    for name in names:
        if len(name) > TAG_MAX_LENGTH:
            raise ValidationError(f"the tag “{name}” is longer than {TAG_MAX_LENGTH} characters")
    return names


_CLEANERS = {
    "email": _clean_email,
    "profile_url": _clean_url,
    "connected_on": _clean_date,
    "unavailable_until": _clean_date,
    "hours_start": _clean_time,
    "hours_end": _clean_time,
    "strength": _clean_strength,
    "shareable": _clean_bool,
    "do_not_contact": _clean_bool,
    "time_zone": _clean_time_zone,
    "weekdays": _clean_weekdays,
    "min_days_between": _clean_min_days,
}


def parse_date(value: str) -> dt.date | None:
    """LinkedIn's "21 Nov 2023" (whatever the server's locale), ISO dates, and "Nov 21, 2023"."""
    value = value.strip()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*\.?[ -](\d{4})", value) or re.fullmatch(
        r"([A-Za-z]{3})[A-Za-z]*\.? (\d{1,2}),? (\d{4})", value
    )
    if not match:
        return None
    first, second, year = match.groups()
    day, month = (first, second) if first.isdigit() else (second, first)
    try:
        return dt.date(int(year), _MONTHS[month.lower()], int(day))
    except (KeyError, ValueError):
        return None


def contact_values(data: dict[str, Any]) -> dict[str, Any]:
    """A parsed row's data as Contact field values (dates and times as Python objects), without tags."""
    values = {}
    for name, value in data.items():
        if name == "tags":
            continue
        if name in ("connected_on", "unavailable_until"):
            value = dt.date.fromisoformat(value)
        elif name in ("hours_start", "hours_end"):
            value = dt.time.fromisoformat(value)
        values[name] = value
    return values


# --- Writing ------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe.

    A cell that already starts with apostrophes before such a character gets one
    more, so that `unneutralise` (which removes exactly one) gives back the original.
    """
    if value.startswith(FORMULA_START) or (value.startswith("'") and _NEUTRALISED.match(value)):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    return value[1:] if _NEUTRALISED.match(value) else value


@functools.cache
def _weekdays_text(mask: int) -> str:
    return " ".join(_WEEKDAY_ABBR[d] for d in sorted(mask_to_weekdays(mask)))


# The Contact fields `contact_fields` reads: all an export has to fetch.
EXPORT_FIELDS = (
    *("name", "email", "organisation", "title", "profile_url", "connected_on", "strength", "how_we_know"),
    *("notes", "shareable", "time_zone", "weekdays", "hours_start", "hours_end", "unavailable_until"),
    *("min_days_between", "do_not_contact"),
)


def contact_fields(contact: Contact | Any, tag_names: Iterable[str]) -> dict[str, str]:
    """One contact (a Contact or an export row) as the strings our CSV and vCard carry."""
    return {
        "name": contact.name,
        "email": contact.email,
        "organisation": contact.organisation,
        "title": contact.title,
        "profile_url": contact.profile_url,
        "connected_on": contact.connected_on.isoformat() if contact.connected_on else "",
        "strength": contact.strength,
        "how_we_know": contact.how_we_know,
        "notes": contact.notes,
        "tags": ", ".join(tag_names),
        "shareable": "yes" if contact.shareable else "no",
        "time_zone": contact.time_zone,
        "weekdays": _weekdays_text(contact.weekdays),
        "hours_start": contact.hours_start.isoformat(timespec="minutes"),
        "hours_end": contact.hours_end.isoformat(timespec="minutes"),
        "unavailable_until": contact.unavailable_until.isoformat() if contact.unavailable_until else "",
        "min_days_between": str(contact.min_days_between),
        "do_not_contact": "yes" if contact.do_not_contact else "no",
    }


# The exports stream: a view hands these pieces to a StreamingHttpResponse as the rows come
# from the database, so memory stays flat however many contacts there are.
ROWS_PER_PIECE = 200


# What the writers take: each contact (a Contact, or a row from `ContactQuerySet.for_export`)
# with its tag names.
ContactsWithTags = Iterable[tuple[Any, list[str]]]


def iter_csv(contacts: ContactsWithTags) -> Iterator[str]:
    """Contacts as CSV (with a BOM, so spreadsheets read the accents right), formulas
    neutralised, in pieces of ROWS_PER_PIECE rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    columns = list(CSV_COLUMNS.values())
    for n, (contact, tag_names) in enumerate(contacts, start=1):
        fields = contact_fields(contact, tag_names)
        # `neutralise` inlined: a function call per cell was a tenth of a large export's time.
        cells = [fields[name] for name in columns]
        writer.writerow([neutralise(cell) if cell[:1] in _RISKY_FIRST else cell for cell in cells])
        if n % ROWS_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_csv(contacts: ContactsWithTags, out: io.TextIOBase) -> None:
    for piece in iter_csv(contacts):
        out.write(piece)


# vCard 3.0 (RFC 2426), which Google, Apple and Outlook all read, written line by line rather
# than through vobject: vobject took 1.6 ms a card, over five minutes for 200,000 contacts;
# these lines take 3.9 s of CPU for all 200,000 (`make bench`, "Exports"). The text is what
# vobject wrote, except that a line is folded at 75 octets even when it has fewer characters.
VCARD_LINE_OCTETS = 75
_VCARD_ESCAPES = (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n"), ("\r", "\\n"))


def vcard_escape(value: str) -> str:
    """A TEXT value (RFC 6350 §3.4): backslash, semicolon, comma and line breaks escaped."""
    for raw, escaped in _VCARD_ESCAPES:
        if raw in value:
            value = value.replace(raw, escaped)
    return value


def vcard_fold(line: str) -> str:
    """One content line with its CRLF, folded (RFC 6350 §3.2) so that no line is longer than
    75 octets: the rest goes on after CRLF and a space, never in the middle of a UTF-8 character."""
    data = line.encode()
    if len(data) <= VCARD_LINE_OCTETS:
        return line + "\r\n"
    parts = []
    start, limit = 0, VCARD_LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, VCARD_LINE_OCTETS - 1  # the leading space counts
    return "\r\n ".join(parts) + "\r\n"


# The extra properties in the order vobject wrote them (by name), so files stay as they were.
_VCARD_EXTRA_SORTED = sorted(VCARD_EXTRA.items(), key=lambda item: item[1])


def vcard_card(contact: Contact | Any, tag_names: list[str]) -> str:
    """One contact as a vCard 3.0 card: the properties in name order after VERSION."""
    fields = contact_fields(contact, tag_names)
    given, _, family = contact.name.rpartition(" ")
    lines = ["BEGIN:VCARD\r\n", "VERSION:3.0\r\n"]
    if tag_names:
        lines.append(vcard_fold("CATEGORIES:" + ",".join(vcard_escape(t) for t in tag_names)))
    if contact.email:
        lines.append(vcard_fold("EMAIL;TYPE=INTERNET:" + vcard_escape(contact.email)))
    lines.append(vcard_fold("FN:" + vcard_escape(contact.name)))
    lines.append(vcard_fold(f"N:{vcard_escape(family)};{vcard_escape(given)};;;"))
    for prop, value in (
        ("NOTE", contact.notes),
        ("ORG", contact.organisation),
        ("TITLE", contact.title),
        ("URL", contact.profile_url),
    ):
        if value:
            lines.append(vcard_fold(f"{prop}:{vcard_escape(value)}"))
    for field_name, prop in _VCARD_EXTRA_SORTED:
        if fields[field_name]:
            lines.append(vcard_fold(f"{prop}:{vcard_escape(fields[field_name])}"))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def iter_vcard(contacts: ContactsWithTags) -> Iterator[str]:
    """Contacts as vCard 3.0 cards, in pieces of ROWS_PER_PIECE cards."""
    cards: list[str] = []
    for contact, tag_names in contacts:
        cards.append(vcard_card(contact, tag_names))
        if len(cards) == ROWS_PER_PIECE:
            yield "".join(cards)
            cards = []
    if cards:
        yield "".join(cards)


def write_vcard(contacts: ContactsWithTags, out: io.TextIOBase) -> None:
    for piece in iter_vcard(contacts):
        out.write(piece)
