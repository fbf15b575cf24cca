"""Bad input: every form posted with hostile text (very long, control characters, NUL, HTML and
script, RTL overrides, emoji, SQL-like, template-like). Never a 500; a refusal is a 422 with the
error beside the field and nothing stored; what is stored renders escaped."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from cohorts.models import Cohort, Invitation
from contacts import services as contact_services
from contacts.models import Contact, ImportBatch
from followups.models import Offer, Outreach
from intros.models import IntroEvent, IntroRequest
from lib.outbox.models import OutboxMessage
from webhooks.models import WebhookEndpoint

from .world import World

EXAMPLES = 40
TRIED: dict[str, int] = {}
SCRIPT = "<script>alert(1)</script>"
NASTY = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "\x00",
    "a\x00b",
    "\r\nBcc: victim@example.com",
    "Eve\nSubject: hi",
    "\u202egnp.exe",
    "\u200f\u200e\u2066x\u2069",
    "🙂👩🏽‍💻🏳️‍🌈",
    "'; DROP TABLE contacts_contact; --",
    '" OR 1=1 --',
    "{{ request.user.email }}",
    "{% debug %}",
    "%(name)s %s {0}",
    "\x1b[31m\x07\x08\x0b\x0c",
    "x" * 10_001,
    ("<b>" + "é" * 200 + "</b>") * 30,
    "\ud7ff\ue000\ufffd\U0010ffff",
    " ",
    "",
]
# Text without surrogates (a browser cannot send them); every other category is in.
hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.builds(lambda a, b: a + SCRIPT + b, st.sampled_from(NASTY), st.text(max_size=20)),
)
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.large_base_example],
)
ERROR_MARK = re.compile(r'class="[^"]*errorlist|class="[^"]*error|role="alert"|aria-invalid="true"')


def _counts() -> tuple:
    return tuple(
        m.objects.count()
        for m in (
            Contact,
            IntroRequest,
            IntroEvent,
            Offer,
            Outreach,
            Invitation,
            User,
            Cohort,
            OutboxMessage,
            ImportBatch,
            WebhookEndpoint,
        )
    )


@dataclass(frozen=True)
class Form:
    role: str | None  # who posts (None: nobody logged in)
    url: Callable[[World], str]
    fields: tuple[str, ...] | Callable[[World], tuple[str, ...]]  # the text fields hostile strings go into
    base: Callable[[World], dict]  # a valid post, the hostile text goes on top
    show: Callable[[World], str] | None = None  # the page that shows what was stored


def _contact_base(w: World) -> dict:
    return {
        "name": "Ada Lovelace",
        "strength": "close",
        "time_zone": "UTC",
        "weekdays": ["0", "1", "2", "3", "4"],
        "hours_start": "09:00",
        "hours_end": "17:00",
        "min_days_between": "0",
    }


PREPARATION = ("goal", "research_company", "research_person", "questions", "followup_plan", "fit", "blurb")


def _intro(attr):
    return lambda w: reverse("intros:detail", args=[getattr(w, attr).pk])


def _target(attr, token):
    return lambda w: reverse("intros:target", args=[getattr(w, attr).pk, getattr(w, token)])


FORMS: dict[str, Form] = {
    "contact create": Form(
        "owner",
        lambda w: reverse("contacts:create"),
        ("name", "email", "organisation", "title", "profile_url", "how_we_know", "notes", "tags", "connected_on"),
        _contact_base,
        lambda w: reverse("contacts:list"),
    ),
    "contact edit": Form(
        "owner",
        lambda w: reverse("contacts:edit", args=[w.own_contact.pk]),
        ("name", "organisation", "title", "how_we_know", "notes", "tags", "hours_start", "unavailable_until"),
        _contact_base,
        lambda w: reverse("contacts:detail", args=[w.own_contact.pk]),
    ),
    "intro create": Form(
        "owner",
        lambda w: reverse("intros:create", args=[w.target.pk]),
        PREPARATION,
        lambda w: {f: "ok" for f in PREPARATION},
        lambda w: reverse("intros:home"),
    ),
    "intro edit and submit": Form(
        "owner",
        lambda w: reverse("intros:edit", args=[w.draft.pk]),
        PREPARATION,
        lambda w: {"submit": "1"},
        _intro("draft"),
    ),
    "vouch and approve": Form(
        "connector",
        lambda w: reverse("intros:approve", args=[w.submitted.pk]),
        ("vouch_note", "vouch_strength", "mode"),
        lambda w: {
            "checked_preparation": "on",
            "checked_fit": "on",
            "checked_relationship": "on",
            "vouch_strength": "close",
            "mode": "double_opt_in",
            "vouch_note": "I know her well.",
        },
        _intro("submitted"),
    ),
    "ask for changes": Form(
        "connector",
        lambda w: reverse("intros:request_changes", args=[w.submitted.pk]),
        ("changes-note",),
        lambda w: {},
        _intro("submitted"),
    ),
    "connector declines": Form(
        "connector",
        lambda w: reverse("intros:decline", args=[w.submitted.pk]),
        ("decline-note",),
        lambda w: {},
        _intro("submitted"),
    ),
    "meeting": Form("owner", lambda w: reverse("intros:meeting", args=[w.introduced.pk]), ("met_on",), lambda w: {}),
    "outcome": Form(
        "owner",
        lambda w: reverse("intros:outcome", args=[w.met.pk]),
        ("note", "referred_name", "referred_organisation", "referred_title", "outcome"),
        lambda w: {"outcome": "referred_on", "referred_name": "Rita Referred"},
        _intro("met"),
    ),
    "target accepts": Form(
        None,
        _target("awaiting", "answer_token"),
        ("accept-busy_until", "accept-hours_start", "accept-hours_end", "accept-time_zone", "accept-writes_first"),
        lambda w: {"action": "accept", "accept-writes_first": "seeker"},
    ),
    "target defers": Form(
        None,
        _target("awaiting", "answer_token"),
        ("defer-note", "defer-until"),
        lambda w: {"action": "defer", "defer-until": f"{timezone.localdate() + timezone.timedelta(days=9):%Y-%m-%d}"},
    ),
    "target declines": Form(
        None, _target("awaiting", "answer_token"), ("decline-note", "action"), lambda w: {"action": "decline"}
    ),
    "target steps back": Form(
        None, _target("introduced", "step_back_token"), ("step_back-note",), lambda w: {"action": "step_back"}
    ),
    "target feedback": Form(
        None,
        _target("met", "feedback_token"),
        ("feedback-note", "feedback-rating"),
        lambda w: {"action": "feedback", "feedback-rating": "4"},
    ),
    "outreach": Form(
        "owner",
        lambda w: reverse("followups:outreach", args=[w.introduced.pk]),
        ("note", "at", "channel"),
        lambda w: {
            # Now: the world's introduction was made when the module started, minutes ago.
            "at": f"{timezone.localtime():%Y-%m-%dT%H:%M}",
            "channel": "email",
            "confirmed": "True",
        },
        _intro("introduced"),
    ),
    "offer": Form(
        "owner",
        lambda w: reverse("followups:offers"),
        ("offered_by_name", "contact_name", "contact_organisation", "contact_title", "note"),
        lambda w: {"offered_by_name": "Jill Connector", "contact_name": "Pat"},
        lambda w: reverse("followups:offers"),
    ),
    # The follow-up list's one form: the clicked button names the follow-up, its row names the days.
    "snooze": Form(
        "owner",
        lambda w: reverse("followups:act"),
        lambda w: ("snooze", f"days-{w.followup.pk}"),
        lambda w: {"snooze": str(w.followup.pk)},
    ),
    "profile": Form(
        "owner",
        lambda w: reverse("accounts:profile"),
        ("full_name", "time_zone", "quiet_hours_start", "intro_capacity"),
        lambda w: {
            "full_name": "Janet",
            "time_zone": "UTC",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
            "digest_hour": "8",
        },
        lambda w: reverse("accounts:profile"),
    ),
    "cohort create": Form(
        "coach", lambda w: reverse("cohorts:create"), ("name",), lambda w: {}, lambda w: reverse("cohorts:list")
    ),
    "invite": Form(
        "coach",
        lambda w: reverse("cohorts:invite", args=[w.cohort.pk]),
        ("emails",),
        lambda w: {},
        lambda w: reverse("cohorts:detail", args=[w.cohort.pk]),
    ),
    "coach nudge": Form(
        "coach",
        lambda w: reverse("cohorts:nudge", args=[w.cohort.pk]),
        ("note", "member"),
        lambda w: {"member": str(w.seeker.pk)},
    ),
    "sign-up by invitation": Form(
        None,
        lambda w: reverse("cohorts:join", args=[w.invitation_token]),
        ("full_name", "password1", "password2", "time_zone", "email"),
        lambda w: {"time_zone": "UTC", "password1": "a-Long-pass-phrase-9", "password2": "a-Long-pass-phrase-9"},
        lambda w: reverse("cohorts:detail", args=[w.cohort.pk]),
    ),
    "webhook endpoint": Form(
        "owner",
        lambda w: reverse("webhooks:list"),
        ("url", "description", "scope", "event_types"),
        lambda w: {"url": "https://hooks.example.org/warm", "scope": "mine", "event_types": ["offer.stale"]},
        lambda w: reverse("webhooks:list"),
    ),
    "password reset": Form(None, lambda w: reverse("accounts:password_reset"), ("email",), lambda w: {}),
    "log in": Form(None, lambda w: reverse("accounts:login"), ("username", "password"), lambda w: {}),
    "delete account": Form("owner", lambda w: reverse("accounts:delete"), ("password",), lambda w: {}),
}


def _check(response, where: str) -> str:
    body = response.content.decode(errors="replace")
    assert response.status_code != 500, where
    assert SCRIPT not in body, f"{where}: a script from the input came back unescaped"
    assert "onerror=alert" not in body or "&quot;&gt;&lt;img" in body or "<img src=x onerror" not in body, where
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_hostile_text_in_every_form(name, world):
    form = FORMS[name]
    client = Client()
    if form.role:
        client.force_login(world.users[form.role])
    statuses: dict[int, int] = {}

    fields = form.fields(world) if callable(form.fields) else form.fields

    @HYPOTHESIS
    @given(field=st.sampled_from(fields), text=hostile, everywhere=st.booleans())
    def attempt(field, text, everywhere):
        # Each example is a fresh visitor as far as the rate limits go (they stay on).
        with transaction.atomic(), override_settings(RATE_LIMIT_KEY_PREFIX=f"ratelimit-test-{uuid.uuid4().hex}"):
            data = form.base(world)
            for f in fields if everywhere else (field,):
                data[f] = text
            before = _counts()
            where = f"{name}: {field if not everywhere else 'every field'}={text[:60]!r}"
            response = client.post(form.url(world), data)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            body = _check(response, where)
            assert response.status_code in {200, 302, 400, 403, 404, 409, 410, 422}, f"{where}: {response.status_code}"
            if response.status_code == 422:
                assert ERROR_MARK.search(body), f"{where}: 422 without an error shown"
                assert _counts() == before, f"{where}: refused, yet rows were written"
            elif form.show is not None:
                _check(client.get(form.show(world)), f"{where} (shown afterwards)")
            transaction.set_rollback(True)

    attempt()
    TRIED[name] = sum(statuses.values())
    print(f"{name}: {TRIED[name]} hostile posts, answers {dict(sorted(statuses.items()))}")


def _sendable_name(filename: str) -> str:
    """The name as the test client can send it: a name with nothing after its last slash ("/",
    "a/") is one no browser sends, and Django's own test client refuses to build it."""
    return filename if filename and os.path.basename(filename) else "f.csv"


