"""Webhooks as a person meets them: from their settings to the endpoint list, add one, send a
test event to a real receiver on 127.0.0.1 that fails it, see the attempt, retry, see it
delivered. Each page checked (axe, widths, screenshots at 390 and 1280 px)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_journey import log_in
from tests.factories import CohortFactory, UserFactory
from tests.webhooks import receiver as receivers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    started = receivers.start()
    yield started
    started.server.shutdown()
    started.server.server_close()


def test_a_coach_adds_an_endpoint_sends_a_test_event_and_retries_it(page, check, receiver):
    dana = UserFactory(full_name="Dana Coach")
    CohortFactory(coach=dana, name="Spring cohort")
    log_in(page, dana.email)
    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Your webhooks").click()
    expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()
    check(page, "webhooks-empty")

    page.fill("#id_url", receiver.url("/hooks/warm-intros/a-rather-long-path-for-a-phone"))
    page.fill("#id_description", "The cohort's spreadsheet")
    page.get_by_label("My cohort “Spring cohort” (what the dashboard shows)").check()
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("heading", level=1, name="Webhook endpoint")).to_be_visible()

    receiver.statuses = [500]
    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("Will try again")).to_be_visible()
    page.get_by_text("Attempts").click()
    expect(page.locator(".attempts li").first).to_contain_text("answer 500")
    check(page, "endpoint-detail-failed")

    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_text("Delivered", exact=True)).to_be_visible()
    assert len(receiver.received) == 2
    check(page, "endpoint-detail-delivered")

    page.get_by_role("link", name="← Webhooks").click()
    expect(page.get_by_text("The cohort's spreadsheet")).to_be_visible()
    check(page, "webhooks-list")
