"""Every email the app sends, read the way its reader reads it: a clear subject, a greeting by
name, what happened and what to do next with a working absolute link, tidy plain text, an HTML
part that says the same with its markup escaped, and no target's address before they agree."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
import time_machine

from accounts.models import User
from contacts.models import Contact
from lib.outbox.models import OutboxMessage
from tests.accounts.email_world import (
    MARKED_UP_NAME,
    MARKED_UP_NOTE,
    SITE_URL,
    T0,
    TemplateRecorder,
    email_kinds,
    send_every_email,
)
from tests.mail_backends import BOUNCING_DOMAIN

pytestmark = pytest.mark.django_db

URL_RE = re.compile(r"https?://[^\s<>\"']+")
LEFTOVERS = ("{{", "}}", "{%", "%}", "{#", "#}", "None", "&amp;", "&lt;", "&gt;", "&#", "&quot;")
SIGNATURE = f"--\nWarm Intros: introductions that respect everyone's time\n{SITE_URL}\n"
# The target's address is shared only when they accept, or when the connector chooses
# "mention my name" (then the seeker writes to them directly, with the connector's blessing).
MAY_SHOW_TARGET_ADDRESS = {"intro_introduction", "intro_mention_name_seeker"}
# An invitation goes to an address that has no account yet: there is no name to greet.
NO_NAME_YET = {"invitation"}


@dataclass
class Email:
    kind: str
    message: OutboxMessage

    @property
    def text(self) -> str:
        return self.message.body_text

    @property
    def html(self) -> str:
        return self.message.body_html

    def __str__(self) -> str:
        return f"{self.kind} “{self.message.subject}” → {', '.join(self.message.to)}"


@pytest.fixture
def world_and_emails(client, settings, monkeypatch):
    settings.SITE_URL = SITE_URL
    recorder = TemplateRecorder(monkeypatch)
    try:
        with time_machine.travel(T0, tick=False):
            world = send_every_email(client)
    finally:
        recorder.close()
    emails = [Email(recorder.template_of(m), m) for m in OutboxMessage.objects.order_by("pk")]
    return world, emails


@pytest.fixture
def emails(world_and_emails) -> list[Email]:
    return world_and_emails[1]


class Anchors(HTMLParser):
    """The links, title, language and visible text of an HTML email."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.link_texts: list[str] = []
        self.title = ""
        self.lang = ""
        self.tags: set[str] = set()
        self.text: list[str] = []
        self._in_title = False
        self._in_head = False
        self._link: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self._in_title = self._in_title or tag == "title"
        self._in_head = (self._in_head or tag == "head") and tag != "body"
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "a":
            self.hrefs.append(attrs.get("href", ""))
            self._link = []

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.link_texts.append(" ".join("".join(self._link).split()))
            self._link = None
        if tag == "title":
            self._in_title = False
        if tag == "head":
            self._in_head = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._in_head:
            self.text.append(data)
        if self._link is not None:
            self._link.append(data)

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(body_html: str) -> Anchors:
    parser = Anchors()
    parser.feed(body_html)
    parser.close()
    return parser


def words(text: str) -> str:
    return " ".join(text.split())


def recipient_names(message: OutboxMessage) -> list[str]:
    names = []
    for address in message.to:
        user = User.objects.filter(email=address).first()
        if user is not None:
            names.append(user.get_short_name())
            continue
        contact = Contact.objects.filter(email=address).first()
        if contact is not None:
            names.append(contact.name)
    return names


def test_every_kind_of_email_is_sent_by_a_real_flow(emails):
    sent = {e.kind for e in emails}
    assert sent == email_kinds(), (
        f"Templates no flow sent: {sorted(email_kinds() - sent)}; sent without a template pair: "
        f"{sorted(sent - email_kinds())}"
    )
    unsent = [e for e in emails if e.message.sent_at is None]
    # Every message in the world went out, but the ask whose address the server refused.
    assert [(e.kind, e.message.state) for e in unsent] == [("target_ask", OutboxMessage.State.FAILED)]
    assert unsent[0].message.to[0].endswith("@" + BOUNCING_DOMAIN)


def test_subjects_are_clear_and_clean(emails):
    problems = []
    for e in emails:
        subject = e.message.subject
        if not 12 <= len(subject) <= 100:
            problems.append(f"{e}: subject of {len(subject)} characters")
        if any(mark in subject for mark in ("{", "}", "None", "&amp;", "  ")):
            problems.append(f"{e}: leftovers in the subject")
        if subject != subject.strip() or subject.endswith("."):
            problems.append(f"{e}: untidy subject")
    assert not problems, "\n".join(problems)