@pytest.mark.django_db
def test_hostile_upload_names_and_contents(world, settings):
    # Hundreds of uploads by one person: the upload limit is tested in tests/lib/test_ratelimit.py.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "import_upload": (100_000, 3600)}
    client = Client()
    client.force_login(world.seeker)
    count = 0

    @HYPOTHESIS
    @given(
        filename=st.one_of(
            st.sampled_from([SCRIPT + ".csv", "../../etc/passwd", "a\x00.csv", "x" * 300 + ".csv"]),
            st.text(max_size=50),
        ),
        content=st.one_of(
            st.sampled_from(
                [
                    b"Name,Email\r\n" + SCRIPT.encode() + b",a@b.c\r\n",
                    b"BEGIN:VCARD\r\nFN:" + SCRIPT.encode() + b"\r\nEND:VCARD\r\n",
                    b'First Name,Last Name\r\n"Eve\r\nBcc: x@y",Z\r\n',
                    b"\x00\x00\x00",
                    b"\xff\xfe\x00<",
                    b"=cmd|' /C calc'!A0,x\r\n",
                ]
            ),
            st.binary(max_size=400),
            hostile.map(
                lambda t: ("First Name,Last Name,Email Address\r\n" + t + ",x,\r\n").encode("utf-8", "surrogatepass")
            ),
        ),
    )
    def attempt(filename, content):
        nonlocal count
        count += 1
        with transaction.atomic():
            before = ImportBatch.objects.count()
            upload = SimpleUploadedFile(_sendable_name(filename), content, content_type="text/csv")
            response = client.post(reverse("contacts:import"), {"file": upload})
            body = _check(response, f"upload {filename[:40]!r}")
            assert response.status_code in {302, 422}, response.status_code
            if response.status_code == 422:
                assert ERROR_MARK.search(body)
                assert ImportBatch.objects.count() == before
            else:
                _check(client.get(response["Location"]), f"upload {filename[:40]!r} while read")
                # What the worker does with it (here, inside the rolled-back transaction).
                contact_services.import_parse(batch_id=ImportBatch.objects.latest("pk").pk)
                _check(client.get(response["Location"]), f"upload {filename[:40]!r} preview")
            transaction.set_rollback(True)

    attempt()
    TRIED["import upload"] = count
    print(f"import upload: {count} hostile files")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,url",
    [
        ("owner", lambda w: reverse("intros:find") + "?q="),
        ("owner", lambda w: reverse("contacts:list") + "?q="),
        ("owner", lambda w: reverse("contacts:list") + "?organisation="),
        ("owner", lambda w: reverse("contacts:organisations") + "?organisation="),
        ("coach", lambda w: reverse("cohorts:dashboard", args=[w.cohort.pk]) + "?period=custom&start="),
        ("coach", lambda w: reverse("cohorts:dashboard", args=[w.cohort.pk]) + "?q="),
        ("coach", lambda w: reverse("cohorts:dashboard_drill", args=[w.cohort.pk]) + "?member="),
        ("coach", lambda w: reverse("cohorts:export_requests", args=[w.cohort.pk]) + "?member="),
    ],
    ids=[
        "find",
        "contact list",
        "contact organisation",
        "organisation suggestions",
        "dashboard period",
        "dashboard member search",
        "drill member",
        "export member",
    ],
)
def test_hostile_query_strings(role, url, world):
    from urllib.parse import quote

    client = Client()
    client.force_login(world.users[role])

    @HYPOTHESIS
    @given(text=st.one_of(hostile, st.sampled_from(["²", "٣", "¹²", "-1", "9" * 30, "0x10"])))
    def attempt(text):
        response = client.get(url(world) + quote(text, safe=""))
        _check(response, f"{url(world)}{text[:40]!r}")
        assert response.status_code in {200, 404}

    attempt()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["\r\nBcc: victim@example.com", "Eve\nSubject: x", "Eve\rX", "Eve\u2028X", "Eve\x85X"])
