"""Slow htmx actions show that they are working: the answer is held back (Playwright holds the
request), and meanwhile an indicator is visible, inside a status region a screen reader announces,
with the region being replaced marked aria-busy; once the answer arrives both are gone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, Route, expect

from followups.models import FollowUp
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import log_in, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class HeldRequests:
    """htmx requests to matching URLs wait here until `release()`; other requests pass."""

    def __init__(self, page: Page, url: re.Pattern):
        self.page = page
        self.url = url
        self.routes: list[Route] = []
        page.route(url, self._hold)

    def _hold(self, route: Route) -> None:
        if route.request.headers.get("hx-request") == "true":
            self.routes.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        assert len(self.routes) == 1, f"expected one held request to {self.url.pattern}, got {len(self.routes)}"
        self.routes.pop().continue_()
        self.page.unroute(self.url)


def assert_shows_progress_while_held(
    page: Page,
    *,
    url: re.Pattern,
    act: Callable[[], None],
    indicator: Locator,
    words: str,
    busy: Locator,
    done: Locator,
    while_held: Callable[[], None] = lambda: None,
) -> None:
    held = HeldRequests(page, url)
    with page.expect_request(lambda r: bool(url.search(r.url)) and r.headers.get("hx-request") == "true"):
        act()
    # In flight: the indicator shows its words, inside a live region, and the region being
    # replaced says it is busy.
    expect(indicator).to_be_visible()
    expect(indicator).to_contain_text(words)
    expect(indicator.locator("xpath=ancestor::*[@role='status' or @aria-live][1]")).to_have_count(1)
    expect(busy).to_have_attribute("aria-busy", "true")
    while_held()
    held.release()
    # Answered: the new content is in, and nothing says it is still working.
    expect(done).to_be_visible()
    expect(indicator).to_be_hidden()
    expect(page.locator("[aria-busy='true']")).to_have_count(0)


def test_live_contact_search_shows_searching_until_the_results_arrive(page):
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=seeker)
    MembershipFactory(cohort=cohort, user=connector)
    ContactFactory(owner=connector, shareable=True, name="Carol Target", organisation="Northwind Agency")
    ContactFactory(owner=connector, shareable=True, name="Derek Decoy", organisation="Umbrella Logistics")
    log_in(page, seeker.email)
    page.goto("/intros/new/")
    expect(page.get_by_text("Derek Decoy")).to_be_visible()
    indicator = page.locator("#find-indicator")
    expect(indicator).to_be_hidden()

    assert_shows_progress_while_held(
        page,
        url=re.compile(r"/intros/new/\?q=Northwind"),
        act=lambda: page.get_by_label("Company, role or name").fill("Northwind"),
        indicator=indicator,
        words="Searching…",
        busy=page.locator("#results"),
        done=page.get_by_text("Carol Target"),
    )
    expect(page.get_by_text("Derek Decoy")).to_have_count(0)


def test_ticking_off_a_follow_up_shows_saving_until_the_row_is_done(page):
    seeker = UserFactory(full_name="Janet Seeker")
    followup = FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=timezone.now() + dt.timedelta(hours=2),
        next_action_at=timezone.now() + dt.timedelta(hours=2),
    )
    log_in(page, seeker.email)
    page.goto("/follow-ups/")
    row = page.locator(f"#followup-{followup.pk}")
    indicator = row.locator(".htmx-indicator")
    expect(indicator).to_be_hidden()

    assert_shows_progress_while_held(
        page,
        url=re.compile(r"/follow-ups/act/"),
        act=lambda: row.get_by_role("button", name="Done").click(),
        indicator=indicator,
        words="Saving…",
        busy=row,
        done=page.locator(f"#followup-{followup.pk} .badge").filter(has_text="Done"),
        # In flight, the row's buttons cannot be pressed a second time.
        while_held=lambda: expect(row.get_by_role("button", name="Snooze")).to_be_disabled(),
    )
    expect(page.locator(".messages")).to_contain_text("Done: thank the connector.")


def test_dashboard_drill_down_shows_loading_until_the_member_arrives(page):
    dana = UserFactory(full_name="Dana Coach")
    janet = UserFactory(full_name="Janet Seeker")
    cohort = CohortFactory(name="Autumn boot camp", coach=dana)
    MembershipFactory(cohort=cohort, user=janet)
    log_in(page, dana.email)
    page.goto(f"/cohorts/{cohort.pk}/dashboard/")
    indicator = page.locator("#drill-busy")
    expect(indicator).to_be_hidden()

    assert_shows_progress_while_held(
        page,
        url=re.compile(rf"/cohorts/{cohort.pk}/dashboard/drill/\?member={janet.pk}"),
        act=lambda: page.locator("#member-table").get_by_role("link", name="Janet Seeker", exact=True).click(),
        indicator=indicator,
        words="Loading…",
        busy=page.locator("#drill"),
        done=page.locator("#drill").get_by_role("heading", name=re.compile("^Janet Seeker")),
    )


def test_approving_shows_sending_until_the_answer_arrives(page):
    intro = submitted(
        seeker=UserFactory(full_name="Janet Seeker"),
        target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector")),
    )
    log_in(page, intro.connector.email)
    page.goto(f"/intros/{intro.pk}/")
    page.get_by_label("I read the preparation").check()
    page.get_by_label("The fit is real").check()
    page.get_by_label("I know the seeker well enough").check()
    page.get_by_label("Acquainted — we have met and talked").check()
    page.get_by_label("Your vouch note to them").fill("Janet ran our budget for two years; careful and kind.")
    form = page.locator("form", has=page.get_by_role("button", name="Approve and vouch"))

    assert_shows_progress_while_held(
        page,
        url=re.compile(rf"/intros/{intro.pk}/approve/"),
        act=lambda: page.get_by_role("button", name="Approve and vouch").click(),
        indicator=form.locator(".htmx-indicator"),
        words="Sending…",
        busy=page.locator("#actions"),
        done=page.locator(".messages").get_by_text("Approved."),
    )
