import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intros import services
from intros.models import IntroRequest, TargetLink
from intros.states import Status
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory, IntroRequestFactory, MembershipFactory, UserFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions

pytestmark = pytest.mark.django_db

SEEKER_PAGES = ["intros:detail", "intros:edit"]
POST_ACTIONS = [
    "intros:submit",
    "intros:withdraw",
    "intros:approve",
    "intros:request_changes",
    "intros:decline",
    "intros:meeting",
    "intros:outcome",
    "intros:close",
]


@pytest.fixture
def intro(cohort, seeker, connector, target):
    return submitted(seeker=seeker, target=target)


def test_home_and_inbox_show_what_waits(client, intro, seeker, connector):
    client.force_login(seeker)
    home = client.get(reverse("intros:home"))
    assert home.status_code == 200
    assert "Waiting for Jill Connector to read your preparation." in home.content.decode()
    client.force_login(connector)
    inbox = client.get(reverse("intros:inbox"))
    assert "Janet Seeker asks to meet Carol Target" in inbox.content.decode()


def test_the_inbox_queue_shows_the_oldest_first_and_a_link_to_all(client, cohort, seeker, connector):
    from intros.views import LIST_ROWS

    for i in range(LIST_ROWS + 3):
        submitted(seeker=seeker, connector=connector, target=ContactFactory(owner=connector, name=f"Target {i:02}"))
    client.force_login(connector)
    inbox = client.get(reverse("intros:inbox")).content.decode()
    assert inbox.count("Vet the request") == LIST_ROWS
    assert "Target 00" in inbox and f"Target {LIST_ROWS:02}" not in inbox
    assert (
        f'The oldest {LIST_ROWS} of {LIST_ROWS + 3} are shown. <a href="?all=waiting">Show all {LIST_ROWS + 3}</a>'
        in inbox
    )
    everything = client.get(reverse("intros:inbox") + "?all=waiting").content.decode()
    assert everything.count("Vet the request") == LIST_ROWS + 3 and "Show all" not in everything


