"""The demo as people meet it after `make run`: the coach's dashboard, Janet's introduction
to the CAO (story 1) and her wait for Marcus Lee (on the introduction and her home), Jill's record as a connector, Lee's offers and the vetting page with a
seeker's track record — each audited and screenshotted at 390 and 1280 px."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from cohorts.management.commands.load_demo import DOMAIN, PASSWORD
from cohorts.models import Cohort
from intros.models import IntroRequest
from tests import stories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, key: str) -> None:
    """Log in as the demo's person `key` (dana, janet, jill …), with the demo's password."""
    stories.log_in(page, f"{key}@{DOMAIN}", PASSWORD)


def test_the_demo_shows_dana_janet_jill_lee_and_priya_their_stories_and_each_page_passes_the_audit(new_page, check):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    cohort = Cohort.objects.get(coach__email=f"dana@{DOMAIN}")

    coach = new_page("dana")
    log_in(coach, "dana")
    coach.goto(reverse("cohorts:dashboard", args=[cohort.pk]))
    attention = coach.locator("section.attention")
    expect(attention).to_contain_text("Janet Okafor")
    expect(attention).to_contain_text("3 boundary breaches")
    expect(attention).to_contain_text("2 stale offers")
    expect(attention).to_contain_text("1 stale offer")
    check(coach, "coach-dashboard")

    janet_page = new_page("janet")
    log_in(janet_page, "janet")
    cao = IntroRequest.objects.get(seeker__email=f"janet@{DOMAIN}", target__name="Catherine Alvarez")
    janet_page.goto(cao.get_absolute_url())
    expect(janet_page.get_by_role("heading", name=re.compile("Catherine Alvarez"))).to_be_visible()
    expect(janet_page.get_by_text("Boundary breach")).to_have_count(3)
    check(janet_page, "janet-intro-story-1")

    # Right after loading, Marcus Lee is still busy (through the day after tomorrow, his time):
    # Janet's introduction and her home say wait, and until when — never "write now".
    marcus = IntroRequest.objects.select_related("target").get(
        seeker__email=f"janet@{DOMAIN}", target__name="Marcus Lee"
    )
    busy = marcus.target.unavailable_until
    wait = f"Marcus Lee asked for no messages until the end of {busy:%a} {busy.day} {busy:%b}."
    janet_page.goto(marcus.get_absolute_url())
    next_step = janet_page.locator("#next-step")
    expect(next_step.locator(".badge")).to_have_text("Wait")
    expect(next_step).to_contain_text(wait)
    expect(next_step).to_contain_text("09:00 their time (10:00 yours)")
    expect(janet_page.locator("#main")).not_to_contain_text("Write now")
    check(janet_page, "janet-marcus-wait")
    janet_page.goto(reverse("intros:home"))
    home_item = janet_page.locator("li", has=janet_page.get_by_role("link", name="Marcus Lee, City Library Network"))
    expect(home_item.locator(".guidance .badge")).to_have_text("Wait")
    expect(home_item.locator(".guidance")).to_contain_text(wait)
    expect(janet_page.locator("#main")).not_to_contain_text("Write to Marcus")
    check(janet_page, "janet-home-wait")

    jill = new_page("jill")
    log_in(jill, "jill")
    jill.goto(reverse("intros:connector_record"))
    numbers = jill.locator("dl.facts")
    expect(numbers).to_contain_text("Led to a job offer or a hire")
    expect(jill.get_by_role("link", name="Natalie Brooks → Catherine Alvarez")).to_be_visible()
    check(jill, "jill-connector-record")

    lee = new_page("lee")
    log_in(lee, "lee")
    lee.goto(reverse("followups:offers"))
    expect(lee.get_by_text("Gone stale")).to_have_count(2)
    check(lee, "lee-offers")

    priya = new_page("priya")
    log_in(priya, "priya")
    waiting = IntroRequest.objects.get(seeker__email=f"lee@{DOMAIN}", target__name="Yuki Tanaka")
    priya.goto(waiting.get_absolute_url())
    expect(priya.locator("#record-heading")).to_be_visible()
    check(priya, "priya-vetting-lee")
