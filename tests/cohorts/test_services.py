import datetime as dt

import pytest
from django.utils import timezone

from cohorts import services
from cohorts.models import Invitation, Membership
from lib.outbox.models import OutboxMessage
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_invitation_create_expires_after_the_configured_days(cohort, settings):
    settings.INVITATION_MAX_AGE_DAYS = 3
    before = timezone.now()
    invitation = services.invitation_create(cohort=cohort, email=" Ann@Example.COM ", invited_by=cohort.coach)
    assert invitation.email == "ann@example.com"
    assert before + dt.timedelta(days=3) <= invitation.expires_at <= timezone.now() + dt.timedelta(days=3)
    assert OutboxMessage.objects.filter(key=f"invitation:{invitation.pk}", to=["ann@example.com"]).count() == 1


def test_invitation_create_rolls_back_with_its_email(cohort, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(services, "outbox_enqueue", broken)
    with pytest.raises(RuntimeError):
        services.invitation_create(cohort=cohort, email="ann@example.com", invited_by=cohort.coach)
    assert not Invitation.objects.exists()


def test_invitation_accept_joins_once(cohort):
    user = UserFactory(email="ann@example.com")
    invitation = InvitationFactory(cohort=cohort, email="Ann@example.com")
    membership = services.invitation_accept(invitation=invitation, user=user)
    assert membership == Membership.objects.get(cohort=cohort, user=user)
    with pytest.raises(services.InvitationProblem) as problem:
        services.invitation_accept(invitation=Invitation.objects.get(pk=invitation.pk), user=user)
    assert problem.value.kind == "used"
    assert Membership.objects.filter(user=user).count() == 1


def test_invitation_accept_by_a_member_already_spends_it_without_a_second_membership(cohort, seeker):
    invitation = InvitationFactory(cohort=cohort, email=seeker.email)
    services.invitation_accept(invitation=invitation, user=seeker)
    assert Membership.objects.filter(cohort=cohort, user=seeker).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == seeker


def test_invitation_accept_refuses_someone_else(cohort, outsider):
    invitation = InvitationFactory(cohort=cohort, email="ann@example.com")
    with pytest.raises(services.InvitationProblem) as problem:
        services.invitation_accept(invitation=invitation, user=outsider)
    assert problem.value.kind == "wrong_person"
    assert not Membership.objects.filter(user=outsider).exists()


def test_invitation_accept_refuses_expired(cohort):
    user = UserFactory(email="ann@example.com")
    invitation = InvitationFactory(cohort=cohort, email="ann@example.com", expires_at=timezone.now())
    with pytest.raises(services.InvitationProblem) as problem:
        services.invitation_accept(invitation=invitation, user=user)
    assert problem.value.kind == "expired"


def test_invitation_signup_is_all_or_nothing(cohort):
    invitation = InvitationFactory(cohort=cohort, email="ann@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    with pytest.raises(services.InvitationProblem):
        services.invitation_signup(invitation=invitation, full_name="Ann", password="x-y-z-long-pass", time_zone="UTC")
    from accounts.models import User

    assert not User.objects.filter(email="ann@example.com").exists()


def test_invitations_send_splits_new_resent_and_members(cohort, seeker):
    InvitationFactory(cohort=cohort, email="again@example.com")
    outcome = services.invitations_send(
        cohort=cohort,
        emails=["new@example.com", "AGAIN@example.com", seeker.email, "new@example.com", " "],
        invited_by=cohort.coach,
    )
    assert [i.email for i in outcome.invited] == ["new@example.com", "again@example.com"]
    assert outcome.resent == ["again@example.com"]
    assert outcome.already_members == [seeker.email]
    assert Invitation.objects.pending().filter(email="again@example.com").count() == 1


def test_resolve_checks_nonce_with_the_id(cohort):
    a = InvitationFactory(cohort=cohort)
    b = InvitationFactory(cohort=cohort)
    assert services.invitation_resolve(token=services.invitation_token(invitation=a)) == a
    from django.core import signing

    forged = signing.dumps({"i": a.pk, "n": b.nonce}, salt=services.INVITATION_SALT)
    with pytest.raises(services.InvitationProblem) as problem:
        services.invitation_resolve(token=forged)
    assert problem.value.kind == "invalid"


@pytest.mark.parametrize("payload", [["not", "a", "dict"], {"i": "1", "n": "x"}, {"i": 1}, None])
def test_resolve_refuses_odd_payloads(payload):
    from django.core import signing

    with pytest.raises(services.InvitationProblem) as problem:
        services.invitation_resolve(token=signing.dumps(payload, salt=services.INVITATION_SALT))
    assert problem.value.kind == "invalid"
