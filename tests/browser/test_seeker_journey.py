"""The seeker's journey: sign up through an invitation, add a contact, ask for an introduction,
fix what the connector asked, follow the introduction to an outcome, tick off follow-ups."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from cohorts import services as cohort_services
from followups.models import FollowUp
from intros import services
from intros.models import IntroRequest
from intros.states import Mode
from lib.outbox.models import OutboxMessage
from tests.browser.audit import focus_is_visible
from tests.factories import GOOD_PREPARATION, CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import last_link_token
from workflows import intros as actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEKER_EMAIL = "natalie@example.org"
JOIN_RE = re.compile(r"/cohorts/join/[^/\s]+/")
CHICAGO = ZoneInfo("America/Chicago")


def invitation_path(email: str) -> str:
    message = next(m for m in OutboxMessage.objects.order_by("-pk") if email in m.to)
    found = JOIN_RE.search(message.body_text)
    assert found, f"No join link in the invitation:\n{message.body_text}"
    return found.group(0)


def wait_words(busy: dt.date, seeker: User) -> str:
    """What the pages say while Carol is busy: the date she gave, then 09:00 on the next day in
    Chicago and the same moment on Natalie's clock."""
    opens = dt.datetime.combine(busy + dt.timedelta(days=1), dt.time(9), tzinfo=CHICAGO)
    yours = opens.astimezone(ZoneInfo(seeker.time_zone))

    def day(moment) -> str:
        return f"{moment:%a} {moment.day} {moment:%b}" + (
            "" if moment.year == timezone.now().year else f" {moment.year}"
        )

    mine = f"{yours:%H:%M}" if yours.date() == opens.date() else f"{day(yours)}, {yours:%H:%M}"
    clocks = "(your time and theirs)" if yours.utcoffset() == opens.utcoffset() else f"their time ({mine} yours)"
    return (
        f"Carol Target asked for no messages until the end of {day(busy)}. "
        f"The next good moment is {day(opens)}, 09:00 {clocks}."
    )


