"""Download all my data: one JSON file of everything that is the person's own, and nothing that
is someone else's to see; prepared by a worker (never in the request), downloaded by its owner
only, announced by an email whose link needs a log-in, deleted after its days."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts import data_exports
from accounts.data_exports import data_export_request, data_export_sweep
from accounts.models import DataExport
from contacts import services as contact_services
from contacts.fileformats import parse_upload
from contacts.models import Tag
from followups import services as followup_services
from followups.models import CalendarFeed, ReminderLog
from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import ContactFactory, IntroRequestFactory, UserFactory
from tests.stories import accepted, awaiting_target, submitted
from workflows import intros as actions
from workflows import personal_data
from workflows.personal_data import do_account_delete, do_build_data_export

pytestmark = pytest.mark.django_db

URL = reverse("accounts:data_export")
HTMX = {"HTTP_HX_REQUEST": "true"}
CSV_FILE = b"First Name,Last Name,Email Address,Company\r\nAda,Lovelace,ada@example.net,Analytical\r\n"
Status = DataExport.Status


def _download_url(export: DataExport) -> str:
    return reverse("accounts:data_export_download", args=[export.pk])


def _prepare(user) -> DataExport:
    """What the page's button and the worker do, without the broker."""
    export, _ = data_export_request(user=user)
    return do_build_data_export(export_id=export.pk)


def _download(client, user) -> dict:
    """Ask on the page, let the worker prepare it (the task runs after commit), download it."""
    login(client, user)
    client.post(URL)
    export = DataExport.objects.get(user=user)
    if export.status == Status.REQUESTED:  # the test's transaction never commits: run the task here
        do_build_data_export(export_id=export.pk)
        export.refresh_from_db()
    response = client.get(_download_url(export))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.getvalue())


def _stored_files(data_export_dir) -> list[str]:
    """Every file in the storage. The folder is the session's (ids can come again on SQLite,
    whose rolled-back ids are reused): tests compare what they made, not what is there."""
    return sorted(str(p.relative_to(data_export_dir)) for p in data_export_dir.rglob("*") if p.is_file())


# --- asking, preparing, being told -------------------------------------------------------------


def test_the_settings_page_offers_to_prepare_the_file(client, seeker):
    page = login(client, seeker).get(reverse("accounts:profile")).content.decode()

    assert f'action="{URL}"' in page
    assert "Prepare my data (JSON)" in page


def test_asking_answers_at_once_and_the_page_says_it_is_being_prepared(client, seeker):
    login(client, seeker)

    response = client.post(URL)

    assert response.status_code == 302 and response["Location"] == URL
    export = DataExport.objects.get(user=seeker)
    assert export.status == Status.REQUESTED and not export.path  # nothing was written in the request
    page = client.get(URL).content.decode()
    assert "Preparing your download…" in page
    assert f'hx-get="{URL}"' in page and 'hx-trigger="every 2s"' in page


def test_htmx_polls_the_fragment_until_the_link_is_there(client, seeker):
    login(client, seeker)
    client.post(URL, **HTMX)
    export = DataExport.objects.get(user=seeker)

    waiting = client.get(URL, **HTMX).content.decode()
    do_build_data_export(export_id=export.pk)
    ready = client.get(URL, **HTMX).content.decode()

    assert waiting.lstrip().startswith('<div id="data-export"') and "hx-trigger" in waiting
    assert "<html" not in ready and "hx-trigger" not in ready  # the answer that stops the polling
    assert _download_url(export) in ready


def test_the_worker_prepares_it_after_commit_and_emails_its_owner_a_link_that_needs_a_log_in(
    client, seeker, django_capture_on_commit_callbacks
):
    login(client, seeker)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL)

    export = DataExport.objects.get(user=seeker)
    assert export.status == Status.READY and export.size > 0
    assert export.expires_at == export.ready_at + dt.timedelta(days=7)
    [email] = OutboxMessage.objects.filter(subject="Your Warm Intros data is ready to download")
    assert email.to == [seeker.email] and email.cc == [] and email.reply_to == []
    assert f"http://127.0.0.1:8000{URL}" in email.body_text
    client.logout()
    anonymous = client.get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    assert client.get(_download_url(export)).status_code == 302


