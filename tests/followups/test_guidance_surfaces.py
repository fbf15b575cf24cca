"""Story 1's promise, on every surface: nobody is told to write to a person who asked for space.

For each kind of constraint a target can set — busy through a date, their weekdays, their hours,
their time zone, "I'll write first", a minimum gap between messages, and a breach just logged —
the seeker's home page, the introduction page, the daily digest and the reminder email are read,
with the clock stopped, for what they tell the seeker. Each says the same thing, from the same
decision (intros.guidance) the reminder sweep times its reminders by.

Marcus Lee is in Chicago (10:00–18:00, Monday to Friday); Janet, the seeker, is in Berlin (seven
hours ahead in December). They are introduced on Monday 7 December 2026 at 10:00 Chicago time.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import FIRST_CONTACT_KINDS, DigestSchedule, FollowUp, Outreach, ReminderLog
from followups.sweep import sweep
from intros import services as intro_services
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_flush
from tests.factories import ContactFactory, UserFactory
from tests.stories import accepted, at

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
INTRODUCED = dt.datetime(2026, 12, 7, 10, tzinfo=CHICAGO)  # Monday
TUESDAY_11_CHICAGO = dt.datetime(2026, 12, 8, 11, tzinfo=CHICAGO)
HORIZON = dt.datetime(2026, 12, 21, tzinfo=CHICAGO)  # the sweep is followed this far
DAY = dt.timedelta(days=1)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Case:
    name: str
    expected: str  # what every surface says when the seeker looks
    reminded_at: dt.datetime | None  # the first-contact reminder, or None: never
    reminded_with: str = ""  # what that reminder says
    look: dt.datetime = TUESDAY_11_CHICAGO
    terms: dict = field(default_factory=dict)
    contact: dict = field(default_factory=dict)
    breach_at: dt.datetime | None = None  # an outreach the seeker logs anyway, confirmed

    @property
    def writes(self) -> bool:
        return self.expected.startswith(("Write now", "A gentle note"))


CASES = [
    Case(
        "busy-through",
        terms={"busy_until": dt.date(2026, 12, 9)},
        expected="Wait: Marcus Lee asked for no messages until the end of Wed 9 Dec. "
        "The next good moment is Thu 10 Dec, 10:00 their time (17:00 yours).",
        reminded_at=dt.datetime(2026, 12, 10, 10, tzinfo=CHICAGO),
        reminded_with="Write now: Marcus Lee's window is open until 18:00 their time (Fri 11 Dec, 01:00 yours).",
    ),
    Case(
        "weekdays",
        terms={"weekdays": [0, 2]},
        expected="Wait: Marcus Lee takes messages on Monday and Wednesday only, and it is Tuesday for them now. "
        "The next good moment is Wed 9 Dec, 10:00 their time (17:00 yours).",
        reminded_at=dt.datetime(2026, 12, 9, 10, tzinfo=CHICAGO),  # the reach-out is due then
        reminded_with="Write now: Marcus Lee's window is open until 18:00 their time (Thu 10 Dec, 01:00 yours).",
    ),
    Case(
        "hours",
        terms={"hours_start": dt.time(7), "hours_end": dt.time(9)},
        expected="Wait: Marcus Lee takes messages 07:00–09:00 Chicago time, and it is 11:00 there now. "
        "The next good moment is Wed 9 Dec, 07:00 their time (14:00 yours).",
        # Due Wednesday 10:00 in Chicago, after their hours: Thursday morning.
        reminded_at=dt.datetime(2026, 12, 10, 7, tzinfo=CHICAGO),
        reminded_with="Write now: Marcus Lee's window is open until 09:00 their time (16:00 yours).",
    ),
    Case(
        "time-zone",
        terms={"time_zone": "Asia/Tokyo"},
        expected="Wait: Marcus Lee takes messages 10:00–18:00 Tokyo time, and it is 02:00 there now. "
        "The next good moment is Wed 9 Dec, 10:00 their time (02:00 yours).",
        # Their Thursday 10:00 is 02:00 in Berlin, in Janet's quiet hours: her 08:00, still their day.
        reminded_at=dt.datetime(2026, 12, 10, 8, tzinfo=BERLIN),
        reminded_with="Write now: Marcus Lee's window is open until 18:00 their time (10:00 yours).",
    ),
    Case(
        "they-write-first",
        terms={"target_writes_first": True},
        expected="Don't write: Marcus Lee said they would write to you first. If you have not heard from them "
        "by Thu 10 Dec, 10:00 their time (17:00 yours), one gentle note is fine then.",
        reminded_at=dt.datetime(2026, 12, 10, 10, tzinfo=CHICAGO),
        reminded_with="A gentle note is fine: Marcus Lee said they would write first. If you have not heard "
        "from them, one short note is fine now; their window is open until 18:00 their time "
        "(Fri 11 Dec, 01:00 yours).",
    ),
    Case(
        "minimum-gap",
        contact={"min_days_between": 7, "last_contacted_at": dt.datetime(2026, 12, 5, 10, tzinfo=CHICAGO)},
        expected="Wait: Marcus Lee asked for at least 7 days between messages, and was last written to on "
        "Sat 5 Dec. The next good moment is Mon 14 Dec, 10:00 their time (17:00 yours).",
        reminded_at=dt.datetime(2026, 12, 14, 10, tzinfo=CHICAGO),
        reminded_with="Write now: Marcus Lee's window is open until 18:00 their time (Tue 15 Dec, 01:00 yours).",
    ),
    Case(
        "breach-just-logged",
        terms={"busy_until": dt.date(2026, 12, 9)},
        breach_at=dt.datetime(2026, 12, 8, 10, 30, tzinfo=CHICAGO),
        expected="Don't write again: You wrote on Tue 8 Dec against what Marcus Lee asked for. "
        "Leave the next step to them.",
        reminded_at=None,
    ),
    Case(
        "breach-when-they-write-first",
        terms={"busy_until": dt.date(2026, 12, 9), "target_writes_first": True},
        breach_at=dt.datetime(2026, 12, 8, 10, 30, tzinfo=CHICAGO),
        expected="Don't write again: You wrote on Tue 8 Dec against what Marcus Lee asked for. "
        "Leave the next step to them.",
        reminded_at=None,
    ),
    Case(
        "window-open",
        expected="Write now: Marcus Lee's window is open until 18:00 their time (Wed 9 Dec, 01:00 yours).",
        reminded_at=dt.datetime(2026, 12, 9, 10, tzinfo=CHICAGO),
        reminded_with="Write now: Marcus Lee's window is open until 18:00 their time (Thu 10 Dec, 01:00 yours).",
    ),
]


def words(text: str) -> str:
    """Page or plain-text email as words: entities decoded, tags and wrapping gone."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(text)).split()).replace(" .", ".")


