"""Asking twice, and asking someone who said no.

One open request per seeker and person: the warm-path search and the new-request form point to
the open one instead of opening a blank one, the service refuses a second, and the database
holds it. A request to someone who declined, stepped back or never answered shows that history
to the seeker (and then to the connector) and needs a short "why now"."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followups import services as followup_services
from intros import services
from intros.models import IntroEvent, IntroRequest
from intros.states import OPEN_STATES, Outcome, Status
from lib.outbox.models import OutboxMessage
from tests.factories import GOOD_PREPARATION, ContactFactory, IntroRequestFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions

pytestmark = pytest.mark.django_db

WHY_NOW = "She moved to the Berlin office in March and now hires for the team I know best."


def _said_no(status: str, seeker, target, **fields) -> IntroRequest:
    """A request of `seeker` to `target` (with `fields`) that ended in `status`."""
    if status == Status.DECLINED_BY_CONNECTOR:
        intro = submitted(seeker=seeker, target=target, **fields)
        actions.do_decline(intro=intro, connector=intro.connector, note="Not the right moment for her.")
    elif status == Status.DECLINED_BY_TARGET:
        intro = awaiting_target(seeker=seeker, target=target, **fields)
        link, _ = last_link_token(intro)
        actions.do_target_decline(link=link, note="Too much on my plate this spring.")
    elif status == Status.EXPIRED:
        intro = awaiting_target(seeker=seeker, target=target, **fields)
        actions.do_expire(intro=intro)
    else:
        intro = accepted(seeker=seeker, target=target, **fields)
        link, _ = last_link_token(intro, purpose="step_back")
        actions.do_target_step_back(link=link, note="I asked for four days.")
    intro.refresh_from_db()
    assert intro.status == status
    return intro


# --- one open request per seeker and person --------------------------------------------------


def test_find_points_to_the_open_request_instead_of_offering_another(client, cohort, seeker, connector, target):
    other = ContactFactory(owner=connector, shareable=True, name="Olga Other")
    draft = IntroRequestFactory(seeker=seeker, target=target)
    client.force_login(seeker)
    page = client.get(reverse("intros:find")).content.decode()
    assert f'href="{draft.get_absolute_url()}">You already have a request open — see it</a>' in page
    assert reverse("intros:create", args=[target.pk]) not in page
    assert reverse("intros:create", args=[other.pk]) in page  # everyone else can still be asked


def test_find_says_when_a_person_said_no_before(client, cohort, seeker, target):
    _said_no(Status.DECLINED_BY_TARGET, seeker, target)
    client.force_login(seeker)
    page = client.get(reverse("intros:find")).content.decode()
    assert "You asked before:" in page and "badge-declined_by_target" in page
    assert reverse("intros:create", args=[target.pk]) in page  # asking again stays possible


def test_find_counts_its_queries_whatever_the_history(client, cohort, seeker, connector, django_assert_num_queries):
    contacts = [ContactFactory(owner=connector, shareable=True, name=f"Person {i}") for i in range(6)]
    client.force_login(seeker)
    url = reverse("intros:find")
    with django_assert_num_queries(5):
        client.get(url)
    IntroRequestFactory(seeker=seeker, target=contacts[0])
    _said_no(Status.EXPIRED, seeker, contacts[1])
    _said_no(Status.DECLINED_BY_CONNECTOR, seeker, contacts[2])
    IntroRequestFactory(seeker=seeker, target=contacts[2])  # asked again after a no: open wins
    with django_assert_num_queries(5):
        page = client.get(url).content.decode()
    assert page.count("You already have a request open — see it") == 2
    assert page.count("You asked before:") == 1


def test_the_new_request_form_points_to_the_open_request_and_makes_nothing(client, cohort, seeker, target):
    draft = IntroRequestFactory(seeker=seeker, target=target)
    client.force_login(seeker)
    url = reverse("intros:create", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "You already have a request open to meet Carol Target" in html
    assert f'href="{draft.get_absolute_url()}"' in html and "<textarea" not in html
    posted = client.post(url, {**GOOD_PREPARATION, "submit": "1"})
    assert posted.status_code == 409
    assert IntroRequest.objects.filter(seeker=seeker, target=target).count() == 1
    assert not OutboxMessage.objects.exists()


def test_the_service_refuses_a_second_open_request(seeker, target):
    first = IntroRequestFactory(seeker=seeker, target=target)
    with pytest.raises(services.AlreadyOpen) as raised:
        services.intro_create_draft(seeker=seeker, target=target, **GOOD_PREPARATION)
    assert raised.value.intro == first
    assert "already have a request open to meet Carol Target" in str(raised.value)


def test_two_tabs_at_once_get_one_request_and_a_pointer_to_it(seeker, target, monkeypatch):
    """The second tab passed the check before the first one's row existed: the index refuses it."""
    first = IntroRequestFactory(seeker=seeker, target=target)
    real = services.open_request_to
    calls = []

    def not_yet(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "open_request_to", not_yet)
    with pytest.raises(services.AlreadyOpen) as raised:
        services.intro_create_draft(seeker=seeker, target=target)
    assert raised.value.intro == first and len(calls) == 2
    assert IntroRequest.objects.filter(seeker=seeker, target=target).count() == 1


