"""The coach dashboard: every number against a cohort built by hand, through the real services.

The story, in March 2026 (UTC; the 1st is a Sunday), seen on Tuesday 31 March at noon:

- Ann: A1 submitted 2nd, approved 3rd, accepted and introduced 4th 10:00, she writes on the
  6th 10:00 (2 days), they meet on the 10th, she thanks both, reports "hired" on the 16th.
  A2 submitted 9th, approved mention-my-name 10th 10:00, she writes on the 13th (3 days),
  never thanks the connector (due 11th: overdue). A3 submitted 20th, approved 21st, the
  target has not answered. A draft started on the 25th.
- Ben: B1 submitted 3rd, approved 4th, introduced 5th 10:00; he writes on Saturday 7th and
  Monday 9th at 22:00 (two breaches), then on the 10th; the target steps back on the 11th.
  He thanked the connector on the 6th. B2 submitted 20th, waiting for the connector. B3
  submitted in February (outside the 30 days), approved, waiting for the target. One offer
  has gone stale.
- Cat: C1 submitted 5th, approved 6th, introduced 9th 10:00; nothing since. C2 submitted
  6th, declined by the connector on the 7th.
- Dan joined on the 20th and has done nothing yet.
- Jill, the connector of every request, is a member too; her check-in after A1's meeting is
  overdue.
- Olive, outside the cohort, also asks Jill for an introduction: not counted.
"""

import csv
import datetime as dt
import io
import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from cohorts import dashboard
from cohorts.models import Membership
from followups import services as followup_services
from followups.models import FollowUp, Offer, Outreach
from intros import services
from intros.models import IntroEvent, IntroRequest, TargetLink
from intros.states import Mode, Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import (
    GOOD_PREPARATION,
    CohortFactory,
    ContactFactory,
    IntroRequestFactory,
    MembershipFactory,
    UserFactory,
)
from tests.stories import at, dashboard_cells
from workflows import intros as actions

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
TARGET_EMAIL_DOMAIN = "private-target.example.org"
TARGET_NOTE = "PRIVATE-NOTE-never-for-the-coach"
OUTREACH_NOTE = "OUTREACH-NOTE-never-for-the-coach"
PREPARATION_PHRASE = "AdminCon panel"  # from GOOD_PREPARATION["research_person"]


def on(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=UTC)


# --- the hand-built cohort -----------------------------------------------------------------


def _target(jill, name: str):
    return ContactFactory(
        owner=jill,
        name=name,
        email=f"{name.split()[0].lower()}@{TARGET_EMAIL_DOMAIN}",
        organisation=f"{name.split()[0]} Agency",
        title="Head of Operations",
        notes=TARGET_NOTE,
        time_zone="UTC",
    )


def _submit(seeker, target, when) -> IntroRequest:
    with at(when):
        intro = IntroRequestFactory(seeker=seeker, target=target)
        actions.do_submit(intro=intro, seeker=seeker)
    return intro


def _approve(intro, when, mode=Mode.DOUBLE_OPT_IN) -> None:
    with at(when):
        actions.do_approve(
            intro=intro, connector=intro.connector, vouch_strength="close", vouch_note="I vouch for them.", mode=mode
        )


def _accept(intro, when) -> None:
    with at(when):
        link = intro.target_links.filter(purpose=TargetLink.Purpose.ANSWER).latest("pk")
        actions.do_target_accept(link=link, terms=services.TargetTerms())


def _outreach(intro, when, *, confirmed=False) -> Outreach:
    with at(when):
        fresh = IntroRequest.objects.with_people().get(pk=intro.pk)
        return followup_services.outreach_record(
            intro=fresh, seeker=fresh.seeker, at=when, channel="email", note=OUTREACH_NOTE, confirmed=confirmed
        )


def _done(intro, kind, when) -> None:
    FollowUp.objects.get(intro=intro, kind=kind).mark_done(when=when)


