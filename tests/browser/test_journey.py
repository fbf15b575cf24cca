"""The spine, in a real browser: a seeker asks, a connector vets and vouches, the target
answers from an emailed link on a phone, and the seeker sees the introduction made."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from intros.models import IntroRequest
from intros.states import Status
from tests.factories import (
    GOOD_PREPARATION,
    CohortFactory,
    ContactFactory,
    MembershipFactory,
    UserFactory,
)
from tests.stories import awaiting_target, last_link_token, log_in, submitted, target_link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGET_EMAIL = "carol@northwind.example.org"


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], f"The page scrolls sideways on a phone: {widths}"


def test_a_seeker_asks_a_connector_vouches_and_the_target_accepts_on_a_phone(new_page, screenshot):
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=seeker)
    MembershipFactory(cohort=cohort, user=connector)
    ContactFactory(
        owner=connector,
        shareable=True,
        name="Carol Target",
        email=TARGET_EMAIL,
        organisation="Northwind Agency",
        title="Head of Operations",
    )
    # Someone else the seeker could ask, so the search visibly narrows the list.
    ContactFactory(owner=connector, shareable=True, name="Derek Decoy", organisation="Umbrella Logistics")

    # --- the seeker asks --------------------------------------------------------------------
    seeker_page = new_page("seeker")
    log_in(seeker_page, seeker.email)
    seeker_page.get_by_role("link", name="Ask for an introduction").first.click()
    expect(seeker_page.get_by_role("heading", name="Ask for an introduction")).to_be_visible()
    expect(seeker_page.get_by_text("Derek Decoy")).to_be_visible()

    seeker_page.locator("#id_q").press_sequentially("Northwind")
    # The live search swaps only the results in (htmx) and keeps the query in the address.
    expect(seeker_page.get_by_text("Derek Decoy")).to_have_count(0)
    expect(seeker_page.get_by_text("Carol Target")).to_be_visible()
    expect(seeker_page.get_by_text("Head of Operations at Northwind Agency")).to_be_visible()
    expect(seeker_page).to_have_url(re.compile(r"/intros/new/\?q=Northwind$"))
    expect(seeker_page.locator("#id_q")).to_be_focused()
    screenshot(seeker_page, "seeker-search")

    seeker_page.get_by_role("link", name="Ask Jill to introduce you").click()
    expect(
        seeker_page.get_by_role("heading", name="Ask Jill Connector to introduce you to Carol Target")
    ).to_be_visible()

    # A thin preparation is refused, field by field, and kept as a draft.
    seeker_page.get_by_label("What you hope to get from this conversation").fill("Connect")
    seeker_page.get_by_role("button", name="Save and submit to Jill").click()
    expect(seeker_page.locator(".messages")).to_contain_text(
        "Saved as a draft. Before it goes to Jill Connector, 7 part(s) of the preparation need more."
    )
    expect(seeker_page.locator("#id_goal_error")).to_contain_text("Too thin (1 words; at least 8)")
    for name in ("research_company", "research_person", "questions", "followup_plan", "fit", "blurb"):
        expect(seeker_page.locator(f"#id_{name}_error")).to_contain_text("Missing.")
    # The error sits in the same field block as its textarea.
    expect(seeker_page.locator(".field-error", has=seeker_page.locator("#id_goal"))).to_contain_text("Too thin")
    expect(seeker_page.locator("#id_goal")).to_have_value("Connect")
    expect(seeker_page.get_by_role("heading", name="Your request to meet Carol Target")).to_be_visible()
    draft = IntroRequest.objects.get(seeker=seeker)
    assert draft.status == Status.DRAFT and draft.goal == "Connect"
    screenshot(seeker_page, "seeker-thin-preparation-refused")

    for name, text in GOOD_PREPARATION.items():
        seeker_page.locator(f"#id_{name}").fill(text)
    seeker_page.get_by_role("button", name="Save and submit to Jill").click()
    expect(seeker_page.locator(".messages")).to_contain_text("Sent to Jill Connector to vet.")
    expect(seeker_page.locator(".page-head .badge")).to_have_text("Waiting for the connector")
    assert IntroRequest.objects.count() == 1, "Submitting the draft must not start a second request"

    seeker_page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(seeker_page.get_by_role("heading", name="Your introductions")).to_be_visible()
    expect(seeker_page.get_by_text("Waiting for Jill Connector to read your preparation.")).to_be_visible()
    screenshot(seeker_page, "seeker-home-submitted")

    # --- the connector vets --------------------------------------------------------------------
    connector_page = new_page("connector")
    log_in(connector_page, connector.email)
    connector_page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(connector_page.get_by_role("heading", name="Waiting on you")).to_be_visible()
    expect(connector_page.get_by_text("Janet Seeker asks to meet Carol Target")).to_be_visible()
    screenshot(connector_page, "connector-inbox")
    connector_page.get_by_role("link", name="Vet the request").click()
    expect(connector_page.get_by_role("heading", name="Janet Seeker's track record so far")).to_be_visible()
    expect(connector_page.locator("#preparation-heading + .prep")).to_contain_text(GOOD_PREPARATION["blurb"])

    # Approving without the checklist is refused in place (htmx swaps the form back with errors).
    approve = connector_page.get_by_role("button", name="Approve and vouch")
    approve.click()
    checklist_error = connector_page.locator("#id_checked_preparation_error")
    # What is missing, in words: one sentence above the form, and why beside each field.
    expect(connector_page.locator("#actions .form-errors")).to_contain_text("Before approving, confirm you read")
    expect(checklist_error).to_have_text("Tick this once you have read the preparation and found it specific.")
    expect(connector_page.locator("#id_checked_fit_error")).to_contain_text("Tick this if the fit is real")
    expect(connector_page.locator("#id_checked_relationship_error")).to_contain_text("Tick this if you know them")
    expect(connector_page.locator("#id_vouch_strength_error")).to_have_text(
        "Choose how well you know them: the target sees it."
    )
    expect(connector_page.locator("#id_vouch_note_error")).to_contain_text("Write a sentence or two for the target")
    expect(connector_page.get_by_text("This field is required.")).to_have_count(0)
    # Still the request page: the form was swapped in place, not navigated away.
    expect(connector_page).to_have_url(re.compile(rf"/intros/{draft.pk}/$"))
    assert IntroRequest.objects.get().status == Status.SUBMITTED
    screenshot(connector_page, "connector-approve-refused")

    connector_page.get_by_label("I read the preparation: the goal and questions are specific").check()
    connector_page.get_by_label("The fit is real: this is worth their time").check()
    connector_page.get_by_label("I know the seeker well enough to put my name on this").check()
    connector_page.get_by_label("Acquainted — we have met and talked").check()
    vouch_note = "I worked with Janet for two years on the library budget; she is careful and kind."
    connector_page.get_by_label("Your vouch note to them").fill(vouch_note)
    expect(connector_page.get_by_label("Double opt-in — ask them first, then introduce us both")).to_be_checked()
    connector_page.get_by_role("button", name="Approve and vouch").click()
    expect(connector_page.locator(".page-head .badge")).to_have_text("Waiting for their answer")
    expect(connector_page.locator(".messages")).to_contain_text(
        "Approved. Carol Target has been asked; names and emails are shared only if they agree."
    )
    expect(connector_page.locator("#next-step")).to_contain_text("Waiting for Carol Target to answer.")
    screenshot(connector_page, "connector-approved")

    # --- the target answers, from the email, on a phone ----------------------------------------
    target_page = new_page("target", phone=True)
    target_page.goto(target_link_path(TARGET_EMAIL))
    expect(
        target_page.get_by_role("heading", name="Jill Connector would like to introduce you to Janet Seeker")
    ).to_be_visible()
    expect(target_page.get_by_text(GOOD_PREPARATION["blurb"])).to_be_visible()
    expect(target_page.get_by_text(vouch_note)).to_be_visible()
    expect(target_page.locator("#vouch-heading + p")).to_contain_text("Acquainted — we have met and talked")
    assert_no_horizontal_scroll(target_page)
    screenshot(target_page, "target-phone-request")

    accept_panel = target_page.locator("details.accept")
    accept_panel.get_by_text("Yes, introduce us").click()
    expect(accept_panel.get_by_role("button", name="Accept the introduction")).to_be_visible()
    assert_no_horizontal_scroll(target_page)
    accept_panel.get_by_label("I'll reach out to them").check()
    screenshot(target_page, "target-phone-accept-open")
    accept_panel.get_by_role("button", name="Accept the introduction").click()
    expect(target_page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(target_page.get_by_text("You accepted.")).to_be_visible()
    expect(target_page.get_by_text("You said you will write first: Janet will wait for you.")).to_be_visible()
    assert_no_horizontal_scroll(target_page)
    screenshot(target_page, "target-phone-thanks")

    # --- the seeker sees the introduction made -------------------------------------------------
    seeker_page.get_by_role("link", name="Carol Target, Northwind Agency").click()
    expect(seeker_page.locator(".page-head .badge")).to_have_text("Introduced")
    expect(seeker_page.get_by_role("link", name=TARGET_EMAIL)).to_have_attribute("href", f"mailto:{TARGET_EMAIL}")
    next_step = seeker_page.locator("#next-step")
    expect(next_step.locator(".badge")).to_have_text("Don't write")
    expect(next_step).to_contain_text("Carol Target said they would write to you first.")
    screenshot(seeker_page, "seeker-introduced")


def test_target_reusing_the_link_sees_already_answered(new_page, screenshot):
    intro = awaiting_target(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector")),
    )
    _, token = last_link_token(intro)
    link = f"/r/{intro.pk}/{token}/"

    page = new_page("target", phone=True)
    page.goto(link)
    decline_panel = page.locator("details.decline")
    decline_panel.get_by_text("No, thank you").click()
    decline_panel.get_by_role("button", name="Decline politely").click()
    expect(page.get_by_text("You declined.")).to_be_visible()
    screenshot(page, "target-declined")

    page.goto(link)
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    expect(page.get_by_text("Nothing has changed.")).to_be_visible()
    # Declining happened once; opening the link again changed nothing.
    intro.refresh_from_db()
    assert intro.status == Status.DECLINED_BY_TARGET
    assert_no_horizontal_scroll(page)
    screenshot(page, "target-link-reused")


def test_live_search_replaces_the_results_in_place(page, screenshot):
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=seeker)
    MembershipFactory(cohort=cohort, user=connector)
    ContactFactory(owner=connector, shareable=True, name="Carol Target", organisation="Northwind Agency")

    log_in(page, seeker.email)
    page.goto("/intros/new/")
    page.locator("#id_q").press_sequentially("Northwind")
    expect(page).to_have_url(re.compile(r"q=Northwind$"))
    expect(page.get_by_text("Carol Target")).to_be_visible()
    screenshot(page, "search-results")
    expect(page.locator("#results")).to_have_count(1, timeout=2_000)
    expect(page.locator(".card .card")).to_have_count(0)


def test_refused_vetting_takes_focus_to_the_first_problem(page, screenshot):
    intro = submitted(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector")),
    )
    log_in(page, intro.connector.email)
    page.goto(f"/intros/{intro.pk}/")
    page.get_by_role("button", name="Approve and vouch").click()
    expect(page.locator("#id_checked_preparation_error")).to_have_text(
        "Tick this once you have read the preparation and found it specific."
    )
    screenshot(page, "vetting-refused")
    expect(page.locator("#id_checked_preparation")).to_be_focused(timeout=2_000)
