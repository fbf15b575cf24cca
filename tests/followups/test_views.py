"""The follow-up pages: who may see and do what, htmx fragments, the calendar feed, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from followups import services
from followups.models import CalendarFeed, FollowUp, Offer, ReminderLog
from followups.sweep import sweep
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory, UserFactory
from tests.stories import accepted
from workflows import intros as actions

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LOGIN = reverse(settings.LOGIN_URL)


def unfold(ics: bytes) -> str:
    """ICS lines longer than 75 octets are folded (CRLF + space); read them whole."""
    return ics.decode().replace("\r\n ", "")


@pytest.fixture
def followup(seeker):
    return FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=timezone.now() + dt.timedelta(days=1),
        next_action_at=timezone.now() + dt.timedelta(days=1),
    )


@pytest.fixture
def intro(seeker, target, cohort):
    """Janet has been introduced to Carol (double opt-in, Carol accepted)."""
    return accepted(seeker=seeker, target=target)


@pytest.fixture
def offer(seeker, cohort):
    return services.offer_create(seeker=seeker, offered_by_name="Sam Offerer", contact_name="Rita Recruiter")


# --- who may do what ------------------------------------------------------------------------------

FOLLOWUP_ACTIONS = ["done", "skip", "snooze"]
ACT = reverse_lazy("followups:act")


def act(action: str, followup, days: str = "3") -> dict:
    """The post of one button on the follow-up list: its action and follow-up, and the row's days."""
    return {action: str(followup.pk), f"days-{followup.pk}": days}


OFFER_ACTIONS = [
    "followups:offer_self_contact",
    "followups:offer_request",
    "followups:offer_contacted",
    "followups:offer_dismiss",
]


@pytest.mark.parametrize("action", FOLLOWUP_ACTIONS)
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_someone_elses_followup_is_a_404_and_stays_open(client, request, followup, member, outsider, action, who):
    due = followup.due_at
    client.force_login(request.getfixturevalue(who))
    response = client.post(ACT, act(action, followup))
    assert response.status_code == 404
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN and followup.due_at == due


@pytest.mark.parametrize("action", FOLLOWUP_ACTIONS)
def test_followup_actions_are_post_only_and_need_a_login(client, seeker, followup, action):
    client.force_login(seeker)
    assert client.get(ACT).status_code == 405
    client.logout()
    response = client.post(ACT, act(action, followup))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN


def test_my_followups_page_shows_only_my_own(client, seeker, member, outsider, followup):
    client.force_login(seeker)
    page = client.get(reverse("followups:list"))
    assert page.status_code == 200
    assert "Thank the connector" in page.content.decode() and f'id="followup-{followup.pk}"' in page.content.decode()
    for other in (member, outsider):
        client.force_login(other)
        page = client.get(reverse("followups:list"))
        assert page.status_code == 200
        assert f'id="followup-{followup.pk}"' not in page.content.decode()
        assert "Nothing coming up" in page.content.decode()