@pytest.fixture
def story():
    with at(on(1, month=2)):
        dana = UserFactory(full_name="Dana Coach")
        cohort = CohortFactory(name="Spring boot camp", coach=dana)
        ann, ben, cat, jill = (
            UserFactory(full_name=n) for n in ("Ann Archer", "Ben Baker", "Cat Carter", "Jill Moreno")
        )
        for user in (ann, ben, cat, jill):
            MembershipFactory(cohort=cohort, user=user)
        olive = UserFactory(full_name="Olive Outsider")
    with at(on(20)):
        dan = UserFactory(full_name="Dan Dunn")
        MembershipFactory(cohort=cohort, user=dan)

    # Ann
    a1 = _submit(ann, _target(jill, "Alma Hart"), on(2))
    _approve(a1, on(3))
    _accept(a1, on(4))
    _done(a1, FollowUp.Kind.THANK_CONNECTOR, on(5))
    _outreach(a1, on(6))
    with at(on(10, 16)):
        actions.do_record_meeting(intro=a1, seeker=ann, met_on=dt.date(2026, 3, 10))
    _done(a1, FollowUp.Kind.THANK_TARGET, on(11))
    with at(on(16)):
        actions.do_record_outcome(intro=a1, seeker=ann, outcome=Outcome.HIRED)
    a2 = _submit(ann, _target(jill, "Bea Stone"), on(9))
    _approve(a2, on(10), mode=Mode.MENTION_NAME)
    _outreach(a2, on(13))
    a3 = _submit(ann, _target(jill, "Cleo Park"), on(20))
    _approve(a3, on(21))
    with at(on(25)):
        services.intro_create_draft(seeker=ann, target=_target(jill, "Dora Lane"), **GOOD_PREPARATION)

    # Ben
    with at(on(20, month=2)):
        b3 = _submit(ben, _target(jill, "Eve Moss"), on(20, month=2))
    _approve(b3, on(21, month=2))
    b1 = _submit(ben, _target(jill, "Fay Reed"), on(3))
    _approve(b1, on(4))
    _accept(b1, on(5))
    _done(b1, FollowUp.Kind.THANK_CONNECTOR, on(6))
    _outreach(b1, on(7), confirmed=True)  # a Saturday
    _outreach(b1, on(9, 22), confirmed=True)  # after hours
    _outreach(b1, on(10))
    with at(on(11)):
        actions.do_target_step_back(link=b1.target_links.filter(purpose=TargetLink.Purpose.STEP_BACK).latest("pk"))
    b2 = _submit(ben, _target(jill, "Gia Ford"), on(20))
    with at(on(1, month=2)):
        offer = followup_services.offer_create(seeker=ben, offered_by_name="Sam Lee", contact_name="Hal Quinn")
    # Two months old and not acted on: stale by its dates (followups.numbers), though no sweep ran.
    assert offer.status == Offer.Status.OPEN

    # Cat
    c1 = _submit(cat, _target(jill, "Ivy Cole"), on(5))
    _approve(c1, on(6))
    _accept(c1, on(9))
    c2 = _submit(cat, _target(jill, "Joy Nash"), on(6))
    with at(on(7)):
        actions.do_decline(intro=c2, connector=jill, note="Not the right person for this, sorry.")

    # Olive, outside the cohort
    _submit(olive, _target(jill, "Kim Ward"), on(10))

    return SimpleNamespace(
        cohort=cohort, dana=dana, ann=ann, ben=ben, cat=cat, dan=dan, jill=jill, olive=olive, a1=a1, b1=b1, b2=b2, c1=c1
    )


def _page(client, user, name="cohorts:dashboard", cohort=None, query="", **headers):
    url = reverse(name, args=[cohort.pk]) + (f"?{query}" if query else "")
    with at(NOW):
        return login(client, user).get(url, headers=headers)


# --- the numbers -------------------------------------------------------------------------------


def test_the_hand_built_cohort_is_in_the_states_the_module_describes(story):
    for intro, status in [
        (story.a1, Status.OUTCOME),
        (story.b1, Status.DROPPED_BY_TARGET),
        (story.c1, Status.INTRODUCED),
    ]:
        intro.refresh_from_db()
        assert intro.status == status
    assert Outreach.objects.filter(seeker=story.ben, is_breach=True).count() == 2


def test_funnel_counts_and_conversion_rates_over_30_days(story):
    funnel = dashboard.funnel(story.cohort, NOW - dt.timedelta(days=30), NOW)
    assert [(s.key, s.count, s.rate_percent) for s in funnel.stages] == [
        ("requested", 7, None),
        ("approved", 5, 71),
        ("accepted", 4, 80),
        ("introduced", 4, 100),
        ("met", 1, 25),
        ("offer_hired", 1, 100),
    ]


def test_funnel_over_90_days_takes_in_februarys_request(story):
    funnel = dashboard.funnel(story.cohort, NOW - dt.timedelta(days=90), NOW)
    assert [(s.count, s.rate_percent) for s in funnel.stages] == [
        (8, None),
        (6, 75),
        (4, 67),
        (4, 100),
        (1, 25),
        (1, 100),
    ]


