"""Finding people as they are written, in the browser: the contact list's search and its
organisation filter with suggestions as one types (mouse and keyboard), and the coach's
member search; each page audited and screenshotted at 390 and 1280 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contact_list_finds_people_and_organisations_as_they_are_written(page, check):
    jill = UserFactory(full_name="Jill Connector")
    ContactFactory(owner=jill, name="José López", organisation="São Paulo Labs", title="Head of Data")
    ContactFactory(owner=jill, name="Ana Müller", organisation="Banco de São Paulo", title="Treasurer")
    ContactFactory(owner=jill, name="Bruno Sato", organisation="Sao Tome Shipping", title="Founder")
    ContactFactory(owner=jill, name="Derek Decoy", organisation="Umbrella Logistics", title="Analyst")
    for n in range(4):
        ContactFactory(owner=jill, organisation=f"Northwind {['Bank', 'Foods', 'Labs', 'Health'][n]}")
    log_in(page, jill.email)
    page.goto("/contacts/")
    results = page.locator("#contact-results")

    # The search: plain letters find the accented name.
    page.get_by_label("Search", exact=True).fill("lopez")
    expect(page).to_have_url(re.compile(r"q=lopez"))
    expect(results.get_by_role("link", name="José López")).to_be_visible()
    expect(results.get_by_text("Derek Decoy")).to_have_count(0)
    page.get_by_label("Search", exact=True).fill("")
    expect(results.get_by_text("Derek Decoy")).to_be_visible()

    # The organisation: suggestions as it is typed, accents or not.
    field = page.get_by_label("Organisation")
    field.press_sequentially("sao")
    suggestions = page.locator("#organisation-suggestions")
    expect(suggestions.get_by_role("link")).to_have_count(3)
    expect(suggestions).to_contain_text("São Paulo Labs")
    expect(suggestions).to_contain_text("Sao Tome Shipping")
    expect(results.get_by_text("Derek Decoy")).to_have_count(0)  # the list narrows as one types too
    check(page, "contacts-organisation-suggestions")

    # Those that start with the words first; chosen with the keyboard: down, down, up, Enter.
    expect(suggestions.get_by_role("link")).to_have_text(["São Paulo Labs", "Sao Tome Shipping", "Banco de São Paulo"])
    field.press("ArrowDown")
    expect(suggestions.get_by_role("link").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(field).to_have_value("São Paulo Labs")
    expect(field).to_be_focused()
    expect(suggestions).to_be_hidden()
    expect(page).to_have_url(re.compile(r"organisation=S(%C3%A3|ã)o(\+|%20)Paulo(\+|%20)Labs"))
    expect(results.get_by_role("link", name="José López")).to_be_visible()
    expect(results.get_by_text("Ana Müller")).to_have_count(0)
    check(page, "contacts-organisation-chosen")

    # Escape puts the suggestions away; a click chooses.
    field.fill("")
    field.press_sequentially("north")
    expect(suggestions.get_by_role("link")).to_have_count(4)
    field.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(field).to_have_value("north")
    field.press_sequentially("wind f")
    expect(page).to_have_url(re.compile(r"organisation=northwind(\+|%20)f"))  # the list has narrowed
    suggestions.get_by_role("link", name="Northwind Foods").click()
    expect(field).to_have_value("Northwind Foods")
    expect(page).to_have_url(re.compile(r"organisation=Northwind(\+|%20)Foods"))
    expect(results).to_contain_text("1 contact matching")

    # Without JavaScript the suggestions are a page of links (what a suggestion's link opens).
    page.goto("/contacts/organisations/?organisation=sao")
    expect(page.get_by_role("heading", name="Organisations matching “sao”")).to_be_visible()
    check(page, "organisation-suggestions-page")
    page.get_by_role("link", name="Banco de São Paulo").click()
    expect(page.get_by_label("Organisation")).to_have_value("Banco de São Paulo")
    expect(page.locator("#contact-results")).to_contain_text("Ana Müller")


def test_the_coach_finds_a_member_as_written(new_page, check):
    cohort = CohortFactory(name="Spring boot camp")
    for name in ("José López", "Ann Muller", "Zed Young", "Álvaro Brandt"):
        MembershipFactory(cohort=cohort, user=UserFactory(full_name=name))
    page = new_page("coach")
    log_in(page, cohort.coach.email)
    page.goto(f"/cohorts/{cohort.pk}/dashboard/")
    table = page.locator("#member-table")
    expect(table).to_contain_text("Zed Young")

    search = page.get_by_role("searchbox", name="Find a member")
    search.fill("lopez")
    expect(page).to_have_url(re.compile(r"q=lopez"))
    expect(table.get_by_role("link", name="José López", exact=True)).to_be_visible()
    expect(table).not_to_contain_text("Zed Young")
    expect(table).to_contain_text("1 of 4 matching “lopez”")
    check(page, "dashboard-member-search")

    # Sorting by name keeps the search, and puts Álvaro among the As.
    search.fill("")
    expect(table).to_contain_text("Zed Young")
    table.get_by_role("link", name=re.compile("^Member")).click()
    expect(table.locator("tbody th").first).to_have_text("Álvaro Brandt")
