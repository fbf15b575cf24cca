"""The coach's journey: the dashboard shows who needs attention, a drill-down into one member,
a CSV export, and a nudge that says it was sent."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followups import services as followup_services
from intros import services
from lib.outbox.models import OutboxMessage
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import awaiting_target, last_link_token, log_in
from workflows import intros as actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coach_sees_attention_drills_down_exports_and_nudges(new_page, check):
    dana = UserFactory(full_name="Dana Coach")
    janet = UserFactory(full_name="Janet Seeker")
    jill = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory(name="Autumn boot camp", coach=dana)
    MembershipFactory(cohort=cohort, user=janet)
    MembershipFactory(cohort=cohort, user=jill)
    # Story 1: the CAO accepts but is busy for four days and writes first; Janet writes anyway.
    intro = awaiting_target(seeker=janet, target=ContactFactory(owner=jill, name="Carol CAO", organisation="City Hall"))
    link, _ = last_link_token(intro)
    actions.do_target_accept(
        link=link,
        terms=services.TargetTerms(busy_until=timezone.localdate() + dt.timedelta(days=4), target_writes_first=True),
    )
    followup_services.outreach_record(
        intro=intro, seeker=janet, at=timezone.now() - dt.timedelta(minutes=10), channel="email", confirmed=True
    )

    page = new_page("coach")
    log_in(page, dana.email)
    # The coach's home starts with their cohorts' dashboards: one click to the dashboard.
    page.get_by_role("link", name="Dashboard of Autumn boot camp").click()
    expect(page.get_by_role("heading", name="Coach dashboard")).to_be_visible()
    attention = page.locator("section.attention")
    expect(attention.get_by_role("link", name="Janet Seeker")).to_be_visible()
    expect(attention.locator(".flag").first).to_contain_text(re.compile("breach", re.I))
    expect(page.locator("#member-table")).to_contain_text("Jill Connector")
    check(page, "dashboard")

    # Sorting the members changes what the page shows, so the address follows; back undoes it.
    dashboard_url = page.url
    sorted_column = page.locator("#member-table th[aria-sort]")
    before = sorted_column.get_attribute("aria-sort")
    sorted_column.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort="))
    expect(sorted_column).not_to_have_attribute("aria-sort", before)
    after = sorted_column.get_attribute("aria-sort")
    sorted_url = page.url
    page.go_back()
    expect(page).to_have_url(dashboard_url)
    expect(sorted_column).to_have_attribute("aria-sort", before)
    page.go_forward()
    expect(page).to_have_url(sorted_url)
    # Wait for the restored page itself, not only its address, before clicking on in it.
    expect(sorted_column).to_have_attribute("aria-sort", after)

    # --- drill down into Janet -----------------------------------------------------------------
    page.locator("section.attention").get_by_role("link", name="Janet Seeker").click()
    drill = page.locator("#drill")
    expect(drill.get_by_role("heading", name=re.compile("^Janet Seeker"))).to_be_visible()
    expect(drill.get_by_role("heading", name=re.compile("^Janet Seeker"))).to_be_focused()
    check(page, "drill-down")

    # --- export --------------------------------------------------------------------------------
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download members (CSV)").click()
    csv_text = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "Janet Seeker" in csv_text and "Jill Connector" in csv_text, csv_text

    # --- nudge -----------------------------------------------------------------------------------
    nudge = page.locator("#nudge-form")
    nudge.get_by_role("button", name="Send the note").click()
    expect(page.locator("#nudge-form .field-error")).to_be_visible()
    expect(page.locator("#nudge-form textarea")).to_be_focused()
    check(page, "nudge-refused")
    page.locator("#nudge-form textarea").fill("Carol asked for four days. Let's talk about waiting before writing.")
    page.locator("#nudge-form").get_by_role("button", name="Send the note").click()
    expect(page.get_by_text("Your note to Janet Seeker is on its way.").first).to_be_visible()
    check(page, "nudged")
    assert any(janet.email in m.to and "four days" in m.body_text for m in OutboxMessage.objects.all())