def test_a_stage_reached_after_the_period_does_not_count(story):
    # 9 March only: A2 was submitted that day but approved on the 10th.
    period = dashboard.custom_period(dt.date(2026, 3, 9), dt.date(2026, 3, 9), tz=UTC)
    funnel = dashboard.funnel(story.cohort, period.start, period.end)
    assert [(s.count, s.rate_percent) for s in funnel.stages] == [
        (1, None),
        (0, 0),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
    ]


EXPECTED_ROWS = {
    "ann": dict(
        open_requests=2,
        median_days_to_outreach=2.5,
        thanks_done=2,
        thanks_due=3,
        outcomes_reported=1,
        intros_met=1,
        overdue_followups=1,
        boundary_breaches=0,
        stale_offers=0,
        last_activity=on(25),
        flags=["1 overdue follow-up"],
    ),
    "ben": dict(
        open_requests=2,
        median_days_to_outreach=2.0,
        thanks_done=1,
        thanks_due=1,
        outcomes_reported=0,
        intros_met=0,
        overdue_followups=0,
        boundary_breaches=2,
        stale_offers=1,
        last_activity=on(20),
        flags=["2 boundary breaches", "1 stale offer"],
    ),
    "cat": dict(
        open_requests=1,
        median_days_to_outreach=None,
        thanks_done=0,
        thanks_due=1,
        outcomes_reported=0,
        intros_met=0,
        overdue_followups=2,
        boundary_breaches=0,
        stale_offers=0,
        last_activity=on(6),
        flags=["2 overdue follow-ups", "introduced 22 days ago, no outreach yet", "no activity for 25 days"],
    ),
    "dan": dict(
        open_requests=0,
        median_days_to_outreach=None,
        thanks_done=0,
        thanks_due=0,
        outcomes_reported=0,
        intros_met=0,
        overdue_followups=0,
        boundary_breaches=0,
        stale_offers=0,
        last_activity=None,
        flags=[],
    ),
    "jill": dict(
        open_requests=0,
        median_days_to_outreach=None,
        thanks_done=0,
        thanks_due=0,
        outcomes_reported=0,
        intros_met=0,
        overdue_followups=1,
        boundary_breaches=0,
        stale_offers=0,
        last_activity=on(21),
        flags=["1 overdue follow-up"],
    ),
}


def test_every_member_number_and_flag(story):
    rows = {r.user_id: r for r in dashboard.member_rows(story.cohort, NOW - dt.timedelta(days=30), NOW, NOW)}
    assert len(rows) == 5
    for who, expected in EXPECTED_ROWS.items():
        row = rows[getattr(story, who).pk]
        got = {name: getattr(row, name) for name in expected if name != "flags"}
        got["flags"] = [f.message for f in row.flags]
        assert got == expected, who
    assert rows[story.ben.pk].flags[0].level == "bad"
    assert rows[story.ann.pk].thank_rate_percent == 67
    assert rows[story.dan.pk].thank_rate is None


def test_the_page_shows_every_number(client, story):
    response = _page(client, story.dana, cohort=story.cohort)
    assert response.status_code == 200
    html = response.content.decode()
    assert dashboard_cells(html, story.ann.pk) == {
        "open": "2",
        "median": "2.5",
        "thanks": "67% (2 of 3)",
        "outcomes": "1 of 1",
        "overdue": "1",
        "breaches": "0",
        "stale": "0",
        "activity": "6 days ago",
        "attention": "1 overdue follow-up",
    }
    assert dashboard_cells(html, story.ben.pk) == {
        "open": "2",
        "median": "2.0",
        "thanks": "100% (1 of 1)",
        "outcomes": "—",
        "overdue": "0",
        "breaches": "2",
        "stale": "1",
        "activity": "11 days ago",
        "attention": "2 boundary breaches 1 stale offer",
    }
    assert dashboard_cells(html, story.cat.pk) == {
        "open": "1",
        "median": "—",
        "thanks": "0% (0 of 1)",
        "outcomes": "—",
        "overdue": "2",
        "breaches": "0",
        "stale": "0",
        "activity": "25 days ago",
        "attention": "2 overdue follow-ups introduced 22 days ago, no outreach yet no activity for 25 days",
    }
    assert dashboard_cells(html, story.dan.pk) == {
        "open": "0",
        "median": "—",
        "thanks": "—",
        "outcomes": "—",
        "overdue": "0",
        "breaches": "0",
        "stale": "0",
        "activity": "none yet",
        "attention": "—",
    }
    assert dashboard_cells(html, story.jill.pk)["attention"] == "1 overdue follow-up"
    assert "Olive" not in html