def test_plain_text_greets_by_name_says_what_next_and_is_tidy(emails):
    problems = []
    for e in emails:
        text = e.text
        lines = text.split("\n")
        first = lines[0]
        if e.kind in NO_NAME_YET:
            if first != "Hello,":
                problems.append(f"{e}: greeting {first!r}")
        else:
            names = recipient_names(e.message)
            if not (first.startswith("Hello ") and first.endswith(",") and names):
                problems.append(f"{e}: greeting {first!r}")
            for name in names:
                if name not in first:
                    problems.append(f"{e}: the greeting {first!r} does not name {name!r}")
        for leftover in LEFTOVERS:
            if leftover in text:
                problems.append(f"{e}: {leftover!r} left in the text part")
        if "\n\n\n" in text or text.startswith("\n") or not text.endswith("\n") or text.endswith("\n\n"):
            problems.append(f"{e}: blank lines out of place")
        for number, line in enumerate(lines, 1):
            if line != line.rstrip():
                problems.append(f"{e}: trailing space on line {number}")
            # A link longer than the line keeps a line of its own, unbroken, so it stays clickable.
            if len(line) > 78 and not URL_RE.fullmatch(line.strip()):
                problems.append(f"{e}: line {number} is {len(line)} characters: {line!r}")
        if not text.endswith(SIGNATURE):
            problems.append(f"{e}: no signature")
        urls = URL_RE.findall(text)
        next_steps = [u for u in urls if u != SITE_URL]  # the signature's link is the bare site
        if not next_steps:
            problems.append(f"{e}: no link saying where to go next")
        for url in urls:
            if not url.startswith(SITE_URL):
                problems.append(f"{e}: link {url} is not under SITE_URL")
            if url.endswith((".", ",", ")", ":")):
                problems.append(f"{e}: punctuation glued to the link {url}")
    assert not problems, "\n".join(problems)


def test_html_part_says_the_same_with_its_markup_escaped(emails):
    problems = []
    for e in emails:
        page = parse(e.html)
        if page.lang != "en" or not page.title.strip():
            problems.append(f"{e}: no language or title")
        if {"script", "style", "img", "form"} & page.tags:
            problems.append(f"{e}: {sorted({'script', 'style', 'img', 'form'} & page.tags)} in the HTML")
        for leftover in ("{{", "}}", "{%", "%}", "None"):
            if leftover in e.html:
                problems.append(f"{e}: {leftover!r} left in the HTML part")
        # The same links as the text part, absolute, each with words saying where it goes.
        text_urls = set(URL_RE.findall(e.text))
        html_urls = {html.unescape(h) for h in page.hrefs if h.startswith("http")}
        if text_urls != html_urls:
            problems.append(f"{e}: links differ: text only {text_urls - html_urls}, HTML only {html_urls - text_urls}")
        for href in page.hrefs:
            if not (href.startswith(SITE_URL) or href.startswith("mailto:")):
                problems.append(f"{e}: link {href!r} is neither under SITE_URL nor mailto:")
        for label in page.link_texts:
            if not label or label.lower() in {"here", "click here", "link"}:
                problems.append(f"{e}: a link labelled {label!r}")
        # Readable without CSS: the words are in the markup, in order — the greeting first.
        greeting = e.text.split("\n")[0]
        if not page.visible_text.startswith(greeting):
            problems.append(f"{e}: the HTML does not start with {greeting!r}: {page.visible_text[:60]!r}")
        # Words from people are escaped in HTML and plain in text.
        for raw in (MARKED_UP_NAME, MARKED_UP_NOTE, "<b>How</b>", "<May>"):
            if raw in e.html:
                problems.append(f"{e}: {raw!r} is not escaped in the HTML part")
            if raw in words(e.text) and html.escape(raw) not in e.html:
                problems.append(f"{e}: {raw!r} is in the text part but missing from the HTML part")
    assert not problems, "\n".join(problems)


def test_people_s_own_words_arrive_intact(emails):
    by_kind = defaultdict(list)
    for e in emails:
        by_kind[e.kind].append(e)
    [changes] = by_kind["intro_changes_requested"]
    assert MARKED_UP_NOTE in words(changes.text)
    assert html.escape(MARKED_UP_NOTE) in changes.html
    from_janet = [e for e in by_kind["intro_submitted"] if MARKED_UP_NAME in e.text]
    assert from_janet and all(html.escape(MARKED_UP_NAME) in e.html for e in from_janet)


def test_every_link_works_for_the_person_it_was_sent_to(client, emails):
    problems = []
    checked = 0
    with time_machine.travel(T0, tick=False):
        for e in emails:
            people = [User.objects.filter(email=a).first() for a in [*e.message.to, *e.message.cc]]
            reader = next((p for p in people if p is not None), None)
            for url in sorted(set(URL_RE.findall(e.text))):
                path = url.removeprefix(SITE_URL) or "/"
                client.logout()
                if reader is not None:
                    client.force_login(reader)
                response = client.get(path, follow=True)
                checked += 1
                if path.startswith("/r/") and response.status_code == 410:
                    # A target's link works once: answered since (later in the flow), or the request
                    # moved on, it says so in words rather than failing.
                    if not re.search(
                        rb"already answered|no longer waiting|has moved on|opens once you have met", response.content
                    ):
                        problems.append(f"{e}: {path} answered 410 without saying why")
                    continue
                if response.status_code != 200:
                    problems.append(f"{e}: {path} answered {response.status_code}")
                elif reader is not None and any("/accounts/login/" in hop for hop, _ in response.redirect_chain):
                    problems.append(f"{e}: {path} sent {reader} to the login page")
    assert checked >= len(emails)
    assert not problems, "\n".join(problems)


def test_no_email_shows_a_target_s_address_before_they_agree(world_and_emails):
    world, emails = world_and_emails
    addresses = [t.email for t in world.targets]
    problems = []
    for e in emails:
        if e.kind in MAY_SHOW_TARGET_ADDRESS:
            continue
        for address in addresses:
            if address in e.text or address in e.html:
                problems.append(f"{e}: shows {address}")
    assert not problems, "\n".join(problems)
    introductions = [e for e in emails if e.kind == "intro_introduction"]
    assert introductions and all(any(a in e.text for a in addresses) for e in introductions)
    # Nor is the seeker's address given to a target who has not accepted.
    asks = [e for e in emails if e.kind == "target_ask"]
    assert asks and all(world.janet.email not in e.text + e.html for e in asks)
