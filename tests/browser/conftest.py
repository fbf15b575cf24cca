"""Browser fixtures: Playwright driving Debian's Chromium (Playwright cannot download its own here).

No pytest-playwright: a session-wide browser, a fresh context per person in a test, and a
watch on every page that fails the test on a JavaScript error, a console error or a
Content-Security-Policy violation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Response, sync_playwright

from tests.browser.audit import axe_run, blocking, by_impact, layout_problems

CHROMIUM = os.environ.get("WARM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

# Chromium logs every 4xx answer as a console error ("Failed to load resource: the server
# responded with a status of 422"). The app answers 422 for a form with errors and 410 for a
# used target link on purpose; those are the page working, not breaking.
DELIBERATE_STATUS = re.compile(r"Failed to load resource: the server responded with a status of (410|422)\b")
ERROR_PAGE_STATUS = re.compile(r"Failed to load resource: the server responded with a status of (403|404)\b")

# Screenshots use caret="initial": Playwright hides the caret with a style of its own, which the
# page's CSP later reports as an inline-style violation during the next htmx swap (not the app's).

# A timeout long enough for a loaded CI machine, short enough that a broken step fails quickly.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session", autouse=True)
def fresh_axe_report() -> None:
    (ARTIFACTS / "axe.txt").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's Chromium: "
            "`apt-get update && apt-get install -y chromium` (or set WARM_CHROMIUM to its path).",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@dataclass
class BrowserProblems:
    """What went wrong in any page of the test, in the words Chromium used."""

    problems: list[str] = field(default_factory=list)
    # A test of the error pages opens them on purpose: a page (not a file it loads) answered
    # 403 or 404 is then no problem. Set by `allow_error_pages()`.
    error_pages_allowed: bool = False
    documents: dict[str, int] = field(default_factory=dict)

    def allow_error_pages(self) -> None:
        self.error_pages_allowed = True

    def _deliberate_error_page(self, message: ConsoleMessage) -> bool:
        failed = message.location.get("url", "")
        return (
            self.error_pages_allowed
            and bool(ERROR_PAGE_STATUS.search(message.text))
            and self.documents.get(failed) in (403, 404)
        )

    def watch(self, page: Page, who: str) -> None:
        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            if "Content Security Policy" in text:
                self.problems.append(f"[{who}] CSP violation on {page.url}: {text}")
            elif (
                message.type == "error"
                and not DELIBERATE_STATUS.search(text)
                and not self._deliberate_error_page(message)
            ):
                self.problems.append(f"[{who}] console error on {page.url}: {text}")

        def on_page_error(error: Exception) -> None:
            self.problems.append(f"[{who}] JavaScript error on {page.url}: {error}")

        def on_response(response: Response) -> None:
            if response.request.resource_type == "document":
                self.documents[response.url] = response.status
            if response.status >= 500:
                self.problems.append(f"[{who}] {response.status} from {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        page.on("response", on_response)


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def new_page(browser: Browser, live_server, browser_problems: BrowserProblems) -> Iterator[Callable[..., Page]]:
    """Open a page in a new browser context: one context per person, so sessions don't mix.

    `new_page("seeker")` is a desktop window; `new_page("target", phone=True)` a 390 px phone;
    `zone="Asia/Tokyo"` sets the device's time zone (UTC otherwise).
    """
    contexts: list[BrowserContext] = []

    def open_page(who: str, *, phone: bool = False, zone: str = "UTC") -> Page:
        options: dict = {"base_url": live_server.url, "locale": "en-GB", "timezone_id": zone}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        else:
            options.update(viewport=DESKTOP)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        browser_problems.watch(page, who)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not browser_problems.problems, "The browser reported problems:\n" + "\n".join(browser_problems.problems)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """One desktop page (1280×800) in its own context."""
    return new_page("desktop")


@pytest.fixture
def screenshot(request) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot named by the test and the step, in order."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))
    test_name = re.sub(r"\W+", "-", request.node.name).strip("-")

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return take


@dataclass
class PageAudit:
    """Each page checked in a test, and what was wrong with it."""

    test_name: str
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def check(request, browser_problems: BrowserProblems) -> Iterator[Callable[[Page, str], None]]:
    """`check(page, "seeker-home")`: axe-core (no serious or critical violations), then at phone
    (390 px) and desktop (1280 px) widths no sideways scrolling, tap targets of 44 px and a
    full-page screenshot `<test>-<nn>-<step>-phone.png` / `-desktop.png`.

    Problems are gathered over the whole journey and reported together when the test ends, so
    one run shows every page that needs work; the axe summary goes to test-artifacts/axe.txt.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    audit = PageAudit(re.sub(r"\W+", "-", request.node.name).strip("-"))
    counter = iter(range(1, 100))

    def run(page: Page, step: str) -> None:
        number = next(counter)
        path = re.sub(r"/r/(\d+)/[^/]+/", r"/r/\1/<token>/", urlsplit(page.url).path)
        path = re.sub(r"/join/[^/]+/", "/join/<token>/", path)
        results = axe_run(page)
        violations = blocking(results)
        audit.checked.append(f"{step} ({path}): {by_impact(results)}")
        audit.problems += [f"[{step}] axe {v}" for v in violations]
        original = page.viewport_size
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            audit.problems += [f"[{step} at {name} width] {p}" for p in layout_problems(page)]
            page.screenshot(
                path=str(SCREENSHOTS / f"{audit.test_name}-{number:02d}-{step}-{name}.png"),
                full_page=True,
                scale="css",
                caret="initial",
            )
        page.set_viewport_size(original)

    yield run
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "axe.txt").open("a") as report:
        report.write(f"{audit.test_name}\n" + "".join(f"  {line}\n" for line in audit.checked))
    assert not audit.problems, f"{len(audit.problems)} accessibility or layout problem(s):\n" + "\n".join(
        audit.problems
    )
