"""`{% when %}`: a moment in words, with the exact date in the title; the compact form for a
table's narrow column says "4 min ago" rather than "4 minutes ago"."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.templatetags.warm import when

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("offset", "long", "compact"),
    [
        (dt.timedelta(seconds=-30), "just now", "just now"),
        (dt.timedelta(minutes=-4), "4 minutes ago", "4 min ago"),
        (dt.timedelta(minutes=20), "in 20 minutes", "in 20 min"),
        (dt.timedelta(hours=-3), "3 hours ago", "3 h ago"),
        (dt.timedelta(hours=-1), "1 hour ago", "1 h ago"),
        (dt.timedelta(days=-1), "yesterday", "yesterday"),
        (dt.timedelta(days=-5), "5 days ago", "5 days ago"),
    ],
)
def test_when_says_the_moment_in_words_and_compact_form_shortens_minutes_and_hours(settings, offset, long, compact):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        timezone.activate("UTC")
        moment = NOW + offset
        assert f">{long}</time>" in when(moment)
        compact_html = when(moment, compact=True)
        assert f">{compact}</time>" in compact_html
        # The exact moment stays in the title, whichever form is shown.
        assert f'title="{timezone.localtime(moment).strftime("%a %-d %b %Y, %H:%M")}' in compact_html


def test_when_without_a_moment_shows_the_empty_words():
    assert when(None, "none yet", compact=True) == "none yet"
