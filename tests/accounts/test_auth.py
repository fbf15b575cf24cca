import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_by_email_in_any_case(client):
    user = UserFactory(email="janet.seeker@example.com")
    response = client.post(reverse("accounts:login"), {"username": "  Janet.SEEKER@Example.com ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("intros:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_wrong_password_says_so_without_logging_in(client):
    UserFactory(email="janet@example.com")
    response = client.post(reverse("accounts:login"), {"username": "janet@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert SESSION_KEY not in client.session


def test_login_page_links_to_password_reset(client):
    response = client.get(reverse("accounts:login"))
    assert reverse("accounts:password_reset").encode() in response.content
    assert b"Forgot your password?" in response.content


def test_login_follows_next(client):
    UserFactory(email="janet@example.com")
    response = client.post(
        reverse("accounts:login"),
        {"username": "janet@example.com", "password": PASSWORD, "next": reverse("cohorts:list")},
    )
    assert response.url == reverse("cohorts:list")


def test_logout_is_post_only(client, seeker):
    login(client, seeker)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert SESSION_KEY not in client.session


def _reset_link(message: OutboxMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password-reset/[^\s]+/[^\s]+/)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_password_reset_writes_one_outbox_email_with_a_working_link(client, settings):
    settings.SITE_URL = "https://intros.example.org"
    user = UserFactory(email="janet@example.com")
    response = client.post(reverse("accounts:password_reset"), {"email": "JANET@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")

    message = OutboxMessage.objects.get()
    assert message.to == ["janet@example.com"]
    assert "https://intros.example.org/accounts/password-reset/" in message.body_text
    assert "https://intros.example.org/accounts/password-reset/" in message.body_html

    # Django swaps the token for a session marker and redirects to the set-password form.
    response = client.get(_reset_link(message), follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is True
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-pass-phrase", "new_password2": "a-brand-new-pass-phrase"},
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("a-brand-new-pass-phrase")

    # The link works once.
    response = client.get(_reset_link(message), follow=True)
    assert response.context["validlink"] is False
    assert b"no longer works" in response.content


def test_password_reset_for_unknown_email_writes_nothing_and_looks_the_same(client):
    UserFactory(email="janet@example.com")
    known = client.post(reverse("accounts:password_reset"), {"email": "janet@example.com"})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert OutboxMessage.objects.filter(to=["nobody@example.com"]).count() == 0
    assert OutboxMessage.objects.count() == 1
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    done = client.get(unknown.url)
    assert b"If that address belongs to an account" in done.content


def test_password_reset_email_is_sent_after_commit(client, django_capture_on_commit_callbacks, mailoutbox):
    UserFactory(email="janet@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "janet@example.com"})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["janet@example.com"]
    assert OutboxMessage.objects.get().sent_at is not None


def test_reset_pages_render(client):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 200
    response = client.get(reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]))
    assert response.status_code == 200
    assert response.context["validlink"] is False