def test_a_second_click_while_it_is_being_prepared_prepares_nothing_more(client, seeker, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "data_export": (1, 86400)}
    login(client, seeker)

    client.post(URL)
    again = client.post(URL)

    assert again.status_code == 302  # not refused: asking again while it is on its way costs nothing
    assert DataExport.objects.filter(user=seeker).count() == 1


def test_asking_too_often_is_refused_with_a_message_and_the_last_file_stays(client, seeker, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "data_export": (1, 86400)}
    login(client, seeker)
    client.post(URL)
    export = do_build_data_export(export_id=DataExport.objects.get(user=seeker).pk)

    refused = client.post(URL, **HTMX)

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    body = refused.content.decode()
    assert "You have asked for your data as often as we prepare it (1 per day)" in body
    assert _download_url(export) in body
    assert list(DataExport.objects.filter(user=seeker)) == [export]


def test_a_task_delivered_twice_writes_one_file(seeker, data_export_dir):
    before = set(_stored_files(data_export_dir))
    export, _ = data_export_request(user=seeker)

    first = do_build_data_export(export_id=export.pk)
    second = do_build_data_export(export_id=export.pk)

    assert first is not None and second is None
    assert set(_stored_files(data_export_dir)) - before == {first.path}
    assert OutboxMessage.objects.filter(to=[seeker.email]).count() == 1


