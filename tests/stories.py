"""The moves the stories of STORIES.md are made of, in one place for every test that plays one.

Three ways to move a story on, each as the real code does it:

- through the services, when the test is about what comes after (`submitted`, `awaiting_target`,
  `accepted`): a request reaches its state the way the app gets it there, events and emails included;
- through the pages, as the people in the story would click (`ask`, `approve`, `target_answers`,
  `meet_and_report`, `log_outreach`), with the target answering from the link in her own email;
- in a real browser (`log_in`, `target_link_path`), for tests/browser/.

And the clock and the mail: `at(moment)` stops the clock there, `sweep_at(moment)` runs the
reminder sweep then as Celery beat would, `mail(to, subject)` is what reached someone.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import TYPE_CHECKING

import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Mode
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION, PASSWORD, IntroRequestFactory
from workflows import intros as actions

if TYPE_CHECKING:
    from django.http import HttpResponse
    from playwright.sync_api import Page

# A no-login link in an email: /r/<request id>/<signed token>/
LINK_RE = re.compile(r"/r/(\d+)/([^/\s\"]+)/")

# The connector's checklist, ticked: she read the preparation, the fit and her own relationship.
VOUCH = {"checked_preparation": "on", "checked_fit": "on", "checked_relationship": "on", "mode": "double_opt_in"}


# --- reading what people see ------------------------------------------------------------------------------


def text(response: HttpResponse) -> str:
    """A page's HTML with its entities decoded."""
    return html.unescape(response.content.decode())


def words(page: str | HttpResponse) -> str:
    """A page (or its response) or a plain-text email as words: entities decoded, tags and line
    wrapping gone, so a sentence reads the same whatever the markup or the 78-column wrap."""
    content = page.content.decode() if hasattr(page, "content") else page
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(content)).split())


def dashboard_cells(html: str, user_id: int) -> dict[str, str]:
    """A member's row on the coach's dashboard: each cell (by its `data-cell` name) as words."""
    row = re.search(rf'<tr id="member-{user_id}".*?</tr>', html, re.S).group(0)
    return {name: words(content) for name, content in re.findall(r'<td data-cell="(\w+)">(.*?)</td>', row, re.S)}


# --- the clock and the mail -------------------------------------------------------------------------------


def at(moment: dt.datetime):
    """Stop the clock at `moment` (aware): `with at(...):`."""
    return time_machine.travel(moment, tick=False)


def sweep_at(moment: dt.datetime) -> dict[str, int]:
    """Run the reminder sweep at `moment`, as Celery beat would; what it did, by kind."""
    from followups.sweep import sweep

    with at(moment):
        return sweep(now=timezone.now())


def mail(to: str, subject_part: str) -> list[OutboxMessage]:
    """What reached `to` with `subject_part` in the subject, oldest first. Each message waiting is
    sent first, as the task after its commit would (reminders render then; the flush, on today's
    clock, would wait for rows written later)."""
    from lib.outbox.services import outbox_send

    for message_id in OutboxMessage.objects.pending().values_list("pk", flat=True):
        outbox_send(message_id=message_id)
    return list(OutboxMessage.objects.filter(to=[to], subject__contains=subject_part).order_by("pk"))


# --- through the services ---------------------------------------------------------------------------------


def submitted(**kwargs) -> IntroRequest:
    """A request (IntroRequestFactory's fields) the seeker has submitted to the connector."""
    intro = IntroRequestFactory(**kwargs)
    actions.do_submit(intro=intro, seeker=intro.seeker)
    intro.refresh_from_db()
    return intro


def awaiting_target(**kwargs) -> IntroRequest:
    """Submitted, approved by the connector (double opt-in), and asked of the target by email."""
    intro = submitted(**kwargs)
    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="acquainted",
        vouch_note="I worked with Janet for two years on the library budget.",
        mode=Mode.DOUBLE_OPT_IN,
    )
    intro.refresh_from_db()
    return intro


