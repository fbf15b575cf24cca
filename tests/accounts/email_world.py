"""Every kind of email the app sends, produced by the real flows (services, the sweep, the
password-reset form), with the template each one was rendered from.

Used by tests/accounts/test_email_quality.py (content, links, escaping) and by
tests/browser/test_email_accessibility.py (axe-core on the HTML part in Chromium).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models.signals import post_save
from django.test import override_settings
from django.urls import reverse

from accounts.data_exports import data_export_request
from cohorts import services as cohort_services
from cohorts.summary import weekly_summary
from followups import digests
from followups import services as followup_services
from followups.models import DigestSchedule, FollowUp
from followups.sweep import sweep
from intros import services
from intros.models import TargetLink
from intros.states import Mode, Outcome
from lib.outbox import services as outbox
from lib.outbox.models import OutboxMessage
from tests import mailgun
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.mail_backends import BOUNCING_DOMAIN, mailer
from tests.stories import last_link_token, submitted
from workflows import intros as actions
from workflows.personal_data import do_account_delete, do_build_data_export

# A Tuesday noon (UTC): inside everyone's hours, so the sweep reminds rather than reschedules.
T0 = dt.datetime(2027, 3, 2, 12, 0, tzinfo=dt.UTC)
SITE_URL = "https://intros.example.org"
# A name and a note with markup in them: the HTML part must escape them, the text part must not.
MARKED_UP_NAME = "Janet <O'Neil> & Co"
MARKED_UP_NOTE = "Name the <b>shared-services</b> project & say why now."
EMAIL_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "emails"


def email_kinds() -> set[str]:
    """Every email template the app has (a .txt and .html pair each; `_` files are parts)."""
    return {p.stem for p in EMAIL_TEMPLATES.glob("*.txt") if not p.name.startswith("_")}


@dataclass
class World:
    coach: object
    connector: object
    janet: object  # the seeker with markup in her name
    targets: list  # every contact a request was made to


class TemplateRecorder:
    """Notes which template each outbox row was rendered from (rows written one at a time
    are rendered just before they are created; bulk rows carry their template name)."""

    def __init__(self, monkeypatch):
        self.last_text_template: str | None = None
        self.by_message: dict[int, str] = {}
        real = outbox.render_to_string

        def recording(template_name, *args, **kwargs):
            if template_name.endswith(".txt"):
                self.last_text_template = Path(template_name).stem
            return real(template_name, *args, **kwargs)

        monkeypatch.setattr(outbox, "render_to_string", recording)
        post_save.connect(self.created, sender=OutboxMessage, dispatch_uid="email-world-recorder")

    def created(self, sender, instance, created, **kwargs):
        if created and not getattr(instance, "template", ""):
            self.by_message[instance.pk] = self.last_text_template

    def template_of(self, message: OutboxMessage) -> str:
        return getattr(message, "template", "") or self.by_message[message.pk]

    def close(self) -> None:
        post_save.disconnect(sender=OutboxMessage, dispatch_uid="email-world-recorder")


def _approve(intro, mode=Mode.DOUBLE_OPT_IN):
    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="acquainted",
        vouch_note="I worked with them for two years on the library budget; careful and kind.",
        mode=mode,
    )
    intro.refresh_from_db()
    return intro


def send_every_email(client) -> World:
    """Play every flow that writes an email, at T0 (call inside time_machine.travel(T0))."""
    coach = UserFactory(full_name="Dana Coach")
    jill = UserFactory(full_name="Jill Connector")
    janet = UserFactory(full_name=MARKED_UP_NAME)
    omar = UserFactory(full_name="Omar Seeker")
    natalie = UserFactory(full_name="Natalie Seeker")
    cohort = CohortFactory(name="Spring boot camp", coach=coach)
    for member in (jill, janet, omar, natalie):
        MembershipFactory(cohort=cohort, user=member)

    def contact(name: str, email: str):
        return ContactFactory(owner=jill, shareable=True, name=name, email=email, organisation="Northwind Agency")

    carol = contact("Carol Target", "carol@northwind.example.org")
    priya = contact("Priya Manager", "priya@initech.example.org")
    dave = contact("Dave Decline", "dave@umbrella.example.org")
    erin = contact("Erin Busy", "erin@globex.example.org")
    frank = contact("Frank Silent", "frank@hooli.example.org")
    gina = contact("Gina Direct", "gina@acme.example.org")
    harry = contact("Harry Queue", "harry@soylent.example.org")

    # Janet → Carol: changes asked, approved, reminded, deferred, re-asked, accepted, stepped back.
    a = submitted(seeker=janet, target=carol)
    actions.do_request_changes(intro=a, connector=jill, note=MARKED_UP_NOTE)
    a.refresh_from_db()
    actions.do_submit(intro=a, seeker=janet)
    a = _approve(a)
    actions.do_remind_target(intro=a)
    link, _ = last_link_token(a)
    actions.do_target_defer(link=link, until=T0.date() + dt.timedelta(days=10), note="Travelling until then.")
    a.refresh_from_db()
    actions.do_reask(intro=a)
    link, _ = last_link_token(a)
    actions.do_target_accept(
        link=link,
        terms=services.TargetTerms(busy_until=T0.date() + dt.timedelta(days=4), target_writes_first=True),
    )
    followup_services.outreach_record(
        intro=a, seeker=janet, at=T0 - dt.timedelta(minutes=5), channel="email", confirmed=True
    )
    link, _ = last_link_token(a, purpose=TargetLink.Purpose.STEP_BACK)
    actions.do_target_step_back(link=link, note="I asked for four days.")

    # Omar → Priya: accepted, met, hired, and Priya says how good the match was.
    b = _approve(submitted(seeker=omar, target=priya))
    link, _ = last_link_token(b)
    actions.do_target_accept(link=link, terms=services.TargetTerms())
    b.refresh_from_db()
    actions.do_record_meeting(intro=b, seeker=omar, met_on=T0.date() - dt.timedelta(days=1))
    b.refresh_from_db()
    actions.do_record_outcome(intro=b, seeker=omar, outcome=Outcome.HIRED, note="I start in <May> & can't wait")
    b.refresh_from_db()
    actions.do_ask_feedback(intro=b)
    link, _ = last_link_token(b, purpose=TargetLink.Purpose.FEEDBACK)
    actions.do_target_feedback(link=link, rating=5, note="Sharp questions.")

    # Natalie → Dave: the connector declines; Natalie → Erin: the target declines.
    c = submitted(seeker=natalie, target=dave)
    actions.do_decline(intro=c, connector=jill, note="Dave has just left; let's find someone closer.")
    d = _approve(submitted(seeker=natalie, target=erin))
    link, _ = last_link_token(d)
    actions.do_target_decline(link=link, note="Too much on my plate.")

    # Omar → Frank: no answer, closed. Natalie → Gina: "mention my name".
    e = _approve(submitted(seeker=omar, target=frank))
    actions.do_expire(intro=e)
    _approve(submitted(seeker=natalie, target=gina), mode=Mode.MENTION_NAME)

    # Natalie → Lena: the address on Jill's contact is refused for good (the server below), so
    # the ask never leaves and Jill and Natalie are each told.
    lena = contact("Lena Lost", f"lena@{BOUNCING_DOMAIN}")
    _approve(submitted(seeker=natalie, target=lena))

    # Omar → Mona: accepted; Mona's address has stopped working since Jill saved it.
    mona = contact("Mona Moved", "mona@hooli.example.org")
    m = _approve(submitted(seeker=omar, target=mona))
    link, _ = last_link_token(m)
    actions.do_target_accept(link=link, terms=services.TargetTerms())

    # Jill is at capacity (one request still waits on its target): Janet's next request waits in
    # the queue, then she withdraws it.
    _approve(submitted(seeker=omar, target=contact("Ivan Waiting", "ivan@initech.example.org")))
    jill.intro_capacity = 1
    jill.save(update_fields=["intro_capacity"])
    g = submitted(seeker=janet, target=harry)
    actions.do_withdraw(intro=g, seeker=janet, note="I found another way in.")

    # The cohort: an invitation, a coach's nudge, and the coach's weekly summary.
    cohort_services.invitations_send(cohort=cohort, emails=["newcomer@example.org"], invited_by=coach)
    cohort_services.cohort_nudge(cohort=cohort, coach=coach, member=janet, note="<b>How</b> is it going with Carol?")

    # Follow-ups: one due now (the sweep's reminder), an offer three days old (its nudge), digests.
    FollowUp.objects.create(
        owner=natalie,
        kind=FollowUp.Kind.THANK_CONNECTOR,
        counterpart="Jill Connector",
        due_at=T0 - dt.timedelta(hours=1),
        next_action_at=T0 - dt.timedelta(hours=1),
    )
    FollowUp.objects.create(
        owner=janet, kind=FollowUp.Kind.REPORT_OUTCOME, counterpart="Jill Connector", due_at=T0 - dt.timedelta(days=2)
    )
    followup_services.offer_create(
        seeker=omar,
        offered_by_name="Sam Okoye",
        contact_name="Rita Recruiter",
        contact_organisation="Northwind",
        now=T0 - dt.timedelta(days=3, minutes=1),
    )
    sweep(now=T0)
    digests.daily_digest(DigestSchedule.objects.get(user=janet, kind=DigestSchedule.Kind.DAILY), T0)
    weekly_summary(DigestSchedule.objects.get(user=coach, kind=DigestSchedule.Kind.COACH_WEEKLY), T0)

    # Kim, another connector, deletes her account while Natalie's request waits on her.
    kim = UserFactory(full_name="Kim Connector")
    MembershipFactory(cohort=cohort, user=kim)
    kate = ContactFactory(owner=kim, shareable=True, name="Kate Left", email="kate@initrode.example.org")
    submitted(seeker=natalie, target=kate)
    do_account_delete(user=kim)

    # Janet asks for all her data; a worker prepares the file and tells her where to download it.
    requested, _ = data_export_request(user=janet)
    do_build_data_export(export_id=requested.pk)

    # The password-reset form, as a person uses it.
    response = client.post(reverse("accounts:password_reset"), {"email": janet.email})
    assert response.status_code == 302, response.status_code

    # Messages the sweep wrote in bulk are rendered when sent: send everything now, through a
    # server that refuses Lena's address; then the notices that refusal wrote. The email service
    # then reports that Mona's copy of her introduction bounced (its signed webhook), and Omar
    # and Jill are told.
    with override_settings(MAILERS=mailer("tests.mail_backends.RefusingBackend"), ANYMAIL=mailgun.SETTINGS):
        outbox.outbox_flush()
        introduction = OutboxMessage.objects.get(template="intro_introduction", context__intro=m.pk)
        assert (
            mailgun.post(client, mailgun.event("failed", recipient=mona.email, message=introduction)).status_code == 200
        )
        outbox.outbox_flush()
    return World(
        coach=coach,
        connector=jill,
        janet=janet,
        targets=[carol, priya, dave, erin, frank, gina, harry, kate, lena, mona],
    )


def site_url_settings(settings) -> None:
    settings.SITE_URL = SITE_URL