@pytest.mark.parametrize("name", ["intros:detail"])
def test_outsiders_and_cohort_members_get_404_on_the_request(client, intro, member, outsider, name):
    url = reverse(name, args=[intro.pk])
    for user in (member, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_outsiders_and_members_get_404_on_every_action(client, intro, member, outsider, name):
    url = reverse(name, args=[intro.pk])
    for user in (member, outsider):
        client.force_login(user)
        assert client.post(url, {"note": "x"}).status_code == 404
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED


@pytest.mark.parametrize("name", POST_ACTIONS)
def test_actions_refuse_get(client, intro, seeker, name):
    client.force_login(seeker)
    assert client.get(reverse(name, args=[intro.pk])).status_code == 405


def test_seeker_and_connector_both_see_the_request(client, intro, seeker, connector):
    for user in (seeker, connector):
        client.force_login(user)
        assert client.get(reverse("intros:detail", args=[intro.pk])).status_code == 200


def test_a_draft_is_not_shown_to_the_connector(client, cohort, seeker, connector, target):
    draft = IntroRequestFactory(seeker=seeker, target=target)
    client.force_login(connector)
    assert client.get(reverse("intros:detail", args=[draft.pk])).status_code == 404
    assert client.post(reverse("intros:approve", args=[draft.pk]), {}).status_code == 404


def test_connector_sees_the_vetting_page_with_track_record(client, intro, connector):
    client.force_login(connector)
    page = client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
    assert "track record so far" in page
    assert "Vet and approve" in page
    assert intro.goal in page


def test_approve_with_missing_vouch_shows_errors_next_to_fields(client, intro, connector):
    client.force_login(connector)
    response = client.post(reverse("intros:approve", args=[intro.pk]), {"vouch_note": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_vouch_note_error"' in page and 'id="id_checked_fit_error"' in page
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED


def test_approve_through_the_page_asks_the_target(client, intro, connector):
    client.force_login(connector)
    response = client.post(
        reverse("intros:approve", args=[intro.pk]),
        {
            "checked_preparation": "on",
            "checked_fit": "on",
            "checked_relationship": "on",
            "vouch_strength": "acquainted",
            "vouch_note": "We sat on a board together for two years.",
            "mode": "double_opt_in",
        },
    )
    assert response.status_code == 302
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET


def test_approve_by_htmx_answers_with_a_client_redirect(client, intro, connector):
    client.force_login(connector)
    response = client.post(
        reverse("intros:approve", args=[intro.pk]),
        {
            "checked_preparation": "on",
            "checked_fit": "on",
            "checked_relationship": "on",
            "vouch_strength": "close",
            "vouch_note": "We sat on a board together for two years.",
            "mode": "mention_name",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse("intros:detail", args=[intro.pk])


def test_target_email_is_hidden_from_the_seeker_until_acceptance(client, cohort, seeker, connector, target):
    intro = awaiting_target(seeker=seeker, target=target)
    client.force_login(seeker)
    page = client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
    assert target.email not in page
    assert "Shared once they accept" in page
    to_seeker = [m for m in OutboxMessage.objects.all() if seeker.email in m.to + m.cc]
    assert to_seeker  # the seeker was told things; none of it carried the target's email
    for message in to_seeker:
        assert target.email not in message.body_text + message.body_html
    link, _ = last_link_token(intro)

    actions.do_target_accept(link=link, terms=services.TargetTerms())
    page = client.get(reverse("intros:detail", args=[intro.pk])).content.decode()
    assert target.email in page


def test_create_request_only_for_contacts_shared_with_me(client, cohort, seeker, connector, outsider):
    shared = ContactFactory(owner=connector, shareable=True)
    private = ContactFactory(owner=connector, shareable=False)
    strangers = ContactFactory(owner=outsider, shareable=True)
    client.force_login(seeker)
    assert client.get(reverse("intros:create", args=[shared.pk])).status_code == 200
    assert client.get(reverse("intros:create", args=[private.pk])).status_code == 404
    assert client.get(reverse("intros:create", args=[strangers.pk])).status_code == 404
    find = client.get(reverse("intros:find"), {"q": shared.name.split()[0]}).content.decode()
    assert shared.name in find and private.name not in find
    assert shared.email not in find


def test_find_answers_htmx_with_only_the_results(client, cohort, seeker, target):
    client.force_login(seeker)
    response = client.get(reverse("intros:find"), {"q": "Carol"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert 'id="results"' in page and "<html" not in page
    assert "Carol Target" in page


def test_submitting_thin_preparation_keeps_the_draft_and_names_each_gap(client, cohort, seeker, target):
    client.force_login(seeker)
    response = client.post(
        reverse("intros:create", args=[target.pk]), {"goal": "Connect", "blurb": "Hi", "submit": "1"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_goal_error"' in page and 'id="id_questions_error"' in page
    draft = IntroRequest.objects.get(seeker=seeker)
    assert draft.status == Status.DRAFT and draft.goal == "Connect"  # nothing typed is lost


def test_target_page_shows_blurb_and_vouch_and_three_answers(client, intro):

    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="acquainted",
        vouch_note="Janet ran our budget well.",
        mode="double_opt_in",
    )
    _link, token = last_link_token(intro)
    url = reverse("intros:target", args=[intro.pk, token])
    page = client.get(url).content.decode()
    assert intro.blurb[:30] in page
    assert "Janet ran our budget well." in page
    assert "Acquainted" in page
    for answer in ("Yes, introduce us", "Not now", "No, thank you"):
        assert answer in page
    assert intro.seeker.email not in page


def test_target_accepts_through_the_page_with_terms(client, intro):

    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="Known her for years.",
        mode="double_opt_in",
    )
    _, token = last_link_token(intro)
    url = reverse("intros:target", args=[intro.pk, token])
    busy = (timezone.localdate() + dt.timedelta(days=4)).isoformat()
    response = client.post(url, {"action": "accept", "accept-writes_first": "target", "accept-busy_until": busy})
    assert response.status_code == 200
    assert "You accepted" in response.content.decode()
    intro.refresh_from_db()
    assert intro.status == Status.INTRODUCED and intro.target_writes_first
    again = client.post(url, {"action": "accept", "accept-writes_first": "seeker"})
    assert again.status_code == 410
    assert "already answered" in again.content.decode()


def test_target_form_errors_keep_the_panel_open(client, intro):

    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="Known her for years.",
        mode="double_opt_in",
    )
    link, token = last_link_token(intro)
    response = client.post(
        reverse("intros:target", args=[intro.pk, token]), {"action": "defer", "defer-until": "2001-01-01"}
    )
    assert response.status_code == 422
    assert "Choose a date after today." in response.content.decode()
    link.refresh_from_db()
    assert link.used_at is None


@pytest.mark.parametrize("mutation", ["tamper", "other_request", "garbage"])
def test_bad_target_links_get_a_clear_page(client, mutation):
    intro = awaiting_target()
    other = awaiting_target()
    _, token = last_link_token(intro)
    pk = intro.pk
    if mutation == "tamper":
        token = token[:-2] + ("xy" if token[-2:] != "xy" else "yz")
    elif mutation == "other_request":
        pk = other.pk
    else:
        token = "not-a-token"
    response = client.get(reverse("intros:target", args=[pk, token]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode() or "different introduction" in response.content.decode()


def test_the_step_back_link_lets_the_target_step_back_after_the_introduction(client):
    intro = accepted()
    _, token = last_link_token(intro, TargetLink.Purpose.STEP_BACK)
    url = reverse("intros:target", args=[intro.pk, token])
    assert "Step back" in client.get(url).content.decode()
    response = client.post(url, {"action": "step_back", "step_back-note": "Busy season."})
    assert response.status_code == 200
    intro.refresh_from_db()
    assert intro.status == Status.DROPPED_BY_TARGET


def test_step_back_link_keeps_its_promise_after_the_answer_links_would_expire_and_ends_at_the_meeting(client, settings):
    """Its email says "at any time before you meet": a month on it still works, while an answer
    link of the same age has expired; once they have met it is refused, whatever its age."""
    intro = accepted()
    _, token = last_link_token(intro, TargetLink.Purpose.STEP_BACK)
    url = reverse("intros:target", args=[intro.pk, token])
    a_month_on = timezone.now() + dt.timedelta(days=settings.TARGET_LINK_MAX_AGE_DAYS + 16)
    with time_machine.travel(a_month_on, tick=False):
        assert "Step back" in client.get(url).content.decode()
        waiting = awaiting_target()
        _, answer = last_link_token(waiting)
    with time_machine.travel(a_month_on + dt.timedelta(days=settings.TARGET_LINK_MAX_AGE_DAYS, minutes=1), tick=False):
        assert client.get(reverse("intros:target", args=[waiting.pk, answer])).status_code == 410
    met = accepted()
    _, met_token = last_link_token(met, TargetLink.Purpose.STEP_BACK)
    actions.do_record_meeting(intro=met, seeker=met.seeker, met_on=timezone.localdate())
    response = client.post(reverse("intros:target", args=[met.pk, met_token]), {"action": "step_back"})
    met.refresh_from_db()
    assert met.status == Status.MET
    assert response.status_code == 410 and "Nothing has changed" in response.content.decode()


def test_cohort_member_cannot_request_through_a_contact_of_another_cohort(client, seeker):
    other_member = UserFactory()
    MembershipFactory(user=other_member)
    contact = ContactFactory(owner=other_member, shareable=True)
    client.force_login(seeker)
    assert client.post(reverse("intros:create", args=[contact.pk]), {"goal": "x"}).status_code == 404
    assert not IntroRequest.objects.exists()


def test_home_lists_the_latest_open_requests_and_a_link_to_all(client, cohort, seeker, connector):
    from intros.views import LIST_ROWS

    for i in range(LIST_ROWS + 2):
        submitted(seeker=seeker, connector=connector, target=ContactFactory(owner=connector, name=f"Target {i:02}"))
    client.force_login(seeker)
    home = client.get(reverse("intros:home")).content.decode()
    assert home.count("via Jill Connector") == LIST_ROWS
    assert f"Show all {LIST_ROWS + 2} open requests" in home
    everything = client.get(reverse("intros:home") + "?all=open").content.decode()
    assert everything.count("via Jill Connector") == LIST_ROWS + 2 and "Show all" not in everything


def test_find_pages_the_matches_in_order_and_counts_them_from_one_scan(
    client, cohort, seeker, connector, outsider, django_assert_num_queries
):
    for i in range(33):
        ContactFactory(owner=connector, shareable=True, name=f"Person {i:02}", organisation=f"Northwind {i % 3}")
    ContactFactory(owner=connector, shareable=True, name="Other Person", organisation="Contoso")
    ContactFactory(owner=connector, shareable=False, name="Private Person", organisation="Northwind 0")
    ContactFactory(owner=outsider, shareable=True, name="Stranger Person", organisation="Northwind 0")
    client.force_login(seeker)
    url = reverse("intros:find")
    # session, user, the matching ids (found, ordered and counted at once), the page's rows, the
    # seeker's own requests to them (open, or ended in a no: "already open", "asked before")
    with django_assert_num_queries(5):
        first = client.get(url, {"q": "northwind"}).content.decode()
    second = client.get(url, {"q": "northwind", "page": 2}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    expected = [f"Person {i:02}" for i in sorted(range(33), key=lambda i: (i % 3, i))]
    shown = re.findall(r'<span class="item-title">(Person \d\d)</span>', first + second)
    assert shown == expected  # by organisation, then name; 30 then 3
    for absent in ("Other Person", "Private Person", "Stranger Person"):
        assert absent not in first + second


def _requests_in_every_state(seeker, connector, per_state: int) -> None:
    """Rows for both lists: `seeker` asks `connector`'s contacts, in every state."""
    for status in Status.values:
        for _ in range(per_state):
            IntroRequestFactory(
                seeker=seeker,
                target=ContactFactory(owner=connector),
                status=status,
                mode="" if status in (Status.DRAFT, Status.SUBMITTED) else "double_opt_in",
                # Every state but a draft was reached through a submission (the connector's to see).
                first_submitted_at=None if status == Status.DRAFT else timezone.now(),
            )


@pytest.mark.parametrize(
    ("url_name", "who", "queries"),
    # session, user; home: open rows, both counts, due today, the outreach logs of the rows that
    # get guidance (one grouped query), recently finished, cohorts coached; inbox: waiting, in
    # progress, past, the three counts
    [("intros:home", "seeker", 8), ("intros:inbox", "connector", 6)],
)
def test_home_and_inbox_queries_do_not_grow_with_requests(
    client, seeker, connector, url_name, who, queries, django_assert_num_queries
):
    viewer = {"seeker": seeker, "connector": connector}[who]
    client.force_login(viewer)
    _requests_in_every_state(seeker, connector, 1)
    with django_assert_num_queries(queries):
        few = client.get(reverse(url_name)).content.decode()
    _requests_in_every_state(seeker, connector, 3)
    with django_assert_num_queries(queries):
        many = client.get(reverse(url_name)).content.decode()
    # The rows name the people on the other side, and the viewer's own name where it is part
    # of the next step, from the rows' own joins and the viewer (nothing loaded per row).
    assert many.count('class="item-title"') > few.count('class="item-title"')
    other = connector if who == "seeker" else seeker
    assert other.full_name in many


def test_home_due_today_costs_the_same_queries_however_many(client, cohort, seeker, connector):
    """Follow-ups due today come with their introduction and its target in the home's own query,
    loading only what a row reads: a row reaching for more would cost a query of its own."""
    from followups.models import FollowUp

    def reach_out_due() -> IntroRequest:
        intro = accepted(seeker=seeker, target=ContactFactory(owner=connector))
        FollowUp.objects.update_or_create(
            intro=intro,
            kind=FollowUp.Kind.REACH_OUT,
            defaults={"owner": seeker, "counterpart": intro.target.name, "due_at": timezone.now()},
        )
        return intro

    client.force_login(seeker)
    first = reach_out_due()
    with CaptureQueriesContext(connection) as one:
        page = client.get(reverse("intros:home")).content.decode()
    assert f"the introduction to {first.target.name}" in page
    more = [reach_out_due() for _ in range(3)]
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("intros:home")).content.decode()
    assert all(f"the introduction to {intro.target.name}" in page for intro in more)
    assert 'class="guidance"' in page
    assert len(many) == len(one), [q["sql"][:120] for q in many]


def test_a_draft_withdrawn_unsubmitted_never_reaches_the_connector(client, seeker, connector, target):

    draft = IntroRequestFactory(seeker=seeker, target=target)
    actions.do_withdraw(intro=draft, seeker=seeker)
    client.force_login(connector)
    assert target.name not in client.get(reverse("intros:inbox")).content.decode()
    assert client.get(reverse("intros:detail", args=[draft.pk])).status_code == 404
    assert client.get(reverse("intros:chain", args=[draft.pk])).status_code == 404
    from intros.personal_data import export

    assert list(export(connector)["intro_requests_as_connector"]) == []  # nor in their data download
    client.force_login(seeker)
    assert client.get(reverse("intros:detail", args=[draft.pk])).status_code == 200
