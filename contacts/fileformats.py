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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import vobject
from django.utils import timezone

from lib import dates
from lib.addresses import sendable, unusable_reason
from lib.spreadsheet import FORMULA_START, neutralise, unneutralise
from lib.timezones import all_time_zones

from .models import WEEKDAY_NAMES, WEEKDAYS_ALL, Contact, Strength, mask_to_weekdays, weekdays_to_mask

MAX_FILE_BYTES = 5 * 1024 * 1024
HEADER_SEARCH_RECORDS = 30  # LinkedIn's "Notes:" preamble is a few lines; a header further down is not one
PROGRESS_EVERY = 1000  # rows between two progress reports while reading

ProgressCallback = Callable[[int, int], None]

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

_RISKY_FIRST = frozenset([*FORMULA_START, "'"])  # a cell starting otherwise is never changed
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
    problem: str = ""  # set when nothing in this row says who it is; the rest of the file still imports
    # Values that could not be used as they were, and what was done instead. The person is
    # kept: an unusable value goes where its owner sees it (the email beside the address
    # field, anything else in the notes).
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    source: str
    rows: list[ParsedRow] = field(default_factory=list)


# --- Reading ----------------------------------------------------------------------


def parse_upload(
    filename: str, raw: bytes, *, max_rows: int | None = None, progress: ProgressCallback | None = None
) -> ParsedFile:
    """Read an uploaded file into rows, or raise ImportFileError naming the problem (and line).

    With `max_rows`, a file with more contacts is refused before any row is read, naming
    both numbers. `progress(done, total)` is called every thousand rows or so.
    """
    text, is_vcard = _open(filename, raw)
    if is_vcard:
        parsed = parse_vcard(text, max_rows=max_rows, progress=progress)
    else:
        parsed = parse_csv(text, max_rows=max_rows, progress=progress)
    if not parsed.rows:
        raise ImportFileError("The file has no contacts in it: nothing was found after the header.")
    return parsed


def sniff(filename: str, raw: bytes) -> str:
    """The checks that take a moment whatever the file's size (its size, its type, its
    encoding, its header), so the upload form can answer them at once; the rows are read
    later, by a worker. Returns the source, or raises ImportFileError."""
    text, is_vcard = _open(filename, raw)
    if is_vcard:
        return Source.VCARD
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _find_header(reader).source
    except csv.Error as exc:
        raise ImportFileError(f"the CSV cannot be read ({exc}).", line=reader.line_num) from exc


def _open(filename: str, raw: bytes) -> tuple[str, bool]:
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
        return text, True
    if suffix in (".vcf", ".vcard"):
        raise ImportFileError("The file is named like a vCard but has no BEGIN:VCARD line, so it is not one.")
    return text, False


def too_many_rows(count: int, limit: int) -> ImportFileError:
    return ImportFileError(
        f"The file has {count:,} contacts; the most one import can take is {limit:,}. "
        f"Split it into files of up to {limit:,} rows (keep the header line at the top of each) "
        "and import them one after the other."
    )


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


@dataclass
class _Header:
    source: str
    columns: list[str]
    line: int