def test_line_breaks_in_names_never_reach_an_email_header(name, world):
    """A name becomes part of email subjects: it is refused at the form with a message, and no
    email ever carries a line break in its subject (the outbox would refuse it: a 500)."""
    owner, connector = Client(), Client()
    owner.force_login(world.seeker)
    connector.force_login(world.connector)
    profile = owner.post(
        reverse("accounts:profile"),
        {
            "full_name": f"Janet{name}",
            "time_zone": "UTC",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
            "digest_hour": "8",
        },
    )
    assert profile.status_code in {302, 422}
    contact = connector.post(
        reverse("contacts:edit", args=[world.target.pk]),
        {**_contact_base(world), "name": f"Carol{name}", "email": "carol@example.org", "shareable": "on"},
    )
    assert contact.status_code in {302, 422}
    # Whatever was stored, the emails that name these people go out without a line break.
    submitted = owner.post(reverse("intros:submit", args=[world.draft.pk]))
    assert submitted.status_code in {200, 302, 422}
    for message in OutboxMessage.objects.all():
        assert "\n" not in message.subject and "\r" not in message.subject
    world.seeker.refresh_from_db()
    assert "\n" not in world.seeker.full_name and "\r" not in world.seeker.full_name
    assert not any(c in Contact.objects.get(pk=world.target.pk).name for c in "\r\n")