def last_link_token(intro: IntroRequest, purpose: str = TargetLink.Purpose.ANSWER) -> tuple[TargetLink, str]:
    """The newest link of `purpose`, and the token from the email that carried it."""
    link = intro.target_links.filter(purpose=purpose).latest("pk")
    for message in OutboxMessage.objects.order_by("-pk"):
        for pk, token in LINK_RE.findall(message.body_text):
            try:
                payload = signing.loads(token, salt=services.LINK_SALT)
            except signing.BadSignature:
                continue
            if int(pk) == intro.pk and payload["l"] == link.pk:
                return link, token
    raise AssertionError(f"No email carries the {purpose} link of intro {intro.pk}")


def accepted(terms: services.TargetTerms | None = None, **kwargs) -> IntroRequest:
    """Awaiting the target, then accepted by her through the link in her email (with `terms`)."""
    intro = awaiting_target(**kwargs)
    link, _ = last_link_token(intro)
    actions.do_target_accept(link=link, terms=terms or services.TargetTerms())
    intro.refresh_from_db()
    return intro


# --- through the pages, as the people click ---------------------------------------------------------------


def as_user(client, user):
    """`client`, logged in as `user`. Log in afresh at each stopped moment: a session from
    another moment may have expired there."""
    client.force_login(user)
    return client


def ask(client, seeker, target, preparation: dict[str, str] = GOOD_PREPARATION) -> IntroRequest:
    """The seeker asks for an introduction to `target` with her preparation, and submits it."""
    response = as_user(client, seeker).post(reverse("intros:create", args=[target.pk]), {**preparation, "submit": "1"})
    assert response.status_code == 302, text(response)[:2000]
    return IntroRequest.objects.filter(seeker=seeker, target=target).latest("pk")


def approve(
    client, connector, intro: IntroRequest, strength: str = "acquainted", note: str = "I know her work well.", **extra
) -> IntroRequest:
    """The connector ticks the checklist and vouches (`strength`, `note`); `extra` adds fields."""
    response = as_user(client, connector).post(
        reverse("intros:approve", args=[intro.pk]), {**VOUCH, "vouch_strength": strength, "vouch_note": note, **extra}
    )
    assert response.status_code == 302, text(response)[:2000]
    intro.refresh_from_db()
    return intro


def target_answers(client, intro: IntroRequest, data: dict, purpose: str = TargetLink.Purpose.ANSWER) -> str:
    """The target opens the link of `purpose` from her email (no login), reads the page, and
    posts `data`. `intro` is refreshed; the page she read before answering is returned."""
    client.logout()
    _, token = last_link_token(intro, purpose)
    url = reverse("intros:target", args=[intro.pk, token])
    page = client.get(url).content.decode()
    response = client.post(url, data)
    assert response.status_code == 200, text(response)[:2000]
    intro.refresh_from_db()
    return page


def meet_and_report(client, seeker, intro: IntroRequest, outcome: str, note: str = "") -> None:
    """The seeker records the meeting (today) and reports its outcome."""
    as_user(client, seeker).post(
        reverse("intros:meeting", args=[intro.pk]), {"met_on": timezone.localdate().isoformat()}
    )
    response = client.post(reverse("intros:outcome", args=[intro.pk]), {"outcome": outcome, "note": note})
    assert response.status_code == 302
    intro.refresh_from_db()


def log_outreach(client, seeker, intro: IntroRequest, local: dt.datetime, confirmed: bool = False) -> HttpResponse:
    """The seeker logs an email she wrote at `local` (her wall clock); `confirmed` answers the
    warning "this goes against what they asked for" with "log it anyway"."""
    data = {"at": local.strftime("%Y-%m-%dT%H:%M"), "channel": "email", "note": "Short note, mentioning Jill."}
    if confirmed:
        data["confirmed"] = "True"
    return as_user(client, seeker).post(reverse("followups:outreach", args=[intro.pk]), data)


# --- in a real browser ------------------------------------------------------------------------------------


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form and land on the home page: a seeker's introductions, or a
    coach's cohorts when they ask for none themselves."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Your (introductions|cohorts)$"))).to_be_visible()


def target_link_path(email: str) -> str:
    """The path of the answer link in the last email to `email` (the target has no login)."""
    messages = [m for m in OutboxMessage.objects.order_by("-pk") if email in m.to]
    assert messages, f"No email to {email} in the outbox"
    found = LINK_RE.search(messages[0].body_text)
    assert found, f"No answer link in the email to {email}:\n{messages[0].body_text}"
    return found.group(0)
