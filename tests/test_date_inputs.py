"""Every date input writes its value as ISO (YYYY-MM-DD, and YYYY-MM-DDTHH:MM for a date and
time): a browser throws any other shape away and shows the field empty, as "When did you
meet?" once did with the en-GB 05/12/2026.

Two rules: every form class in the apps, whatever its widget, formats a date as ISO; and every
page with a date input, rendered, carries ISO in each input's value, min and max.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContactFactory
from tests.stories import accepted, awaiting_target, last_link_token

APPS = ("accounts", "contacts", "intros", "followups", "cohorts")
DAY = dt.date(2026, 12, 5)
MOMENT = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)
ISO = {"date": re.compile(r"^\d{4}-\d{2}-\d{2}$"), "datetime-local": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")}


def _form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for app in APPS:
        module = importlib.import_module(f"{app}.forms")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found.append(value)
    return found


def _date_widgets():
    for form_class in _form_classes():
        for name, field in form_class.base_fields.items():
            widget = field.widget
            if isinstance(widget, forms.DateTimeInput) or isinstance(field, forms.DateTimeField):
                yield f"{form_class.__name__}.{name}", widget, MOMENT, ISO["datetime-local"]
            elif isinstance(widget, forms.DateInput) or isinstance(field, forms.DateField):
                yield f"{form_class.__name__}.{name}", widget, DAY, ISO["date"]


def test_the_rule_finds_the_date_fields_of_the_app():
    names = {name for name, *_ in _date_widgets()}
    assert {"ContactForm.connected_on", "MeetingForm.met_on", "AcceptForm.busy_until", "OutreachForm.at"} <= names
    assert {"DashboardForm.start", "DashboardForm.end", "DeferForm.until"} <= names


# Ids by the field's name: a widget's repr holds its memory address, which differs between the
# processes of a parallel run (`make test-fast`), and pytest-xdist needs every worker to collect the same.
@pytest.mark.parametrize(
    ("name", "widget", "value", "iso"),
    list(_date_widgets()),
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_every_date_widget_writes_iso(name, widget, value, iso, settings):
    assert settings.LANGUAGE_CODE == "en-gb"  # whose own date format is 05/12/2026
    written = widget.format_value(value)
    assert iso.match(written), f"{name} writes {written!r}"
    assert widget.input_type in ISO, f"{name} is a {widget.input_type!r} input"


# --- the pages, rendered -----------------------------------------------------------------------

INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'\b(type|value|min|max)="([^"]*)"')


def _date_inputs(html: str) -> list[dict[str, str]]:
    found = []
    for tag in INPUT.findall(html):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("type") in ISO:
            found.append(attrs)
    return found


@pytest.mark.django_db
def test_every_page_with_a_date_input_writes_iso(client, cohort, seeker):
    introduced = accepted(seeker=seeker)
    contact = ContactFactory(owner=seeker, connected_on=DAY, unavailable_until=timezone.localdate())
    awaiting = awaiting_target(seeker=seeker)
    _, token = last_link_token(awaiting)
    pages = {
        "meeting (intro detail)": (seeker, reverse("intros:detail", args=[introduced.pk])),
        "outreach": (seeker, reverse("followups:outreach", args=[introduced.pk])),
        "contact edit": (seeker, reverse("contacts:edit", args=[contact.pk])),
        "contact create": (seeker, reverse("contacts:create")),
        "dashboard": (
            cohort.coach,
            reverse("cohorts:dashboard", args=[cohort.pk]) + f"?period=custom&start={DAY:%Y-%m-%d}&end=2026-12-01",
        ),
        "target answer": (None, reverse("intros:target", args=[awaiting.pk, token])),
    }
    seen = {}
    for name, (user, url) in pages.items():
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, name
        inputs = _date_inputs(response.content.decode())
        assert inputs, f"{name}: no date input"
        for attrs in inputs:
            for key in ("value", "min", "max"):
                if attrs.get(key):
                    assert ISO[attrs["type"]].match(attrs[key]), f"{name}: {key}={attrs[key]!r}"
        seen[name] = [a.get("value", "") for a in inputs]
    # The pre-filled ones show their day rather than an empty box.
    assert seen["meeting (intro detail)"] == [f"{timezone.localdate():%Y-%m-%d}"]
    assert f"{DAY:%Y-%m-%d}" in seen["contact edit"]
    assert seen["dashboard"][:2] == ["2026-12-05", "2026-12-01"]