@pytest.mark.parametrize("status", sorted(OPEN_STATES))
def test_the_database_holds_one_open_request_per_seeker_and_person(seeker, target, status):
    IntroRequestFactory(seeker=seeker, target=target, status=status)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntroRequestFactory(seeker=seeker, target=target)


def test_a_new_request_is_possible_once_the_last_one_ended(seeker, target):
    intro = submitted(seeker=seeker, target=target)
    actions.do_withdraw(intro=intro, seeker=seeker)
    again = services.intro_create_draft(seeker=seeker, target=target, **GOOD_PREPARATION)
    assert again.status == Status.DRAFT


def test_an_offer_acted_on_points_to_the_request_already_open(seeker, connector, target):
    draft = IntroRequestFactory(seeker=seeker, target=target)
    offer = followup_services.offer_create(
        seeker=seeker, offered_by=connector, offered_by_name=connector.full_name, contact_name=target.name
    )
    assert followup_services.offer_request_intro(offer=offer, seeker=seeker) == draft
    offer.refresh_from_db()
    assert offer.intro == draft and IntroRequest.objects.filter(seeker=seeker, target=target).count() == 1


def test_the_migration_closes_second_open_requests_so_the_index_can_hold(seeker, target):
    """Data from before the rule: several open requests to one person. The migration keeps the
    one furthest along and withdraws the others, with an event saying why."""
    constraint = next(c for c in IntroRequest._meta.constraints if c.name == "intro_one_open_request_per_target")
    with connection.schema_editor() as editor:
        editor.remove_constraint(IntroRequest, constraint)
    kept = submitted(seeker=seeker, target=target)
    older_draft = IntroRequestFactory(seeker=seeker, target=target)
    newer_draft = IntroRequestFactory(seeker=seeker, target=target)
    elsewhere = IntroRequestFactory(seeker=seeker, target=ContactFactory(owner=target.owner))

    migration = importlib.import_module("intros.migrations.0009_why_now_one_open_request")
    with connection.schema_editor() as editor:
        migration.close_second_open_requests(apps, editor)
        editor.add_constraint(IntroRequest, constraint)  # holds now

    statuses = dict(IntroRequest.objects.values_list("pk", "status"))
    assert statuses[kept.pk] == Status.SUBMITTED and statuses[elsewhere.pk] == Status.DRAFT
    assert statuses[older_draft.pk] == statuses[newer_draft.pk] == Status.WITHDRAWN
    event = IntroEvent.objects.filter(intro=newer_draft).latest("pk")
    assert event.to_status == Status.WITHDRAWN and f"kept: #{kept.pk}" in event.note


# --- asking someone who said no ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.DECLINED_BY_TARGET, "Carol Target declined"),
        (Status.DROPPED_BY_TARGET, "Carol Target stepped back after accepting"),
        (Status.EXPIRED, "Carol Target did not answer, and the request expired"),
        (Status.DECLINED_BY_CONNECTOR, "Jill Connector declined to make the introduction"),
    ],
)
def test_the_new_request_form_shows_the_history_and_asks_why_now(client, cohort, seeker, target, status, words):
    past = _said_no(status, seeker, target)
    client.force_login(seeker)
    url = reverse("intros:create", args=[target.pk])
    html = client.get(url).content.decode()
    assert "You asked to meet Carol Target before" in html
    assert words in html and past.get_absolute_url() in html
    assert 'name="why_now"' in html and "Why ask again now?" in html
    # Without a reason nothing is made, and the page says what is missing beside the field.
    refused = client.post(url, {**GOOD_PREPARATION, "submit": "1"})
    assert refused.status_code == 422
    assert "Say what has changed since you last asked them." in refused.content.decode()
    assert IntroRequest.objects.filter(seeker=seeker, target=target).count() == 1


