"""The admin, as an operator meets it: log in through the app's page, find the failed emails in
the outbox, send one again, and read a message's page; with no JavaScript error, console error
or Content-Security-Policy violation (Django's admin carries the CSP nonces), at 390 and 1280 px."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from lib.outbox.models import OutboxMessage
from tests.browser.audit import axe_run, blocking, layout_problems
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def look(request):
    """The `check` of the app's own pages (axe-core: nothing serious or critical; at 390 and
    1280 px no sideways scrolling and no broken words; a screenshot at each width), but for its
    44 px tap targets: the admin is Django's own interface, for staff at a desk, kept as Django
    styles it rather than restyled (its links and checkboxes are smaller)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"\W+", "-", request.node.name).strip("-")
    numbers = iter(range(1, 100))
    problems: list[str] = []

    def run(page, step: str) -> None:
        number = next(numbers)
        problems.extend(f"[{step}] axe {v}" for v in blocking(axe_run(page)))
        original = page.viewport_size
        for width, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            problems.extend(f"[{step} at {width}] {p}" for p in layout_problems(page) if "tap target" not in p)
            page.screenshot(
                path=str(SCREENSHOTS / f"{name}-{number:02d}-{step}-{width}.png"), full_page=True, caret="initial"
            )
        page.set_viewport_size(original)

    yield run
    assert not problems, "\n".join(problems)


def test_an_operator_finds_a_failed_email_and_sends_it_again(page, look):
    User.objects.create_superuser("ops@example.org", PASSWORD, full_name="Opal Operator")
    now = timezone.now()
    failed = OutboxMessage.objects.create(
        to=["carol@example.org"],
        subject="Jill Connector would like to introduce you to Janet Seeker",
        template="target_ask",
        state=OutboxMessage.State.FAILED,
        next_attempt_at=None,
        attempts=6,
        failed_at=now,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        body_text="Hello Carol,",
    )
    OutboxMessage.objects.create(
        to=["janet@example.org"],
        subject="Your request is with Jill Connector",
        template="intro_submitted",
        state=OutboxMessage.State.SENT,
        next_attempt_at=None,
        attempts=1,
        sent_at=now,
        body_text="Hello Janet,",
    )

    page.goto(f"/{settings.ADMIN_URL}")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.fill("#id_username", "ops@example.org")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="What the service holds")).to_be_visible()
    look(page, "admin-index")

    page.get_by_role("link", name="Outbox messages").click()
    page.get_by_role("link", name="Failed", exact=True).click()
    row = page.get_by_role("row").filter(has_text="carol@example.org")
    expect(row).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="janet@example.org")).to_have_count(0)
    look(page, "admin-outbox-failed")

    row.get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option("retry")
    page.get_by_role("button", name="Run").click()
    expect(
        page.get_by_text(f"1 failed message will be sent again, each with a fresh set of attempts: #{failed.pk}.")
    ).to_be_visible()
    look(page, "admin-outbox-retried")
    failed.refresh_from_db()
    assert failed.state != OutboxMessage.State.FAILED and failed.failed_at is None

    page.goto(f"/{settings.ADMIN_URL}outbox/outboxmessage/{failed.pk}/change/")
    expect(page.get_by_text("Jill Connector would like to introduce you to Janet Seeker").first).to_be_visible()
    expect(page.get_by_text("Hello Carol,")).to_have_count(0)  # the email's words are its recipient's
    look(page, "admin-outbox-message")
