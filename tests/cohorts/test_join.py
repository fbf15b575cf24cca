import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cohorts import services
from cohorts.models import Invitation, Membership
from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import CohortFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "plum-orchard-lantern-42"


def join_url(invitation: Invitation) -> str:
    return reverse("cohorts:join", args=[services.invitation_token(invitation=invitation)])


def signup_data(**overrides):
    data = {
        "full_name": "Nina Newcomer",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "time_zone": "America/Chicago",
    }
    data.update(overrides)
    return data


@pytest.fixture
def invitation(cohort):
    return services.invitation_create(cohort=cohort, email="Nina@Example.com", invited_by=cohort.coach)


def test_invitation_email_link_opens_the_sign_up_form(client, invitation, settings):
    message = OutboxMessage.objects.get(key=f"invitation:{invitation.pk}")
    assert message.to == ["nina@example.com"]
    match = re.search(re.escape(settings.SITE_URL) + r"(/cohorts/join/[^/\s]+/)", message.body_text)
    assert match, message.body_text
    assert match.group(1) in message.body_html
    response = client.get(match.group(1))
    assert response.status_code == 200
    assert response.context["mode"] == "signup"
    form = response.context["form"]
    assert form["email"].value() == "nina@example.com"
    assert b"readonly" in response.content
    assert invitation.cohort.name.encode() in response.content


def test_sign_up_creates_the_user_logs_in_and_joins(client, invitation):
    response = client.post(join_url(invitation), signup_data())
    assert response.status_code == 302
    assert response.url == invitation.cohort.get_absolute_url()
    user = User.objects.get(email="nina@example.com")
    assert user.full_name == "Nina Newcomer"
    assert user.time_zone == "America/Chicago"
    assert user.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert Membership.objects.filter(cohort=invitation.cohort, user=user).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by == user
    page = client.get(response.url)
    assert b"Welcome to" in page.content
    assert b"Nina Newcomer" in page.content


def test_sign_up_ignores_an_email_sent_in_the_form(client, invitation):
    client.post(join_url(invitation), signup_data(email="someone.else@example.com"))
    assert User.objects.filter(email="nina@example.com").exists()
    assert not User.objects.filter(email="someone.else@example.com").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"full_name": ""}, "full_name"),
        ({"time_zone": "Nowhere/Land"}, "time_zone"),
    ],
)
def test_sign_up_errors_show_next_to_fields_and_change_nothing(client, invitation, overrides, field):
    response = client.post(join_url(invitation), signup_data(**overrides))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="nina@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert SESSION_KEY not in client.session


def test_reusing_the_link_is_refused(client, invitation):
    url = join_url(invitation)
    client.post(url, signup_data())
    client.logout()
    response = client.get(url)
    assert response.status_code == 410
    assert b"already been used" in response.content
    assert b"ask your coach for a new invitation" in response.content
    response = client.post(url, signup_data(full_name="Second Try"))
    assert response.status_code == 410
    assert User.objects.filter(email="nina@example.com").count() == 1


def test_reusing_the_link_by_whoever_used_it_goes_to_the_cohort(client, invitation):
    url = join_url(invitation)
    client.post(url, signup_data())
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == invitation.cohort.get_absolute_url()


def test_reusing_the_link_as_someone_else_is_refused(client, invitation, outsider):
    url = join_url(invitation)
    client.post(url, signup_data())
    response = login(client, outsider).get(url)
    assert response.status_code == 410
    assert not Membership.objects.filter(user=outsider).exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace(t.split(":")[0], signing.b64_encode(b'{"i":1,"n":"x"}').decode()),  # payload changed
        lambda t: t[: len(t) // 2],  # copied incompletely
        lambda t: "not-a-token",
    ],
)
def test_tampered_token_is_refused(client, invitation, mangle):
    response = client.get(reverse("cohorts:join", args=[mangle(services.invitation_token(invitation=invitation))]))
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert b"ask your coach for a new invitation" in response.content
    response = client.post(
        reverse("cohorts:join", args=[mangle(services.invitation_token(invitation=invitation))]), signup_data()
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="nina@example.com").exists()


def test_token_signed_with_another_salt_is_refused(client, invitation):
    token = signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt="intros.target-link")
    assert client.get(reverse("cohorts:join", args=[token])).status_code == 400


