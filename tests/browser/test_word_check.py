"""The audit's word check itself: it finds a word split over two lines, and passes text that
wraps between words, a hyphenated word wrapping at its hyphen, and long tokens (addresses,
URLs, code) that may wrap anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.audit import broken_words
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

# A narrow box in a fixed font, so where lines end does not depend on the machine's fonts.
BOX = "<div style='width: {width}; font: 16px/1.5 monospace; {css}'>{html}</div>"


@pytest.fixture
def blank(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def render(page: Page, html: str, *, width: str = "8ch", css: str = "") -> list[str]:
    page.set_content(BOX.format(width=width, css=css, html=html))
    return broken_words(page)


def test_word_check_finds_words_split_by_overflow_wrap_anywhere(blank):
    found = render(blank, "Boundary breaches", width="5ch", css="overflow-wrap: anywhere")
    assert found == ["Bound|ary in div", "breac|hes in div"], found


def test_word_check_finds_a_table_header_squeezed_by_word_break(blank):
    html = "<table><tr><th style='word-break: break-all'>Member</th><td>1234567890</td></tr></table>"
    found = render(blank, html, width="10ch")
    assert found == ["M|e|m|b|e|r in div > table > tbody > tr > th"], found


def test_word_check_passes_text_wrapping_between_words(blank):
    assert render(blank, "Who needs attention this week, and why: Dana’s cohort’s members") == []


def test_word_check_lets_a_hyphenated_word_wrap_at_its_hyphen(blank):
    # "Overdue follow-" fits the first line; "ups" goes to the next, as in print.
    assert render(blank, "Overdue follow-ups", width="15ch") == []


def test_word_check_lets_long_tokens_wrap_anywhere(blank):
    html = (
        "<p>Write to janet.seeker@example.org or open https://warm.example.org/follow-ups/calendar/abc.ics</p>"
        "<p><code>https://warm.example.org/follow-ups/calendar/abcdefghijklmnop.ics</code></p>"
        "<p><span class='token'>secretsecretsecretsecret</span></p>"
    )
    assert render(blank, html, width="12ch", css="overflow-wrap: anywhere") == []


def test_word_check_ignores_form_controls_and_hidden_text(blank):
    html = (
        "<select><option>Acquainted — we have met and talked</option></select>"
        "<textarea>Preparation written at length</textarea>"
        "<p style='display: none'>Hidden paragraph of words</p>"
    )
    assert render(blank, html, width="6ch", css="overflow-wrap: anywhere") == []
