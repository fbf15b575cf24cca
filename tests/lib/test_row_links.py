"""A row's address is Django's reverse() of its URL name: the app's prefix included."""

from __future__ import annotations

import pytest
from django.urls import set_script_prefix

from tests.factories import IntroRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def under_warm():
    set_script_prefix("/warm/")
    yield
    set_script_prefix("/")


def test_a_row_links_to_its_own_page():
    intro = IntroRequestFactory()

    assert intro.get_absolute_url() == f"/intros/{intro.pk}/"
    assert intro.target.get_absolute_url() == f"/contacts/{intro.target.pk}/"


def test_a_row_link_keeps_the_script_prefix(under_warm):
    intro = IntroRequestFactory()

    assert intro.get_absolute_url() == f"/warm/intros/{intro.pk}/"
    assert intro.target.get_absolute_url() == f"/warm/contacts/{intro.target.pk}/"