def test_token_with_another_invitations_nonce_is_refused(client, invitation):
    other = InvitationFactory(cohort=CohortFactory(), email="nina@example.com")
    # Correctly signed, but it pairs this invitation's id with the other's nonce.
    token = signing.dumps({"i": invitation.pk, "n": other.nonce}, salt=services.INVITATION_SALT)
    response = client.post(reverse("cohorts:join", args=[token]), signup_data())
    assert response.status_code == 400
    assert not User.objects.filter(email="nina@example.com").exists()
    assert not Membership.objects.filter(cohort=other.cohort).exists()
    # and the other way round
    token = signing.dumps({"i": other.pk, "n": invitation.nonce}, salt=services.INVITATION_SALT)
    assert client.get(reverse("cohorts:join", args=[token])).status_code == 400


def test_token_of_a_deleted_invitation_is_refused(client, invitation):
    url = join_url(invitation)
    invitation.delete()
    assert client.get(url).status_code == 400


def test_expired_invitation_is_refused(client, invitation):
    url = join_url(invitation)
    with time_machine.travel(invitation.expires_at + dt.timedelta(minutes=1)):
        response = client.get(url)
        assert response.status_code == 410
        assert b"expired" in response.content
        assert b"ask your coach for a new invitation" in response.content
        assert client.post(url, signup_data()).status_code == 410
    assert not User.objects.filter(email="nina@example.com").exists()


def test_invitation_expired_in_the_database_is_refused_while_its_signature_is_fresh(client, invitation):
    url = join_url(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 410
    assert b"expired" in response.content


def test_signature_max_age_applies_even_if_the_row_says_later(client, invitation, settings):
    url = join_url(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + dt.timedelta(days=365))
    with time_machine.travel(timezone.now() + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS, hours=1)):
        assert client.get(url).status_code == 410


def test_cancelled_invitation_link_no_longer_works(client, invitation):
    url = join_url(invitation)
    invitation.cancel()
    assert client.get(url).status_code == 410


# --- people who already have an account ---------------------------------------------


def test_existing_account_is_asked_to_log_in_with_next(client, cohort):
    UserFactory(email="nina@example.com")
    invitation = services.invitation_create(cohort=cohort, email="nina@example.com", invited_by=cohort.coach)
    url = join_url(invitation)
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["mode"] == "login"
    assert "form" not in response.context
    login_link = f"{reverse('accounts:login')}?next={url}"
    assert login_link.replace(":", "%3A").encode() in response.content
    # A sign-up attempt for that address creates nothing.
    assert client.post(url, signup_data()).status_code == 200
    assert User.objects.filter(email="nina@example.com").count() == 1


def test_logged_in_invitee_accepts_with_one_post(client, cohort):
    user = UserFactory(email="nina@example.com")
    invitation = services.invitation_create(cohort=cohort, email="NINA@example.com", invited_by=cohort.coach)
    url = join_url(invitation)
    login(client, user)
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["mode"] == "accept"
    assert not Membership.objects.filter(user=user).exists()  # nothing changes on GET
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == cohort.get_absolute_url()
    assert Membership.objects.filter(cohort=cohort, user=user).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == user


def test_accept_by_htmx_answers_with_a_client_redirect(client, cohort):
    user = UserFactory(email="nina@example.com")
    invitation = services.invitation_create(cohort=cohort, email="nina@example.com", invited_by=cohort.coach)
    response = login(client, user).post(join_url(invitation), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == cohort.get_absolute_url()


def test_logged_in_with_another_email_gets_a_clear_page(client, invitation, outsider):
    url = join_url(invitation)
    login(client, outsider)
    response = client.get(url)
    assert response.status_code == 403
    assert response.context["mode"] == "wrong_account"
    assert b"nina@example.com" in response.content
    assert outsider.email.encode() in response.content
    assert client.post(url).status_code == 403
    assert not Membership.objects.filter(user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_join_page_queries_are_few(client, invitation, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        client.get(join_url(invitation))


def test_wrong_account_can_log_out_and_come_back_to_sign_up(client, invitation, outsider):
    url = join_url(invitation)
    login(client, outsider)
    response = client.post(reverse("accounts:logout"), {"next": url})
    assert response.url == url
    response = client.get(url)
    assert response.context["mode"] == "signup"


def test_empty_sign_up_post_shows_errors(client, invitation):
    response = client.post(join_url(invitation), {})
    assert response.status_code == 422
    assert set(response.context["form"].errors) >= {"full_name", "password1", "password2", "time_zone"}
    assert b"<ul><li>" not in response.content  # password rules read as a sentence under the field