def test_seeker_signs_up_asks_fixes_meets_and_follows_up(new_page, check):
    coach = UserFactory(full_name="Dana Coach")
    connector = UserFactory(full_name="Jill Connector")
    cohort = CohortFactory(name="Spring boot camp", coach=coach)
    MembershipFactory(cohort=cohort, user=connector)
    ContactFactory(
        owner=connector,
        shareable=True,
        name="Carol Target",
        email="carol@northwind.example.org",
        organisation="Northwind Agency",
        title="Chief Administrative Officer",
    )
    ContactFactory(owner=connector, shareable=True, name="Derek Decoy", organisation="Umbrella Logistics")
    cohort_services.invitations_send(cohort=cohort, emails=[SEEKER_EMAIL], invited_by=coach)

    # --- sign up through the invitation, on a phone --------------------------------------------
    page = new_page("seeker", phone=True)
    page.goto(invitation_path(SEEKER_EMAIL))
    expect(page.get_by_role("heading", name="Join Spring boot camp")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value(SEEKER_EMAIL)
    page.get_by_label("Full name").fill("Natalie Seeker")
    page.locator("#id_password1").fill("a long and careful passphrase")
    page.locator("#id_password2").fill("a different passphrase")
    page.get_by_role("button", name="Create my account and join").click()
    # Refused next to the field, announced, and nothing typed is lost.
    again = page.locator("#id_password2")
    expect(page.locator(".field-error", has=page.locator("#id_password2"))).to_contain_text("didn’t match")
    expect(page.get_by_label("Full name")).to_have_value("Natalie Seeker")
    expect(page.locator("#id_password2_error")).to_have_attribute("role", "alert")
    check(page, "join-refused")
    page.locator("#id_password1").fill("a long and careful passphrase")
    again.fill("a long and careful passphrase")
    page.get_by_role("button", name="Create my account and join").click()
    expect(page.locator(".messages")).to_contain_text("Welcome to Spring boot camp.")
    expect(page.get_by_role("heading", name="Spring boot camp")).to_be_visible()
    seeker = User.objects.get(email=SEEKER_EMAIL)

    # --- home and contacts start empty, and say what to do next ----------------------------------
    page.get_by_role("link", name="Warm Intros").click()
    expect(page.get_by_role("heading", name="Your introductions")).to_be_visible()
    expect(page.get_by_text("No introductions in progress.")).to_be_visible()
    expect(page.get_by_role("link", name="Find someone to meet")).to_be_visible()
    check(page, "seeker-home-empty")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_text("No contacts yet")).to_be_visible()
    empty = page.locator(".empty")
    expect(empty.get_by_role("link", name="Import contacts")).to_be_visible()
    check(page, "contacts-empty")
    empty.get_by_role("link", name="Add a contact").click()
    expect(page.get_by_role("heading", name="Add a contact")).to_be_visible()
    page.get_by_label("Organisation").fill("Globex")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing is saved yet")).to_be_visible()
    expect(page.locator("#id_name")).to_be_focused()
    expect(page.get_by_label("Organisation")).to_have_value("Globex")
    check(page, "contact-refused")
    page.locator("#id_name").fill("Hank Scorpio")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Hank Scorpio")).to_be_visible()
    check(page, "contact-added")

    # --- ask for an introduction ---------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Find someone to meet").click()
    expect(page.get_by_text("Derek Decoy")).to_be_visible()
    page.get_by_label("Company, role or name").press_sequentially("Northwind")
    expect(page).to_have_url(re.compile(r"/intros/new/\?q=Northwind$"))
    expect(page.get_by_text("Derek Decoy")).to_have_count(0)
    check(page, "find-filtered")
    # The back button undoes the search; forward brings it back.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/intros/new/$"))
    expect(page.get_by_text("Derek Decoy")).to_be_visible()
    page.go_forward()
    expect(page.get_by_text("Derek Decoy")).to_have_count(0)
    expect(page.get_by_text("Carol Target")).to_be_visible()

    page.get_by_role("link", name="Ask Jill to introduce you").click()
    for name, text in GOOD_PREPARATION.items():
        page.locator(f"#id_{name}").fill(text)
    check(page, "ask-form")
    page.get_by_role("button", name="Save and submit to Jill").click()
    expect(page.locator(".messages")).to_contain_text("Sent to Jill Connector to vet.")
    intro = IntroRequest.objects.get(seeker=seeker)

    # --- the connector asks for changes; the seeker fixes them ----------------------------------
    actions.do_request_changes(
        intro=intro, connector=connector, note="Name the CAO's current project in your questions, please."
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    home_item = page.locator("li", has=page.get_by_role("link", name="Carol Target, Northwind Agency"))
    expect(home_item.locator(".badge")).to_have_text("Changes asked")
    check(page, "seeker-home-changes-requested")
    home_item.get_by_role("link", name="Carol Target, Northwind Agency").click()
    page.get_by_role("link", name="Edit the preparation").click()
    expect(page.locator(".callout")).to_contain_text("Name the CAO's current project in your questions, please.")
    questions = page.locator("#id_questions")
    questions.fill(GOOD_PREPARATION["questions"] + " How is the shared-services project changing your year?")
    check(page, "fix-preparation")
    page.get_by_role("button", name="Save and submit to Jill").click()
    expect(page.locator(".messages")).to_contain_text("Sent to Jill Connector to vet.")
    expect(page.locator(".page-head .badge")).to_have_text("Waiting for the connector")

    # --- approved and accepted off-page; the seeker meets and reports ---------------------------
    intro.refresh_from_db()
    actions.do_approve(
        intro=intro,
        connector=connector,
        vouch_strength="acquainted",
        vouch_note="Natalie is thorough.",
        mode=Mode.DOUBLE_OPT_IN,
    )
    link, _ = last_link_token(intro)
    # Carol is busy for three more days and takes messages 09:00–17:00 in Chicago: nothing may tell
    # Natalie to write before then, and the pages say until when, on both clocks.
    busy = timezone.localdate(timezone=CHICAGO) + dt.timedelta(days=3)
    actions.do_target_accept(
        link=link,
        terms=services.TargetTerms(
            busy_until=busy,
            weekdays=list(range(7)),
            hours_start=dt.time(9),
            hours_end=dt.time(17),
            time_zone="America/Chicago",
            target_writes_first=False,
        ),
    )
    wait = wait_words(busy, seeker)
    page.reload()
    expect(page.locator(".page-head .badge")).to_have_text("Introduced")
    next_step = page.locator("#next-step")
    expect(next_step.locator(".badge")).to_have_text("Wait")
    expect(next_step).to_contain_text(wait)
    expect(page.locator("#main")).not_to_contain_text("Write now")
    who = page.locator("section", has=page.get_by_role("heading", name="Who"))
    expect(who).to_contain_text("What Carol Target asked for")
    expect(who).to_contain_text("09:00–17:00 Chicago time")
    check(page, "introduced-wait")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    home_item = page.locator("li", has=page.get_by_role("link", name="Carol Target, Northwind Agency"))
    expect(home_item.locator(".guidance .badge")).to_have_text("Wait")
    expect(home_item.locator(".guidance")).to_contain_text(wait)
    expect(page.locator("#main")).not_to_contain_text("Write to Carol")
    check(page, "seeker-home-wait")
    home_item.get_by_role("link", name="Carol Target, Northwind Agency").click()

    meeting = page.locator("#actions")
    meeting.get_by_label("When did you meet?").fill(f"{timezone.localdate():%Y-%m-%d}")
    meeting.get_by_role("button", name="Record the meeting").click()
    expect(page.get_by_role("heading", name="What came of it?")).to_be_visible()
    # Reporting without choosing is refused next to the choices, in place.
    page.get_by_label("A few words for your connector").fill("We talked for an hour; she asked for my CV.")
    page.get_by_role("button", name="Report to Jill").click()
    expect(page.locator("#id_outcome_error")).to_be_visible()
    expect(page.get_by_label("A few words for your connector")).to_have_value(
        "We talked for an hour; she asked for my CV."
    )
    check(page, "outcome-refused")
    page.get_by_label("Job offer").check()
    page.get_by_role("button", name="Report to Jill").click()
    expect(page.locator(".page-head .badge")).to_have_text(re.compile("Outcome"))
    expect(page.locator(".messages")).not_to_be_empty()
    check(page, "outcome-reported")

    # --- tick off follow-ups --------------------------------------------------------------------
    open_followups = list(FollowUp.objects.filter(owner=seeker, status=FollowUp.Status.OPEN))
    assert len(open_followups) >= 2, open_followups
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Follow-ups").click()
    expect(page.get_by_role("heading", name="My follow-ups")).to_be_visible()
    check(page, "followups")
    first, second = open_followups[0], open_followups[1]

    row = page.locator(f"#followup-{first.pk}")
    row.get_by_role("button", name="Done").click()
    expect(page.locator(f"#followup-{first.pk} .badge")).to_have_text("Done")
    expect(page.locator(".messages")).to_contain_text(f"Done: {first.get_kind_display().lower()}.")

    # Skipping asks first; saying no changes nothing.
    row = page.locator(f"#followup-{second.pk}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Skip").click()
    expect(row.get_by_role("button", name="Done")).to_be_visible()
    assert FollowUp.objects.get(pk=second.pk).status == FollowUp.Status.OPEN
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Skip").click()
    expect(page.locator(f"#followup-{second.pk} .badge")).to_have_text("Skipped")
    assert dialogs == ["Skip this follow-up?"]
    expect(page.locator(".messages")).to_contain_text("Skipped:")
    check(page, "followups-ticked")

    # Everything is reachable by keyboard with a visible focus: tab from the top to the first button.
    page.keyboard.press("Tab")
    assert focus_is_visible(page) is None, focus_is_visible(page)