def test_the_history_shows_what_they_said(client, cohort, seeker, target):
    _said_no(Status.DECLINED_BY_TARGET, seeker, target)
    client.force_login(seeker)
    html = client.get(reverse("intros:create", args=[target.pk])).content.decode()
    assert "Too much on my plate this spring." in html


def test_the_history_costs_the_same_queries_however_long_it_is(client, cohort, seeker, connector, target):
    """Each history line reads only what the query loaded: a line that reached for a column or
    a person not loaded would cost a query of its own."""
    _said_no(Status.DECLINED_BY_TARGET, seeker, target)

    def pages() -> tuple[int, int, str]:
        client.force_login(seeker)
        with CaptureQueriesContext(connection) as form:
            form_html = client.get(reverse("intros:create", args=[target.pk])).content.decode()
        intro = IntroRequest.objects.filter(seeker=seeker, target=target).latest("pk")
        with CaptureQueriesContext(connection) as page:
            client.get(intro.get_absolute_url())
        return len(form), len(page), form_html

    short_form, short_page, _ = pages()
    _said_no(Status.EXPIRED, seeker, target, why_now=WHY_NOW)
    _said_no(Status.DECLINED_BY_CONNECTOR, seeker, target, why_now=WHY_NOW)
    long_form, long_page, html = pages()
    assert html.count("See that request") == 3 and "Jill Connector declined to make the introduction" in html
    assert (long_form, long_page) == (short_form, short_page)


def test_a_request_that_did_not_end_in_a_no_needs_no_reason(client, cohort, seeker, target):
    intro = submitted(seeker=seeker, target=target)
    actions.do_withdraw(intro=intro, seeker=seeker)
    client.force_login(seeker)
    html = client.get(reverse("intros:create", args=[target.pk])).content.decode()
    assert "asked to meet Carol Target before" not in html and 'name="why_now"' not in html


def test_why_now_travels_to_the_connector_with_the_history(client, cohort, seeker, connector, target):
    _said_no(Status.DROPPED_BY_TARGET, seeker, target)
    client.force_login(seeker)
    response = client.post(
        reverse("intros:create", args=[target.pk]), {**GOOD_PREPARATION, "why_now": WHY_NOW, "submit": "1"}
    )
    assert response.status_code == 302
    intro = IntroRequest.objects.get(seeker=seeker, target=target, status=Status.SUBMITTED)
    assert intro.why_now == WHY_NOW
    client.force_login(connector)
    html = client.get(intro.get_absolute_url()).content.decode()
    assert "Janet Seeker asked to meet Carol Target before" in html
    assert "Carol Target stepped back after accepting" in html and "I asked for four days." in html
    assert WHY_NOW in html
    assert html.index('id="history-heading"') < html.index('id="vet-heading"')


def test_the_service_will_not_submit_without_why_now(seeker, target):
    _said_no(Status.EXPIRED, seeker, target)
    draft = services.intro_create_draft(seeker=seeker, target=target, **GOOD_PREPARATION)
    with pytest.raises(services.PreparationIncomplete) as raised:
        actions.do_submit(intro=draft, seeker=seeker)
    assert set(raised.value.problems) == {"why_now"}
    services.intro_update_preparation(intro=draft, seeker=seeker, preparation={"why_now": WHY_NOW})
    assert actions.do_submit(intro=draft, seeker=seeker).changed


def test_a_thin_why_now_is_refused_beside_the_field(client, cohort, seeker, target):
    _said_no(Status.DECLINED_BY_TARGET, seeker, target)
    client.force_login(seeker)
    response = client.post(reverse("intros:create", args=[target.pk]), {**GOOD_PREPARATION, "why_now": "Please?"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "at least 4 words" in html and "Please?" in html  # what was typed is kept


def test_an_outcome_does_not_count_as_a_no(seeker, target):
    intro = accepted(seeker=seeker, target=target)
    actions.do_record_meeting(intro=intro, seeker=seeker, met_on=timezone.localdate())
    actions.do_record_outcome(intro=intro, seeker=seeker, outcome=Outcome.ADVICE)
    assert services.asked_before(seeker=seeker, target=target) == []