def test_the_page_draws_the_funnel_and_says_it_in_words(client, story):
    html = _page(client, story.dana, cohort=story.cohort).content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="funnel-title funnel-desc"' in svg
    assert '<title id="funnel-title">' in svg
    assert "style=" not in html.split("<main", 1)[1]  # the CSP forbids inline styles
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "Requested: 7." in desc
    assert "Approved: 5, 71% of the previous stage." in desc
    assert "Met: 1, 25% of the previous stage." in desc
    # Bars scale to the requested count: approved is 5/7 of the track.
    assert re.search(r'class="funnel-bar" x="130" y="[\d.]+" width="214.3"', svg)
    assert ">5 · 71% of requested<" in svg
    table = re.search(r'<table class="funnel-table">.*?</table>', html, re.S).group(0)
    assert re.search(r"<th scope=\"row\">Offer or hired</th>\s*<td>1</td>\s*<td>100%</td>", table)


def test_who_needs_attention_comes_first_with_reasons(client, story):
    html = _page(client, story.dana, cohort=story.cohort).content.decode()
    attention = re.search(r'<section class="card attention".*?</section>', html, re.S).group(0)
    names = re.findall(r'class="item-title"[^>]*>([^<]+)</a>', attention)
    assert names == ["Ben Baker", "Cat Carter", "Ann Archer", "Jill Moreno"]
    assert 'class="flag flag-bad"><span class="visually-hidden">Serious: </span>2 boundary breaches' in attention


def test_a_thirty_day_rolling_period_ends_now(story):
    period = dashboard.rolling_period("30", now=NOW)
    assert (period.start, period.end) == (NOW - dt.timedelta(days=30), NOW)


# --- the period and the order ---------------------------------------------------------------


def test_ninety_days_on_the_page(client, story):
    html = _page(client, story.dana, cohort=story.cohort, query="period=90").content.decode()
    assert "the last 90 days" in html
    assert "Requested: 8." in html


def test_custom_dates_on_the_page(client, story):
    html = _page(client, story.dana, cohort=story.cohort, query="period=custom&start=2026-03-09&end=2026-03-09")
    html = html.content.decode()
    assert "9 Mar 2026 – 9 Mar 2026" in html
    assert "Requested: 1." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=7", "Choose the last 30 days, the last 90 days or custom dates."),
        ("period=custom&start=2026-03-09", "For custom dates, give both a start and an end date."),
        ("period=custom&start=2026-03-20&end=2026-03-01", "The start date is after the end date."),
        ("period=custom&start=yesterday&end=2026-03-01", "The start date is not a date: use YYYY-MM-DD."),
        ("sort=email", "That column can't be sorted"),
    ],
)
def test_bad_values_say_so_and_fall_back_to_30_days(client, story, query, message):
    response = _page(client, story.dana, cohort=story.cohort, query=query)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert message in html
    assert "Requested: 7." in html  # the last 30 days