def test_inputs_tried_per_form():
    print("hostile inputs tried per form:", TRIED)
    assert len(TRIED) == len(FORMS) + 1, "run the whole file"


# --- the date column ------------------------------------------------------------------------------
# Every form with a date or date-time field, posted with the ends of the calendar and the days
# around them. Each is refused (422) with the error beside the field, what was typed kept in
# it, and nothing saved; none is a 500.

EDGE_DATES = ["0000-12-31", "0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31", "10000-01-01"]
DATE_COLUMN: dict[str, tuple[str, ...]] = {
    "contact create": ("connected_on", "unavailable_until"),
    "contact edit": ("connected_on", "unavailable_until"),
    "meeting": ("met_on",),
    "target accepts": ("accept-busy_until",),
    "target defers": ("defer-until",),
    "outreach": ("at",),
}


def _typed(field: str, day: str) -> str:
    return f"{day}T{'00:00' if day < '5' else '23:59'}" if field == "at" else day


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(DATE_COLUMN))
def test_dates_at_the_ends_of_the_calendar_in_every_form(name, world):
    from .world import diff, snapshot

    form = FORMS[name]
    client = Client()
    if form.role:
        client.force_login(world.users[form.role])
    for field in DATE_COLUMN[name]:
        for day in EDGE_DATES:
            typed = _typed(field, day)
            where = f"{name}: {field}={typed}"
            with transaction.atomic(), override_settings(RATE_LIMIT_KEY_PREFIX=f"ratelimit-test-{uuid.uuid4().hex}"):
                before = snapshot()
                response = client.post(form.url(world), {**form.base(world), field: typed})
                body = response.content.decode()
                assert response.status_code == 422, f"{where}: {response.status_code}"
                assert f'id="id_{field}_error"' in body, f"{where}: no error beside the field"
                assert re.search(rf'name="{field}"[^>]*value="{re.escape(typed)}"', body), f"{where}: not kept"
                assert diff(before, snapshot()) == [], f"{where}: refused, yet rows were written"
                transaction.set_rollback(True)


