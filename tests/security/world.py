"""One small world for the security tests: two cohorts, their coaches, a seeker, a connector,
a same-cohort member, an outsider, and one object of every kind a URL can name."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.data_exports import data_export_request
from accounts.models import AccessToken, DataExport, User
from cohorts import services as cohort_services
from cohorts.models import Cohort, Invitation
from contacts import services as contact_services
from contacts.fileformats import parse_upload
from contacts.models import Contact, ImportBatch
from followups import services as followup_services
from followups.models import CalendarFeed, FollowUp, Offer
from intros import services
from intros.models import IntroRequest, TargetLink
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import accepted, awaiting_target, submitted
from webhooks.models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workflows import intros as actions
from workflows.personal_data import do_build_data_export

ROLES = ("anonymous", "owner", "member", "connector", "coach", "other_coach", "outsider")
APPS = ("outbox", "accounts", "contacts", "intros", "followups", "cohorts", "webhooks")
# Columns that move on their own (a login, the clock) and say nothing about a write.
VOLATILE = {"last_login", "updated_at"}

CSV_FILE = (
    b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    b"Ada,Lovelace,https://www.linkedin.com/in/ada,ada@example.net,Analytical,Engineer,01 Jan 2024\r\n"
)


@dataclass
class World:
    users: dict[str, User]
    cohort: Cohort
    other_cohort: Cohort
    target: Contact  # the connector's shareable contact (the seeker's draft asks to meet them)
    unasked: Contact  # another shareable contact of the connector, in no request yet
    own_contact: Contact  # the seeker's own contact, in no introduction
    draft: IntroRequest
    withdrawn_draft: IntroRequest  # withdrawn before it was ever submitted: still the seeker's own
    submitted: IntroRequest
    awaiting: IntroRequest
    introduced: IntroRequest
    met: IntroRequest
    outcome: IntroRequest
    followup: FollowUp
    offer: Offer
    batch: ImportBatch
    finished_batch: ImportBatch  # imported, every row skipped: its result page lists them
    invitation: Invitation
    invitation_token: str
    feed: CalendarFeed
    answer_link: TargetLink
    answer_token: str
    step_back_link: TargetLink
    step_back_token: str
    feedback_link: TargetLink
    feedback_token: str
    data_export: DataExport  # the seeker's prepared "all my data" file
    access_token: AccessToken  # the seeker's API token (read only)
    endpoint: WebhookEndpoint  # the seeker's own webhook endpoint
    cohort_endpoint: WebhookEndpoint  # the coach's, for the cohort's events
    delivery: WebhookDelivery  # a failed delivery to the seeker's endpoint, with its attempt
    extra: dict = field(default_factory=dict)

    @property
    def seeker(self) -> User:
        return self.users["owner"]

    @property
    def connector(self) -> User:
        return self.users["connector"]

    def reset_args(self) -> list[str]:
        user = User.objects.get(pk=self.seeker.pk)  # the token hashes last_login, as it is now
        return [urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)]


def build_world() -> World:
    coach = UserFactory(full_name="Dana Coach")
    other_coach = UserFactory(full_name="Otto Othercoach")
    seeker = UserFactory(full_name="Janet Seeker")
    connector = UserFactory(full_name="Jill Connector")
    member = UserFactory(full_name="Max Member")
    outsider = UserFactory(full_name="Olive Outsider")
    cohort = CohortFactory(coach=coach, name="Spring cohort")
    other_cohort = CohortFactory(coach=other_coach, name="Autumn cohort")
    for user in (seeker, connector, member):
        MembershipFactory(cohort=cohort, user=user)
    MembershipFactory(cohort=other_cohort, user=UserFactory(full_name="Oscar Othermember"))

    target = ContactFactory(owner=connector, name="Carol Target", email="carol@example.org", shareable=True)
    own_contact = ContactFactory(
        owner=seeker, name="Sam Ownperson", email="sam@example.org", organisation="Ownperson Ltd"
    )
    unasked = ContactFactory(owner=connector, name="Uma Unasked", email="uma@example.org", shareable=True)

    def fresh_target(name: str) -> Contact:
        return ContactFactory(owner=connector, name=name, shareable=True)

    from tests.factories import IntroRequestFactory

    draft = IntroRequestFactory(seeker=seeker, target=target)
    withdrawn_draft = IntroRequestFactory(seeker=seeker, target=fresh_target("Wanda Withdrawn"))
    actions.do_withdraw(intro=withdrawn_draft, seeker=seeker)
    withdrawn_draft.refresh_from_db()
    sub = submitted(seeker=seeker, target=fresh_target("Sue Submitted"))
    awaiting = awaiting_target(seeker=seeker, target=fresh_target("Ann Awaiting"))
    answer_link, answer_token = services.target_link_create(intro=awaiting, purpose=TargetLink.Purpose.ANSWER)
    introduced = accepted(seeker=seeker, target=fresh_target("Ivy Introduced"))
    step_back_link, step_back_token = services.target_link_create(
        intro=introduced, purpose=TargetLink.Purpose.STEP_BACK
    )
    met = accepted(seeker=seeker, target=fresh_target("Meg Met"))
    actions.do_record_meeting(intro=met, seeker=seeker, met_on=timezone.localdate())
    met.refresh_from_db()
    feedback_link, feedback_token = services.target_link_create(intro=met, purpose=TargetLink.Purpose.FEEDBACK)
    outcome = accepted(seeker=seeker, target=fresh_target("Olga Outcome"))
    actions.do_record_meeting(intro=outcome, seeker=seeker, met_on=timezone.localdate())
    actions.do_record_outcome(intro=outcome, seeker=seeker, outcome="advice", note="Good advice.")
    outcome.refresh_from_db()

    followup = FollowUp.objects.filter(owner=seeker, intro=introduced, status=FollowUp.Status.OPEN).first()
    assert followup is not None, "introducing gives the seeker follow-ups"
    offer = followup_services.offer_create(
        seeker=seeker, offered_by=connector, offered_by_name="Jill Connector", contact_name="Pat Promised"
    )
    batch = contact_services.import_preview(owner=seeker, parsed=parse_upload("c.csv", CSV_FILE), filename="c.csv")
    finished_batch = contact_services.import_preview(
        owner=seeker, parsed=parse_upload("c.csv", CSV_FILE), filename="done.csv"
    )
    contact_services.import_choose_kind(batch=finished_batch, kind="new", action="skip")
    contact_services.import_confirm(batch=finished_batch, enqueue=False)
    finished_batch = contact_services.import_run(batch_id=finished_batch.pk)
    invitation = cohort_services.invitation_create(cohort=cohort, email="newbie@example.com", invited_by=coach)
    feed, _ = CalendarFeed.objects.get_or_create(user=seeker)
    requested, _ = data_export_request(user=seeker)
    data_export = do_build_data_export(export_id=requested.pk)
    access_token, _ = AccessToken.issue(user=seeker, name="World token", scope=AccessToken.Scope.READ)
    # Made after the transitions above, so none of them was written for these endpoints.
    endpoint = WebhookEndpoint.objects.create(
        owner=seeker, url="https://hooks.example.org/janet", event_types=EventType.values
    )
    cohort_endpoint = WebhookEndpoint.objects.create(
        owner=coach, cohort=cohort, url="https://hooks.example.org/spring", event_types=EventType.values
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_world_1",
        event_type="webhook.test",
        payload={"type": "webhook.test", "data": {}},
        state=WebhookDelivery.State.FAILED,
        attempts=1,
        next_attempt_at=None,
        failed_at=timezone.now(),
        last_status_code=500,
        last_error="The server answered 500.",
    )
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, duration_ms=12, error=delivery.last_error)
    return World(
        users={
            "owner": seeker,
            "member": member,
            "connector": connector,
            "coach": coach,
            "other_coach": other_coach,
            "outsider": outsider,
        },
        cohort=cohort,
        other_cohort=other_cohort,
        target=target,
        unasked=unasked,
        own_contact=own_contact,
        draft=draft,
        withdrawn_draft=withdrawn_draft,
        submitted=sub,
        awaiting=awaiting,
        introduced=introduced,
        met=met,
        outcome=outcome,
        followup=followup,
        offer=offer,
        batch=batch,
        finished_batch=finished_batch,
        invitation=invitation,
        invitation_token=cohort_services.invitation_token(invitation=invitation),
        feed=feed,
        answer_link=answer_link,
        answer_token=answer_token,
        step_back_link=step_back_link,
        step_back_token=step_back_token,
        feedback_link=feedback_link,
        feedback_token=feedback_token,
        data_export=data_export,
        access_token=access_token,
        endpoint=endpoint,
        cohort_endpoint=cohort_endpoint,
        delivery=delivery,
    )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the project's own tables, minus columns that move by themselves."""
    rows = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
            rows[model._meta.label] = list(model.objects.order_by("pk").values_list(*names))
    return rows


def diff(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
