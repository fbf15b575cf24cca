"""What a seeker should do about the person they were introduced to, now, in words.

Story 1's promise: nobody is told to write to a person who asked for space. `decide` is the one
place that answers "may the seeker write to the target now, and if not, why and until when?" —
from the target's window (the policy in `contacts.policy`), what the target asked (they write
first), what the outreach log holds (a breach, an earlier message) and `now`. `guide` puts the
answer in words. Every surface that tells a seeker to act on a target renders a `Guidance`: home,
the introduction page and email, the follow-up list, the daily digest and the reminder email; the
reminder sweep times its reminders by `decide`.

Like the policy, `decide` and `guide` are pure: the caller passes the window, a summary of the
outreach log and `now`. `guidance_for` and `guidance_for_many` read those from the database; a
list page reads the summaries of all its rows in one grouped query of the log (`outreach_logs`).
The outreach log belongs to `followups`, which sits above this app: it is read here through the
introduction's own relation (`outreaches`), as the introduction page and the step-back email read
it, never by import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Q

from contacts import policy
from contacts.windows import Window, day_in_words, days_in_words, zone_in_words

from .states import GUIDED_STATES, Mode

# "I'll write first": one gentle note is fine this long after the introduction, or after the date
# they are busy through, if the seeker has heard nothing (DESIGN.md, the introduction step by step).
GENTLE_NOTE_AFTER = dt.timedelta(days=3)


class Kind(StrEnum):
    WRITE_NOW = "write_now"
    GENTLE_NOTE = "gentle_note"  # they said they would write first; the wait is over
    WAIT_UNTIL = "wait_until"  # their window is closed: busy, days, hours or the minimum gap
    WAIT_FOR_THEM = "wait_for_them"  # they write first
    WAIT_FOR_REPLY = "wait_for_reply"  # the seeker wrote, inside what they asked
    STOP_AFTER_BREACH = "stop_after_breach"  # the seeker wrote against what they asked
    DO_NOT_CONTACT = "do_not_contact"


WRITE_KINDS = frozenset({Kind.WRITE_NOW, Kind.GENTLE_NOTE})
# Nothing will ever ask the seeker to write again in these: a reminder about the first contact is over.
FINISHED_KINDS = frozenset({Kind.WAIT_FOR_REPLY, Kind.STOP_AFTER_BREACH, Kind.DO_NOT_CONTACT})

LABELS = {
    Kind.WRITE_NOW: "Write now",
    Kind.GENTLE_NOTE: "A gentle note is fine",
    Kind.WAIT_UNTIL: "Wait",
    Kind.WAIT_FOR_THEM: "Don't write",
    Kind.WAIT_FOR_REPLY: "Wait for a reply",
    Kind.STOP_AFTER_BREACH: "Don't write again",
    Kind.DO_NOT_CONTACT: "Don't write",
}

# Which rule holds the seeker back, when several do: the one that lasts longest comes first.
_REASON_ORDER = ("unavailable", "too_soon", "outside_days", "outside_hours")


@dataclass(frozen=True)
class OutreachLog:
    """What `decide` and `guide` need of an introduction's outreach log."""

    attempts: int = 0
    breaches: int = 0
    last_at: dt.datetime | None = None
    last_breach_at: dt.datetime | None = None

    @classmethod
    def of(cls, attempts: Iterable[tuple[dt.datetime, bool]]) -> OutreachLog:
        """From (at, is_breach) pairs."""
        attempts = list(attempts)
        breaches = [at for at, is_breach in attempts if is_breach]
        return cls(
            attempts=len(attempts),
            breaches=len(breaches),
            last_at=max((at for at, _ in attempts), default=None),
            last_breach_at=max(breaches, default=None),
        )


NO_OUTREACH = OutreachLog()


@dataclass(frozen=True)
class Decision:
    kind: Kind
    # When writing is fine, aware UTC: the window's next opening (WAIT_UNTIL) or the gentle note's
    # (WAIT_FOR_THEM). None when it is fine now, or never again.
    next_good_moment: dt.datetime | None = None

    @property
    def tells_to_write(self) -> bool:
        return self.kind in WRITE_KINDS


def gentle_note_from(*, introduced_at: dt.datetime, busy_until: dt.datetime | None) -> dt.datetime:
    """When a seeker who was asked to wait may send one gentle note: some days after the
    introduction, or after the date the target is busy through, whichever is later."""
    start = max(introduced_at, busy_until) if busy_until is not None else introduced_at
    return start + GENTLE_NOTE_AFTER