def _find_header(reader) -> _Header:
    """Read records up to the header (LinkedIn puts a "Notes:" preamble above it)."""
    candidate: tuple[int, list[str]] | None = None
    records_seen = 0
    next_line = 1
    for record in reader:
        line, next_line = next_line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # blank lines: LinkedIn leaves one after its preamble
        records_seen += 1
        source = _header_kind(record)
        if source:
            return _Header(source, [cell.strip().lstrip("\ufeff") for cell in record], line)
        if candidate is None and _looks_like_a_header(record):
            candidate = (line, record)
        if records_seen >= HEADER_SEARCH_RECORDS:
            break
    if candidate is not None:
        line, record = candidate
        found = [cell.strip().lstrip("\ufeff") for cell in record]
        shown = _columns(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
        raise ImportFileError(
            f"the header row has the columns {shown}. We expected LinkedIn’s {_columns(LINKEDIN_COLUMNS)} "
            "(at least “First Name” and “Last Name”), or a Warm Intros export’s “Name”, “Email”, “Organisation”, …. "
            "Rename the columns to match, or export the file again; from Google, Apple or Outlook contacts, "
            "export a vCard (.vcf).",
            line=line,
        )
    raise ImportFileError(
        "The file has no header row. A LinkedIn export has the columns "
        f"{_columns(LINKEDIN_COLUMNS)}; a Warm Intros export starts with “Name”, “Email”, “Organisation”, …."
    )


def _columns(names) -> str:
    """Column names as a person reads them: each quoted, a space after each comma (a line may
    break between them, never inside one)."""
    return ", ".join(f"“{name}”" for name in names)


def _looks_like_a_header(record: list[str]) -> bool:
    """Column names, not a person: every cell filled in, none an address, a link, a date or a number."""
    cells = [cell.strip().lstrip("\ufeff") for cell in record]
    if len(cells) < 2 or not all(cells) or len(set(cells)) < len(cells):
        return False
    return not any(
        "@" in cell
        or "://" in cell
        or cell.lower().startswith("www.")
        or len(cell) > 60
        or not any(c.isalpha() for c in cell)
        or parse_date(cell) is not None
        for cell in cells
    )


def parse_csv(text: str, *, max_rows: int | None = None, progress: ProgressCallback | None = None) -> ParsedFile:
    total = None
    if max_rows is not None or progress is not None:
        # A first pass only counts, so that a file over the limit is refused before any
        # row is cleaned, and the progress has a total.
        total = _count_csv_rows(text)
        if max_rows is not None and total > max_rows:
            raise too_many_rows(total, max_rows)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[ParsedRow] = []
    try:
        header = _find_header(reader)
        columns = header.columns
        next_line = reader.line_num + 1
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                raise ImportFileError(
                    f"this row has {len(record)} fields but the header has {len(columns)}. "
                    "A value with a comma in it needs double quotes around it.",
                    line=line,
                )
            values = dict(zip(columns, (unneutralise(cell) for cell in record), strict=True))
            rows.append(_linkedin_row(line, values) if header.source == Source.LINKEDIN else _csv_row(line, values))
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:
                progress(len(rows), total)
    except csv.Error as exc:
        raise ImportFileError(f"the CSV cannot be read ({exc}).", line=reader.line_num) from exc
    return ParsedFile(source=header.source, rows=rows)


def _count_csv_rows(text: str) -> int:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        _find_header(reader)
        return sum(1 for record in reader if any(cell.strip() for cell in record))
    except csv.Error as exc:
        raise ImportFileError(f"the CSV cannot be read ({exc}).", line=reader.line_num) from exc


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


def parse_vcard(text: str, *, max_rows: int | None = None, progress: ProgressCallback | None = None) -> ParsedFile:
    text = _drop_binary_properties(text)
    card_lines = [n for n, line in enumerate(_LINES.split(text), 1) if line.strip().upper() == "BEGIN:VCARD"]
    if max_rows is not None and len(card_lines) > max_rows:
        raise too_many_rows(len(card_lines), max_rows)
    rows: list[ParsedRow] = []
    try:
        for index, card in enumerate(vobject.readComponents(text, allowQP=True)):
            line = card_lines[index] if index < len(card_lines) else 0
            if card.name.upper() != "VCARD":
                continue
            rows.append(_vcard_row(line, card))
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:
                progress(len(rows), len(card_lines))
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
_NOT_SET = object()


class _Unusable(Exception):
    """A value that cannot be used as it is: why, what is done instead, and the value used
    in its place (none: the field is left as the contact's default)."""

    def __init__(self, reason: str, done: str = "left out", instead: Any = _NOT_SET):
        self.reason, self.done, self.instead = reason, done, instead
        super().__init__(reason)


def _shown(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_row(line: int, raw: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> ParsedRow:
    """Check and normalise one row's values.

    A person is never dropped for a value that cannot be used: the value is left out (or
    cut to fit, or replaced by the safe default), the row gets a warning saying so, and
    the value from the file goes where the owner will see it and can fix it: an address
    that can't receive email into `email_unusable`, anything else into the notes. Only a
    row with nothing that says who it is (no name, address or profile) cannot be imported.
    """
    data: dict[str, Any] = dict(defaults or {})
    warnings: list[str] = []
    set_aside: list[str] = []
    for name, value in raw.items():
        if name == "tags":
            tags, dropped = _clean_tags(value)
            if tags:
                data["tags"] = tags
            for tag in dropped:
                warnings.append(
                    f"The tag “{_shown(tag)}” is longer than {_tag_max_length()} characters: left out; "
                    "it is in the notes."
                )
                set_aside.append(f"Tag: {tag}")
            continue
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None):
            continue
        label = FIELD_COLUMNS.get(name, name)
        if name == "email":
            _clean_email_into(data, warnings, set_aside, _clean_text(name, value, cut=False))
            continue
        try:
            data[name] = _CLEANERS.get(name, _clean_text)(name, value)
        except _Unusable as exc:
            if exc.instead is not _NOT_SET:
                data[name] = exc.instead
            warnings.append(
                f"{label} “{_shown(value)}” {exc.reason}: {exc.done}; the value from the file is in the notes."
            )
            set_aside.append(f"{label}: {value}")
    if "hours_start" in data or "hours_end" in data:
        start = data.get("hours_start", "09:00")
        end = data.get("hours_end", "17:00")
        if end <= start:
            data.pop("hours_start", None)
            data.pop("hours_end", None)
            warnings.append(
                f"The hours end ({end}) before they start ({start}): the usual 09:00–17:00 is used; "
                "the hours from the file are in the notes."
            )
            set_aside.append(f"Hours: {start}–{end}")
    if not data.get("name"):
        stand_in, after = _stand_in_name(data)
        if not stand_in:
            return ParsedRow(
                line=line,
                data=data,
                problem=f"Line {line}: there is no name, email address or profile URL, so nothing says who this is.",
            )
        data["name"] = stand_in
        warnings.append(f"There is no name in the file: named after their {after}; change it on the contact.")
    if set_aside:
        note = "Not used as it was in the imported file:\n" + "\n".join(f"- {item}" for item in set_aside)
        data["notes"] = f"{data['notes']}\n\n{note}" if data.get("notes") else note
    return ParsedRow(line=line, data=data, warnings=warnings)


def _clean_email_into(data: dict[str, Any], warnings: list[str], set_aside: list[str], value: str) -> None:
    if sendable(value):
        data["email"] = value
        return
    reason = unusable_reason(value)
    if len(value) > _MAX["email_unusable"]:
        set_aside.append(f"Email: {value}")
        warnings.append(f"The email address “{_shown(value)}” can't receive email: {reason}. It is in the notes.")
        return
    data["email_unusable"] = value
    warnings.append(
        f"The email address “{value}” can't receive email: {reason}. "
        "It is kept on the contact for you to fix; nothing is sent to it."
    )


def _stand_in_name(data: dict[str, Any]) -> tuple[str, str]:
    address = data.get("email") or data.get("email_unusable")
    if address:
        return address[: _MAX["name"]], "email address"
    url = data.get("profile_url", "")
    if url:
        slug = re.search(r"/in/([^/?#]+)", url)
        return (slug[1] if slug else url)[: _MAX["name"]], "profile URL"
    return "", ""


def _clean_text(name: str, value: str, *, cut: bool = True) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if name in ("name", "organisation", "title", "email"):
        value = " ".join(value.split())  # one line: a name goes into email subjects
    limit = _MAX.get(name)
    if cut and limit and len(value) > limit:
        raise _Unusable(f"is longer than {limit} characters", done="cut to fit", instead=value[:limit].rstrip())
    return value


def _clean_url(name: str, value: str) -> str:
    value = _clean_text(name, value, cut=False)
    if "://" not in value:
        value = "https://" + value  # LinkedIn has exported bare "www.linkedin.com/in/…" in places
    # Cheaper than URLValidator, which is the slowest part of reading ten thousand rows.
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" reads as a broken IPv6 address
        raise _Unusable("is not a web address") from None
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or any(c.isspace() for c in value):
        raise _Unusable("is not a web address")
    if len(value) > _MAX[name]:
        raise _Unusable(f"is longer than {_MAX[name]} characters")
    return value


def _clean_date(name: str, value: str) -> str:
    date = parse_date(value)
    if date is None:
        raise _Unusable("is not a date we can read (e.g. 21 Nov 2023 or 2023-11-21)")
    # The forms' ranges (lib.dates). A busy date already past is kept, as the contact form
    # keeps a saved one: the window is simply open. A date years ahead is refused.
    today = timezone.localdate()
    if name == "connected_on":
        known = dates.connected_since(today)
        if not known.earliest <= date <= known.latest:
            raise _Unusable("is not a day in the last hundred years")
    elif name == "unavailable_until" and date > dates.busy_through(today, free_now="").latest:
        raise _Unusable("is more than two years ahead")
    return date.isoformat()


def _clean_time(name: str, value: str) -> str:
    try:
        return dt.time.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        usual = "09:00" if name == "hours_start" else "17:00"
        raise _Unusable("is not a time (e.g. 09:00)", done=f"the usual {usual} is used") from None


def _clean_strength(name: str, value: str) -> str:
    for choice, label in Strength.choices:
        if value.lower() in (choice, label.lower(), label.split(" — ")[0].lower()):
            return choice
    raise _Unusable(
        f"is not a relationship strength ({', '.join(Strength.values)})",
        done="the usual strength for the file is used",
    )


def _read_bool(value: str | bool) -> bool | None:
    if isinstance(value, bool):
        return value
    lowered = value.lower()
    if lowered in ("yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    return None


def _clean_shareable(name: str, value: str | bool) -> bool:
    read = _read_bool(value)
    if read is None:
        raise _Unusable("should be yes or no", done="not shared with your cohort", instead=False)
    return read


def _clean_do_not_contact(name: str, value: str | bool) -> bool:
    read = _read_bool(value)
    if read is None:
        # Someone may have meant "leave them alone": the safe reading until the owner says.
        raise _Unusable("should be yes or no", done="marked “do not contact” to be safe", instead=True)
    return read


def _clean_time_zone(name: str, value: str) -> str:
    if value not in all_time_zones():
        raise _Unusable("is not a time zone we know", done="your own time zone is used")
    return value


def _clean_weekdays(name: str, value: str) -> int:
    days = set()
    for part in re.split(r"[\s,]+", value):
        if not part:
            continue
        key = part[:3].title()
        if key not in _WEEKDAY_ABBR:
            raise _Unusable(f"has “{_shown(part, 20)}”, which is not a weekday", done="Monday to Friday is used")
        days.add(_WEEKDAY_ABBR.index(key))
    mask = weekdays_to_mask(days)
    if not 0 < mask <= WEEKDAYS_ALL:
        raise _Unusable("names no weekday, so the window could never open", done="Monday to Friday is used")
    return mask


def _clean_min_days(name: str, value: str) -> int:
    if not value.isdigit() or int(value) > 365:
        raise _Unusable("is not a number of days from 0 to 365", done="no minimum is used")
    return int(value)


def _tag_max_length() -> int:
    from .forms import TAG_MAX_LENGTH

    return TAG_MAX_LENGTH


def _clean_tags(value: list[str] | str) -> tuple[list[str], list[str]]:
    """The tags to use, and those too long to be one."""
    from .forms import split_tags

    names = split_tags(",".join(value) if isinstance(value, list) else value)
    limit = _tag_max_length()
    return [n for n in names if len(n) <= limit], [n for n in names if len(n) > limit]


_CLEANERS = {
    "profile_url": _clean_url,
    "connected_on": _clean_date,
    "unavailable_until": _clean_date,
    "hours_start": _clean_time,
    "hours_end": _clean_time,
    "strength": _clean_strength,
    "shareable": _clean_shareable,
    "do_not_contact": _clean_do_not_contact,
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


@functools.cache
def _weekdays_text(mask: int) -> str:
    return " ".join(_WEEKDAY_ABBR[d] for d in sorted(mask_to_weekdays(mask)))


# The Contact fields `contact_fields` reads: all an export has to fetch.
EXPORT_FIELDS = (
    *(
        "name",
        "email",
        "email_unusable",
        "organisation",
        "title",
        "profile_url",
        "connected_on",
        "strength",
        "how_we_know",
    ),
    *("notes", "shareable", "time_zone", "weekdays", "hours_start", "hours_end", "unavailable_until"),
    *("min_days_between", "do_not_contact"),
)


def contact_fields(contact: Contact | Any, tag_names: Iterable[str]) -> dict[str, str]:
    """One contact (a Contact or an export row) as the strings our CSV and vCard carry."""
    return {
        "name": contact.name,
        # An address that can't receive email goes out as it is, and comes back in marked so.
        "email": contact.email or contact.email_unusable,
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
    if fields["email"]:  # an address that can't receive email too: it comes back marked so
        lines.append(vcard_fold("EMAIL;TYPE=INTERNET:" + vcard_escape(fields["email"])))
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
