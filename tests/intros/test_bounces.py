"""Mail the email service took and then could not deliver (its tracking webhook, Mailgun's here):
the people who depend on it are told, naming the person it did not reach, once however often the
service reports it. A target's ask that bounced: the connector ("check Carol Target's address")
and the seeker. The introduction that bounced for the target: the seeker and the connector."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from intros.models import IntroRequest
from lib.outbox import services as outbox
from lib.outbox.models import DeliveryReport, OutboxMessage
from tests import mailgun
from tests.mail_backends import mailer
from tests.stories import accepted, awaiting_target, last_link_token
from workflows import intros as actions
from workflows.personal_data import do_account_delete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def email_service(settings):
    settings.MAILERS = mailer("anymail.backends.test.EmailBackend")
    settings.ANYMAIL = dict(mailgun.SETTINGS)


def notices(template: str) -> dict[str, OutboxMessage]:
    found = OutboxMessage.objects.filter(template=template)
    assert len({m.context["role"] for m in found}) == len(found), "each person is told once"
    return {m.context["role"]: m for m in found}


def bounce(client, message: OutboxMessage, recipient: str, kind: str = "failed", **kwargs) -> dict:
    body = mailgun.event(kind, recipient=recipient, message=message, **kwargs)
    assert mailgun.post(client, body).status_code == 200
    return body


def test_a_bounced_ask_tells_the_connector_and_the_seeker_once(client, cohort, seeker, connector, target):
    intro = awaiting_target(seeker=seeker, target=target)
    outbox.outbox_flush()  # the service takes the ask
    ask = OutboxMessage.objects.get(pk=intro.last_ask_id)
    assert ask.state == OutboxMessage.State.SENT and ask.provider_message_id

    body = bounce(client, ask, "carol@example.org")
    assert mailgun.post(client, body).status_code == 200  # the service delivers its report again
    bounce(client, ask, "Carol@Example.org")  # and reports the same bounce as a new event

    ask.refresh_from_db()
    assert ask.state == OutboxMessage.State.BOUNCED
    assert ask.reports.count() == 2
    told = notices("target_ask_undelivered")
    assert {role: m.to for role, m in told.items()} == {"connector": [connector.email], "seeker": [seeker.email]}

    mail.outbox.clear()
    assert outbox.outbox_flush() == 2
    for message in notices("target_ask_undelivered").values():
        assert message.subject == "Our email to Carol Target could not be delivered"
    to_connector = notices("target_ask_undelivered")["connector"].body_text
    assert "Check Carol Target's address on your contact:" in to_connector
    assert reverse("contacts:edit", args=[target.pk]) in to_connector
    assert sorted(m.to[0] for m in mail.outbox) == sorted([connector.email, seeker.email])


def test_a_bounced_ask_shows_on_the_request_and_can_be_asked_again(client, cohort, seeker, connector, target):
    intro = awaiting_target(seeker=seeker, target=target)
    outbox.outbox_flush()
    bounce(client, OutboxMessage.objects.get(pk=intro.last_ask_id), "carol@example.org")
    client.force_login(connector)
    page = client.get(intro.get_absolute_url()).content.decode()
    assert "Our email to Carol Target could not be delivered: check their address" in page
    assert "We wrote to carol@example.org" in page
    target.email = "carol.target@example.org"
    target.save(update_fields=["email"])
    response = client.post(reverse("intros:ask_again", args=[intro.pk]), follow=True)
    assert "Carol Target is asked again, at carol.target@example.org." in response.content.decode()
    # The notices about the old ask are not sent any more: the request moved on.
    outbox.outbox_flush()
    assert not OutboxMessage.objects.filter(template="target_ask_undelivered").exists()


def test_an_introduction_that_bounced_for_the_target_tells_the_seeker_and_the_connector(
    client, cohort, seeker, connector, target
):
    intro = accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    introduction = OutboxMessage.objects.get(template="intro_introduction")
    assert introduction.to == ["carol@example.org", seeker.email] and introduction.cc == [connector.email]

    bounce(client, introduction, "carol@example.org")
    bounce(client, introduction, "carol@example.org", kind="rejected")  # and later refused outright

    introduction.refresh_from_db()
    assert introduction.state == OutboxMessage.State.BOUNCED
    told = notices("introduction_undelivered")
    assert {role: m.to for role, m in told.items()} == {"seeker": [seeker.email], "connector": [connector.email]}
    mail.outbox.clear()
    assert outbox.outbox_flush() == 2
    told = notices("introduction_undelivered")
    for message in told.values():
        assert message.subject == "Our introduction email did not reach Carol Target"
    # In words, whatever the line breaks of the text part.
    to_seeker, to_connector = (" ".join(told[role].body_text.split()) for role in ("seeker", "connector"))
    assert to_seeker.startswith("Hello Janet,")
    assert "Our email introducing you to Carol Target did not reach them" in to_seeker
    assert "We have told Jill Connector, who knows Carol Target and can check the address." in to_seeker
    assert to_connector.startswith("Hello Jill,")
    assert "did not reach Carol Target: their mail server refused it." in to_connector
    assert "Check Carol Target's address on your contact:" in to_connector
    assert reverse("contacts:edit", args=[target.pk]) in to_connector
    assert intro.get_absolute_url() in to_connector and intro.get_absolute_url() in to_seeker


def test_the_request_page_says_the_introduction_did_not_reach_the_target_until_the_address_changes(
    client, cohort, seeker, connector, target
):
    intro = accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    bounce(client, OutboxMessage.objects.get(key=intro.introduction_key), "carol@example.org")
    client.force_login(seeker)
    page = " ".join(client.get(intro.get_absolute_url()).content.decode().split())
    assert "Our introduction email did not reach Carol Target</h2>" in page
    assert "please do not write to it for now. We have told Jill Connector" in page
    assert 'carol@example.org</a> <span class="muted">(our introduction to it bounced)</span>' in page
    client.force_login(connector)
    page = " ".join(client.get(intro.get_absolute_url()).content.decode().split())
    assert "Our introduction email did not reach Carol Target: check their address" in page
    assert "We wrote to carol@example.org" in page and reverse("contacts:edit", args=[target.pk]) in page
    target.email = "carol.target@example.org"
    target.save(update_fields=["email"])
    assert "did not reach" not in client.get(intro.get_absolute_url()).content.decode()


def test_a_bounce_of_the_seekers_own_copy_is_marked_and_tells_nobody(client, cohort, seeker, connector, target):
    intro = accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    introduction = OutboxMessage.objects.get(template="intro_introduction")
    bounce(client, introduction, seeker.email)
    client.force_login(seeker)
    assert "did not reach" not in client.get(intro.get_absolute_url()).content.decode()
    introduction.refresh_from_db()
    assert introduction.state == OutboxMessage.State.BOUNCED
    assert introduction.last_error.startswith(f"Not delivered to {seeker.email}")
    assert not OutboxMessage.objects.filter(template="introduction_undelivered").exists()


def test_nobody_is_told_of_a_bounced_introduction_once_the_request_has_ended(client, cohort, seeker, connector, target):
    intro = accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    bounce(client, OutboxMessage.objects.get(template="intro_introduction"), "carol@example.org")
    link, _ = last_link_token(intro, purpose="step_back")
    actions.do_target_step_back(link=link, note="Not a good time after all.")
    assert IntroRequest.objects.get(pk=intro.pk).is_final
    outbox.outbox_flush()
    assert not OutboxMessage.objects.filter(template="introduction_undelivered").exists()


def test_a_complaint_about_the_introduction_tells_nobody(client, cohort, seeker, connector, target):
    accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    introduction = OutboxMessage.objects.get(template="intro_introduction")
    count = OutboxMessage.objects.count()
    bounce(client, introduction, "carol@example.org", kind="complained")
    introduction.refresh_from_db()
    assert introduction.state == OutboxMessage.State.COMPLAINED
    assert OutboxMessage.objects.count() == count


def test_someone_who_deletes_their_account_leaves_no_reports_behind(client, cohort, seeker, connector, target):
    accepted(seeker=seeker, target=target)
    outbox.outbox_flush()
    bounce(client, OutboxMessage.objects.get(template="intro_introduction"), seeker.email)
    assert DeliveryReport.objects.filter(recipient=seeker.email).exists()
    do_account_delete(user=seeker)
    assert not DeliveryReport.objects.filter(recipient=seeker.email).exists()