DASHBOARD_VIEWS = {
    "page": lambda w: reverse("cohorts:dashboard", args=[w.cohort.pk]),
    "members csv": lambda w: reverse("cohorts:export_members", args=[w.cohort.pk]),
    "requests csv": lambda w: reverse("cohorts:export_requests", args=[w.cohort.pk]),
    "drill-down": lambda w: reverse("cohorts:dashboard_drill", args=[w.cohort.pk]) + f"?member={w.seeker.pk}&",
}


@pytest.mark.django_db
@pytest.mark.parametrize("view", sorted(DASHBOARD_VIEWS))
def test_dashboard_periods_at_the_ends_of_the_calendar(view, world):
    """The coach's custom period is a GET: the page refuses the date beside its field and keeps it;
    the exports and the drill-down fall back to the last 30 days, as for any bad period."""
    from urllib.parse import urlencode

    client = Client()
    client.force_login(world.users["coach"])
    today = timezone.localdate()
    for which in ("start", "end"):
        for day in EDGE_DATES:
            period = {"period": "custom", "start": f"{today:%Y-%m-%d}", "end": f"{today:%Y-%m-%d}", which: day}
            url = DASHBOARD_VIEWS[view](world)
            response = client.get(url + ("&" if "?" in url else "?") + urlencode(period))
            where = f"{view}: {which}={day}"
            assert response.status_code == 200, f"{where}: {response.status_code}"
            if view.endswith("csv"):
                assert "9999" not in response["Content-Disposition"] and "0001" not in response["Content-Disposition"]
                continue
            body = response.content.decode()
            assert "Showing the last 30 days instead." in body, where
            if view == "page":
                assert f'id="id_{which}_error"' in body, f"{where}: no error beside the field"
                assert re.search(rf'name="{which}"[^>]*value="{day}"', body), f"{where}: not kept"


