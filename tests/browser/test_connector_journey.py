"""The connector's journey: vet a request, ask for changes, approve and vouch, see the capacity
they set hold the next request in a queue, and see their track record grow."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from intros import services
from intros.models import IntroRequest
from intros.states import Status
from tests.factories import GOOD_PREPARATION, ContactFactory, UserFactory
from tests.stories import last_link_token, log_in, submitted
from workflows import intros as actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connector_vets_asks_for_changes_approves_and_sees_capacity_and_record(new_page, check):
    jill = UserFactory(full_name="Jill Connector")
    omar = UserFactory(full_name="Omar Seeker")
    natalie = UserFactory(full_name="Natalie Seeker")
    manager = ContactFactory(owner=jill, name="Priya Manager", organisation="Initech", email="priya@initech.example")
    omars = submitted(seeker=omar, target=manager)
    natalies = submitted(seeker=natalie, target=ContactFactory(owner=jill, name="Carol Target"))

    page = new_page("connector")
    log_in(page, jill.email)
    expect(page.get_by_text("2 requests wait for you to vet")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Waiting on you")).to_be_visible()
    expect(page.get_by_text("You are carrying 0 open introductions.")).to_be_visible()
    expect(page.get_by_role("link", name="Vet the request")).to_have_count(2)
    check(page, "inbox")

    # --- vet Omar's request and ask for changes --------------------------------------------------
    page.get_by_role("link", name="Omar Seeker asks to meet Priya Manager").click()
    expect(page.get_by_role("heading", name="Omar Seeker's track record so far")).to_be_visible()
    expect(page.locator("#preparation-heading + .prep")).to_contain_text(GOOD_PREPARATION["goal"])
    check(page, "vet")
    changes = page.locator("#actions").get_by_role("button", name="Send back with my note")
    changes.click()
    # Refused in place, next to the field, and the focus goes there.
    expect(page.locator("#id_changes-note_error")).to_be_visible()
    expect(page.locator("#id_changes-note")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/intros/{omars.pk}/$"))
    check(page, "changes-refused")
    page.locator("#id_changes-note").fill("Say which of Priya's teams you want to join, and why now.")
    page.get_by_role("button", name="Send back with my note").click()
    expect(page.locator(".messages")).to_contain_text(
        "Your note was sent; the request comes back to you when it is improved."
    )
    expect(page.locator(".page-head .badge")).to_have_text("Changes asked")

    # Omar improves it (in his own browser, elsewhere) and it comes back.
    omars.refresh_from_db()
    services.intro_update_preparation(
        intro=omars,
        seeker=omar,
        preparation={"goal": GOOD_PREPARATION["goal"] + " I want to join the platform team now."},
    )
    actions.do_submit(intro=omars, seeker=omar)

    # --- set a capacity of one -------------------------------------------------------------------
    page.get_by_role("link", name="Jill").first.click()
    expect(page.get_by_role("heading", name="Your settings")).to_be_visible()
    page.get_by_label("Most open introductions at once").fill("1")
    check(page, "profile")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages")).to_contain_text("Your settings are saved.")
    expect(page.get_by_label("Most open introductions at once")).to_have_value("1")

    # --- approve and vouch -----------------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.get_by_text("of your capacity of 1")).to_be_visible()
    page.get_by_role("link", name="Omar Seeker asks to meet Priya Manager").click()
    # It came back: the preparation shows what changed since the note, word by word.
    expect(page.get_by_text("Omar changed it since your note of")).to_be_visible()
    expect(page.locator("#preparation .diff-text ins.diff-added")).to_contain_text(
        "I want to join the platform team now."
    )
    expect(page.locator("#preparation .badge-unchanged")).to_have_count(6)
    check(page, "vet-changed")
    # Approving with nothing filled in says what is missing, in words.
    page.get_by_role("button", name="Approve and vouch").click()
    expect(page.locator("#actions .form-errors")).to_contain_text(
        "Before approving, confirm you read the preparation, confirm the fit is real, confirm you know them "
        "well enough, say how well you know them and write your vouch note."
    )
    expect(page.get_by_text("This field is required.")).to_have_count(0)
    check(page, "approve-refused")
    page.get_by_label("I read the preparation").check()
    page.get_by_label("The fit is real").check()
    page.get_by_label("I know the seeker well enough").check()
    page.get_by_label("Acquainted — we have met and talked").check()
    page.get_by_label("Your vouch note to them").fill("Omar ran our meetup's site for a year; reliable and curious.")
    page.get_by_role("button", name="Approve and vouch").click()
    expect(page.locator(".messages")).to_contain_text("Approved. Priya Manager has been asked")
    expect(page.locator(".page-head .badge")).to_have_text("Waiting for their answer")
    check(page, "approved")

    # At capacity, the next request says so before anything is approved.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(
        page.get_by_text("You are carrying 1 open introduction of your capacity of 1 — new requests wait in your queue")
    ).to_be_visible()
    page.get_by_role("link", name="Natalie Seeker asks to meet Carol Target").click()
    expect(page.get_by_text("this request waits in your queue until one finishes")).to_be_visible()
    check(page, "at-capacity")
    assert IntroRequest.objects.get(pk=natalies.pk).status == Status.SUBMITTED

    # --- the introduction leads to a hire; the record shows it -------------------------------------
    link, _ = last_link_token(omars)
    actions.do_target_accept(link=link, terms=services.TargetTerms())
    omars.refresh_from_db()
    actions.do_record_meeting(intro=omars, seeker=omar, met_on=timezone.localdate())
    omars.refresh_from_db()
    actions.do_record_outcome(intro=omars, seeker=omar, outcome="hired", note="I start in March!")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Introductions you made").click()
    expect(page.get_by_role("heading", name="Introductions you made")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts.locator("dt:has-text('Led to a job offer or a hire') + dd")).to_have_text("1")
    expect(facts.locator("dt:has-text('Approved and vouched') + dd")).to_have_text("1")
    expect(page.get_by_text("Hired · updated")).to_be_visible()
    check(page, "track-record")
