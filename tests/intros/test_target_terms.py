"""The target's terms, easy to find: in the "Who" part of the introduction page (with the next good
moment on both clocks), in the introduction email the seeker reads, on the target's thank-you
page, and in the timeline, properly written."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from intros.states import Mode
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory, UserFactory
from tests.stories import awaiting_target, last_link_token, submitted, words
from workflows import intros as actions

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
ANSWERED = dt.datetime(2026, 12, 7, 10, tzinfo=CHICAGO)  # Monday
TERMS = {
    "action": "accept",
    "accept-writes_first": "seeker",
    "accept-busy_until": "2026-12-09",
    "accept-weekdays": ["0", "1", "2", "3", "4"],
    "accept-hours_start": "10:00",
    "accept-hours_end": "18:00",
    "accept-time_zone": "America/Chicago",
}


@pytest.fixture
def answered(client):
    """Marcus Lee (Jill's contact, in London until he says otherwise) accepts Janet's request with
    his terms, through his link; the thank-you page he then sees comes back with it."""
    janet = UserFactory(full_name="Janet Okafor", time_zone="Europe/Berlin")
    jill = UserFactory(full_name="Jill Moreno", time_zone="America/New_York")
    marcus = ContactFactory(owner=jill, name="Marcus Lee", time_zone="Europe/London")
    with time_machine.travel(ANSWERED, tick=False):
        intro = awaiting_target(seeker=janet, target=marcus)
        _, token = last_link_token(intro)
        thanks = client.post(reverse("intros:target", args=[intro.pk, token]), TERMS)
    assert thanks.status_code == 200, thanks.content.decode()[:2000]
    intro.refresh_from_db()
    return intro, thanks.content.decode()


def test_the_target_thank_you_page_repeats_the_terms_they_gave(answered):
    _, thanks = answered
    page = words(thanks)
    assert "The terms you gave" in page
    for row in (
        "Days Monday–Friday",
        "Hours 10:00–18:00 Chicago time",
        "Busy through Wed 9 Dec",
        "Writes first Janet Okafor",
    ):
        assert row in page


def test_the_introduction_page_shows_the_terms_in_the_who_part_with_the_next_good_moment_on_both_clocks(
    client, answered
):
    intro, _ = answered
    for viewer, yours in ((intro.seeker, "17:00"), (intro.connector, "11:00")):
        with time_machine.travel(ANSWERED + dt.timedelta(days=1), tick=False):
            client.force_login(viewer)
            page = client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
        who = words(re.search(r'aria-labelledby="people-heading">(.*?)</section>', page, re.S).group(1))
        heading = "What Marcus Lee asked for" if viewer == intro.seeker else "Marcus Lee's terms"
        assert (
            f"{heading} Days Monday–Friday Hours 10:00–18:00 Chicago time Busy through Wed 9 Dec "
            f"Writes first Janet Okafor Next good moment Thu 10 Dec, 10:00 their time ({yours} yours)"
        ) in who


def test_the_terms_are_not_shown_to_the_seeker_before_the_target_accepts(client):
    janet = UserFactory(full_name="Janet Okafor")
    marcus = ContactFactory(name="Marcus Lee", time_zone="America/Chicago", unavailable_until=dt.date(2026, 12, 9))
    intro = awaiting_target(seeker=janet, target=marcus)
    client.force_login(janet)
    page = words(client.get(reverse("intros:detail", args=[intro.pk])).content.decode())
    assert "asked for" not in page and "Chicago time" not in page and "Next good moment" not in page


def test_the_introduction_email_tells_the_seeker_the_terms_and_when_to_write(answered):
    intro, _ = answered
    mail = OutboxMessage.objects.get(subject__startswith="Introduction:")
    assert intro.seeker.email in mail.to
    text = " ".join(mail.body_text.split())
    assert (
        "What Marcus Lee asked for: - Days: Monday–Friday - Hours: 10:00–18:00 Chicago time "
        "- Busy through: Wed 9 Dec - Writes first: Janet Okafor"
    ) in text
    assert (
        "Janet, wait: Marcus Lee asked for no messages until the end of Wed 9 Dec. "
        "The next good moment is Thu 10 Dec, 10:00 their time (17:00 yours)."
    ) in text
    assert "What Marcus Lee asked for" in words(mail.body_html)
    assert "Janet, wait: Marcus Lee asked for no messages" in words(mail.body_html)


def test_the_timeline_line_is_properly_written(client, answered):
    intro, _ = answered
    [accept] = intro.events.filter(transition="target_accept")
    assert accept.note == (
        "Busy through Wed 9 Dec 2026. Prefers Monday–Friday, 10:00–18:00 (Chicago time). The seeker writes first."
    )
    client.force_login(intro.seeker)
    page = words(client.get(reverse("intros:detail", args=[intro.pk])).content.decode())
    assert "Prefers Monday–Friday, 10:00–18:00 (Chicago time)." in page


def test_a_mention_my_name_approval_does_not_say_write_while_the_target_is_busy():
    janet = UserFactory(full_name="Janet Okafor", time_zone="Europe/Berlin")
    jill = UserFactory(full_name="Jill Moreno")
    marcus = ContactFactory(
        owner=jill,
        name="Marcus Lee",
        time_zone="America/Chicago",
        hours_start=dt.time(10),
        hours_end=dt.time(18),
        unavailable_until=dt.date(2026, 12, 9),
    )
    with time_machine.travel(ANSWERED, tick=False):
        intro = submitted(seeker=janet, target=marcus)
        actions.do_approve(
            intro=intro, connector=jill, vouch_strength="close", vouch_note="Janet is ready.", mode=Mode.MENTION_NAME
        )
    mail = OutboxMessage.objects.get(to=[janet.email])
    assert mail.subject == "You may write to Marcus Lee, mentioning Jill Moreno, from Thu 10 Dec"
    text = " ".join(mail.body_text.split())
    assert (
        "Janet, wait: Marcus Lee asked for no messages until the end of Wed 9 Dec. "
        "The next good moment is Thu 10 Dec, 10:00 their time (17:00 yours)."
    ) in text