def test_the_date_column_covers_every_date_field_in_the_app():
    """A new date field anywhere in the app fails here until the date column posts to it."""
    import importlib
    import inspect

    from django import forms as django_forms

    posted = {field.rsplit("-", 1)[-1] for fields in DATE_COLUMN.values() for field in fields} | {"start", "end"}
    found = set()
    for app in ("accounts", "contacts", "intros", "followups", "cohorts"):
        module = importlib.import_module(f"{app}.forms")
        for _, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, django_forms.BaseForm) or form_class.__module__ != module.__name__:
                continue
            for name, field in form_class.base_fields.items():
                if isinstance(field, django_forms.DateField | django_forms.DateTimeField):
                    found.add((form_class.__name__, name))
    assert found, "the walk found no date field"
    assert {name for _, name in found} <= posted, sorted(found)


# --- the API's bodies -----------------------------------------------------------------------------
# Every JSON body the API takes, with hostile text in its text fields and hostile JSON values
# anywhere (numbers, nulls, lists, objects, lone surrogates, which JSON can carry and a form post
# cannot). Never a 500; every refusal is a problem document; a 422 lists what is wrong and
# stores nothing; what is stored renders escaped on the pages.

API_TRIED: dict[str, int] = {}
API_ANSWERS = {200, 201, 204, 400, 404, 409, 422}
hostile_json = st.one_of(
    hostile,
    st.sampled_from(["\ud800", "a\udfffb", "\ud83d"]),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@dataclass(frozen=True)
class ApiBody:
    role: str
    method: str
    url: Callable[[World], str]
    fields: tuple[str, ...]
    base: Callable[[World], dict]
    show: Callable[[World], str] | None = None


API_VOUCH = {
    "checked_preparation": True,
    "checked_fit": True,
    "checked_relationship": True,
    "vouch_strength": "acquainted",
    "vouch_note": "I worked with Janet for two years on the budget.",
    "mode": "double_opt_in",
}

API_BODIES: dict[str, ApiBody] = {
    "api contact create": ApiBody(
        "owner",
        "post",
        lambda w: "/api/v1/contacts",
        ("name", "email", "organisation", "title", "profile_url", "how_we_know", "notes", "tags", "time_zone"),
        lambda w: {"name": "Ada Lovelace"},
        lambda w: reverse("contacts:list"),
    ),
    "api contact update": ApiBody(
        "owner",
        "patch",
        lambda w: f"/api/v1/contacts/{w.own_contact.pk}",
        ("name", "organisation", "title", "notes", "weekdays", "hours_start", "unavailable_until", "strength"),
        lambda w: {},
        lambda w: reverse("contacts:detail", args=[w.own_contact.pk]),
    ),
    "api intro create": ApiBody(
        "owner",
        "post",
        lambda w: "/api/v1/intros",
        (*PREPARATION, "why_now", "target_id"),
        lambda w: {"target_id": w.unasked.pk},
    ),
    "api intro withdraw": ApiBody(
        "owner", "post", lambda w: f"/api/v1/intros/{w.submitted.pk}/withdraw", ("note",), lambda w: {}
    ),
    "api intro approve": ApiBody(
        "connector",
        "post",
        lambda w: f"/api/v1/intros/{w.submitted.pk}/approve",
        ("vouch_note", "vouch_strength", "mode", "checked_fit", "parent_id"),
        lambda w: dict(API_VOUCH),
        _intro("submitted"),
    ),
    "api intro request changes": ApiBody(
        "connector", "post", lambda w: f"/api/v1/intros/{w.submitted.pk}/request-changes", ("note",), lambda w: {}
    ),
    "api intro decline": ApiBody(
        "connector", "post", lambda w: f"/api/v1/intros/{w.submitted.pk}/decline", ("note",), lambda w: {}
    ),
    "api follow-up snooze": ApiBody(
        "owner", "post", lambda w: f"/api/v1/follow-ups/{w.followup.pk}/snooze", ("days",), lambda w: {"days": 3}
    ),
    "api offer create": ApiBody(
        "owner",
        "post",
        lambda w: "/api/v1/offers",
        ("offered_by_name", "contact_name", "contact_organisation", "contact_title", "note"),
        lambda w: {"offered_by_name": "Rosa", "contact_name": "Maya"},
        lambda w: reverse("followups:offers"),
    ),
}


def _api_check(response, where: str) -> None:
    assert response.status_code != 500, where
    assert response.status_code in API_ANSWERS, f"{where}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), where
        problem = response.json()
        assert problem["status"] == response.status_code and problem["detail"], where


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(API_BODIES))
def test_hostile_values_in_every_api_body(name, world):
    import json

    body = API_BODIES[name]
    client = Client()
    client.force_login(world.users[body.role])
    statuses: dict[int, int] = {}

    def send(payload) -> object:
        raw = json.dumps(payload) if not isinstance(payload, bytes) else payload
        return getattr(client, body.method)(body.url(world), raw, content_type="application/json")

    @HYPOTHESIS
    @given(field=st.sampled_from(body.fields), value=hostile_json, everywhere=st.booleans())
    def attempt(field, value, everywhere):
        with transaction.atomic(), override_settings(RATE_LIMIT_KEY_PREFIX=f"ratelimit-test-{uuid.uuid4().hex}"):
            data = body.base(world)
            for f in body.fields if everywhere else (field,):
                data[f] = value
            before = _counts()
            where = f"{name}: {field if not everywhere else 'every field'}={str(value)[:60]!r}"
            response = send(data)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            _api_check(response, where)
            if response.status_code == 422:
                assert response.json()["errors"], f"{where}: 422 without the errors listed"
                assert _counts() == before, f"{where}: refused, yet rows were written"
            elif response.status_code < 300 and body.show is not None:
                _check(client.get(body.show(world)), f"{where} (shown afterwards)")
            transaction.set_rollback(True)

    attempt()
    # Bodies that are not an object of fields at all.
    for raw in (b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe", b'{"a": NaN}', b"1" * 5000):
        with transaction.atomic():
            response = send(raw)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            _api_check(response, f"{name}: body {raw[:20]!r}")
            transaction.set_rollback(True)
    API_TRIED[name] = sum(statuses.values())
    print(f"{name}: {API_TRIED[name]} hostile bodies, answers {dict(sorted(statuses.items()))}")
