"""The HTML part of every kind of email, opened in Chromium the way a mail client shows it:
axe-core finds no serious or critical problem, and it fits a phone without sideways scrolling."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import Browser

from accounts.models import OutboxMessage
from tests.accounts.email_world import SITE_URL, T0, TemplateRecorder, email_kinds, send_every_email
from tests.browser.audit import axe_run, blocking, broken_words, by_impact
from tests.browser.conftest import ARTIFACTS, PHONE, SCREENSHOTS, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE_FILE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe-4.14.1.min.js"


def test_every_email_s_html_part_passes_axe_and_fits_a_phone(browser: Browser, client, settings, monkeypatch):
    settings.SITE_URL = SITE_URL
    recorder = TemplateRecorder(monkeypatch)
    try:
        with time_machine.travel(T0, tick=False):
            send_every_email(client)
    finally:
        recorder.close()
    first_of_kind: dict[str, OutboxMessage] = {}
    for message in OutboxMessage.objects.order_by("pk"):
        first_of_kind.setdefault(recorder.template_of(message), message)
    assert set(first_of_kind) == email_kinds()

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report, problems = [], []
    try:
        for kind, message in sorted(first_of_kind.items()):
            page.set_content(message.body_html)
            page.add_script_tag(path=str(AXE_FILE))
            results = axe_run(page)
            violations = blocking(results)
            report.append(f"email {kind}: {by_impact(results)}")
            problems += [f"[{kind}] axe {v}" for v in violations]
            widths = page.evaluate(
                "() => ({scroll: document.documentElement.scrollWidth, inner: document.documentElement.clientWidth})"
            )
            if widths["scroll"] > widths["inner"]:
                problems.append(f"[{kind}] scrolls sideways on a phone: {widths}")
            problems += [f"[{kind}] word broken across lines on a phone: {w}" for w in broken_words(page)]
            page.screenshot(path=str(SCREENSHOTS / f"email-{kind}-phone.png"), full_page=True)
    finally:
        context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "axe.txt").open("a") as out:
        out.write("test_every_email_s_html_part_passes_axe_and_fits_a_phone\n" + "".join(f"  {r}\n" for r in report))
    assert not errors, errors
    assert len(report) == len(email_kinds())
    assert not problems, "\n".join(problems)