def decide(
    *,
    window: Window,
    target_writes_first: bool | None,
    outreaches: OutreachLog,
    gentle_note_from: dt.datetime | None,
    now: dt.datetime,
) -> Decision:
    """May the seeker write to the target now? For an introduction in GUIDED_STATES."""
    if window.do_not_contact:
        return Decision(Kind.DO_NOT_CONTACT)
    if outreaches.breaches:
        return Decision(Kind.STOP_AFTER_BREACH)
    if outreaches.attempts:
        return Decision(Kind.WAIT_FOR_REPLY)
    wanted = now
    if target_writes_first:
        wanted = max(now, gentle_note_from) if gentle_note_from is not None else now
    try:
        opens = policy.next_allowed(wanted=wanted, window=window, now=now)
    except policy.WindowNeverOpens:  # refused when saved; an old row is treated as "do not write"
        return Decision(Kind.DO_NOT_CONTACT)
    assert opens is not None  # do_not_contact was answered above
    if opens > now:
        return Decision(Kind.WAIT_FOR_THEM if target_writes_first else Kind.WAIT_UNTIL, next_good_moment=opens)
    return Decision(Kind.GENTLE_NOTE if target_writes_first else Kind.WRITE_NOW)


def _open_until(window: Window, now: dt.datetime) -> dt.datetime | None:
    for start, end in policy.window_intervals(window, now, 1):  # hours are shorter than a day
        if start <= now < end:
            return end
    return None


# --- in words ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guidance:
    """A decision in words, for one reader. `label` is the short badge ("Wait"); `text` the whole
    line ("Wait: Marcus Lee asked for no messages until the end of Wed 9 Dec. The next good moment
    is Thu 10 Dec, 10:00 their time (17:00 yours).")."""

    decision: Decision
    label: str
    body: str
    # The next good moment in words ("Thu 10 Dec, 10:00 their time (17:00 yours)"); for a
    # window open now, "now, until 17:00 their time (23:00 yours)"; empty when never.
    when: str
    target_zone: ZoneInfo
    reader_zone: ZoneInfo

    @property
    def kind(self) -> Kind:
        return self.decision.kind

    @property
    def text(self) -> str:
        return f"{self.label}: {self.body}"

    @property
    def tells_to_write(self) -> bool:
        return self.decision.tells_to_write

    @property
    def next_good_moment(self) -> dt.datetime | None:
        return self.decision.next_good_moment

    @property
    def next_in_target_zone(self) -> dt.datetime | None:
        moment = self.decision.next_good_moment
        return moment.astimezone(self.target_zone) if moment else None

    @property
    def next_in_reader_zone(self) -> dt.datetime | None:
        moment = self.decision.next_good_moment
        return moment.astimezone(self.reader_zone) if moment else None

    @property
    def when_label(self) -> str:
        """What `when` is: for someone who writes first, the moment a gentle note becomes fine."""
        return "A gentle note from" if self.kind is Kind.WAIT_FOR_THEM else "Next good moment"

    @property
    def tone(self) -> str:
        """For colour (always beside the words): 'go', 'wait' or 'stop'."""
        if self.decision.tells_to_write:
            return "go"
        return "stop" if self.kind in {Kind.STOP_AFTER_BREACH, Kind.DO_NOT_CONTACT} else "wait"


