"""Every number, as each place shows it, against one history built by hand through the real
services under a moving clock — with the awkward cases the numbers used to get wrong.

June 2026 (UTC; the 1st is a Monday), seen on Tuesday 30 June at noon. The reminder sweep
runs every day at noon, as beat would have. Sid is the seeker; Jill the connector of all
his requests; Dana coaches them both and Tia.

- R1, stepped back after the introduction: submitted 1st, approved 2nd, the target accepts
  on the 3rd (busy through the 5th) and is introduced; Sid thanks Jill at once (early); he
  writes on the 4th anyway (a breach); the target steps back on the 6th.
- R2, re-submitted after changes, mention-my-name: submitted 2nd, changes asked 3rd,
  submitted again 4th, approved "mention my name" 5th; Sid thanks Jill late (8th, due 6th),
  writes late (9th, due 7th), meets on the 12th, skips thanking the target, reports "hired"
  on the 15th. Jill's check-in after the meeting stays open.
- R3, deferred then accepted: submitted 6th, approved 7th, "not now, ask me after the
  11th" on the 8th, re-asked by the sweep on the 11th, accepted 12th. Sid never thanks
  Jill and never writes.
- R4, a draft started on the 10th and withdrawn on the 11th, never submitted.
- R5, submitted 20th, waiting for Jill (the vetting page shows Sid's record).
- R6, introduced this morning; Sid thanked Jill an hour later, before it was due.
- Tia's only introduction (to Kai's contact), this morning; she thanked Kai through the
  follow-ups page straight away — before it was due. (The dashboard used to say "—".)
- Offers to Sid, none acted on, recorded 15, 14, 10 and 3 days ago; one more 15 days ago
  that he dismissed, and one he marked contacted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections import defaultdict
from html import unescape

import pytest
from django.urls import reverse

from cohorts import dashboard
from cohorts.summary import weekly_summary
from followups import services as followup_services
from followups.models import DigestSchedule, FollowUp, Offer, ReminderLog
from followups.sweep import sweep
from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Mode, Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import CohortFactory, ContactFactory, IntroRequestFactory, MembershipFactory, UserFactory
from tests.stories import at, dashboard_cells, words
from workflows import intros as actions

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
MONTH = dt.timedelta(days=30)


def d(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=UTC)


class History:
    """The people and requests, built once per test by `play`."""


def _answer_link(intro: IntroRequest, purpose=TargetLink.Purpose.ANSWER) -> TargetLink:
    return intro.target_links.filter(purpose=purpose, used_at__isnull=True).latest("pk")


def play(client) -> History:
    h = History()
    with at(d(1, 9)):
        h.dana = UserFactory(full_name="Dana Coach")
        h.cohort = CohortFactory(name="June cohort", coach=h.dana)
        h.sid, h.jill, h.tia = (UserFactory(full_name=n) for n in ("Sid Seeker", "Jill Connector", "Tia Thanks"))
        for user in (h.sid, h.jill, h.tia):
            MembershipFactory(cohort=h.cohort, user=user)
        h.kai = UserFactory(full_name="Kai Outside")
        targets = {n: ContactFactory(owner=h.jill, name=f"Target {n}", time_zone="UTC") for n in range(1, 7)}
        tia_target = ContactFactory(owner=h.kai, name="Target Seven", time_zone="UTC")
    sid, jill = h.sid, h.jill

    def submit(intro):
        actions.do_submit(intro=intro, seeker=intro.seeker)

    def approve(intro, mode=Mode.DOUBLE_OPT_IN):
        actions.do_approve(
            intro=intro, connector=intro.connector, vouch_strength="close", vouch_note="I vouch for them.", mode=mode
        )

    def accept(intro, **terms):
        actions.do_target_accept(link=_answer_link(intro), terms=services.TargetTerms(**terms))

    def thank_connector(intro):
        FollowUp.objects.get(intro=intro, kind=FollowUp.Kind.THANK_CONNECTOR).mark_done()

    def outreach(intro, *, confirmed=False):
        fresh = IntroRequest.objects.with_people().get(pk=intro.pk)
        followup_services.outreach_record(
            intro=fresh, seeker=fresh.seeker, at=dt.datetime.now(UTC), channel="email", confirmed=confirmed
        )

    def new(seeker, target):
        return IntroRequestFactory(seeker=seeker, target=target)

    def offer(name):
        return followup_services.offer_create(
            seeker=sid, offered_by=jill, offered_by_name="Jill Connector", contact_name=name
        )

    def thank_through_the_page(user, intro):
        client.force_login(user)
        followup = FollowUp.objects.get(intro=intro, kind=FollowUp.Kind.THANK_CONNECTOR)
        assert client.post(reverse("followups:act"), {"done": followup.pk}).status_code == 302

    h.r1 = h.r2 = h.r3 = h.r4 = h.r5 = h.r6 = h.r7 = None
    h.offers = {}

    def r1_new():
        h.r1 = new(sid, targets[1])
        submit(h.r1)

    def r2_new():
        h.r2 = new(sid, targets[2])
        submit(h.r2)

    def r3_new():
        h.r3 = new(sid, targets[3])
        submit(h.r3)

    def r4_new():
        h.r4 = services.intro_create_draft(seeker=sid, target=targets[4], goal="Just a thought")

    def r5_new():
        h.r5 = new(sid, targets[5])
        submit(h.r5)

    def r6_all():
        h.r6 = new(sid, targets[6])
        submit(h.r6)
        approve(h.r6)
        accept(h.r6)

    def r7_all():
        h.r7 = new(h.tia, tia_target)
        submit(h.r7)
        approve(h.r7)
        accept(h.r7)

    def offers_at(name, then=None):
        def make():
            h.offers[name] = offer(name)
            if then:
                then(h.offers[name])

        return make

    events = [
        (d(1), r1_new),
        (d(2), lambda: approve(h.r1)),
        (d(2, 11), r2_new),
        (d(3), lambda: accept(h.r1, busy_until=dt.date(2026, 6, 5))),
        (d(3, 11), lambda: actions.do_request_changes(intro=h.r2, connector=jill, note="Say what you'd ask.")),
        (d(3, 15), lambda: thank_connector(h.r1)),  # early: due the 4th
        (d(4), lambda: submit(h.r2)),  # again, after the changes
        (d(4, 11), lambda: outreach(h.r1, confirmed=True)),  # inside the target's busy days: a breach
        (d(5), lambda: approve(h.r2, mode=Mode.MENTION_NAME)),
        (d(6), lambda: actions.do_target_step_back(link=_answer_link(h.r1, TargetLink.Purpose.STEP_BACK))),
        (d(6, 11), r3_new),
        (d(7), lambda: approve(h.r3)),
        (d(8), lambda: thank_connector(h.r2)),  # late: due the 6th
        (d(8, 11), lambda: actions.do_target_defer(link=_answer_link(h.r3), until=dt.date(2026, 6, 11))),
        (d(9), lambda: outreach(h.r2)),  # late: due the 7th
        (d(10), r4_new),
        (d(11), lambda: actions.do_withdraw(intro=h.r4, seeker=sid)),
        (d(12), lambda: accept(h.r3)),  # re-asked by the sweep on the 11th
        (d(12, 14), lambda: actions.do_record_meeting(intro=h.r2, seeker=sid, met_on=dt.date(2026, 6, 12))),
        (d(13, 9), lambda: FollowUp.objects.get(intro=h.r2, kind=FollowUp.Kind.THANK_TARGET).skip()),
        (d(15), lambda: actions.do_record_outcome(intro=h.r2, seeker=sid, outcome=Outcome.HIRED)),
        (d(15, 12), offers_at("Fifteen")),
        (d(15, 12, 1), offers_at("Dismissed", lambda o: followup_services.offer_dismiss(offer=o, seeker=sid))),
        (d(15, 12, 2), offers_at("Contacted", lambda o: followup_services.offer_contacted(offer=o, seeker=sid))),
        (d(16, 12), offers_at("Fourteen")),
        (d(20), r5_new),
        (d(20, 12), offers_at("Ten")),
        (d(27, 12), offers_at("Three")),
        (d(30, 9), r6_all),
        (d(30, 9, 30), lambda: thank_connector(h.r6)),  # early: due tomorrow
        (d(30, 10), r7_all),
        (d(30, 10, 30), lambda: thank_through_the_page(h.tia, h.r7)),  # early: due tomorrow
    ]
    # Beat: the sweep at noon every day (after that moment's own events).
    events += [(d(day, 12), None) for day in range(1, 31)]
    events.sort(key=lambda e: (e[0], e[1] is None))
    for when, action in events:
        with at(when):
            if action is None:
                sweep(now=when)
            else:
                action()
    for name in ("r1", "r2", "r3", "r4", "r5", "r6", "r7"):
        getattr(h, name).refresh_from_db()
    return h


@pytest.fixture
def history(client) -> History:
    return play(client)


def test_the_history_happened_as_written(history):
    h = history
    assert [h.r1.status, h.r2.status, h.r3.status, h.r4.status, h.r5.status, h.r6.status] == [
        Status.DROPPED_BY_TARGET,
        Status.OUTCOME,
        Status.INTRODUCED,
        Status.WITHDRAWN,
        Status.SUBMITTED,
        Status.INTRODUCED,
    ]
    assert h.r2.mode == Mode.MENTION_NAME and h.r2.events.filter(transition="submit").count() == 2
    assert list(h.r3.events.values_list("transition", flat=True)) == [
        "submit",
        "approve",
        "ask_target",
        "target_defer",
        "reask",
        "target_accept",
        "introduce",
    ]
    assert h.r3.events.get(transition="reask").created_at == d(11, 12)
    assert h.r4.first_submitted_at is None
    assert h.r1.outreaches.get().is_breach


# --- the seeker's record on the vetting page ---------------------------------------------------------

SID_RECORD = {
    "Requests sent": "5",  # not the withdrawn draft; R2 once though submitted twice
    "Approved by connectors": "4",
    "Introduced": "4",  # R1 although its target stepped back afterwards
    "Outcomes reported after meeting": "1 of 1 (100%)",
    "Offers and hires": "1",
    "Targets who stepped back": "⚠ 1",
    "Feedback from earlier targets": "none yet",
    "First outreach within the time asked": "1 of 3 (33%)",  # R1 on time (a breach, but in time), R2 late, R3 missed
    "Thank-yous sent": "3 of 4 (75%)",  # R1 early, R2 late, R6 early; R3 missed; R2's skipped one not at all
    "Boundary breaches (wrote outside a target's window)": "⚠ 1",
}


def _facts(html: str, heading_id: str) -> dict[str, str]:
    section = re.search(rf'aria-labelledby="{heading_id}".*?</dl>', html, re.S).group(0)
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section, re.S)
    clean = lambda s: " ".join(re.sub(r"<[^>]+>", " ", unescape(s)).split())  # noqa: E731
    return {clean(k): clean(v) for k, v in pairs}


def test_the_vetting_page_shows_the_seekers_record(client, history):
    client.force_login(history.jill)
    with at(NOW):
        html = client.get(history.r5.get_absolute_url()).content.decode()
    assert _facts(html, "record-heading") == SID_RECORD


# --- the connector's record -------------------------------------------------------------------------

JILL_RECORD = {
    "Approved and vouched": "4",
    "Accepted by the target, or written to directly in your name": "4",  # R1 (then stepped back), R2, R3, R6
    "Introduced": "4",
    "Targets who stepped back": "1",
    "Met": "1",
    "Led to a job offer or a hire": "1",
    "Chains started (one introduction led to the next)": "0",
}


def test_the_connectors_record_page_shows_jills_numbers_and_the_introductions_she_made(client, history):
    client.force_login(history.jill)
    with at(NOW):
        html = client.get(reverse("intros:connector_record")).content.decode()
    assert _facts(html, "numbers-heading") == JILL_RECORD
    listed = re.findall(r'class="item-title" href="[^"]+">([^<]+)</a>', html)
    assert sorted(unescape(s) for s in listed) == sorted(
        f"Sid Seeker → Target {n}" for n in (1, 2, 3, 6)
    )  # the introductions she made: not R5, still waiting for her


# --- the coach's dashboard: page, drill-down, CSVs ---------------------------------------------------

SID_ROW = dict(
    open_requests=3,  # R3, R5, R6
    median_days_to_outreach=(25 / 24 + 4) / 2,  # R1 after 1 day 1 hour, R2 after 4 days
    thanks_done=3,
    thanks_due=4,
    outcomes_reported=1,
    intros_met=1,
    overdue_followups=2,  # R3: thank Jill, reach out
    boundary_breaches=1,
    stale_offers=2,  # 15 and 14 days; not 10 or 3, nor the dismissed or contacted ones
)
SID_FLAGS = ["1 boundary breach", "2 overdue follow-ups", "2 stale offers", "introduced 18 days ago, no outreach yet"]
SID_CELLS = {
    "open": "3",
    "median": "2.5",
    "thanks": "75% (3 of 4)",
    "outcomes": "1 of 1",
    "overdue": "2",
    "breaches": "1",
    "stale": "2",
}
FUNNEL = [("requested", 6), ("approved", 5), ("accepted", 5), ("introduced", 5), ("met", 1), ("offer_hired", 1)]


def test_the_member_rows_and_the_funnel_compute_each_number(history):
    rows = {r.user_id: r for r in dashboard.member_rows(history.cohort, NOW - MONTH, NOW, NOW)}
    sid = rows[history.sid.pk]
    assert {name: getattr(sid, name) for name in SID_ROW} == SID_ROW
    assert [f.message for f in sid.flags] == SID_FLAGS
    tia = rows[history.tia.pk]
    assert (tia.thanks_done, tia.thanks_due, tia.thank_rate_percent) == (1, 1, 100)
    jill = rows[history.jill.pk]
    assert (jill.overdue_followups, jill.thank_rate) == (1, None)  # her check-in after R2's meeting
    funnel = dashboard.funnel(history.cohort, NOW - MONTH, NOW)
    assert [(s.key, s.count) for s in funnel.stages] == FUNNEL


def test_the_dashboard_page_and_sids_drill_down_show_the_same_numbers(client, history):
    client.force_login(history.dana)
    url = reverse("cohorts:dashboard", args=[history.cohort.pk])
    with at(NOW):
        html = client.get(url).content.decode()
        drill = client.get(
            reverse("cohorts:dashboard_drill", args=[history.cohort.pk]) + f"?member={history.sid.pk}"
        ).content.decode()
    cells = dashboard_cells(html, history.sid.pk)
    assert {k: cells[k] for k in SID_CELLS} == SID_CELLS
    assert all(flag in cells["attention"] for flag in SID_FLAGS)
    assert dashboard_cells(html, history.tia.pk)["thanks"] == "100% (1 of 1)"
    for key, count in FUNNEL:
        row = re.search(rf'<tr class="funnel-stage-{key}">.*?</tr>', html, re.S).group(0)
        assert re.findall(r"<td>(.*?)</td>", row)[0] == str(count), key
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", drill))
    assert facts["Thank-you rate"] == "75% (3 of 4)"
    assert facts["Stale offers"] == "2" and facts["Boundary breaches"] == "1" and facts["Overdue follow-ups"] == "2"
    stale = re.search(r"<h3>Stale offers</h3>(.*?)</ul>", drill, re.S).group(1)
    assert re.findall(r'class="item-title">([^<]+)<', stale) == ["Fourteen", "Fifteen"]


def _csv(response) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_dashboard_csvs(client, history):
    client.force_login(history.dana)
    with at(NOW):
        members = _csv(client.get(reverse("cohorts:export_members", args=[history.cohort.pk])))
        requests = _csv(client.get(reverse("cohorts:export_requests", args=[history.cohort.pk])))
    sid = next(r for r in members if r["Member"] == "Sid Seeker")
    assert {
        k: sid[k]
        for k in (
            "Open requests",
            "Median days from introduction to first outreach",
            "Thank-yous done",
            "Thank-yous due",
            "Thank-you rate (%)",
            "Outcomes reported",
            "Introductions met",
            "Overdue follow-ups",
            "Boundary breaches",
            "Stale offers",
        )
    } == {
        "Open requests": "3",
        "Median days from introduction to first outreach": "2.5",
        "Thank-yous done": "3",
        "Thank-yous due": "4",
        "Thank-you rate (%)": "75",
        "Outcomes reported": "1",
        "Introductions met": "1",
        "Overdue follow-ups": "2",
        "Boundary breaches": "1",
        "Stale offers": "2",
    }
    assert sid["Needs attention"] == "; ".join(SID_FLAGS)
    assert next(r for r in members if r["Member"] == "Tia Thanks")["Thank-you rate (%)"] == "100"
    by_target = {r["Target"]: r for r in requests}
    assert len(requests) == 6 and "Target 4" not in by_target  # the withdrawn draft was never a request
    stepped_back = by_target["Target 1"]
    assert stepped_back["Status"] == "They stepped back"
    assert (stepped_back["Accepted"], stepped_back["Introduced"]) == (d(3).isoformat(), d(3).isoformat())
    resubmitted = by_target["Target 2"]
    assert resubmitted["Submitted"] == d(2, 11).isoformat()  # first submitted, not the second time
    assert resubmitted["Accepted"] == resubmitted["Introduced"] == d(5).isoformat()  # mention my name
    deferred = by_target["Target 3"]
    assert (deferred["Approved"], deferred["Accepted"]) == (d(7).isoformat(), d(12).isoformat())


# --- the digests -------------------------------------------------------------------------------------


def test_the_daily_digest_counts_as_the_dashboard_does(history):
    [digest] = OutboxMessage.objects.filter(to=[history.sid.email], subject__startswith="Today:", created_at=NOW)
    assert digest.subject == "Today: 0 follow-ups due, 2 overdue"
    assert digest.body_text.count("(due ") == 2


def test_the_weekly_summary_says_what_the_dashboard_says(history):
    schedule = DigestSchedule.objects.get(user=history.dana, kind=DigestSchedule.Kind.COACH_WEEKLY)
    with at(NOW):
        assert weekly_summary(schedule, NOW)
    summary = OutboxMessage.objects.filter(to=[history.dana.email], subject__startswith="Your cohorts").latest("pk")
    said = " ".join(summary.body_text.split())
    week = dashboard.cohort_dashboard(cohort=history.cohort, start=NOW - dt.timedelta(days=7), end=NOW, now=NOW)
    for row in week.needing_attention:
        assert f"{row.name}: " + "; ".join(f.message for f in row.flags) in said
    assert "Sid Seeker: 2 overdue follow-ups; 2 stale offers; introduced 18 days ago, no outreach yet" in said
    for stage in week.funnel.stages:
        assert f"{stage.label}: {stage.count}" in said


# --- offers: the page, the nudges, and one nudge per thing per day ------------------------------------


def test_the_offers_page_shows_the_stale_ones_as_the_dashboard_counts_them(client, history):
    client.force_login(history.sid)
    with at(NOW):
        page = words(client.get(reverse("followups:offers")))
    assert page.count("Gone stale") == 2
    for name, shown in [
        ("Three", "Not acted on yet"),
        ("Ten", "Not acted on yet"),
        ("Fourteen", "Gone stale"),
        ("Fifteen", "Gone stale"),
        ("Dismissed", "Dismissed"),
        ("Contacted", "Contact made"),
    ]:
        assert re.search(rf"{name}\s+{shown}", page), name


def test_each_offer_was_nudged_at_day_3_and_10(history):
    nudges = defaultdict(list)
    for log in ReminderLog.objects.filter(kind=ReminderLog.Kind.OFFER_NUDGE).order_by("sent_at"):
        nudges[Offer.objects.get(pk=log.object_id).contact_name].append((log.sequence, log.sent_at))
    assert dict(nudges) == {
        "Fifteen": [(1, d(18, 12)), (2, d(25, 12))],
        "Fourteen": [(1, d(19, 12)), (2, d(26, 12))],
        "Ten": [(1, d(23, 12)), (2, d(30, 12))],
        "Three": [(1, d(30, 12))],
    }
    emails = OutboxMessage.objects.filter(to=[history.sid.email], subject__contains="offered to introduce you")
    assert emails.count() == 7


def test_never_two_nudges_about_one_thing_within_a_day(history):
    """Over the whole month, every nudge the app logged — follow-up reminders, follow-ups named
    in a digest, offer nudges, digests — a day or more apart for each thing."""
    groups = {
        ReminderLog.Kind.FOLLOWUP: "followup",
        ReminderLog.Kind.DIGEST_ITEM: "followup",
        ReminderLog.Kind.OFFER_NUDGE: "offer",
        ReminderLog.Kind.DIGEST: "digest",
        ReminderLog.Kind.COACH_NUDGE: "member",
    }
    times = defaultdict(list)
    for kind, object_id, sent_at in ReminderLog.objects.values_list("kind", "object_id", "sent_at"):
        if kind in groups:
            times[(groups[kind], object_id)].append(sent_at)
    assert len(times) > 10
    for thing, moments in times.items():
        moments.sort()
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        assert all(gap >= dt.timedelta(days=1) for gap in gaps), (thing, moments)
