"""Destructive actions ask first, "no" changes nothing, and afterwards a message says in words
what happened. (Skipping a follow-up asks too: tests/browser/test_seeker_journey.py.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from cohorts.models import Membership
from contacts.models import Contact
from followups.models import CalendarFeed
from tests.factories import PASSWORD, CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import log_in, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status_message(page: Page, text: str):
    """The message, inside the live region that announces it."""
    message = page.locator("#messages[role='status']").get_by_text(text)
    expect(message).to_be_visible()
    return message


def test_deleting_a_contact_asks_first_and_says_what_happened(page, check):
    seeker = UserFactory(full_name="Janet Seeker")
    hank = ContactFactory(owner=seeker, name="Hank Scorpio", organisation="Globex")
    # Someone in an introduction cannot be deleted; the message says why and what to do instead.
    carol = ContactFactory(owner=seeker, name="Carol Target")
    submitted(seeker=UserFactory(full_name="Omar Seeker"), target=carol)

    log_in(page, seeker.email)
    page.goto(hank.get_absolute_url())
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Hank Scorpio?")).to_be_visible()
    expect(page.get_by_text("It cannot be undone.")).to_be_visible()
    check(page, "contact-delete-confirm")
    page.get_by_role("link", name="Keep them").click()
    expect(page.get_by_role("heading", name="Hank Scorpio")).to_be_visible()
    assert Contact.objects.filter(pk=hank.pk).exists()

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete Hank Scorpio").click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    status_message(page, "Deleted Hank Scorpio.")
    expect(page.locator("#contact-results").get_by_text("Hank Scorpio")).to_have_count(0)
    check(page, "contact-deleted")
    assert not Contact.objects.filter(pk=hank.pk).exists()

    page.goto(carol.get_absolute_url())
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete Carol Target").click()
    status_message(page, "Carol Target is part of an introduction, so they stay in your contacts.")
    assert Contact.objects.filter(pk=carol.pk).exists()


def test_removing_a_member_asks_first_and_says_what_happened(page, check):
    dana = UserFactory(full_name="Dana Coach")
    janet = UserFactory(full_name="Janet Seeker")
    cohort = CohortFactory(name="Autumn boot camp", coach=dana)
    MembershipFactory(cohort=cohort, user=janet)
    MembershipFactory(cohort=cohort, user=UserFactory(full_name="Jill Connector"))

    log_in(page, dana.email)
    page.goto(f"/cohorts/{cohort.pk}/dashboard/")
    members = page.locator("#member-table")
    members.get_by_role("link", name="Remove Janet Seeker").click()
    expect(page.get_by_role("heading", name="Remove Janet Seeker from Autumn boot camp?")).to_be_visible()
    expect(page.get_by_text("Their account, contacts and introductions stay theirs.")).to_be_visible()
    check(page, "member-remove-confirm")
    page.get_by_role("link", name="Keep them").click()
    expect(members.get_by_role("link", name="Janet Seeker", exact=True)).to_be_visible()
    assert Membership.objects.filter(cohort=cohort, user=janet).exists()

    members.get_by_role("link", name="Remove Janet Seeker").click()
    page.get_by_role("button", name="Remove Janet Seeker").click()
    status_message(page, "Janet Seeker is no longer in Autumn boot camp. Their account and introductions stay theirs.")
    expect(members.get_by_role("link", name="Janet Seeker", exact=True)).to_have_count(0)
    expect(members).to_contain_text("Jill Connector")
    check(page, "member-removed")
    assert not Membership.objects.filter(cohort=cohort, user=janet).exists()


def test_changing_the_calendar_address_asks_first_and_says_what_happened(page):
    seeker = UserFactory(full_name="Janet Seeker")
    log_in(page, seeker.email)
    page.goto("/follow-ups/")
    address = page.locator("#calendar-heading ~ p code")
    before = address.inner_text()
    questions: list[str] = []

    def answer(accept: bool):
        def handle(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    change = page.get_by_role("button", name="Change the address (the old one stops working)")
    page.once("dialog", answer(False))
    change.click()
    expect(change).to_be_visible()
    assert questions == ["Change your calendar address? Calendars subscribed to the old one stop updating."]
    expect(address).to_have_text(before)

    token = CalendarFeed.objects.get(user=seeker).token
    page.once("dialog", answer(True))
    change.click()
    status_message(page, "Your calendar address was changed; the old one no longer works.")
    expect(address).not_to_have_text(before)
    assert len(questions) == 2
    assert CalendarFeed.objects.get(user=seeker).token != token


def test_deleting_your_account_asks_for_your_password_first(page, check):
    janet = UserFactory(full_name="Janet Seeker")
    log_in(page, janet.email)
    page.get_by_role("link", name="Janet").first.click()
    page.get_by_role("link", name="Delete my account…").click()
    expect(page.get_by_role("heading", name="Delete your account?")).to_be_visible()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    check(page, "account-delete-confirm")

    # A wrong password is refused next to the field, announced, and nothing is deleted.
    password = page.locator("#id_password")
    password.fill("not my password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_password_error")).to_have_attribute("role", "alert")
    expect(password).to_have_accessible_description(re.compile(r"\S"))
    check(page, "account-delete-refused")
    janet.refresh_from_db()
    assert not janet.is_deleted

    page.get_by_role("link", name="Keep my account").click()
    expect(page.get_by_role("heading", name="Your settings")).to_be_visible()
    page.get_by_role("link", name="Delete my account…").click()
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    check(page, "account-deleted")
    janet.refresh_from_db()
    assert janet.is_deleted
