"""The guidance in words: what a seeker is told about writing to a target, for each constraint.

No database: `decide` and `guide` are pure, like the policy they ask. The surfaces that render
them are tested through the views in tests/followups/test_guidance_surfaces.py.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from contacts.windows import Window, days_in_words, zone_in_words
from intros.guidance import (
    GENTLE_NOTE_AFTER,
    NO_OUTREACH,
    Kind,
    OutreachLog,
    decide,
    gentle_note_from,
    guide,
)

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = "Europe/Berlin"
WEEKDAYS = frozenset(range(5))


def window(**changes) -> Window:
    fields = {
        "time_zone": "America/Chicago",
        "weekdays": WEEKDAYS,
        "hours_start": dt.time(10),
        "hours_end": dt.time(18),
    } | changes
    return Window(**fields)


def chicago(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


def told(
    w: Window,
    now: dt.datetime,
    *,
    writes_first=False,
    outreaches=NO_OUTREACH,
    gentle=None,
    mention="",
    reader=BERLIN,
):
    decision = decide(
        window=w, target_writes_first=writes_first, outreaches=outreaches, gentle_note_from=gentle, now=now
    )
    return guide(
        decision,
        target_name="Marcus Lee",
        window=w,
        outreaches=outreaches,
        mention=mention,
        reader_zone=reader,
        now=now,
    )


# Busy through Wednesday 9 December 2026: the window reopens at Chicago's midnight.
BUSY = window(unavailable_until=chicago(2026, 12, 10))


def test_busy_through_a_date_says_wait_until_the_next_good_moment_in_both_clocks():
    guidance = told(BUSY, chicago(2026, 12, 8, 11))
    assert guidance.kind is Kind.WAIT_UNTIL and not guidance.tells_to_write
    assert guidance.text == (
        "Wait: Marcus Lee asked for no messages until the end of Wed 9 Dec. "
        "The next good moment is Thu 10 Dec, 10:00 their time (17:00 yours)."
    )
    assert guidance.next_good_moment == chicago(2026, 12, 10, 10)
    assert guidance.next_good_moment.tzinfo is dt.UTC
    assert guidance.next_in_target_zone.hour == 10 and guidance.next_in_reader_zone.hour == 17
    assert guidance.when == "Thu 10 Dec, 10:00 their time (17:00 yours)"
    assert guidance.tone == "wait"


def test_outside_their_days_says_wait_until_their_next_day():
    guidance = told(window(weekdays=frozenset({0, 2})), chicago(2026, 12, 8, 11))  # a Tuesday
    assert guidance.text == (
        "Wait: Marcus Lee takes messages on Monday and Wednesday only, and it is Tuesday for them now. "
        "The next good moment is Wed 9 Dec, 10:00 their time (17:00 yours)."
    )


def test_outside_their_hours_names_the_day_where_the_clocks_disagree():
    guidance = told(window(), chicago(2026, 12, 7, 20))
    assert guidance.text == (
        "Wait: Marcus Lee takes messages 10:00–18:00 Chicago time, and it is 20:00 there now. "
        "The next good moment is Tue 8 Dec, 10:00 their time (17:00 yours)."
    )
    # From Tokyo, 10:00 in Chicago is already the next day.
    tokyo = told(window(), chicago(2026, 12, 7, 20), reader="Asia/Tokyo")
    assert tokyo.when == "Tue 8 Dec, 10:00 their time (Wed 9 Dec, 01:00 yours)"


def test_in_the_same_time_zone_one_clock_is_enough():
    guidance = told(window(), chicago(2026, 12, 7, 20), reader="America/Chicago")
    assert guidance.when == "Tue 8 Dec, 10:00 (your time and theirs)"


def test_their_time_zone_decides_the_hours():
    tokyo_hours = window(time_zone="Asia/Tokyo")
    guidance = told(tokyo_hours, dt.datetime(2026, 12, 7, 16, tzinfo=dt.UTC))  # 01:00 Tuesday in Tokyo
    assert guidance.text == (
        "Wait: Marcus Lee takes messages 10:00–18:00 Tokyo time, and it is 01:00 there now. "
        "The next good moment is Tue 8 Dec, 10:00 their time (02:00 yours)."
    )


def test_the_minimum_gap_says_when_they_were_last_written_to_and_when_it_ends():
    gap = window(min_days_between=7, last_contact_at=chicago(2026, 12, 5, 10))
    guidance = told(gap, chicago(2026, 12, 7, 11))
    assert guidance.text == (
        "Wait: Marcus Lee asked for at least 7 days between messages, and was last written to on Sat 5 Dec. "
        "The next good moment is Mon 14 Dec, 10:00 their time (17:00 yours)."
    )


def test_busy_outranks_the_hours_when_both_hold_back():
    guidance = told(BUSY, chicago(2026, 12, 8, 23))
    assert guidance.text.startswith("Wait: Marcus Lee asked for no messages until the end of Wed 9 Dec.")


def test_they_write_first_tells_the_seeker_not_to_write_and_when_a_gentle_note_is_fine():
    introduced = chicago(2026, 12, 7, 10)
    gentle = gentle_note_from(introduced_at=introduced, busy_until=None)
    assert gentle == introduced + GENTLE_NOTE_AFTER
    guidance = told(window(), chicago(2026, 12, 8, 11), writes_first=True, gentle=gentle)
    assert guidance.kind is Kind.WAIT_FOR_THEM and guidance.tone == "wait"
    assert guidance.text == (
        "Don't write: Marcus Lee said they would write to you first. If you have not heard from them by "
        "Thu 10 Dec, 10:00 their time (17:00 yours), one gentle note is fine then."
    )
    # Busy as well: the wait counts from the end of the busy date, and says so.
    gentle = gentle_note_from(introduced_at=introduced, busy_until=BUSY.unavailable_until)
    assert gentle == chicago(2026, 12, 13)
    guidance = told(BUSY, chicago(2026, 12, 8, 11), writes_first=True, gentle=gentle)
    assert guidance.text == (
        "Don't write: Marcus Lee said they would write to you first and asked for no messages until the end of "
        "Wed 9 Dec. If you have not heard from them by Mon 14 Dec, 10:00 their time (17:00 yours), "
        "one gentle note is fine then."
    )


def test_after_the_wait_one_gentle_note_inside_their_window():
    guidance = told(window(), chicago(2026, 12, 10, 11), writes_first=True, gentle=chicago(2026, 12, 10, 10))
    assert guidance.kind is Kind.GENTLE_NOTE and guidance.tells_to_write
    assert guidance.text == (
        "A gentle note is fine: Marcus Lee said they would write first. If you have not heard from them, "
        "one short note is fine now; their window is open until 18:00 their time (Fri 11 Dec, 01:00 yours)."
    )


def test_write_now_inside_the_window_with_the_connector_to_mention():
    guidance = told(window(), chicago(2026, 12, 7, 11), mention="Jill Moreno")
    assert guidance.kind is Kind.WRITE_NOW and guidance.tone == "go"
    assert guidance.text == (
        "Write now: Marcus Lee's window is open until 18:00 their time (Tue 8 Dec, 01:00 yours). "
        "Mention Jill Moreno, as agreed."
    )
    assert guidance.when == "now, until 18:00 their time (Tue 8 Dec, 01:00 yours)"
    assert guidance.next_good_moment is None


def test_a_breach_just_logged_never_asks_for_another():
    breach = (chicago(2026, 12, 8, 11), True)
    # Even once the window is open and the wait is over.
    for now in (chicago(2026, 12, 8, 11, 5), chicago(2026, 12, 14, 11)):
        for writes_first in (False, True):
            guidance = told(
                BUSY, now, writes_first=writes_first, outreaches=OutreachLog.of([breach]), gentle=chicago(2026, 12, 13)
            )
            assert guidance.kind is Kind.STOP_AFTER_BREACH and not guidance.tells_to_write
            assert guidance.text == (
                "Don't write again: You wrote on Tue 8 Dec against what Marcus Lee asked for. "
                "Leave the next step to them."
            )
            assert guidance.tone == "stop" and guidance.when == ""
    later = (chicago(2026, 12, 9, 11), True)
    fine = (chicago(2026, 12, 10, 11), False)
    guidance = told(BUSY, chicago(2026, 12, 14, 11), outreaches=OutreachLog.of([breach, later, fine]))
    assert guidance.text == (
        "Don't write again: You wrote 2 times, last on Wed 9 Dec, against what Marcus Lee asked for. "
        "Leave the next step to them."
    )


def test_after_a_message_inside_their_terms_wait_for_the_answer():
    fine = (chicago(2026, 12, 10, 11), False)
    guidance = told(BUSY, chicago(2026, 12, 11, 11), outreaches=OutreachLog.of([fine]))
    assert guidance.kind is Kind.WAIT_FOR_REPLY and not guidance.tells_to_write
    assert guidance.text == "Wait for a reply: You wrote to Marcus Lee on Thu 10 Dec. Give them time to answer."


def test_do_not_contact_is_said_plainly():
    guidance = told(window(do_not_contact=True), chicago(2026, 12, 7, 11))
    assert guidance.kind is Kind.DO_NOT_CONTACT and guidance.tone == "stop"
    assert guidance.text == "Don't write: Marcus Lee asked not to be contacted."


def test_a_year_away_is_named():
    next_year = window(unavailable_until=chicago(2027, 1, 5))
    guidance = told(next_year, chicago(2026, 12, 28, 11))
    assert guidance.text == (
        "Wait: Marcus Lee asked for no messages until the end of Mon 4 Jan 2027. "
        "The next good moment is Tue 5 Jan 2027, 10:00 their time (17:00 yours)."
    )


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (range(7), "every day"),
        (range(5), "Monday–Friday"),
        ({0, 2, 4}, "Monday, Wednesday and Friday"),
        ({5, 6}, "Saturday and Sunday"),
        ({0, 1, 2, 4}, "Monday–Wednesday and Friday"),
        ({3}, "Thursday"),
    ],
)
def test_days_in_words(days, words):
    assert days_in_words(frozenset(days)) == words


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("America/Chicago", "Chicago time"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires time"),
        ("UTC", "UTC"),
        ("Etc/GMT+5", "Etc/GMT+5"),
    ],
)
def test_zone_in_words(zone, words):
    assert zone_in_words(zone) == words