def test_sort_by_breaches_through_links_and_htmx(client, story):
    html = _page(client, story.dana, cohort=story.cohort, query="sort=breaches&dir=desc").content.decode()
    order = re.findall(r'<tr id="member-(\d+)"', html)
    assert int(order[0]) == story.ben.pk
    assert 'aria-sort="descending"' in html
    by_name = _page(client, story.dana, cohort=story.cohort, query="sort=name&dir=asc").content.decode()
    order = [int(pk) for pk in re.findall(r'<tr id="member-(\d+)"', by_name)]
    assert order == [story.ann.pk, story.ben.pk, story.cat.pk, story.dan.pk, story.jill.pk]
    # The header link flips the direction and keeps the period; htmx swaps the table only.
    assert "?period=30&amp;sort=name&amp;dir=desc" in by_name
    fragment = _page(
        client, story.dana, cohort=story.cohort, query="sort=median&dir=asc", **HTMX, **{"HX-Target": "member-table"}
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section class="card member-table-card" id="member-table"')
    assert "<html" not in body
    order = [int(pk) for pk in re.findall(r'<tr id="member-(\d+)"', body)]
    assert order[:2] == [story.ben.pk, story.ann.pk]  # 2.0, 2.5, then "—" last
    assert 'hx-push-url="true"' in body


def test_sort_rows_puts_missing_values_last_both_ways():
    rows = [
        dashboard.MemberRow(user_id=1, name="B", joined_at=NOW, median_days_to_outreach=None),
        dashboard.MemberRow(user_id=2, name="A", joined_at=NOW, median_days_to_outreach=3.0),
        dashboard.MemberRow(user_id=3, name="C", joined_at=NOW, median_days_to_outreach=1.0),
    ]
    assert [r.user_id for r in dashboard.sort_rows(rows, "median", "asc")] == [3, 2, 1]
    assert [r.user_id for r in dashboard.sort_rows(rows, "median", "desc")] == [2, 3, 1]


# --- drill-down ------------------------------------------------------------------------------


def test_drill_into_a_member_as_a_fragment_and_as_a_page(client, story):
    query = f"member={story.ben.pk}&period=30"
    fragment = _page(client, story.dana, "cohorts:dashboard_drill", story.cohort, query, **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section class="card drill" id="drill"')
    assert "<html" not in fragment
    for expected in ("Fay Reed", "Fay Agency", "Head of Operations", "Gia Ford", "Eve Moss", "Hal Quinn"):
        assert expected in fragment
    assert "They stepped back" in fragment  # B1's status in words
    assert fragment.count("Fay Reed") >= 2  # the request, and the two breaches' list
    assert f'name="member" value="{story.ben.pk}"' in fragment  # the nudge form
    page = _page(client, story.dana, "cohorts:dashboard_drill", story.cohort, query)
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_drill_into_a_stage(client, story):
    html = _page(
        client, story.dana, "cohorts:dashboard_drill", story.cohort, "stage=introduced&period=30", **HTMX
    ).content.decode()
    assert "Introduced: 4 requests" in html
    for name in ("Alma Hart", "Bea Stone", "Fay Reed", "Ivy Cole"):
        assert name in html
    assert "Cleo Park" not in html  # approved, not introduced
    assert "Ann Archer" in html and "Cat Carter" in html


@pytest.mark.parametrize("query", ["member=999999", "member=abc", "stage=hired", ""])
def test_drill_into_nothing_is_a_404(client, story, query):
    assert _page(client, story.dana, "cohorts:dashboard_drill", story.cohort, query).status_code == 404


def test_drill_into_someone_outside_the_cohort_is_a_404(client, story):
    query = f"member={story.olive.pk}"
    assert _page(client, story.dana, "cohorts:dashboard_drill", story.cohort, query).status_code == 404


# --- what the coach never sees ------------------------------------------------------------------


def test_no_private_detail_anywhere(client, story):
    drill = "cohorts:dashboard_drill"
    pages = [
        (_page(client, story.dana, cohort=story.cohort, query="period=90"), "Ann Archer"),
        (_page(client, story.dana, drill, story.cohort, f"member={story.ann.pk}&period=90"), "Alma Hart"),
        (_page(client, story.dana, drill, story.cohort, f"member={story.ben.pk}&period=90"), "Fay Reed"),
        (_page(client, story.dana, "cohorts:export_members", story.cohort, "period=90"), "Ann Archer"),
        (_page(client, story.dana, "cohorts:export_requests", story.cohort, "period=90"), "Alma Hart"),
    ]
    pages += [
        (_page(client, story.dana, drill, story.cohort, f"stage={stage}&period=90"), "Alma Hart")
        for stage in dashboard.STAGE_KEYS
    ]
    for response, expected in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert expected in body  # the page does show the request or member
        for secret in (TARGET_EMAIL_DOMAIN, TARGET_NOTE, OUTREACH_NOTE, PREPARATION_PHRASE, "I vouch for them"):
            assert secret not in body, (response.request["PATH_INFO"], secret)


# --- CSV -------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="cohort-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_member_export_has_the_table(client, story):
    rows = _csv(_page(client, story.dana, "cohorts:export_members", story.cohort, "sort=name&dir=asc"))
    assert rows[0][:4] == ["Member", "Joined", "Open requests", "Median days from introduction to first outreach"]
    assert [r[0] for r in rows[1:]] == ["Ann Archer", "Ben Baker", "Cat Carter", "Dan Dunn", "Jill Moreno"]
    ann = dict(zip(rows[0], rows[1], strict=True))
    assert ann["Open requests"] == "2"
    assert ann["Median days from introduction to first outreach"] == "2.5"
    assert (ann["Thank-yous done"], ann["Thank-yous due"], ann["Thank-you rate (%)"]) == ("2", "3", "67")
    assert (ann["Outcomes reported"], ann["Introductions met"]) == ("1", "1")
    assert ann["Overdue follow-ups"] == "1"
    assert ann["Last activity"] == "2026-03-25T10:00:00+00:00"
    assert ann["Needs attention"] == "1 overdue follow-up"
    ben = dict(zip(rows[0], rows[2], strict=True))
    assert (ben["Boundary breaches"], ben["Stale offers"]) == ("2", "1")


def test_request_export_has_the_funnels_requests(client, story):
    rows = _csv(_page(client, story.dana, "cohorts:export_requests", story.cohort))
    assert rows[0] == [
        "Member",
        "Connector",
        "Target",
        "Organisation",
        "Title",
        "Status",
        "Submitted",
        "Approved",
        "Accepted",
        "Introduced",
        "Met",
        "Outcome",
    ]
    assert len(rows) == 1 + 7
    alma = next(r for r in rows if r[2] == "Alma Hart")
    assert alma == [
        "Ann Archer",
        "Jill Moreno",
        "Alma Hart",
        "Alma Agency",
        "Head of Operations",
        "Outcome reported",
        "2026-03-02T10:00:00+00:00",
        "2026-03-03T10:00:00+00:00",
        "2026-03-04T10:00:00+00:00",
        "2026-03-04T10:00:00+00:00",
        "2026-03-10T16:00:00+00:00",
        "Hired",
    ]
    only_cat = _csv(_page(client, story.dana, "cohorts:export_requests", story.cohort, f"member={story.cat.pk}"))
    assert sorted(r[2] for r in only_cat[1:]) == ["Ivy Cole", "Joy Nash"]


def test_a_formula_in_a_name_is_neutralised(client, story):
    story.dan.full_name = '=HYPERLINK("http://evil.example","click")'
    story.dan.save(update_fields=["full_name"])
    rows = _csv(_page(client, story.dana, "cohorts:export_members", story.cohort))
    assert '\'=HYPERLINK("http://evil.example","click")' in [r[0] for r in rows]
    assert '=HYPERLINK("http://evil.example","click")' not in [r[0] for r in rows]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann = fine", "Ann = fine"),
        (3, "3"),
        (None, ""),
    ],
)
def test_csv_cell(value, cell):
    assert dashboard.csv_cell(value) == cell


