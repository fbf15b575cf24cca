"""Download all my data, as a person meets it: ask on the settings page, see it being prepared
(the page polls by itself), then the download link, and the file itself."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from accounts import data_exports
from accounts.models import DataExport
from tests.factories import ContactFactory, UserFactory
from tests.stories import log_in
from workflows.personal_data import do_build_data_export

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_my_data_is_prepared_while_the_page_waits_then_downloaded(page, check, monkeypatch):
    janet = UserFactory(full_name="Janet Seeker")
    for name in ("Hank Scorpio", "Marge Bouvier", "Carol Target"):
        ContactFactory(owner=janet, name=name)
    # No worker picks the task up until the test says so (the broker holds it).
    monkeypatch.setattr(data_exports, "_enqueue_build", lambda export_id: None)
    log_in(page, janet.email)

    page.goto("/accounts/profile/")
    page.get_by_role("button", name="Prepare my data (JSON)").click()
    expect(page.get_by_text("Preparing your download…")).to_be_visible()
    expect(page.get_by_text(f"we will email you at {janet.email}")).to_be_visible()
    check(page, "data-export-preparing")

    # The worker writes the file; the page, polling, shows the link without a reload.
    do_build_data_export(export_id=DataExport.objects.get(user=janet).pk)
    link = page.get_by_role("link", name=re.compile(r"Download all my data \(JSON, \d+(\.\d)? (bytes|KB)\)"))
    expect(link).to_be_visible(timeout=10_000)
    expect(page.get_by_text("Preparing your download…")).to_have_count(0)
    check(page, "data-export-ready")

    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"warm-intros-my-data-\d{4}-\d{2}-\d{2}\.json", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8") as file:
        data = json.load(file)
    assert sorted(c["name"] for c in data["contacts"]) == ["Carol Target", "Hank Scorpio", "Marge Bouvier"]

    # Where the email's link leads (after logging in): the same, on a page of its own.
    page.goto("/accounts/profile/my-data/")
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    expect(link).to_be_visible()
    check(page, "data-export-page")