def test_anonymous_is_sent_to_log_in_from_every_page(client, intro):
    for url in (
        reverse("followups:list"),
        reverse("followups:offers"),
        reverse("followups:outreach", args=[intro.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(LOGIN), url
    response = client.post(reverse("followups:calendar_reset"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


@pytest.mark.parametrize("who", ["member", "outsider", "connector"])
def test_outreach_form_of_someone_elses_intro_is_a_404(client, request, intro, member, outsider, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("followups:outreach", args=[intro.pk])
    assert client.get(url).status_code == 404
    at = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"at": at, "channel": "email", "confirmed": "True"}).status_code == 404
    assert not intro.outreaches.exists()


def test_seeker_sees_the_outreach_form(client, seeker, intro):
    client.force_login(seeker)
    response = client.get(reverse("followups:outreach", args=[intro.pk]))
    assert response.status_code == 200
    assert "Log your outreach to Carol Target" in response.content.decode()


@pytest.mark.parametrize("name", OFFER_ACTIONS)
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_someone_elses_offer_is_a_404(client, request, offer, member, outsider, name, who):
    client.force_login(request.getfixturevalue(who))
    assert client.post(reverse(name, args=[offer.pk])).status_code == 404
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OPEN
    assert not FollowUp.objects.filter(offer=offer).exists()


@pytest.mark.parametrize("name", OFFER_ACTIONS)
def test_offer_actions_are_post_only_and_need_a_login(client, seeker, offer, name):
    url = reverse(name, args=[offer.pk])
    client.force_login(seeker)
    assert client.get(url).status_code == 405
    client.logout()
    response = client.post(url)
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.OPEN


def test_offers_page_lists_only_my_offers(client, seeker, member, outsider, offer):
    client.force_login(seeker)
    assert "Rita Recruiter" in client.get(reverse("followups:offers")).content.decode()
    for other in (member, outsider):
        client.force_login(other)
        page = client.get(reverse("followups:offers"))
        assert page.status_code == 200 and "Rita Recruiter" not in page.content.decode()


def test_calendar_reset_is_post_only(client, seeker):
    client.force_login(seeker)
    assert client.get(reverse("followups:calendar_reset")).status_code == 405


# --- done / snooze / skip ---------------------------------------------------------------------------


def test_done_through_the_page_redirects_and_moves_it_to_recently_done(client, seeker, followup):
    client.force_login(seeker)
    response = client.post(ACT, act("done", followup), follow=True)
    assert response.redirect_chain == [(reverse("followups:list"), 302)]
    page = response.content.decode()
    assert "Done: thank the connector." in page
    assert "Recently done" in page and "Nothing coming up" in page
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.DONE and followup.done_at is not None and followup.next_action_at is None
    # A second click finds nothing open to tick off.
    assert client.post(ACT, act("done", followup)).status_code == 404


def test_done_with_htmx_returns_the_row_not_a_page(client, seeker, followup):
    client.force_login(seeker)
    response = client.post(ACT, act("done", followup), headers=HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    # The row, preceded only by the out-of-band messages block that says what happened.
    messages_block, _, row = fragment.partition(f'<li id="followup-{followup.pk}"')
    assert row, fragment[:300]
    assert 'id="messages"' in messages_block and 'hx-swap-oob="true"' in messages_block
    assert "Done: thank the connector." in messages_block
    assert "<li" not in messages_block
    assert "<html" not in fragment and "My follow-ups" not in fragment
    assert "Thank the connector" in fragment and "Done" in fragment
    assert 'name="done"' not in fragment and "<button" not in fragment  # no buttons left on a done row
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.DONE


def test_skip_with_htmx_returns_the_row_marked_skipped(client, seeker, followup):
    client.force_login(seeker)
    response = client.post(ACT, act("skip", followup), headers=HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert f'id="followup-{followup.pk}"' in fragment and "Skipped" in fragment
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.SKIPPED and followup.next_action_at is None


def test_skip_through_the_page(client, seeker, followup):
    client.force_login(seeker)
    response = client.post(ACT, act("skip", followup), follow=True)
    assert "Skipped: thank the connector." in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.SKIPPED


def test_snooze_moves_the_due_date_and_earns_a_new_reminder(client, seeker, followup):
    followup.reminders_sent = 1
    followup.save(update_fields=["reminders_sent"])
    due = followup.due_at
    client.force_login(seeker)
    # "in 4 days" counts calendar days from the moment the page is drawn: draw it at the moment
    # the follow-up was made (due in a day), not a midnight later.
    with time_machine.travel(due - dt.timedelta(days=1), tick=False):
        response = client.post(ACT, act("snooze", followup, "3"), headers=HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert f'id="followup-{followup.pk}"' in fragment and "in 4 days" in fragment
    followup.refresh_from_db()
    assert followup.due_at == due + dt.timedelta(days=3) == followup.next_action_at
    assert followup.status == FollowUp.Status.OPEN
    # The reminder for the new date goes out once, numbered after the one already sent (a
    # number already in the log would never go out).
    ReminderLog.objects.create(
        kind=ReminderLog.Kind.FOLLOWUP, object_id=followup.pk, sequence=1, sent_at=due - dt.timedelta(days=1)
    )
    moment = followup.due_at
    while moment is not None:  # as beat would: at the due date, then later if that was in quiet hours
        sweep(now=moment)
        sweep(now=moment)
        followup.refresh_from_db()
        moment = followup.next_action_at
    assert OutboxMessage.objects.filter(to=[seeker.email], subject__startswith="Reminder:").count() == 1
    assert list(ReminderLog.objects.filter(object_id=followup.pk).values_list("sequence", flat=True)) == [1, 2]


def test_snooze_through_the_page_says_until_when(client, seeker, followup):
    client.force_login(seeker)
    response = client.post(ACT, act("snooze", followup, "7"), follow=True)
    followup.refresh_from_db()
    assert f"Snoozed until {timezone.localtime(followup.due_at):%a %-d %b}" in response.content.decode()


@pytest.mark.parametrize("days", ["", "0", "45", "soon"])
def test_snooze_with_a_bad_choice_changes_nothing(client, seeker, followup, days):
    due = followup.due_at
    client.force_login(seeker)
    response = client.post(ACT, act("snooze", followup, days), follow=True)
    assert "Choose how long to snooze." in response.content.decode()
    followup.refresh_from_db()
    assert followup.due_at == due
    # With htmx the answer is a client redirect, never a bare 302.
    response = client.post(ACT, act("snooze", followup, days), headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("followups:list")


@pytest.mark.parametrize(
    "data",
    [{}, {"done": ""}, {"done": "²"}, {"done": "12abc"}, {"skip": "-1"}, {"days-1": "3"}],
    ids=["no button", "no id", "superscript two", "not a number", "negative", "days alone"],
)
def test_a_post_naming_no_follow_up_says_so_and_changes_nothing(client, seeker, followup, data):
    client.force_login(seeker)
    response = client.post(ACT, data, follow=True)
    assert "Choose Done, Snooze or Skip on one of your follow-ups." in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.OPEN
    response = client.post(ACT, data, headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("followups:list")


def test_the_list_has_one_form_however_many_rows(client, seeker):
    """Rows are plain values and buttons, not a form each: the page's forms do not grow with it."""
    client.force_login(seeker)

    def forms_and_buttons() -> tuple[int, int]:
        page = client.get(reverse("followups:list")).content.decode()
        return page.count("<form"), page.count('hx-post="' + str(ACT) + '"')

    def one(n: int) -> None:  # an offer's follow-up: any number of them may be open
        offer = services.offer_create(seeker=seeker, offered_by_name="Sam Offerer", contact_name=f"Rita {n}")
        FollowUp.objects.create(
            owner=seeker,
            offer=offer,
            kind=FollowUp.Kind.OFFER_CONTACT,
            counterpart=offer.contact_name,
            due_at=timezone.now() + dt.timedelta(days=3 + n),
        )

    one(0)
    few = forms_and_buttons()
    for n in range(1, 13):
        one(n)
    many = forms_and_buttons()
    assert many[0] == few[0]  # the same forms (the coming-up list's one, the calendar's)
    assert many[1] == few[1] + 12 * 3  # Done, Snooze and Skip on each new row


def test_list_sorts_into_overdue_today_and_coming_up(client, seeker):
    now = timezone.now()
    kinds = {
        FollowUp.Kind.THANK_TARGET: now - dt.timedelta(days=2),
        FollowUp.Kind.REPORT_OUTCOME: now + dt.timedelta(days=5),
    }
    for kind, due in kinds.items():
        FollowUp.objects.create(owner=seeker, kind=kind, counterpart="Carol Target", due_at=due)
    client.force_login(seeker)
    page = client.get(reverse("followups:list")).content.decode()
    overdue, rest = page.split('id="today-heading"')
    today, upcoming = rest.split('id="upcoming-heading"')
    assert "Thank them for meeting" in overdue and "Report the outcome" not in overdue
    assert "Nothing due today." in today
    assert "Report the outcome to the connector" in upcoming and "Thank them for meeting" not in upcoming


# --- calendar feed ------------------------------------------------------------------------------------


def test_calendar_feed_holds_my_open_followups_and_nobody_elses(client, seeker, outsider, followup):
    FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.REPORT_OUTCOME,
        counterpart="Already Reported",
        due_at=timezone.now(),
        status=FollowUp.Status.DONE,
    )
    FollowUp.objects.create(
        owner=outsider, kind=FollowUp.Kind.THANK_TARGET, counterpart="Secret Person", due_at=timezone.now()
    )
    client.force_login(seeker)
    list_page = client.get(reverse("followups:list")).content.decode()
    feed = CalendarFeed.objects.get(user=seeker)
    url = reverse("followups:calendar", args=[feed.token])
    assert url in list_page
    client.logout()  # calendar apps cannot log in: the token is the key
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = unfold(response.content)
    assert body.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY:Thank the connector — Jill Connector" in body
    assert f"UID:followup-{followup.pk}@" in body
    assert "Already Reported" not in body
    assert "Secret Person" not in body


def test_calendar_feed_holds_the_recent_and_coming_and_links_each_introduction(client, seeker, connector, target):
    from followups.calendar import FOLLOWUPS_SINCE

    intro = accepted(seeker=seeker, connector=connector, target=target)
    now = timezone.now()
    FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_TARGET,
        counterpart="Long Ago",
        due_at=now - FOLLOWUPS_SINCE - dt.timedelta(days=1),
    )
    FollowUp.objects.create(
        owner=seeker,
        kind=FollowUp.Kind.THANK_TARGET,
        counterpart="Last Week",
        due_at=now - dt.timedelta(days=7),
        intro=intro,
    )
    feed = CalendarFeed.objects.create(user=seeker)
    body = unfold(client.get(reverse("followups:calendar", args=[feed.token])).content)
    assert "Last Week" in body and "Long Ago" not in body  # older overdue ones stay on the follow-ups page
    assert f"URL:{settings.SITE_URL}{reverse('intros:detail', args=[intro.pk])}" in body


def test_calendar_feed_is_kept_for_the_minute_and_dropped_when_a_followup_changes(client, seeker, followup):
    """Calendar apps poll: a repeat costs the token lookup only, and a change shows at once."""
    feed = CalendarFeed.objects.create(user=seeker)
    url = reverse("followups:calendar", args=[feed.token])
    # The clock stands still: the feed is kept for its minute, and a running clock could tick
    # into the next one between the two polls (a fresh feed then, with a new DTSTAMP).
    with time_machine.travel(timezone.now(), tick=False):
        first = client.get(url).content
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).content == first
        assert len(queries) == 1  # the feed's token; the body is the kept one

        services.followup_snooze(followup=followup, days=3, now=timezone.now())
        moved = unfold(client.get(url).content)
        assert f"DTSTART:{followup.due_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in moved
        followup.status = FollowUp.Status.DONE
        followup.save()
        assert "Jill Connector" not in unfold(client.get(url).content)


def test_calendar_feed_shows_a_new_meeting_at_once(client, seeker, connector, target):
    intro = accepted(seeker=seeker, connector=connector, target=target)
    feed = CalendarFeed.objects.create(user=connector)
    url = reverse("followups:calendar", args=[feed.token])
    assert f"meeting-{intro.pk}@" not in client.get(url).content.decode()
    actions.do_record_meeting(intro=intro, seeker=seeker, met_on=timezone.localdate())
    assert f"meeting-{intro.pk}@" in unfold(client.get(url).content)


def test_calendar_with_a_wrong_token_is_a_404(client, seeker):
    CalendarFeed.objects.create(user=seeker)
    assert client.get(reverse("followups:calendar", args=["not-the-token"])).status_code == 404


def test_calendar_of_a_deactivated_user_is_a_404(client, seeker):
    feed = CalendarFeed.objects.create(user=seeker)
    seeker.is_active = False
    seeker.save(update_fields=["is_active"])
    assert client.get(reverse("followups:calendar", args=[feed.token])).status_code == 404


def test_calendar_reset_retires_the_old_address(client, seeker, followup):
    feed = CalendarFeed.objects.create(user=seeker)
    old_url = reverse("followups:calendar", args=[feed.token])
    assert client.get(old_url).status_code == 200
    client.force_login(seeker)
    response = client.post(reverse("followups:calendar_reset"), follow=True)
    assert "the old one no longer works" in response.content.decode()
    feed.refresh_from_db()
    new_url = reverse("followups:calendar", args=[feed.token])
    assert new_url != old_url and new_url in response.content.decode()
    client.logout()
    assert client.get(old_url).status_code == 404
    assert "Thank the connector" in unfold(client.get(new_url).content)


def test_calendar_reset_with_htmx_is_a_client_redirect(client, seeker):
    client.force_login(seeker)
    response = client.post(reverse("followups:calendar_reset"), headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("followups:list")


# --- query counts ----------------------------------------------------------------------------------------


def _followups_for(seeker, n: int) -> None:
    """n open follow-ups (a third on introductions, a third on offers) and n finished ones."""
    connector = UserFactory(full_name="Jill Connector")
    now = timezone.now()
    for i in range(n):
        intro = offer = None
        if i % 3 == 0:
            intro = accepted(seeker=seeker, target=ContactFactory(owner=connector, shareable=True))
        elif i % 3 == 1:
            offer = services.offer_create(seeker=seeker, offered_by_name="Sam", contact_name=f"Person {i}")
        for status, due in ((FollowUp.Status.OPEN, now + dt.timedelta(hours=i - n // 2)), (FollowUp.Status.DONE, now)):
            FollowUp.objects.create(
                owner=seeker,
                intro=intro,
                offer=offer,
                kind=FollowUp.Kind.THANK_TARGET if status == FollowUp.Status.OPEN else FollowUp.Kind.REPORT_OUTCOME,
                counterpart=f"Person {i}",
                due_at=due,
                status=status,
                done_at=now if status == FollowUp.Status.DONE else None,
            )
    # One reach-out is overdue, so each list shows a follow-up about a first contact, with its
    # introduction's guidance (what that costs is the same for one row or many).
    first = FollowUp.objects.filter(owner=seeker, kind=FollowUp.Kind.REACH_OUT).order_by("pk").first()
    FollowUp.objects.filter(pk=first.pk).update(due_at=now - dt.timedelta(days=1))


def _list_queries(client, user) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("followups:list"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_followup_list_query_count_does_not_grow_with_followups(
    client, seeker, outsider, django_assert_max_num_queries
):
    # Introductions also create their own follow-ups (reach out, thank the connector): all of them count.
    _followups_for(seeker, 3)
    _followups_for(outsider, 30)
    client.force_login(outsider)
    client.get(reverse("followups:list"))  # the calendar feed row is created on the first visit
    client.force_login(seeker)
    client.get(reverse("followups:list"))
    few, few_page = _list_queries(client, seeker)
    client.force_login(outsider)
    many, many_page = _list_queries(client, outsider)
    assert few_page.count('class="next-action"') < many_page.count('class="next-action"')
    assert many_page.count("Recently done") == 1 and many_page.count("the offer</a>") > 10
    assert 'class="guidance"' in few_page and 'class="guidance"' in many_page
    assert many == few
    with django_assert_max_num_queries(few):
        client.get(reverse("followups:list"))


def test_each_section_shows_its_first_rows_and_a_link_to_all_of_them(client, seeker):
    from followups.views import SECTION_ROWS

    now = timezone.now()
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=seeker,
            kind=FollowUp.Kind.THANK_CONNECTOR,
            counterpart=f"Person {i:02}",
            due_at=now - dt.timedelta(days=30 - i),
        )
        for i in range(SECTION_ROWS + 5)
    )
    client.force_login(seeker)
    page = client.get(reverse("followups:list")).content.decode()
    overdue = page.split('id="today-heading"')[0]
    assert overdue.count('class="next-action"') == SECTION_ROWS
    assert f'Overdue <span class="muted">({SECTION_ROWS + 5})</span>' in overdue
    assert "Person 00" in overdue and f"Person {SECTION_ROWS:02}" not in overdue  # oldest first
    assert f'<a href="?all=overdue#overdue-heading">Show all {SECTION_ROWS + 5}</a>' in overdue
    everything = client.get(reverse("followups:list") + "?all=overdue").content.decode()
    overdue = everything.split('id="today-heading"')[0]
    assert overdue.count('class="next-action"') == SECTION_ROWS + 5 and "Show all" not in overdue