# --- who may look ---------------------------------------------------------------------------------


def _urls(cohort, member):
    return [
        ("get", reverse("cohorts:dashboard", args=[cohort.pk]), {}),
        ("get", reverse("cohorts:dashboard_drill", args=[cohort.pk]) + f"?member={member.pk}", {}),
        ("get", reverse("cohorts:dashboard_drill", args=[cohort.pk]) + "?stage=requested", {}),
        ("get", reverse("cohorts:export_members", args=[cohort.pk]), {}),
        ("get", reverse("cohorts:export_requests", args=[cohort.pk]), {}),
        ("post", reverse("cohorts:nudge", args=[cohort.pk]), {"member": member.pk, "note": "Hello"}),
        ("get", reverse("cohorts:remove_member", args=[cohort.pk, member.pk]), {}),
        ("post", reverse("cohorts:remove_member", args=[cohort.pk, member.pk]), {}),
    ]


@pytest.mark.parametrize("who", ["other_coach", "member", "outsider"])
def test_everyone_but_the_coach_gets_a_404(client, who):
    member = UserFactory(full_name="Max Member")
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=member)
    if who == "other_coach":
        user = CohortFactory().coach
    elif who == "member":
        user = member
    else:
        user = UserFactory()
    login(client, user)
    for method, url, data in _urls(cohort, member):
        assert getattr(client, method)(url, data).status_code == 404, (who, method, url)
    assert Membership.objects.filter(cohort=cohort, user=member).exists()
    assert not OutboxMessage.objects.exists()


def test_the_anonymous_are_sent_to_log_in(client):
    member = UserFactory()
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=member)
    for method, url, data in _urls(cohort, member):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("accounts:login"))


def test_the_cohort_page_links_the_coach_to_the_dashboard(client, story):
    url = reverse("cohorts:dashboard", args=[story.cohort.pk])
    assert url in login(client, story.dana).get(story.cohort.get_absolute_url()).content.decode()
    assert url not in login(client, story.ann).get(story.cohort.get_absolute_url()).content.decode()