def guide(
    decision: Decision,
    *,
    target_name: str,
    window: Window,
    outreaches: OutreachLog = NO_OUTREACH,
    mention: str = "",
    reader_zone: str,
    now: dt.datetime,
) -> Guidance:
    """`decision` in words for a reader in `reader_zone` ("yours"). `mention`: the connector the
    seeker names when writing (a mention-my-name introduction)."""
    target_zone, reader = ZoneInfo(window.time_zone), ZoneInfo(reader_zone)
    words = _Words(target_zone, reader, now)
    name = target_name
    kind = decision.kind
    open_until = _open_until(window, now) if decision.tells_to_write else None
    if kind is Kind.WRITE_NOW:
        body = f"{name}'s window is open" + (f" until {words.moment(open_until, day=False)}." if open_until else ".")
        if mention:
            body += f" Mention {mention}, as agreed."
    elif kind is Kind.GENTLE_NOTE:
        body = f"{name} said they would write first. If you have not heard from them, one short note is fine now" + (
            f"; their window is open until {words.moment(open_until, day=False)}." if open_until else "."
        )
    elif kind is Kind.WAIT_UNTIL:
        codes = {v.code for v in policy.violations(now, window)}
        reason = next((code for code in _REASON_ORDER if code in codes), "outside_hours")
        body = (
            f"{_reason(reason, name, window, words)} The next good moment is {words.moment(decision.next_good_moment)}."
        )
    elif kind is Kind.WAIT_FOR_THEM:
        busy = ""
        if window.unavailable_until is not None and now < window.unavailable_until:
            busy = f" and asked for no messages until the end of {words.busy_day(window)}"
        body = f"{name} said they would write to you first{busy}."
        if decision.next_good_moment is not None:
            body += (
                f" If you have not heard from them by {words.moment(decision.next_good_moment)}, "
                "one gentle note is fine then."
            )
    elif kind is Kind.WAIT_FOR_REPLY:
        last = outreaches.last_at
        body = (f"You wrote to {name} on {words.reader_day(last)}. " if last else "") + "Give them time to answer."
    elif kind is Kind.STOP_AFTER_BREACH:
        last = outreaches.last_breach_at
        if outreaches.breaches == 1 and last:
            wrote = f"You wrote on {words.reader_day(last)}"
        elif last:
            wrote = f"You wrote {outreaches.breaches} times, last on {words.reader_day(last)},"
        else:
            wrote = "You wrote"
        body = f"{wrote} against what {name} asked for. Leave the next step to them."
    else:
        body = f"{name} asked not to be contacted."
    if decision.next_good_moment is not None:
        when = words.moment(decision.next_good_moment)
    elif decision.tells_to_write:
        when = f"now, until {words.moment(open_until, day=False)}" if open_until else "now"
    else:
        when = ""
    return Guidance(decision, LABELS[kind], body, when, target_zone, reader)


def _reason(code: str, name: str, window: Window, words: _Words) -> str:
    match code:
        case "unavailable":
            return f"{name} asked for no messages until the end of {words.busy_day(window)}."
        case "too_soon":
            days = window.min_days_between
            last = words.target_day(window.last_contact_at) if window.last_contact_at else "recently"
            return (
                f"{name} asked for at least {days} day{'s' if days != 1 else ''} between messages, "
                f"and was last written to on {last}."
            )
        case "outside_days":
            return (
                f"{name} takes messages on {days_in_words(window.weekdays)} only, and it is "
                f"{words.now_in_target:%A} for them now."
            )
        case _:
            return (
                f"{name} takes messages {window.hours_start:%H:%M}–{window.hours_end:%H:%M} "
                f"{zone_in_words(window.time_zone)}, and it is {words.now_in_target:%H:%M} there now."
            )


class _Words:
    """Dates and times for one reader: the target's clock first, the reader's in brackets."""

    def __init__(self, target_zone: ZoneInfo, reader_zone: ZoneInfo, now: dt.datetime):
        self.target_zone, self.reader_zone, self.now = target_zone, reader_zone, now
        self.now_in_target = now.astimezone(target_zone)

    def _day(self, moment: dt.datetime, zone: ZoneInfo) -> str:
        local = moment.astimezone(zone)
        return day_in_words(local, year=local.year != self.now.astimezone(zone).year)

    def moment(self, moment: dt.datetime, *, day: bool = True) -> str:
        """'Thu 10 Dec, 10:00 their time (17:00 yours)'. The day is named where it differs from
        the one before (or, with day=False, from today)."""
        theirs, yours = moment.astimezone(self.target_zone), moment.astimezone(self.reader_zone)
        today_theirs = self.now.astimezone(self.target_zone).date()
        their_day = day or theirs.date() != today_theirs
        text = f"{self._day(moment, self.target_zone)}, {theirs:%H:%M}" if their_day else f"{theirs:%H:%M}"
        if theirs.utcoffset() == yours.utcoffset():
            return f"{text} (your time and theirs)"
        your_day = yours.date() != (theirs.date() if their_day else self.now.astimezone(self.reader_zone).date())
        mine = f"{self._day(moment, self.reader_zone)}, {yours:%H:%M}" if your_day else f"{yours:%H:%M}"
        return f"{text} their time ({mine} yours)"

    def busy_day(self, window: Window) -> str:
        """The date they are busy through, as they gave it: the day before the window reopens."""
        last_busy = window.unavailable_until - dt.timedelta(seconds=1)
        return self._day(last_busy, self.target_zone)

    def target_day(self, moment: dt.datetime) -> str:
        return self._day(moment, self.target_zone)

    def reader_day(self, moment: dt.datetime) -> str:
        return self._day(moment, self.reader_zone)