def introduce(case: Case) -> IntroRequest:
    janet = UserFactory(full_name="Janet Okafor", time_zone="Europe/Berlin")
    jill = UserFactory(full_name="Jill Moreno", time_zone="America/Chicago")
    marcus = ContactFactory(
        owner=jill,
        name="Marcus Lee",
        time_zone="America/Chicago",
        hours_start=dt.time(10),
        hours_end=dt.time(18),
        **case.contact,
    )
    with at(INTRODUCED):
        intro = accepted(seeker=janet, target=marcus, terms=intro_services.TargetTerms(**case.terms))
    assert intro.status == Status.INTRODUCED
    return intro


def log_breach(client, intro: IntroRequest, when: dt.datetime) -> None:
    with at(when + dt.timedelta(minutes=10)):
        client.force_login(intro.seeker)
        local = timezone.localtime(when, BERLIN)
        response = client.post(
            reverse("followups:outreach", args=[intro.pk]),
            {"at": f"{local:%Y-%m-%dT%H:%M}", "channel": "email", "confirmed": "True"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Outreach.objects.get(intro=intro).is_breach


def read_pages(client, intro: IntroRequest, moment: dt.datetime) -> tuple[str, str]:
    with at(moment):
        client.force_login(intro.seeker)
        home = client.get(reverse("intros:home"))
        page = client.get(reverse("intros:detail", args=[intro.pk]))
    assert home.status_code == page.status_code == 200
    return home.content.decode(), page.content.decode()


def next_step_callout(page: str) -> str:
    found = re.search(r'<p class="callout[^"]*" id="next-step">(.*?)</p>', page, re.S)
    assert found, "The introduction page has no next-step line"
    return words(found.group(1))


def digest_at(intro: IntroRequest, moment: dt.datetime) -> str:
    """The seeker's daily digest, sent by the sweep at `moment` (with something else due, so it goes)."""
    FollowUp.objects.filter(intro=intro, kind=FollowUp.Kind.THANK_CONNECTOR).update(
        due_at=moment - dt.timedelta(hours=1), next_action_at=None
    )
    DigestSchedule.objects.filter(user=intro.seeker, kind=DigestSchedule.Kind.DAILY).update(next_at=moment)
    with at(moment):
        sweep(now=timezone.now())
    [digest] = OutboxMessage.objects.filter(to=[intro.seeker.email], subject__startswith="Today:")
    return words(digest.body_text)


def first_contact_reminders(intro: IntroRequest) -> list[OutboxMessage]:
    outbox_flush()
    return list(
        OutboxMessage.objects.filter(to=[intro.seeker.email], subject__regex=r"^Reminder: (reach out|wait)").order_by(
            "pk"
        )
    )


def follow_the_sweep(intro: IntroRequest, after: dt.datetime) -> list[dt.datetime]:
    """Run the sweep whenever a first-contact follow-up asks to be looked at, as beat would."""
    swept = []
    for _ in range(12):
        due = (
            FollowUp.objects.filter(intro=intro, kind__in=FIRST_CONTACT_KINDS, next_action_at__isnull=False)
            .order_by("next_action_at")
            .values_list("next_action_at", flat=True)
            .first()
        )
        if due is None or due > HORIZON:
            break
        moment = max(due, after)
        with at(moment):
            # Reminders are rendered when sent: by the worker, moments later.
            sweep(now=timezone.now())
            outbox_flush()
        swept.append(moment)
    return swept


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_surface_tells_the_seeker_the_same_about_writing(client, case):
    intro = introduce(case)
    if case.breach_at is not None:
        log_breach(client, intro, case.breach_at)
    label, body = case.expected.split(": ", 1)

    # Home: the introduction's line, as a badge in words and the reason.
    home, page = read_pages(client, intro, case.look)
    home_words = words(home)
    assert f"{label} {body}" in home_words
    # The introduction page: the same, where "Next" used to be.
    assert next_step_callout(page) == f"{label} {body}"
    page_words = words(page)
    if not case.writes:
        for surface in (home_words, page_words):
            assert "Write now" not in surface and "Write to Marcus" not in surface

    # The daily digest, sent at that moment: the same words beside the follow-up.
    digest = digest_at(intro, case.look)
    if FollowUp.objects.filter(intro=intro, kind__in=FIRST_CONTACT_KINDS, status=FollowUp.Status.OPEN).exists():
        assert case.expected in digest
    if not case.writes:
        assert "Write now" not in digest and "Write to" not in digest

    # The reminder email: none before the next good moment, then one, saying so.
    follow_the_sweep(intro, case.look)
    reminders = first_contact_reminders(intro)
    if case.reminded_at is None:
        assert reminders == []
        assert not FollowUp.objects.filter(intro=intro, next_action_at__isnull=False).exclude(
            kind=FollowUp.Kind.THANK_CONNECTOR
        )
        return
    [reminder] = reminders
    assert reminder.created_at == case.reminded_at
    assert case.reminded_with in words(reminder.body_text)
    # Sent inside Janet's own hours (08:00–21:00 in Berlin).
    assert dt.time(8) <= timezone.localtime(reminder.created_at, BERLIN).time() < dt.time(21)


def test_the_wait_is_over_for_every_surface_at_the_next_good_moment(client):
    """Busy through Wednesday: on Thursday at 10:00 in Chicago the pages and the digest say write."""
    case = CASES[0]
    intro = introduce(case)
    thursday = dt.datetime(2026, 12, 10, 10, 5, tzinfo=CHICAGO)
    home, page = read_pages(client, intro, thursday)
    expected = "Write now Marcus Lee's window is open until 18:00 their time (Fri 11 Dec, 01:00 yours)."
    assert expected in words(home)
    assert next_step_callout(page) == expected
    assert "Wait:" not in words(page)


def test_after_a_breach_the_wait_for_them_reminder_is_never_sent_and_leaves_the_sweep(client):
    case = next(c for c in CASES if c.name == "breach-when-they-write-first")
    intro = introduce(case)
    wait = FollowUp.objects.get(intro=intro, kind=FollowUp.Kind.WAIT_FOR_TARGET)
    log_breach(client, intro, case.breach_at)
    with at(wait.due_at):
        counts = sweep(now=timezone.now())
    assert counts.get("followup_cleared") == 1
    wait.refresh_from_db()
    assert wait.next_action_at is None and wait.is_open  # still on her list, but never a reminder
    assert first_contact_reminders(intro) == []


def test_the_follow_up_list_shows_the_guidance_beside_the_reach_out(client):
    intro = introduce(CASES[0])
    with at(TUESDAY_11_CHICAGO):
        client.force_login(intro.seeker)
        page = words(client.get(reverse("followups:list")).content.decode())
    assert (
        "Reach out to them — Marcus Lee" in page
        and "Wait Marcus Lee asked for no messages until the end of Wed 9 Dec." in page
    )


def test_the_digest_counts_what_is_to_be_done_not_what_waits(client):
    """Tuesday 11:00 in Chicago, Marcus busy through Wednesday: the overdue reach-out is under
    "Not yet: wait" and left out of the subject's count; the overdue thank-you is named; a
    follow-up reminded three hours ago is counted but not named again (one nudge a day)."""
    intro = introduce(CASES[0])
    moment = TUESDAY_11_CHICAGO
    reach_out = FollowUp.objects.get(intro=intro, kind=FollowUp.Kind.REACH_OUT)
    FollowUp.objects.filter(pk=reach_out.pk).update(due_at=moment - dt.timedelta(hours=2))
    reminded = FollowUp.objects.create(
        owner=intro.seeker, kind=FollowUp.Kind.REPORT_OUTCOME, counterpart="Sam Ortiz", due_at=moment - 2 * DAY
    )
    FollowUp.objects.filter(pk=reminded.pk).update(next_action_at=None)
    ReminderLog.objects.create(
        kind=ReminderLog.Kind.FOLLOWUP,
        object_id=reminded.pk,
        sequence=1,
        recipient=intro.seeker.email,
        sent_at=moment - dt.timedelta(hours=3),
    )
    body = digest_at(intro, moment)
    [digest] = OutboxMessage.objects.filter(to=[intro.seeker.email], subject__startswith="Today:")
    assert digest.subject == "Today: 0 follow-ups due, 2 overdue"  # the thank-you and the report, not the wait
    overdue, wait = body.split("Overdue:")[1].split("Not yet: wait")
    assert "Thank the connector" in overdue and "Reach out" not in overdue and "Sam Ortiz" not in overdue
    assert "And 1 more you were reminded of in the last day." in overdue
    assert "Reach out to them — Marcus Lee" in wait and CASES[0].expected in wait
