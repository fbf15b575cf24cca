"""Dates and time zones as people meet them in the browser: the target's time zone list (the
device's own zone first, searchable, grouped by region), the "already answered" page in the
target's own zone and words, the meeting form pre-filled with today, the profile's time zone
list, and the coach's dashboard refusing a custom period at the end of the calendar."""

from __future__ import annotations

import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import accepted, awaiting_target, log_in, target_link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGET_EMAIL = "carol@northwind.example.org"


def test_target_picks_a_zone_from_the_device_or_by_search_and_reads_the_answer_in_it(new_page, check):
    awaiting_target(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(
            name="Carol Target",
            email=TARGET_EMAIL,
            time_zone="Europe/London",
            owner=UserFactory(full_name="Jill Connector"),
        ),
    )
    # A phone set to India: Chromium names its zone Asia/Calcutta, an alias the list does not carry.
    page = new_page("target", phone=True, zone="Asia/Kolkata")
    link = target_link_path(TARGET_EMAIL)
    page.goto(link)
    accept = page.locator("details.accept")
    accept.get_by_text("Yes, introduce us").click()
    select = page.locator("#id_accept-time_zone")
    # Which zone is kept is said; the device's own zone comes next, then the regions.
    expect(select.locator("option").first).to_have_text("Keep Europe / London (as now)")
    device = select.locator("optgroup").first
    expect(device).to_have_attribute("label", "This device")
    device_zone = device.locator("option").first.get_attribute("value")
    assert device_zone in {"Asia/Calcutta", "Asia/Kolkata"}
    labels = select.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert labels[:3] == ["This device", "Africa", "America"] and "Europe" in labels
    assert select.locator("option[value=Zulu], option[value='W-SU'], option[value=localtime]").count() == 0
    check(page, "target-time-zone")

    search = page.get_by_label("Find a time zone by city or region")
    search.fill("tokyo")
    expect(page.get_by_text("1 time zone matches: choose in the list below.")).to_be_visible()
    select.select_option("Asia/Tokyo")
    check(page, "target-time-zone-search")
    accept.get_by_role("button", name="Accept the introduction").click()
    expect(page.get_by_text("You accepted.")).to_be_visible()

    # Opened again: what they did, when, in the zone they chose (not UTC, not a code word).
    page.goto(link)
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    answered = page.locator("main p").first
    expect(answered).to_contain_text("You accepted the introduction on")
    expect(answered).to_contain_text("(Tokyo time)")
    tokyo = timezone.localtime(timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))
    expect(answered).to_contain_text(f"{tokyo:%A} {tokyo.day} {tokyo:%B %Y}")
    expect(answered).not_to_contain_text("(accept)")
    check(page, "target-already-answered")


def test_meeting_form_shows_today_and_the_profile_lists_zones_by_region(page, check):
    janet = UserFactory(full_name="Janet Seeker", time_zone="Europe/Berlin")
    intro = accepted(
        seeker=janet, target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector"))
    )
    log_in(page, janet.email)
    page.goto(f"/intros/{intro.pk}/")
    met_on = page.get_by_label("When did you meet?")
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Berlin"))
    expect(met_on).to_have_value(f"{today:%Y-%m-%d}")  # a browser shows an ISO value; 05/12/2026 it drops
    check(page, "meeting-form")

    page.goto("/accounts/profile/")
    select = page.locator("#id_time_zone")
    expect(select).to_have_value("Europe/Berlin")
    expect(select.locator("optgroup[label=Europe] option[value='Europe/Berlin']")).to_have_text("Berlin")
    page.get_by_label("Find a time zone by city or region").fill("new york")
    expect(page.get_by_text("1 time zone matches: choose in the list below.")).to_be_visible()
    expect(select).to_have_value("Europe/Berlin")  # searching does not change the choice
    check(page, "profile-time-zone")


def test_dashboard_refuses_a_custom_period_at_the_ends_of_the_calendar(page, check):
    dana = UserFactory(full_name="Dana Coach")
    cohort = CohortFactory(name="Autumn boot camp", coach=dana)
    MembershipFactory(cohort=cohort, user=UserFactory(full_name="Janet Seeker"))
    log_in(page, dana.email)
    page.goto(f"/cohorts/{cohort.pk}/dashboard/?period=custom&start=0001-01-01&end=9999-12-31")
    start, end = page.get_by_label("From"), page.get_by_label("To (inclusive)")
    expect(start).to_have_value("0001-01-01")
    expect(end).to_have_value("9999-12-31")
    expect(start).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error", has=start)).to_contain_text("more than ten years ago")
    expect(page.locator(".field-error", has=end)).to_contain_text("still to come")
    expect(page.get_by_text("Showing the last 30 days instead.")).to_be_visible()
    check(page, "dashboard-period-refused")
