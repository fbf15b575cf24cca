"""A target's ask that never left: the mail server refused the address. The connector and the
seeker are told (an email each, and the request's page), and the connector, once the address
is right, asks again."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from intros import services
from intros.models import IntroRequest
from intros.states import Status
from lib.outbox import services as outbox
from lib.outbox.models import OutboxMessage
from tests.factories import ContactFactory
from tests.mail_backends import BOUNCING_DOMAIN, mailer
from tests.stories import awaiting_target, last_link_token, submitted
from workflows import intros as actions
from workflows.personal_data import do_account_delete

pytestmark = pytest.mark.django_db

LOST = f"carol@{BOUNCING_DOMAIN}"
NOTICE = "target_ask_undelivered"


@pytest.fixture(autouse=True)
def refusing_server(settings):
    settings.MAILERS = mailer("tests.mail_backends.RefusingBackend")


@pytest.fixture
def lost_target(connector):
    return ContactFactory(owner=connector, name="Carol Target", email=LOST, shareable=True)


def ask_never_left(seeker, lost_target) -> IntroRequest:
    """The connector approves; the ask to the target is refused for good at its first attempt."""
    intro = awaiting_target(seeker=seeker, target=lost_target)
    outbox.outbox_flush()  # the ask fails; the notices are written
    return intro


def notices() -> dict[str, OutboxMessage]:
    return {m.context["role"]: m for m in OutboxMessage.objects.filter(template=NOTICE)}


def test_when_the_ask_is_refused_the_connector_and_the_seeker_are_each_told(cohort, seeker, connector, lost_target):
    intro = ask_never_left(seeker, lost_target)
    ask = OutboxMessage.objects.get(pk=intro.last_ask_id)
    assert (ask.template, ask.state, ask.attempts, ask.to) == ("target_ask", OutboxMessage.State.FAILED, 1, [LOST])
    assert "SMTPRecipientsRefused" in ask.last_error
    assert {role: m.to for role, m in notices().items()} == {"connector": [connector.email], "seeker": [seeker.email]}

    mail.outbox.clear()
    assert outbox.outbox_flush() == 2
    told = notices()
    for message in told.values():
        assert message.state == OutboxMessage.State.SENT
        assert message.subject == "Our email to Carol Target could not be delivered"
    to_connector, to_seeker = told["connector"].body_text, told["seeker"].body_text
    assert to_connector.startswith("Hello Jill,") and "Check Carol Target's address on your contact:" in to_connector
    assert reverse("contacts:edit", args=[lost_target.pk]) in to_connector
    assert intro.get_absolute_url() in to_connector
    assert to_seeker.startswith("Hello Janet,") and "We have told Jill Connector" in to_seeker
    # The seeker learns the target's address only when the target accepts; nor does the target
    # hear anything more. One email to each of the two, nothing to anyone else.
    assert LOST not in to_seeker + told["seeker"].body_html
    assert sorted(tuple(m.to) for m in mail.outbox) == sorted([(connector.email,), (seeker.email,)])
    assert outbox.outbox_flush() == 0


def test_the_request_page_says_the_ask_was_not_delivered(client, cohort, seeker, connector, lost_target):
    intro = ask_never_left(seeker, lost_target)
    headline = "Our email to Carol Target could not be delivered: check their address"
    client.force_login(connector)
    page = client.get(intro.get_absolute_url()).content.decode()
    assert headline in page and f"We wrote to {LOST}" in page
    assert reverse("contacts:edit", args=[lost_target.pk]) in page
    assert reverse("intros:ask_again", args=[intro.pk]) in page
    client.force_login(seeker)
    page = client.get(intro.get_absolute_url()).content.decode()
    # The seeker cannot see or correct the address: she is told who can.
    assert "Our email to Carol Target could not be delivered</h2>" in page and "We have told Jill Connector" in page
    assert LOST not in page and reverse("intros:ask_again", args=[intro.pk]) not in page


def test_a_delivered_ask_shows_the_usual_next_step(client, cohort, seeker, connector, target):
    intro = awaiting_target(seeker=seeker, target=target)
    outbox.outbox_flush()
    client.force_login(connector)
    page = client.get(intro.get_absolute_url()).content.decode()
    assert "could not be delivered" not in page and "Waiting for Carol Target to answer." in page


def test_asking_again_goes_to_the_corrected_address_with_a_fresh_link(client, cohort, seeker, connector, lost_target):
    intro = ask_never_left(seeker, lost_target)
    failed_ask = intro.last_ask_id
    lost_target.email = "carol@example.org"
    lost_target.save(update_fields=["email"])
    client.force_login(connector)
    response = client.post(reverse("intros:ask_again", args=[intro.pk]), follow=True)
    assert "Carol Target is asked again, at carol@example.org." in response.content.decode()
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET and intro.reask_count == 0  # not a re-ask
    assert intro.last_ask_id != failed_ask and intro.undelivered_ask() is None
    mail.outbox.clear()
    outbox.outbox_flush()
    asks = [m for m in mail.outbox if m.to == ["carol@example.org"]]
    assert len(asks) == 1 and "would like to introduce you" in asks[0].subject
    # The fresh link in it works, and the notices about the old ask are not sent any more.
    link, _ = last_link_token(intro)
    actions.do_target_accept(link=link, terms=services.TargetTerms())
    assert IntroRequest.objects.get(pk=intro.pk).status == Status.INTRODUCED
    assert not OutboxMessage.objects.filter(template=NOTICE).exists()
    page = client.get(intro.get_absolute_url()).content.decode()
    assert "could not be delivered" not in page
    # A second click (or a stale tab) sends nothing.
    response = client.post(reverse("intros:ask_again", args=[intro.pk]), follow=True)
    assert OutboxMessage.objects.filter(template="target_ask").count() == 2


def test_ask_again_when_the_ask_was_delivered_sends_nothing(cohort, seeker, connector, target):
    intro = awaiting_target(seeker=seeker, target=target)
    outbox.outbox_flush()
    result = actions.do_ask_target_again(intro=intro, connector=connector)
    assert not result.changed and "Nothing to send again" in result.message
    with pytest.raises(services.NotAllowed):
        actions.do_ask_target_again(intro=intro, connector=seeker)
    assert OutboxMessage.objects.filter(template="target_ask").count() == 1


def test_nobody_is_told_when_the_request_moved_on_before_the_notices_went(cohort, seeker, connector, lost_target):
    intro = ask_never_left(seeker, lost_target)
    actions.do_withdraw(intro=intro, seeker=seeker, note="Found another way in.")
    mail.outbox.clear()
    outbox.outbox_flush()
    assert not OutboxMessage.objects.filter(template=NOTICE).exists()
    assert not [m for m in mail.outbox if "could not be delivered" in m.subject]


@pytest.mark.parametrize("ask", ["reminder", "reask"])
def test_a_later_ask_that_is_refused_is_told_too(cohort, seeker, connector, target, ask):
    intro = awaiting_target(seeker=seeker, target=target)
    outbox.outbox_flush()  # the first ask arrives
    if ask == "reask":
        link, _ = last_link_token(intro)
        actions.do_target_defer(link=link, until=dt.date.today() + dt.timedelta(days=10))
    target.email = LOST  # the target's address changed meanwhile
    target.save(update_fields=["email"])
    if ask == "reask":
        actions.do_reask(intro=intro)
    else:
        actions.do_remind_target(intro=intro)
    outbox.outbox_flush()
    intro.refresh_from_db()
    assert intro.undelivered_ask() is not None
    assert set(notices()) == {"connector", "seeker"}


def test_someone_who_deletes_their_account_is_no_longer_told(cohort, seeker, connector, lost_target):
    intro = submitted(seeker=seeker, target=lost_target)
    actions.do_approve(
        intro=intro,
        connector=connector,
        vouch_strength="acquainted",
        vouch_note="Two years together.",
        mode="double_opt_in",
    )
    ask = OutboxMessage.objects.get(template="target_ask")
    assert ask.context["tell"] == {"connector": connector.email, "seeker": seeker.email}
    do_account_delete(user=seeker)
    ask.refresh_from_db()
    assert ask.context["tell"] == {"connector": connector.email}
    assert seeker.email not in str(ask.context)
