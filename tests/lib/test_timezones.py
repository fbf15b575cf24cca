"""Time zones as people pick and read them: the canonical zones grouped by region (no aliases such
as Zulu, W-SU or localtime), every time zone field in the app built the same way, a stored alias
still shown and accepted, and the target told which zone is kept and when they answered, in it."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re

import pytest
import time_machine
from django import forms
from django.urls import reverse

from intros import services
from lib.timezones import TimeZoneField, all_time_zones, canonical_time_zones, time_zone_choices
from tests.conftest import login
from tests.factories import ContactFactory
from tests.stories import awaiting_target, last_link_token
from workflows import intros as actions

ALIASES = ["Zulu", "W-SU", "localtime", "US/Eastern", "Etc/GMT+5", "GMT", "Asia/Calcutta", "Europe/Kiev", "Factory"]


def test_the_lists_offer_canonical_zones_only():
    offered = canonical_time_zones()
    assert set(offered) <= all_time_zones()
    assert not set(ALIASES) & set(offered)
    assert {"UTC", "Europe/London", "Asia/Kolkata", "Europe/Kyiv", "America/Argentina/Buenos_Aires"} <= set(offered)
    assert 300 < len(offered) < len(all_time_zones()) - 150  # about 420 of about 600


def test_the_choices_are_grouped_by_region_with_utc_first():
    choices = time_zone_choices()
    assert choices[0] == ("UTC", "UTC")
    groups = dict(choices[1:])
    assert list(groups) == sorted(groups)
    assert set(groups) <= {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia"} | {
        "Europe",
        "Indian",
        "Pacific",
    }
    assert ("Europe/London", "London") in groups["Europe"]
    assert ("America/Argentina/Buenos_Aires", "Argentina / Buenos Aires") in groups["America"]


def _form_classes():
    for app in ("accounts", "contacts", "intros", "followups", "cohorts"):
        module = importlib.import_module(f"{app}.forms")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                yield value


def test_every_time_zone_field_in_the_app_is_the_grouped_list():
    found = {
        f"{form_class.__name__}.{name}": field
        for form_class in _form_classes()
        for name, field in form_class.base_fields.items()
        if "zone" in name
    }
    assert {"ProfileForm.time_zone", "ContactForm.time_zone", "AcceptForm.time_zone"} <= set(found)
    assert "InvitationSignupForm.time_zone" in found
    for name, field in found.items():
        assert isinstance(field, TimeZoneField), name
        html = field.widget.render("time_zone", "Europe/Paris", attrs={"id": "id_time_zone"})
        assert "data-time-zone" in html, name
        assert '<optgroup label="Europe">' in html, name
        assert '<option value="Europe/Paris" selected>Paris</option>' in html, name
        assert 'value="Zulu"' not in html and 'value="W-SU"' not in html, name


# --- a stored alias -------------------------------------------------------------------------------------------

PROFILE = {"full_name": "Janet", "quiet_hours_start": "21:00", "quiet_hours_end": "08:00", "digest_hour": "8"}


@pytest.mark.django_db
def test_a_stored_alias_is_shown_selected_and_saved_again(client, seeker):
    seeker.time_zone = "US/Eastern"
    seeker.save(update_fields=["time_zone"])
    login(client, seeker)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert '<option value="US/Eastern" selected>US/Eastern (current)</option>' in page
    response = client.post(reverse("accounts:profile"), {**PROFILE, "time_zone": "US/Eastern"})
    assert response.status_code == 302
    seeker.refresh_from_db()
    assert seeker.time_zone == "US/Eastern"


@pytest.mark.django_db
def test_a_browsers_old_name_is_accepted_and_an_unknown_zone_refused(client, seeker):
    login(client, seeker)
    # Chromium reports India as Asia/Calcutta, an alias the list does not offer.
    assert client.post(reverse("accounts:profile"), {**PROFILE, "time_zone": "Asia/Calcutta"}).status_code == 302
    seeker.refresh_from_db()
    assert seeker.time_zone == "Asia/Calcutta"
    refused = client.post(reverse("accounts:profile"), {**PROFILE, "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "is not a time zone we know" in body
    seeker.refresh_from_db()
    assert seeker.time_zone == "Asia/Calcutta"


# --- the target ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_target_is_told_which_zone_is_kept(client):
    intro = awaiting_target(target=ContactFactory(time_zone="Asia/Tokyo"))
    _, token = last_link_token(intro)
    page = client.get(reverse("intros:target", args=[intro.pk, token])).content.decode()
    assert '<option value="" selected>Keep Asia / Tokyo (as now)</option>' in page
    assert "keep as it is" not in page


@pytest.mark.django_db
def test_already_answered_says_when_in_the_targets_zone_and_in_words(client):
    intro = awaiting_target(target=ContactFactory(time_zone="Asia/Tokyo"))
    link, token = last_link_token(intro)
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, 5, tzinfo=dt.UTC), tick=False):
        actions.do_target_accept(link=link, terms=services.TargetTerms())
    again = client.get(reverse("intros:target", args=[intro.pk, token]))
    assert again.status_code == 410
    text = re.sub(r"\s+", " ", again.content.decode())
    assert "You accepted the introduction on Tuesday 10 March 2026 at 21:05 (Tokyo time)." in text
    assert "(accept)" not in text and "12:05" not in text
