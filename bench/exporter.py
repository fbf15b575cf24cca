"""The exports, each measured in a process of its own (`python -m bench.exporter STEP`, Django
on the exports database), so the memory it reports is that export's and nothing else's.

Steps (one JSON line each on stdout):
  setup:N         one account with N contacts (and tags), one with a few for warming up
  csv             GET the contacts CSV, the streamed response consumed to the end
  vcard           the same for the vCard file
  data-prepare    POST "prepare my data" (the request), then the worker's task that writes the file
  data-download   GET the prepared file, consumed to the end

Before the measured export the process runs the same export for the small account, so imports,
the connection and the templates are already there. Then the peak-memory mark is reset
(`/proc/self/clear_refs`, 5) and the growth reported is VmHWM after the export minus VmRSS
before it: what the export itself needed at its worst moment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import data_exports  # noqa: E402
from accounts.models import DataExport, User  # noqa: E402
from accounts.tasks import build_data_export  # noqa: E402
from contacts.models import Contact, Tag, search_keys  # noqa: E402

from .data import FIRST, LAST, ORG_A, ORG_B, TITLES, _reset_sequences, copy_rows  # noqa: E402

BIG_EMAIL = "exporter@bench.test"
WARM_EMAIL = "exporter-warm@bench.test"
WARM_CONTACTS = 50
TAG_NAMES = ("recruiter", "former colleague", "alumni", "conference 2025", "Berlin")


def _status(field: str) -> float:
    """A /proc/self/status figure, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def _reset_peak() -> bool:
    """Set VmHWM back to the current VmRSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class Measure:
    """Wall time and peak RSS growth of the block."""

    def __enter__(self) -> Measure:
        self.reset = _reset_peak()
        self.rss_before = _status("VmRSS")
        self.hwm_before = _status("VmHWM")
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started
        # This process's own CPU: on a shared machine, what the export costs whatever the others do.
        self.cpu_seconds = time.process_time() - self.cpu_started
        # Without the reset the peak may be an earlier one: then only growth above it counts.
        self.growth_mb = max(0.0, _status("VmHWM") - (self.rss_before if self.reset else self.hwm_before))

    def as_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "growth_mb": round(self.growth_mb, 1),
            "peak_reset": self.reset,
        }


def _emit(step: str, **values) -> None:
    print(json.dumps({"step": step, **values}), flush=True)


def _client(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


# --- data ---------------------------------------------------------------------------------------


def _contact_rows(owner: int, first_id: int, n: int, rng: random.Random):
    now = timezone.now()
    for k in range(n):
        cid = first_id + k
        name = f"{FIRST[cid % len(FIRST)]} {LAST[(cid // len(FIRST)) % len(LAST)]} {cid}"
        email = f"contact{cid}@example.org" if k % 3 else ""
        organisation = f"{ORG_A[cid % len(ORG_A)]} {ORG_B[(cid // len(ORG_A)) % len(ORG_B)]}"
        title = TITLES[cid % len(TITLES)]
        yield {
            "id": cid,
            "owner_id": owner,
            "name": name,
            "email": email,
            "organisation": organisation,
            "title": title,
            # COPY writes the columns as given: the search keys Contact's writes keep.
            **search_keys(name=name, organisation=organisation, title=title, email=email),
            "profile_url": f"https://www.linkedin.com/in/contact-{cid}",
            "how_we_know": "Connected on LinkedIn after the regional meet-up." if k % 4 else "",
            "notes": "Asked about the analytics team; follow up in spring, mention Dana." if k % 10 == 0 else "",
            "connected_on": (now - dt.timedelta(days=rng.randint(30, 3000))).date(),
            "last_contacted_at": now - dt.timedelta(days=rng.randint(5, 400)) if k % 5 == 0 else None,
        }


def step_setup(n: int) -> None:
    started = time.perf_counter()
    rng = random.Random(20261124)
    password = make_password("bench-password")
    now = timezone.now()
    users = [(1, BIG_EMAIL, "Erin Exporter", n), (2, WARM_EMAIL, "Walt Warmup", WARM_CONTACTS)]
    copy_rows(
        User,
        ({"id": uid, "email": email, "full_name": name, "password": password, "date_joined": now} for uid, email, name, _ in users),
    )  # fmt: skip
    tag_rows, contact_count, first_id = [], 0, 1
    tags_of: dict[int, list[int]] = {}
    for uid, _, _, _ in users:
        tags_of[uid] = []
        for name in TAG_NAMES:
            tag_rows.append({"id": len(tag_rows) + 1, "owner_id": uid, "name": name})
            tags_of[uid].append(len(tag_rows))
    copy_rows(Tag, tag_rows)
    for uid, _, _, count in users:
        contact_count += copy_rows(Contact, _contact_rows(uid, first_id, count, rng))
        first_id += count
    through = Contact.tags.through

    def links():
        link_id = 0
        cid = 1
        for uid, _, _, count in users:
            for k in range(count):
                # A third carry a tag, one in seven a second one.
                chosen = ([tags_of[uid][k % 5]] if k % 3 == 0 else []) + (
                    [tags_of[uid][(k + 2) % 5]] if k % 7 == 0 else []
                )
                for tag in chosen:
                    link_id += 1
                    yield {"id": link_id, "contact_id": cid, "tag_id": tag}
                cid += 1

    tagged = copy_rows(through, links())
    _reset_sequences(User, Tag, Contact, through)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _emit("setup", contacts=contact_count, tag_links=tagged, seconds=round(time.perf_counter() - started, 1))


# --- the exports ----------------------------------------------------------------------------------


def _consume(response, marker: bytes = b"\n") -> tuple[int, int, bytes]:
    """Every byte of a (streamed) response, counted, not kept: its size, how often `marker`
    occurs (the app's pieces end on whole records, so none straddles two), its last bytes."""
    size, count, tail = 0, 0, b""
    for chunk in response.streaming_content:
        size += len(chunk)
        count += chunk.count(marker)
        tail = (tail + chunk)[-64:]
    response.close()
    return size, count, tail


def step_contacts(kind: str) -> None:
    url = reverse("contacts:export_csv" if kind == "csv" else "contacts:export_vcard")
    # A card ends with END:VCARD; a CSV row with CRLF (no field of this data holds a line break).
    marker = b"END:VCARD\r\n" if kind == "vcard" else b"\r\n"
    _consume(_client(WARM_EMAIL).get(url), marker)
    client = _client(BIG_EMAIL)
    with Measure() as m:
        response = client.get(url)
        size, count, _ = _consume(response, marker)
    records = count if kind == "vcard" else count - 1  # the header row
    _emit(kind, status=response.status_code, streaming=response.streaming, bytes=size, records=records, **m.as_dict())


def _prepare(email: str) -> tuple[int, DataExport]:
    response = _client(email).post(reverse("accounts:data_export"))
    export = DataExport.objects.filter(user__email=email).latest("requested_at")
    return response.status_code, export


def step_data_prepare() -> None:
    status, warm = _prepare(WARM_EMAIL)
    build_data_export.apply(args=(warm.pk,))
    with Measure() as asking:
        status, export = _prepare(BIG_EMAIL)
    _emit("data-request", status=status, export_status=export.status, **asking.as_dict())
    with Measure() as m:
        build_data_export.apply(args=(export.pk,))  # what the worker runs, in this process
    export.refresh_from_db()
    _emit("data-prepare", export_status=export.status, bytes=export.size, **m.as_dict())


def _count_contact_lines(export: DataExport) -> int:
    """Contacts in the file, read line by line (one record per line), never loaded whole."""
    count, inside = 0, False
    with data_exports.storage().open(export.path, "rb") as file:
        for line in file:
            if line.startswith(b'"contacts": ['):
                inside = True
            elif inside and line.startswith(b"]"):
                break
            elif inside:
                json.loads(line.rstrip(b",\n"))
                count += 1
    return count


def step_data_download() -> None:
    url = lambda export: reverse("accounts:data_export_download", args=[export.pk])  # noqa: E731
    warm = DataExport.objects.get(user__email=WARM_EMAIL, status=DataExport.Status.READY)
    _consume(_client(WARM_EMAIL).get(url(warm)))
    export = DataExport.objects.get(user__email=BIG_EMAIL, status=DataExport.Status.READY)
    client = _client(BIG_EMAIL)
    with Measure() as m:
        response = client.get(url(export))
        size, _, tail = _consume(response)
    _emit(
        "data-download",
        status=response.status_code,
        bytes=size,
        records=_count_contact_lines(export),
        complete=tail.endswith(b"}\n"),
        **m.as_dict(),
    )


STEPS = {"csv": lambda: step_contacts("csv"), "vcard": lambda: step_contacts("vcard")}
STEPS |= {"data-prepare": step_data_prepare, "data-download": step_data_download}


def main(argv: list[str]) -> int:
    for step in argv:
        if step.startswith("setup:"):
            step_setup(int(step.split(":", 1)[1]))
        else:
            STEPS[step]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