# --- nudge and remove ---------------------------------------------------------------------------


def test_nudge_writes_one_email_to_the_member(client, story):
    url = reverse("cohorts:nudge", args=[story.cohort.pk])
    login(client, story.dana)
    # The clock stands still: "the same note on the same day" is the coach's day, so a double
    # click on either side of midnight would be two days and two emails.
    with at(NOW):
        response = client.post(url, {"member": story.cat.pk, "note": "How is it going with Ivy?"}, headers=HTMX)
        assert response.status_code == 200
        assert "Your note to Cat Carter is on its way" in response.content.decode()
        assert "<html" not in response.content.decode()
        message = OutboxMessage.objects.get(key__startswith="coach_nudge:")
        assert message.to == [story.cat.email]
        assert message.reply_to == [story.dana.email]
        assert "How is it going with Ivy?" in message.body_text
        assert "Dana Coach" in message.subject
        # A double click sends it once.
        again = client.post(url, {"member": story.cat.pk, "note": "How is it going with Ivy?"}, headers=HTMX)
        said = re.sub(r"<[^>]+>", "", unescape(again.content.decode()))
        assert "You sent Cat Carter a note just now, so this one was not sent" in said
        assert OutboxMessage.objects.filter(key__startswith="coach_nudge:").count() == 1


def test_nudge_without_javascript_redirects_to_the_member(client, story):
    response = login(client, story.dana).post(
        reverse("cohorts:nudge", args=[story.cohort.pk]), {"member": story.ann.pk, "note": "Thank Jill?"}
    )
    assert response.status_code == 302
    assert response.url.endswith(f"?member={story.ann.pk}")
    assert OutboxMessage.objects.filter(to=[story.ann.email], key__startswith="coach_nudge:").count() == 1


def test_nudge_needs_a_note_and_a_member_of_the_cohort(client, story):
    url = reverse("cohorts:nudge", args=[story.cohort.pk])
    login(client, story.dana)
    empty = client.post(url, {"member": story.cat.pk, "note": "   "}, headers=HTMX)
    assert empty.status_code == 422
    assert 'id="nudge-form"' in empty.content.decode()
    assert client.post(url, {"member": story.cat.pk, "note": ""}).status_code == 422
    assert client.post(url, {"member": story.olive.pk, "note": "Hi"}).status_code == 404
    assert client.post(url, {"member": "x", "note": "Hi"}).status_code == 404
    assert client.get(url).status_code == 405
    assert not OutboxMessage.objects.filter(key__startswith="coach_nudge:").exists()


def test_remove_asks_first_then_removes_only_the_membership(client, story):
    other = CohortFactory(coach=story.dana)
    MembershipFactory(cohort=other, user=story.cat)
    url = reverse("cohorts:remove_member", args=[story.cohort.pk, story.cat.pk])
    login(client, story.dana)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Remove Cat Carter from Spring boot camp?" in confirm.content.decode()
    assert Membership.objects.filter(cohort=story.cohort, user=story.cat).exists()
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("cohorts:dashboard", args=[story.cohort.pk])
    assert not Membership.objects.filter(cohort=story.cohort, user=story.cat).exists()
    assert Membership.objects.filter(cohort=other, user=story.cat).exists()
    assert User.objects.filter(pk=story.cat.pk).exists()
    assert IntroRequest.objects.filter(seeker=story.cat).count() == 2
    assert Membership.objects.filter(cohort=story.cohort).count() == 4
    # Gone from the dashboard, and a second removal is a 404.
    html = _page(client, story.dana, cohort=story.cohort).content.decode()
    assert f'id="member-{story.cat.pk}"' not in html
    with at(NOW):
        assert client.post(url).status_code == 404


def test_remove_without_javascript_redirects_to_the_dashboard(client, story):
    url = reverse("cohorts:remove_member", args=[story.cohort.pk, story.dan.pk])
    response = login(client, story.dana).post(url)
    assert response.status_code == 302
    assert response.url == reverse("cohorts:dashboard", args=[story.cohort.pk])
    assert not Membership.objects.filter(cohort=story.cohort, user=story.dan).exists()


# --- the query count does not grow -----------------------------------------------------------------