# --- from the database ------------------------------------------------------------------------


def outreach_logs(intro_ids: Iterable[int]) -> dict[int, OutreachLog]:
    """The outreach log of each introduction, in one grouped query of the log (none for no
    introductions); an introduction with no outreach has no entry."""
    from .models import IntroRequest

    ids = set(intro_ids)
    if not ids:
        return {}
    # The outreach log's model, by the relation's name: it lives in `followups`, above this app.
    log = IntroRequest._meta.get_field("outreaches").related_model.objects
    breach = Q(is_breach=True)
    rows = (
        log.filter(intro_id__in=ids)
        .order_by()
        .values("intro_id")
        .annotate(
            attempts=Count("pk"),
            breaches=Count("pk", filter=breach),
            last_at=Max("at"),
            last_breach_at=Max("at", filter=breach),
        )
    )
    return {row.pop("intro_id"): OutreachLog(**row) for row in rows}


def decide_for(intro, *, outreaches: OutreachLog, now: dt.datetime) -> Decision | None:
    """`decide` for a request (its target loaded); None outside GUIDED_STATES."""
    if intro.status not in GUIDED_STATES:
        return None
    return decide(
        window=intro.target.window(),
        target_writes_first=intro.target_writes_first,
        outreaches=outreaches,
        gentle_note_from=gentle_note_for(intro),
        now=now,
    )


def gentle_note_for(intro) -> dt.datetime | None:
    """`gentle_note_from` for a request whose target writes first (None otherwise)."""
    if not intro.target_writes_first:
        return None
    # A request introduced before the stage stamps existed has none: its last change stands in.
    introduced_at = intro.introduced_at or intro.updated_at
    return gentle_note_from(introduced_at=introduced_at, busy_until=intro.target.unavailable_until_moment())


def guidance_for_many(
    intros: Iterable, *, reader_zone: str, now: dt.datetime, logs: Mapping[int, OutreachLog] | None = None
) -> dict[int, Guidance]:
    """The guidance of each request in GUIDED_STATES (by pk), for a reader. Each request needs its
    target and, for a mention-my-name one, its connector. The outreach logs are `logs` when the
    caller has read them (`outreach_logs`: a request missing from it has none), else one query."""
    guided = [intro for intro in intros if intro.status in GUIDED_STATES]
    if logs is None:
        logs = outreach_logs(intro.pk for intro in guided)
    found = {}
    for intro in guided:
        log = logs.get(intro.pk, NO_OUTREACH)
        found[intro.pk] = guide(
            decide_for(intro, outreaches=log, now=now),
            target_name=intro.target.name,
            window=intro.target.window(),
            outreaches=log,
            mention=intro.connector.full_name if intro.mode == Mode.MENTION_NAME else "",
            reader_zone=reader_zone,
            now=now,
        )
    return found


def guidance_for(intro, *, reader_zone: str, now: dt.datetime) -> Guidance | None:
    return guidance_for_many([intro], reader_zone=reader_zone, now=now).get(intro.pk)


# --- the target's terms in words ----------------------------------------------------------------


def terms_in_words(
    target, *, target_writes_first: bool | None, writer_name: str, seeker_name: str, now: dt.datetime
) -> list[tuple[str, str]]:
    """What the target asked for, as (label, value) rows: days, hours in their time zone, the date
    they are busy through (while it lasts), the gap between messages, who writes first.
    `writer_name` names the target where they write first ("Marcus Lee", or "You" on their own page)."""
    zone = ZoneInfo(target.time_zone)
    rows = [
        ("Days", _first_up(days_in_words(target.weekday_set))),
        ("Hours", f"{target.hours_start:%H:%M}–{target.hours_end:%H:%M} {zone_in_words(target.time_zone)}"),
    ]
    today = now.astimezone(zone).date()
    if target.unavailable_until is not None and target.unavailable_until >= today:
        busy = target.unavailable_until
        rows.append(("Busy through", day_in_words(busy, year=busy.year != today.year)))
    if target.min_days_between:
        days = target.min_days_between
        rows.append(("Between messages", f"At least {days} day{'s' if days != 1 else ''}"))
    if target_writes_first is not None:
        rows.append(("Writes first", f"{writer_name}" if target_writes_first else seeker_name))
    if target.do_not_contact:
        rows.append(("Contact", "Not to be contacted"))
    return rows


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]