def test_a_newer_file_replaces_the_older_one(seeker, data_export_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        older = _prepare(seeker)
        newer = _prepare(seeker)

    assert list(DataExport.objects.filter(user=seeker)) == [newer]
    assert older.path not in _stored_files(data_export_dir)
    assert newer.path in _stored_files(data_export_dir)


def test_a_failed_preparation_says_so_and_can_be_tried_again(client, seeker, monkeypatch):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(personal_data, "write_account_export", broken)
    export, _ = data_export_request(user=seeker)

    assert do_build_data_export(export_id=export.pk) is None

    export.refresh_from_db()
    assert export.status == Status.FAILED
    page = login(client, seeker).get(URL).content.decode()
    assert "Something went wrong while we prepared your file" in page
    assert "Try again" in page
    monkeypatch.undo()
    client.post(URL)
    assert DataExport.objects.filter(user=seeker, status=Status.REQUESTED).exists()


# --- downloading ----------------------------------------------------------------------------


def test_the_file_is_an_attachment_named_with_the_day_it_was_prepared(client, seeker):
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        export = _prepare(seeker)
        response = login(client, seeker).get(_download_url(export))
        page = client.get(reverse("accounts:profile")).content.decode()

    assert response["Content-Disposition"] == 'attachment; filename="warm-intros-my-data-2026-05-04.json"'
    assert "no-store" in response["Cache-Control"]
    assert int(response["Content-Length"]) == export.size
    assert _download_url(export) in page
    assert "until 11 May 2026" in page


def test_only_the_owner_can_download_it_and_only_while_it_is_kept(client, seeker, connector):
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        export = _prepare(seeker)
    url = _download_url(export)

    with time_machine.travel("2026-05-05 10:00Z", tick=False):
        assert login(client, connector).get(url).status_code == 404
        assert login(client, seeker).get(url).status_code == 200
    with time_machine.travel("2026-05-11 10:01Z", tick=False):
        assert client.get(url).status_code == 404
        assert "Prepare my data (JSON)" in client.get(URL).content.decode()


def test_anonymous_is_sent_to_log_in(client, seeker):
    export = _prepare(seeker)

    for url in (URL, _download_url(export)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


# --- what is in it ------------------------------------------------------------------------------


def test_everything_that_is_mine_is_in_it(client, cohort, seeker, connector, target):
    contact = ContactFactory(owner=seeker, name="Sam Ownperson", notes="My own note about Sam", time_zone="Asia/Tokyo")
    contact.tags.add(Tag.objects.create(owner=seeker, name="mentors"))
    contact_services.import_preview(owner=seeker, parsed=parse_upload("c.csv", CSV_FILE), filename="c.csv")
    introduced = accepted(seeker=seeker, target=target)
    followup_services.outreach_record(
        intro=introduced, seeker=seeker, at=timezone.now(), channel="email", note="Wrote to Carol", confirmed=True
    )
    followup_services.offer_create(seeker=seeker, offered_by_name="Rosa", contact_name="Pat Promised")
    ReminderLog.objects.record_once(
        kind=ReminderLog.Kind.DIGEST, object_id=seeker.pk, sequence=7, recipient=seeker.email
    )
    CalendarFeed.objects.create(user=seeker)
    # Janet is also a connector for Max, another member.
    received = submitted(seeker=connector, target=ContactFactory(owner=seeker, name="Tina Mine"))

    data = _download(client, seeker)

    assert data["format"] == "warm-intros-export" and data["version"] == 1
    assert data["profile"]["email"] == seeker.email
    assert data["profile"]["full_name"] == "Janet Seeker"
    sam = next(c for c in data["contacts"] if c["name"] == "Sam Ownperson")
    assert sam["notes"] == "My own note about Sam"
    assert sam["tags"] == ["mentors"]
    assert sam["window"]["time_zone"] == "Asia/Tokyo"
    assert sam["window"]["weekdays"] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert data["contact_tags"] == ["mentors"]
    assert data["contact_imports"][0]["filename"] == "c.csv"

    [made] = data["intro_requests_as_seeker"]
    assert made["id"] == introduced.pk and made["status"] == "introduced"
    assert made["connector"] == "Jill Connector"
    assert made["target"]["email"] == "carol@example.org"  # accepted: the seeker was given it
    assert [e["transition"] for e in made["events"]][:2] == ["submit", "approve"]
    assert [e["by"] for e in made["events"]][:2] == ["Janet Seeker", "Jill Connector"]
    assert any(e["by"] == "Carol Target" for e in made["events"])
    assert made["preparation"]["goal"]

    [got] = data["intro_requests_as_connector"]
    assert got["id"] == received.pk and got["seeker"] == "Jill Connector"
    assert got["target"]["name"] == "Tina Mine"

    assert {f["kind"] for f in data["followups"]} >= {"thank_connector"}
    assert data["outreach"][0]["note"] == "Wrote to Carol"
    assert data["offers"][0]["contact_name"] == "Pat Promised"
    assert data["cohort_memberships"] == [
        {"cohort": cohort.name, "coach": "Dana Coach", "joined_at": data["cohort_memberships"][0]["joined_at"]}
    ]
    assert data["reminders_sent_to_you"][0]["number"] == 7
    assert data["calendar_feed"]["created_at"]
    assert CalendarFeed.objects.get(user=seeker).token not in json.dumps(data)


def test_nothing_that_is_someone_elses(client, cohort, seeker, connector, member, target):
    target.notes = "Jill's private note about Carol"
    target.how_we_know = "Jill's old colleague"
    target.save()
    waiting = awaiting_target(seeker=seeker, target=target)
    actions.do_remind_target(intro=waiting)  # a re-ask: still not accepted
    shared = ContactFactory(
        owner=member, name="Maxine Shared", shareable=True, notes="Max's note", email="maxine@x.org"
    )
    IntroRequestFactory(seeker=member, target=ContactFactory(owner=connector, name="Not Janets"))
    # Max's draft to Janet as connector: a draft is Max's own until submitted.
    IntroRequestFactory(seeker=member, target=ContactFactory(owner=seeker, name="Drafted At Janet"))

    text = json.dumps(_download(client, seeker))
    data = json.loads(text)

    [made] = data["intro_requests_as_seeker"]
    assert made["target"]["email"] is None  # not accepted yet: not the seeker's to know
    for secret in ("carol@example.org", "Jill's private note", "Jill's old colleague", "Max's note", "maxine@x.org"):
        assert secret not in text, secret
    assert shared.name not in text
    assert "Not Janets" not in text
    assert data["intro_requests_as_connector"] == []
    assert "target_feedback" not in made


def test_the_file_is_one_json_document_with_a_record_per_line(seeker, data_export_dir):
    """Written a record at a time (memory stays flat), it still reads as one document, and each
    contact is a line of its own: a large file can be read line by line too."""
    for i in range(3):
        ContactFactory(owner=seeker, name=f"Contact {i}", notes="two\nlines")
    export = _prepare(seeker)

    text = (data_export_dir / export.path).read_text(encoding="utf-8")

    data = json.loads(text)
    assert [c["name"] for c in data["contacts"]] == ["Contact 0", "Contact 1", "Contact 2"]
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert sum(1 for line in lines if line.startswith('{"id": ') and '"name": "Contact ' in line) == 3
    assert '"followups": []' in text  # an empty section stays an empty array
    assert data == {**personal_data.account_export(user=seeker), "exported_at": data["exported_at"]}


def test_the_queries_grow_with_chunks_of_records_never_with_each_record(
    seeker, connector, monkeypatch, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            accepted(seeker=seeker, target=ContactFactory(owner=connector, name=f"T{i}", email=f"t{i}@x.org"))
            ContactFactory(owner=seeker).tags.add(Tag.objects.get_or_create(owner=seeker, name=f"tag{i}")[0])

    add(1)
    with django_assert_max_num_queries(40) as small:
        _prepare(seeker)
    add(5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        _prepare(seeker)


# --- keeping and deleting -------------------------------------------------------------------


def test_the_sweep_deletes_files_past_their_days_and_enqueues_lost_requests_again(
    seeker, connector, member, data_export_dir, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        old = _prepare(seeker)
        lost, _ = data_export_request(user=connector)  # its enqueue after commit never happened
        stalled, _ = data_export_request(user=member)
        DataExport.objects.filter(pk=stalled.pk).update(status=Status.BUILDING, started_at=timezone.now())
    assert old.path in _stored_files(data_export_dir)

    with django_capture_on_commit_callbacks(execute=True):
        counts = data_export_sweep(now=dt.datetime(2026, 5, 11, 10, 1, tzinfo=dt.UTC))

    assert counts == {"expired": 1, "enqueued_again": 1, "stalled": 1}
    assert not DataExport.objects.filter(pk=old.pk).exists()
    assert old.path not in _stored_files(data_export_dir)
    assert DataExport.objects.get(pk=lost.pk).status == Status.READY  # the eager task ran
    stalled.refresh_from_db()
    assert stalled.status == Status.FAILED and "took too long" in stalled.error


def test_the_sweep_leaves_files_within_their_days(seeker, data_export_dir):
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        export = _prepare(seeker)

    counts = data_export_sweep(now=dt.datetime(2026, 5, 11, 9, 59, tzinfo=dt.UTC))

    assert counts == {"expired": 0, "enqueued_again": 0, "stalled": 0}
    assert export.path in _stored_files(data_export_dir)


def test_deleting_the_account_deletes_its_files(seeker, connector, data_export_dir, django_capture_on_commit_callbacks):
    mine = _prepare(seeker)
    theirs = _prepare(connector)
    # A file whose worker died after saving it, before recording it.
    data_exports.storage().save(f"{seeker.pk}/orphan.json", ContentFile(b"{}"))

    with django_capture_on_commit_callbacks(execute=True):
        do_account_delete(user=seeker)

    assert not DataExport.objects.filter(user=seeker).exists()
    assert [f for f in _stored_files(data_export_dir) if f.startswith(f"{seeker.pk}/")] == []
    assert theirs.path in _stored_files(data_export_dir)
    assert mine.path not in _stored_files(data_export_dir)


def test_a_file_finished_after_its_request_was_deleted_is_not_kept(
    seeker, data_export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    export, _ = data_export_request(user=seeker)
    write = personal_data.write_account_export
    before = set(_stored_files(data_export_dir))

    def while_deleting(*, user, out):
        write(user=user, out=out)
        # The person deletes their account while the worker writes (its files went at that commit).
        DataExport.objects.filter(pk=export.pk).delete()

    monkeypatch.setattr(personal_data, "write_account_export", while_deleting)
    with django_capture_on_commit_callbacks(execute=True):
        assert do_build_data_export(export_id=export.pk) is None

    assert set(_stored_files(data_export_dir)) == before
    assert not OutboxMessage.objects.filter(subject__contains="ready to download").exists()


def test_a_deleted_account_s_download_is_gone_for_everyone(client, seeker):
    export = _prepare(seeker)
    other = UserFactory()

    do_account_delete(user=seeker)

    assert login(client, other).get(_download_url(export)).status_code == 404


def test_the_page_and_each_poll_take_a_constant_number_of_queries(client, seeker, django_assert_max_num_queries):
    for i in range(20):
        ContactFactory(owner=seeker, name=f"Contact {i}")
    login(client, seeker).post(URL)

    # The session, the user, the latest export: whatever the account holds.
    with django_assert_max_num_queries(3):
        client.get(URL, **HTMX)
    with django_assert_max_num_queries(3):
        client.get(URL)
