"""The target's journey on a phone: open the emailed link, say "not now" with a date, and
accept when asked again after it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followups.sweep import sweep
from intros.models import IntroRequest
from intros.states import Status
from tests.browser.audit import focus_is_visible
from tests.factories import ContactFactory, UserFactory
from tests.stories import awaiting_target, target_link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGET_EMAIL = "carol@northwind.example.org"


def test_target_defers_with_a_date_then_accepts_when_asked_again(new_page, check):
    intro = awaiting_target(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(name="Carol Target", email=TARGET_EMAIL, owner=UserFactory(full_name="Jill Connector")),
    )
    page = new_page("target", phone=True)
    page.goto(target_link_path(TARGET_EMAIL))
    expect(
        page.get_by_role("heading", name="Jill Connector would like to introduce you to Janet Seeker")
    ).to_be_visible()
    expect(page.get_by_text("Nothing has been shared with Janet yet")).to_be_visible()
    expect(page.get_by_role("heading", name="Jill Connector vouches")).to_be_visible()
    for answer in ("Yes, introduce us", "Not now — ask me later", "No, thank you"):
        expect(page.get_by_text(answer)).to_be_visible()
    check(page, "target-request")

    # By keyboard: the "not now" answer opens with Enter, with a focus ring where the focus is.
    defer = page.locator("details.defer")
    defer.locator("summary").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert focus_is_visible(page) is None, focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(defer.get_by_role("button", name="Ask me again then")).to_be_visible()

    # A date that has passed is refused next to the field; what was typed stays.
    today = timezone.localdate()
    defer.get_by_label("A note (optional)").fill("I'm travelling until the end of the month.")
    defer.get_by_label("Ask me again after").fill(f"{today - dt.timedelta(days=1):%Y-%m-%d}")
    defer.get_by_role("button", name="Ask me again then").click()
    until_field = page.locator("#id_defer-until")
    expect(until_field).to_have_attribute("aria-invalid", "true")
    expect(until_field).to_have_accessible_description("Choose a date after today.")
    expect(page.locator(".field-error", has=until_field)).to_contain_text("Choose a date after today.")
    expect(page.locator("details.defer")).to_have_attribute("open", "")
    expect(page.locator("details.defer").get_by_label("A note (optional)")).to_have_value(
        "I'm travelling until the end of the month."
    )
    check(page, "target-defer-refused")

    until = today + dt.timedelta(days=10)
    page.locator("details.defer").get_by_label("Ask me again after").fill(f"{until:%Y-%m-%d}")
    page.locator("details.defer").get_by_role("button", name="Ask me again then").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text(f"We will ask you once more after {until:%A} {until.day} {until:%B}")).to_be_visible()
    check(page, "target-deferred")
    intro.refresh_from_db()
    assert intro.status == Status.DEFERRED and intro.deferred_until == until

    # On the first working day after the date (the target's window is Monday to Friday; a
    # fixed "day after" would fall on a weekend for some values of today), the sweep asks
    # again, in a new email with a new link.
    first_link = page.url
    ask_day = until + dt.timedelta(days=1)
    while ask_day.weekday() >= 5:
        ask_day += dt.timedelta(days=1)
    sweep(now=dt.datetime.combine(ask_day, dt.time(12), tzinfo=dt.UTC))
    assert IntroRequest.objects.get(pk=intro.pk).status == Status.AWAITING_TARGET
    second = target_link_path(TARGET_EMAIL)
    assert second not in first_link
    page.goto(second)
    expect(
        page.get_by_role("heading", name="Jill Connector would like to introduce you to Janet Seeker")
    ).to_be_visible()
    accept = page.locator("details.accept")
    accept.get_by_text("Yes, introduce us").click()
    accept.get_by_label("I'll reach out to them").check()
    check(page, "target-asked-again")
    accept.get_by_role("button", name="Accept the introduction").click()
    expect(page.get_by_text("You accepted.")).to_be_visible()
    check(page, "target-accepted")
    assert IntroRequest.objects.get(pk=intro.pk).status in {Status.ACCEPTED, Status.INTRODUCED}
