"""Each kind of date people type has one range (lib/dates.py), checked here through the
views at its exact bounds: the day (or minute) before each bound is refused beside the field
with what was typed kept, the bound itself and the day inside it are accepted.

The clock stands at 2026-03-10 12:00 UTC, which is already 2026-03-11 01:00 in Auckland, where
everyone here lives: a range worked out from the server's (UTC) day fails the "at the bound"
and "day before" probes.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from followups.models import Outreach
from intros.states import Status
from tests.factories import ContactFactory, UserFactory
from tests.stories import accepted, awaiting_target, last_link_token

pytestmark = pytest.mark.django_db

ZONE = "Pacific/Auckland"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 11)  # in Auckland
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(client):
    user = UserFactory(time_zone=ZONE)
    client.force_login(user)
    return user


def refused(response, field: str, typed: str, says: str) -> None:
    body = response.content.decode()
    assert response.status_code == 422, (field, typed, response.status_code)
    error = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</div>', body, re.S)
    assert error, f"{field}={typed}: no error beside the field"
    assert says in error.group(1), error.group(1)
    assert re.search(rf'name="{field}"[^>]*value="{typed}"', body), f"{field}={typed}: not kept"


def probes(low: dt.date | None, high: dt.date | None):
    """(value, accepted?) for the day before, at and after each bound."""
    if low is not None:
        yield low - DAY, False
        yield low, True
        yield low + DAY, True
    if high is not None:
        yield high - DAY, True
        yield high, True
        yield high + DAY, False


# --- a contact's window and history (the contact form) -----------------------------------------

CONTACT = {
    "name": "Ada Lovelace",
    "strength": "close",
    "time_zone": ZONE,
    "weekdays": ["0", "1", "2", "3", "4"],
    "hours_start": "09:00",
    "hours_end": "17:00",
    "min_days_between": "0",
}


@pytest.mark.parametrize(
    ("field", "low", "high", "says"),
    [
        ("unavailable_until", TODAY, dt.date(2028, 3, 11), ("has passed", "within two years, by 11 March 2028")),
        ("connected_on", dt.date(1926, 3, 11), TODAY, ("from 11 March 1926", "still to come")),
    ],
)
def test_contact_dates_at_their_bounds(client, person, field, low, high, says):
    for value, ok in probes(low, high):
        typed = value.isoformat()
        response = client.post(reverse("contacts:create"), {**CONTACT, field: typed})
        if ok:
            assert response.status_code == 302, (typed, response.content.decode()[:3000])
            assert Contact.objects.filter(owner=person, **{field: value}).exists()
        else:
            refused(response, field, typed, says[0] if value < low else says[1])
            assert not Contact.objects.filter(owner=person, **{field: value}).exists()


def test_a_contact_saved_with_a_past_busy_date_can_be_edited_without_changing_it(client, person):
    contact = ContactFactory(owner=person, time_zone=ZONE, unavailable_until=TODAY - 30 * DAY)
    url = reverse("contacts:edit", args=[contact.pk])
    data = {**CONTACT, "name": "Ada King", "unavailable_until": (TODAY - 30 * DAY).isoformat()}
    assert client.post(url, data).status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Ada King" and contact.unavailable_until == TODAY - 30 * DAY
    # Changed to another day in the past, it is refused like any other.
    typed = (TODAY - 29 * DAY).isoformat()
    refused(client.post(url, {**data, "unavailable_until": typed}), "unavailable_until", typed, "has passed")


# --- the target's answers (no login; the target's own zone) -------------------------------------


def _target_post(client, action: str, data: dict):
    intro = awaiting_target(target=ContactFactory(time_zone=ZONE))
    _, token = last_link_token(intro)
    client.logout()
    response = client.post(reverse("intros:target", args=[intro.pk, token]), {"action": action, **data})
    intro.refresh_from_db()
    return response, intro


def test_busy_through_on_the_targets_answer_at_its_bounds(client):
    for value, ok in probes(TODAY, dt.date(2028, 3, 11)):
        typed = value.isoformat()
        response, intro = _target_post(client, "accept", {"accept-writes_first": "seeker", "accept-busy_until": typed})
        if ok:
            assert response.status_code == 200, typed
            assert intro.target.unavailable_until == value
        else:
            refused(response, "accept-busy_until", typed, "has passed" if value < TODAY else "within two years")
            assert intro.status == Status.AWAITING_TARGET


def test_ask_me_again_after_at_its_bounds(client):
    for value, ok in probes(TODAY + DAY, TODAY + 365 * DAY):
        typed = value.isoformat()
        response, intro = _target_post(client, "defer", {"defer-until": typed})
        if ok:
            assert response.status_code == 200, typed
            assert intro.status == Status.DEFERRED
        else:
            refused(response, "defer-until", typed, "after today" if value <= TODAY else "within the next year")
            assert intro.status == Status.AWAITING_TARGET


# --- the seeker's meeting and outreach ------------------------------------------------------------


def test_meeting_day_runs_from_the_request_to_today(client, clock, person):
    requested = dt.date(2026, 3, 2)  # in Auckland: the request is made on 1 March, 20:00 UTC
    for value, ok in probes(requested, TODAY):
        clock.move_to(dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC))
        intro = accepted(seeker=person, target=ContactFactory(time_zone=ZONE))
        clock.move_to(NOW)
        typed = value.isoformat()
        response = client.post(reverse("intros:meeting", args=[intro.pk]), {"met_on": typed})
        intro.refresh_from_db()
        if ok:
            assert response.status_code == 302, typed
            assert intro.status == Status.MET
        else:
            refused(response, "met_on", typed, "on 2 March 2026" if value < requested else "in the future")
            assert intro.status == Status.INTRODUCED


def test_outreach_runs_from_the_introduction_to_now(client, clock, person):
    clock.move_to(dt.datetime(2026, 3, 5, 22, 30, 40, tzinfo=dt.UTC))  # 6 March, 11:30 in Auckland
    intro = accepted(seeker=person, target=ContactFactory(time_zone=ZONE))
    clock.move_to(NOW)  # 11 March, 01:00 in Auckland
    minute = dt.timedelta(minutes=1)
    introduced, latest = dt.datetime(2026, 3, 6, 11, 30), dt.datetime(2026, 3, 11, 1, 5)
    url = reverse("followups:outreach", args=[intro.pk])
    for moment, ok in [
        (introduced - minute, False),
        (introduced, True),
        (introduced + minute, True),
        (latest - minute, True),
        (latest, True),
        (latest + minute, False),
    ]:
        typed = moment.strftime("%Y-%m-%dT%H:%M")
        response = client.post(url, {"at": typed, "channel": "email", "confirmed": "True"})
        if ok:
            assert response.status_code == 302, (typed, response.content.decode()[:3000])
        else:
            says = "introduced on 6 March 2026, 11:30" if moment < introduced else "in the future"
            refused(response, "at", typed, says)
    assert Outreach.objects.filter(intro=intro).count() == 4


# --- the coach's custom period (GET) ------------------------------------------------------------------


@pytest.mark.parametrize("end", ["start", "end"])
def test_dashboard_period_ends_at_their_bounds(client, cohort, end):
    cohort.coach.time_zone = ZONE
    cohort.coach.save(update_fields=["time_zone"])
    client.force_login(cohort.coach)
    url = reverse("cohorts:dashboard", args=[cohort.pk])
    low, high = dt.date(2016, 3, 11), TODAY
    for value, ok in probes(low, high):
        typed = value.isoformat()
        # The other end a month away inside the range, so only the probed end can be wrong.
        month = 30 * DAY
        if end == "start":
            period = {"period": "custom", "start": typed, "end": min(max(value, low) + month, high).isoformat()}
        else:
            period = {"period": "custom", "start": max(min(value, high) - month, low).isoformat(), "end": typed}
        response = client.get(url, period)
        body = response.content.decode()
        assert response.status_code == 200
        if ok:
            assert f'id="id_{end}_error"' not in body, typed
            assert "Showing the last 30 days instead." not in body
        else:
            error = re.search(rf'id="id_{end}_error"[^>]*>(.*?)</div>', body, re.S)
            assert error, typed
            assert ("more than ten years ago" if value < low else "still to come") in error.group(1)
            assert re.search(rf'name="{end}"[^>]*value="{typed}"', body)
            assert "Showing the last 30 days instead." in body


# --- an import file (the same ranges, row by row) ------------------------------------------------


def test_imported_dates_at_the_ends_of_the_calendar_are_left_out_row_by_row_and_the_person_kept():
    """A file is bad input too: an imported busy date in year 9999 would have broken the
    target's answer exactly as one typed into the form did. Such a date is left out with a
    warning (the value kept in the notes), and the person is imported; a busy date already past
    is kept (the window is open), as the contact form keeps a saved one."""
    from contacts.fileformats import CSV_COLUMNS, parse_upload

    # Read outside a request (as the import's task does): "today" is the server's (UTC), 10 March.

    people = [
        ("Ann Lee", "0001-01-01", ""),
        ("Bo Chen", "1926-03-09", ""),
        ("Cy Dunn", "1926-03-10", ""),
        ("Di Egan", "2026-03-11", ""),
        ("Ed Fox", "", "9999-12-31"),
        ("Flo Gray", "", "2028-03-10"),
        ("Gus Hale", "", "2028-03-11"),
        ("Hal Ives", "", "2020-01-01"),
    ]
    header = list(CSV_COLUMNS)
    lines = [",".join(header)]
    for name, connected, busy in people:
        values = {"Name": name, "Connected On": connected, "Unavailable Until": busy}
        lines.append(",".join(values.get(column, "") for column in header))
    with timezone.override(dt.UTC):
        rows = parse_upload("contacts.csv", "\r\n".join(lines).encode()).rows
    by_name = {name: row for (name, _, _), row in zip(people, rows, strict=True)}
    assert all(not row.problem and row.data["name"] == name for name, row in by_name.items())
    left_out = {name: bool(row.warnings) for name, row in by_name.items()}
    assert list(left_out.values()) == [True, True, False, True, True, False, True, False]
    assert "“0001-01-01” is not a day in the last hundred years" in " ".join(by_name["Ann Lee"].warnings)
    assert "connected_on" not in by_name["Ann Lee"].data
    assert "“9999-12-31” is more than two years ahead" in " ".join(by_name["Ed Fox"].warnings)
    assert "unavailable_until" not in by_name["Ed Fox"].data
    assert by_name["Flo Gray"].data["unavailable_until"] == "2028-03-10"
    assert by_name["Hal Ives"].data["unavailable_until"] == "2020-01-01"
