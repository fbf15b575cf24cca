"""Real tasks done with the keyboard alone (Tab, Shift+Tab, Enter, Space, and the arrow keys a
radio group uses; no clicks), with a visible focus ring on every element the focus passes, a skip
link that works, and errors announced next to the field they are about."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from followups.models import FollowUp
from intros.models import IntroRequest
from intros.states import Status
from tests.browser.audit import focus_is_visible
from tests.factories import GOOD_PREPARATION, PASSWORD, CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import awaiting_target, target_link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGET_EMAIL = "carol@northwind.example.org"


def focused(page: Page) -> str:
    return page.evaluate(
        """() => { const el = document.activeElement;
            return el ? el.outerHTML.slice(0, 100) : 'nothing'; }"""
    )


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, *, key: str = "Tab", max_steps: int = 60) -> list[str]:
    """Press Tab until `target` has the focus, checking every stop on the way shows where the
    focus is. Returns the stops, for the failure message of a caller."""
    expect(target).to_be_visible()
    stops: list[str] = []
    if is_focused(target):
        return stops
    for _ in range(max_steps):
        page.keyboard.press(key)
        stops.append(focused(page))
        problem = focus_is_visible(page)
        assert problem is None, f"{problem} (after {len(stops)} × {key})"
        if is_focused(target):
            return stops
    raise AssertionError(f"{key} never reached {target}; the focus went:\n" + "\n".join(stops))


def assert_skip_link_works(page: Page) -> None:
    """From the top of a fresh page the first Tab lands on a visible "Skip to content" link;
    Enter on it moves the focus to the main content, and the next Tab lands inside it."""
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert focus_is_visible(page) is None, focus_is_visible(page)
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)"), focused(page)
    assert focus_is_visible(page) is None, focus_is_visible(page)


def log_in_by_keyboard(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    tab_to(page, page.locator("#id_username"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#id_password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your introductions")).to_be_visible()


def test_target_answers_the_link_on_a_phone_by_keyboard(new_page):
    intro = awaiting_target(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(name="Carol Target", email=TARGET_EMAIL, owner=UserFactory(full_name="Jill Connector")),
    )
    page = new_page("target", phone=True)
    page.goto(target_link_path(TARGET_EMAIL))
    expect(
        page.get_by_role("heading", name="Jill Connector would like to introduce you to Janet Seeker")
    ).to_be_visible()
    assert_skip_link_works(page)

    # "Yes, introduce us" opens with Enter; "I'll reach out to them" is chosen in its radio group.
    tab_to(page, page.get_by_text("Yes, introduce us"))
    page.keyboard.press("Enter")
    accept = page.locator("details.accept")
    expect(accept).to_have_attribute("open", "")
    tab_to(page, accept.get_by_label("They should write to me"))
    page.keyboard.press("ArrowDown")
    expect(accept.get_by_label("I'll reach out to them")).to_be_checked()
    assert focus_is_visible(page) is None, focus_is_visible(page)
    tab_to(page, accept.get_by_role("button", name="Accept the introduction"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("You accepted.")).to_be_visible()
    expect(page.get_by_text("You said you will write first: Janet will wait for you.")).to_be_visible()
    intro.refresh_from_db()
    assert intro.status in {Status.ACCEPTED, Status.INTRODUCED} and intro.target_writes_first


def test_seeker_ticks_off_a_follow_up_and_asks_for_an_introduction_by_keyboard(page):
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=seeker)
    MembershipFactory(cohort=cohort, user=connector)
    ContactFactory(owner=connector, shareable=True, name="Carol Target", organisation="Northwind Agency")
    ContactFactory(owner=connector, shareable=True, name="Derek Decoy", organisation="Umbrella Logistics")
    followup = FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=timezone.now() + dt.timedelta(hours=2),
        next_action_at=timezone.now() + dt.timedelta(hours=2),
    )

    log_in_by_keyboard(page, seeker.email)
    page.reload()  # a fresh page: the focus starts at the top, where the skip link is
    assert_skip_link_works(page)

    # --- tick off a follow-up: Space on "Done"; the focus stays on the row, which says Done -------
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Follow-ups"), key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My follow-ups")).to_be_visible()
    row = page.locator(f"#followup-{followup.pk}")
    tab_to(page, row.get_by_role("button", name="Done"))
    page.keyboard.press("Space")
    expect(page.locator(f"#followup-{followup.pk} .badge")).to_have_text("Done")
    expect(page.locator(".messages")).to_contain_text("Done: thank the connector.")
    expect(page.locator(f"#followup-{followup.pk}")).to_be_focused()
    assert focus_is_visible(page) is None, focus_is_visible(page)
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUp.Status.DONE

    # --- find someone and ask: the live search, then the preparation ------------------------------
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Home"), key="Shift+Tab")
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="Find someone to meet"))
    page.keyboard.press("Enter")
    search = page.get_by_label("Company, role or name")
    tab_to(page, search)
    page.keyboard.type("Northwind")
    expect(page).to_have_url(re.compile(r"/intros/new/\?q=Northwind$"))
    expect(page.get_by_text("Derek Decoy")).to_have_count(0)
    tab_to(page, page.get_by_role("link", name="Ask Jill to introduce you"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ask Jill Connector to introduce you to Carol Target")).to_be_visible()

    # A thin preparation is refused: each field in error says so beside it, is marked invalid,
    # and is described by its error, which is announced (role=alert).
    tab_to(page, page.locator("#id_goal"))
    page.keyboard.type("Connect")
    submit = page.get_by_role("button", name="Save and submit to Jill")
    tab_to(page, submit)
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("7 part(s) of the preparation need more")
    goal = page.locator("#id_goal")
    expect(goal).to_have_attribute("aria-invalid", "true")
    expect(goal).to_have_accessible_description(re.compile(r"Too thin \(1 words; at least 8\)"))
    expect(page.locator("#id_goal_error")).to_have_attribute("role", "alert")
    expect(page.locator(".field-error", has=goal)).to_contain_text("Too thin")
    expect(goal).to_have_value("Connect")
    for name in ("research_company", "blurb"):
        field = page.locator(f"#id_{name}")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile("Missing."))

    # Fixed by keyboard, field by field in the order they come, then sent with Enter.
    for textarea in page.locator("form.card textarea").all():
        name = textarea.get_attribute("name")
        tab_to(page, textarea)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type(GOOD_PREPARATION[name])
    tab_to(page, page.get_by_role("button", name="Save and submit to Jill"))
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Sent to Jill Connector to vet.")
    expect(page.locator(".page-head .badge")).to_have_text("Waiting for the connector")
    assert IntroRequest.objects.get(seeker=seeker).status == Status.SUBMITTED
