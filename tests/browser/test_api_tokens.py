"""API tokens as a person meets them on the settings page: make one (its secret shown once),
use it, revoke it; and the API's docs page, served from our own origin under the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccessToken
from tests.browser.test_journey import log_in
from tests.factories import ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_token_is_made_shown_once_used_and_revoked(page, check, screenshot, live_server):
    janet = UserFactory(full_name="Janet Seeker")
    ContactFactory(owner=janet, name="Hank Scorpio")
    AccessToken.issue(user=janet, name="Weekly report spreadsheet", scope=AccessToken.Scope.READ)
    log_in(page, janet.email)

    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", name="API access tokens")).to_be_visible()
    page.get_by_label("What is it for?").fill("My follow-up script")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Make a token").click()
    secret_box = page.locator(".token-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert re.fullmatch(r"wi_[A-Za-z0-9_-]{40,}", secret), secret
    expect(page.get_by_text("Copy it now: it is shown this once.")).to_be_visible()
    check(page, "token-made")

    # The secret works from a script, and is nowhere on the page once it is reloaded.
    answer = page.request.get(f"{live_server.url}/api/v1/contacts", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["items"][0]["name"] == "Hank Scorpio"
    page.reload()
    expect(page.locator(".token-secret")).to_have_count(0)
    assert secret not in page.content()
    expect(page.get_by_text("My follow-up script", exact=True)).to_be_visible()
    check(page, "tokens-listed")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke “My follow-up script”").click()
    expect(page.get_by_text("Revoked the token “My follow-up script”")).to_be_visible()
    expect(page.get_by_text("My follow-up script", exact=True)).to_have_count(0)
    answer = page.request.get(f"{live_server.url}/api/v1/contacts", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 401

    # The reference: Swagger UI from our own static files, its operations listed, no CSP report.
    page.goto("/api/docs/")
    expect(page.get_by_text("Warm Intros API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/contacts").first).to_be_visible()
    screenshot(page, "api-docs")


def test_the_docs_page_tries_a_write_with_the_session_and_its_csrf_token(page, live_server):
    janet = UserFactory(full_name="Janet Seeker")
    log_in(page, janet.email)
    page.goto("/api/docs/")
    assert page.locator("body").get_attribute("data-api-csrf") == "true"
    token = page.locator("body").get_attribute("data-csrf-token")
    assert token
    # What Swagger UI's request interceptor sends: the session cookie and the X-CSRFToken header.
    made = page.request.post(
        f"{live_server.url}/api/v1/contacts", data={"name": "Ada Lovelace"}, headers={"X-CSRFToken": token}
    )
    assert made.status == 201, made.text()
    refused = page.request.post(f"{live_server.url}/api/v1/contacts", data={"name": "Eve"})
    assert refused.status == 403 and refused.json()["type"].endswith("csrf-failed")
