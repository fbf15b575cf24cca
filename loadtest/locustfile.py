"""The people of Warm Intros, for locust (run by `python -m loadtest`, see loadtest/README.md).

Seekers log in, look at home, ask for an introduction with real preparation and submit it,
and tick off their follow-ups; connectors vet what waits in their inbox and approve it;
targets answer the signed link in the email they were actually sent (read from the email
file backend's folder); coaches look at their cohort's dashboard. Each account is used by
one simulated person at a time where there are enough of them.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

from locust import HttpUser, between, task

from loadtest import mailbox

MANIFEST = json.loads(Path(os.environ["LOADTEST_MANIFEST"]).read_text())
MAIL_DIR = Path(os.environ["LOADTEST_MAIL_DIR"])
PASSWORD = MANIFEST["password"]

VET = re.compile(r'href="/intros/(\d+)/">Vet the request')
DONE = re.compile(r'name="done" value="(\d+)"')
TARGET_LINK = re.compile(r"/r/(\d+)/([^/\s\"<>]+)/")
INTRO_URL = re.compile(r"^/intros/(\d+)/$")

PREPARATION = {
    "goal": "Learn how the operations team plans its first year and whether my logistics experience fits there.",
    "research_company": (
        "The company has grown steadily over three years, publishes its quarterly results openly, "
        "and opened a second office with a new operations team this spring."
    ),
    "research_person": "They have led the operations team for six years and spoke about hiring on a panel.",
    "questions": "What does a strong first year look like on your team?\nWhich skills are hardest to hire for now?",
    "followup_plan": "I will thank them within a day and report back to my connector within a week.",
    "fit": "Eight years running warehouse operations, which matches what their new team is building.",
    "blurb": (
        "I run logistics operations for a regional retailer and have led a team of forty through two "
        "warehouse moves. I would value twenty minutes to learn how your team works and where my "
        "experience could help."
    ),
}
APPROVAL = {
    "checked_preparation": "on",
    "checked_fit": "on",
    "checked_relationship": "on",
    "vouch_strength": "acquainted",
    "vouch_note": "I have worked with them for two years and trust their judgement and preparation.",
    "mode": "double_opt_in",
}

_accounts = {
    "seeker": itertools.cycle(MANIFEST["seekers"]),
    "connector": itertools.cycle(MANIFEST["connectors"]),
    "coach": itertools.cycle(MANIFEST["coaches"]),
}


class Inbox:
    """Target links from the emails the worker really wrote, each handed to one target once."""

    def __init__(self) -> None:
        self.offsets: dict[Path, int] = {}
        self.links: list[tuple[str, str]] = []
        self.seen: set[str] = set()
        self.read_at = 0.0

    def _read(self) -> None:
        if time.monotonic() - self.read_at < 1:
            return
        self.read_at = time.monotonic()
        for path in sorted(MAIL_DIR.glob("*.log")) if MAIL_DIR.exists() else []:
            data = path.read_text(errors="replace")
            start = self.offsets.get(path, 0)
            end = data.rfind(mailbox.SEPARATOR) + len(mailbox.SEPARATOR) if mailbox.SEPARATOR in data else 0
            if end <= start:
                continue
            self.offsets[path] = end
            for chunk in data[start:end].split(mailbox.SEPARATOR):
                if "would like to introduce you to" not in chunk:
                    continue
                for pk, token in TARGET_LINK.findall(mailbox.text_of(mailbox.parse(chunk))):
                    if token not in self.seen:
                        self.seen.add(token)
                        self.links.append((pk, token))

    def take(self) -> tuple[str, str] | None:
        self._read()
        return self.links.pop(0) if self.links else None


INBOX = Inbox()


class Person(HttpUser):
    abstract = True

    def csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    def log_in(self, email: str) -> None:
        self.client.get("/accounts/login/", name="/accounts/login/")
        with self.client.post(
            "/accounts/login/",
            data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")},
            headers=self.csrf(),
            allow_redirects=False,
            name="/accounts/login/ POST",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"log-in answered {response.status_code}")


class Seeker(Person):
    weight = 45
    wait_time = between(2, 5)

    def on_start(self) -> None:
        account = next(_accounts["seeker"])
        self.contacts = itertools.cycle(account["contacts"])
        self.log_in(account["email"])

    @task
    def ask_for_an_introduction(self) -> None:
        self.client.get("/", name="/ (home)")
        self.client.get("/intros/new/", name="/intros/new/ (find)")
        contact = next(self.contacts)
        form = self.client.get(f"/intros/new/{contact}/", name="/intros/new/[contact]/")
        if 'id="already-open"' in form.text:
            return  # asked already: the page points to that request, as it would for a person
        with self.client.post(
            f"/intros/new/{contact}/",
            data={**PREPARATION, "submit": "1"},
            headers=self.csrf(),
            allow_redirects=False,
            name="/intros/new/[contact]/ POST (submit)",
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not INTRO_URL.match(location):
                response.failure(f"submit answered {response.status_code} {location}")
                return
        self.client.get(location, name="/intros/[id]/")

    @task
    def tick_off_follow_ups(self) -> None:
        page = self.client.get("/follow-ups/", name="/follow-ups/")
        for pk in DONE.findall(page.text)[:2]:
            self.client.post("/follow-ups/act/", {"done": pk}, headers=self.csrf(), name="/follow-ups/act/ POST (done)")


class Connector(Person):
    weight = 20
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.log_in(next(_accounts["connector"]))

    @task
    def vet_and_approve(self) -> None:
        inbox = self.client.get("/inbox/", name="/inbox/")
        waiting = VET.findall(inbox.text)
        if not waiting:
            return
        pk = waiting[0]
        self.client.get(f"/intros/{pk}/", name="/intros/[id]/")
        with self.client.post(
            f"/intros/{pk}/approve/",
            data=APPROVAL,
            headers=self.csrf(),
            allow_redirects=False,
            name="/intros/[id]/approve/ POST",
            catch_response=True,
        ) as response:
            # Two connector tabs may race for the same request: the second is told it was done.
            if response.status_code not in (302, 422):
                response.failure(f"approve answered {response.status_code}")


class Target(HttpUser):
    weight = 25
    wait_time = between(2, 5)

    @task
    def answer_the_email(self) -> None:
        link = INBOX.take()
        if link is None:
            return
        pk, token = link
        url = f"/r/{pk}/{token}/"
        page = self.client.get(url, name="/r/[id]/[token]/")
        if page.status_code != 200:
            return
        with self.client.post(
            url,
            data={"action": "accept", "accept-writes_first": "seeker", "accept-time_zone": ""},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="/r/[id]/[token]/ POST (accept)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"accept answered {response.status_code}")


class Coach(Person):
    weight = 10
    wait_time = between(3, 6)

    def on_start(self) -> None:
        account = next(_accounts["coach"])
        self.cohort = account["cohort"]
        self.log_in(account["email"])

    @task
    def look_at_the_cohort(self) -> None:
        self.client.get(f"/cohorts/{self.cohort}/dashboard/", name="/cohorts/[id]/dashboard/")
        self.client.get(f"/cohorts/{self.cohort}/", name="/cohorts/[id]/")
