import pytest
from django.urls import reverse

from tests.conftest import login


@pytest.mark.django_db
def test_login_page_renders_for_anonymous(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b"Log in" in response.content
    assert "Content-Security-Policy" in response.headers


@pytest.mark.django_db
def test_home_requires_login(client, seeker):
    assert client.get(reverse("intros:home")).status_code == 302
    assert login(client, seeker).get(reverse("intros:home")).status_code == 200