def _bulk_cohort(size: int):
    """A cohort of `size` members, each with a request at every stage's event, outreach, follow-ups, an offer."""
    coach = UserFactory(full_name=f"Coach of {size}")
    connector = UserFactory(full_name=f"Connector of {size}")
    cohort = CohortFactory(coach=coach)
    contact = ContactFactory(owner=connector, email="bulk@" + TARGET_EMAIL_DOMAIN)
    users = User.objects.bulk_create(
        [User(email=f"bulk{size}-{i}@example.com", full_name=f"Member {i:03}", password="!") for i in range(size)]
    )
    Membership.objects.bulk_create([Membership(cohort=cohort, user=u, joined_at=on(1, month=1)) for u in users])
    intros = IntroRequest.objects.bulk_create(
        [
            IntroRequest(
                seeker=u,
                connector=connector,
                target=contact,
                status=Status.MET,
                mode=Mode.DOUBLE_OPT_IN,
                # The stamps the transitions below would set (intros.services.transition).
                first_submitted_at=on(2),
                approved_at=on(3),
                accepted_at=on(5),
                introduced_at=on(6),
                met_at=on(7),
            )
            for u in users
            for _ in range(2)
        ]
    )
    steps = [
        ("submit", Status.DRAFT, Status.SUBMITTED),
        ("approve", Status.SUBMITTED, Status.APPROVED),
        ("ask_target", Status.APPROVED, Status.AWAITING_TARGET),
        ("target_accept", Status.AWAITING_TARGET, Status.ACCEPTED),
        ("introduce", Status.ACCEPTED, Status.INTRODUCED),
        ("record_meeting", Status.INTRODUCED, Status.MET),
    ]
    IntroEvent.objects.bulk_create(
        [
            IntroEvent(
                intro=intro,
                actor=intro.seeker,
                actor_role="seeker",
                transition=name,
                from_status=src,
                to_status=dst,
                created_at=on(2 + n),
            )
            for intro in intros
            for n, (name, src, dst) in enumerate(steps)
        ]
    )
    Outreach.objects.bulk_create(
        [Outreach(intro=i, seeker=i.seeker, contact=contact, at=on(12), is_breach=True) for i in intros]
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(owner=i.seeker, intro=i, kind=kind, due_at=on(15), status=status, done_at=done_at)
            for i in intros
            for kind, status, done_at in [
                (FollowUp.Kind.THANK_CONNECTOR, "done", on(14)),
                (FollowUp.Kind.THANK_TARGET, "open", None),
            ]
        ]
    )
    Offer.objects.bulk_create(
        [
            Offer(seeker=u, offered_by_name="Sam", contact_name="Hal", status=Offer.Status.STALE, created_at=on(1))
            for u in users
        ]
    )
    return cohort, users


def _queries(client, cohort, name, query=""):
    url = reverse(name, args=[cohort.pk]) + query
    login(client, cohort.coach)
    with at(NOW), CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_the_cohort(client, django_assert_max_num_queries):
    small, _ = _bulk_cohort(5)
    large, large_users = _bulk_cohort(200)
    for name, query in [
        ("cohorts:dashboard", ""),
        ("cohorts:dashboard", "?period=90&sort=median&dir=asc"),
        ("cohorts:export_members", ""),
        ("cohorts:export_requests", ""),
        ("cohorts:dashboard_drill", "?stage=met"),
    ]:
        assert _queries(client, small, name, query) == _queries(client, large, name, query), name
    login(client, large.coach)
    # The session, the user, the cohort; then the funnel, the outreach pairs and the member rows.
    with at(NOW), django_assert_max_num_queries(6):
        response = client.get(reverse("cohorts:dashboard", args=[large.pk]))
    html = response.content.decode()
    assert html.count('<tr id="member-') == 25 and "Members 1–25 of 200" in html  # a page at a time
    attention = re.search(r'<section class="card attention".*?</section>', html, re.S).group(0)
    assert attention.count('class="item-title"') == 8 and "All 200 who need attention, in the member table" in attention
    assert "Requested: 400." in html and "Met: 400, 100% of the previous stage." in html
    with at(NOW):
        url = reverse("cohorts:dashboard", args=[large.pk])
        pages = [client.get(f"{url}?page={n}").content.decode() for n in range(1, 9)]
    assert sum(page.count('<tr id="member-') for page in pages) == 200
    [html] = [page for page in pages if f'<tr id="member-{large_users[0].pk}"' in page]
    cells = dashboard_cells(html, large_users[0].pk)
    assert (cells["breaches"], cells["stale"], cells["thanks"]) == ("2", "1", "50% (2 of 4)")
