import datetime as dt

import pytest
from django.urls import reverse

from tests.conftest import login

pytestmark = pytest.mark.django_db

URL = reverse("accounts:profile")


def _data(**overrides):
    data = {
        "full_name": "Janet Q. Seeker",
        "time_zone": "Europe/Berlin",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:30",
        "digest_hour": "9",
    }
    data.update(overrides)
    return data


def test_profile_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_profile_shows_own_settings(client, seeker, django_assert_max_num_queries):
    login(client, seeker)
    # The session, the user, the data download, the API tokens: one query each, whatever their number.
    with django_assert_max_num_queries(4):
        response = client.get(URL)
    assert response.status_code == 200
    assert seeker.email.encode() in response.content
    assert b'value="Janet Seeker"' in response.content
    # Grouped by region: Berlin under Europe.
    assert b'<optgroup label="Europe">' in response.content
    assert b'<option value="Europe/Berlin">Berlin</option>' in response.content


def test_profile_edit_saves_and_says_so(client, seeker):
    login(client, seeker)
    response = client.post(URL, _data(), follow=True)
    assert response.status_code == 200
    assert b"Your settings are saved." in response.content
    seeker.refresh_from_db()
    assert seeker.full_name == "Janet Q. Seeker"
    assert seeker.time_zone == "Europe/Berlin"
    assert seeker.quiet_hours_start == dt.time(22, 0)
    assert seeker.quiet_hours_end == dt.time(7, 30)
    assert seeker.digest_hour == 9


def test_profile_edit_by_htmx_answers_with_the_form_fragment(client, seeker):
    login(client, seeker)
    response = client.post(URL, _data(), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="profile-form"' in response.content
    assert b"<html" not in response.content
    assert b'hx-swap-oob="true"' in response.content
    assert b"Your settings are saved." in response.content


def test_equal_quiet_hours_are_refused_next_to_the_field(client, seeker):
    login(client, seeker)
    response = client.post(URL, _data(quiet_hours_start="21:00", quiet_hours_end="21:00"))
    assert response.status_code == 422
    assert response.context["form"].errors["quiet_hours_end"] == [
        "Quiet hours must end at a different time than they start."
    ]
    assert b'id="id_quiet_hours_end_error"' in response.content
    seeker.refresh_from_db()
    assert seeker.full_name == "Janet Seeker"


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Mars/Olympus"), ("digest_hour", "24"), ("full_name", "   "), ("quiet_hours_start", "25:00")],
)
def test_profile_refuses_bad_values(client, seeker, field, value):
    login(client, seeker)
    response = client.post(URL, _data(**{field: value}), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert b'id="profile-form"' in response.content
    seeker.refresh_from_db()
    assert seeker.time_zone == "UTC"


def test_quiet_hours_may_wrap_midnight(client, seeker):
    login(client, seeker)
    client.post(URL, _data(quiet_hours_start="23:00", quiet_hours_end="06:00"))
    seeker.refresh_from_db()
    assert (seeker.quiet_hours_start, seeker.quiet_hours_end) == (dt.time(23, 0), dt.time(6, 0))


def test_profile_edits_only_the_logged_in_user(client, seeker, outsider):
    login(client, seeker)
    client.post(URL, _data(full_name="Changed"))
    outsider.refresh_from_db()
    assert outsider.full_name == "Olive Outsider"
