"""The demo data (`manage.py load_demo`) plays story 1 as the seeker meets it: Janet, who wrote
inside the CAO's window, now waits for Marcus Lee, and the pages tell her so."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from intros.models import IntroRequest
from intros.states import Status

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 12, 7, 15, tzinfo=dt.UTC)  # 10:00 in New York, 09:00 in Chicago


def words(page: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(page.decode())).split())


def test_the_demo_shows_janet_the_wait_on_home_and_the_introduction(client):
    with time_machine.travel(MONDAY, tick=False):
        call_command("load_demo", stdout=io.StringIO())
        janet = User.objects.get(email="janet@demo.warm-intros.test")
        cao = IntroRequest.objects.get(seeker=janet, target__name="Catherine Alvarez")
        marcus = IntroRequest.objects.get(seeker=janet, target__name="Marcus Lee")
        client.force_login(janet)
        home = words(client.get(reverse("intros:home")).content)
        page = words(client.get(reverse("intros:detail", args=[marcus.pk])).content)
    assert cao.status == Status.DROPPED_BY_TARGET and cao.outreaches.filter(is_breach=True).count() == 3
    assert marcus.status == Status.INTRODUCED
    wait = (
        "Wait Marcus Lee asked for no messages until the end of Wed 9 Dec. "
        "The next good moment is Thu 10 Dec, 09:00 their time (10:00 yours)."
    )
    assert wait in home and wait in page
    assert "Write now" not in home and "Write to" not in home
    assert "Hours 09:00–17:00 Chicago time Busy through Wed 9 Dec" in page
