"""A no-login link is a key: it goes only to the person it acts for, in an email with one recipient.

tests/conftest.py checks this after every test over every email written or sent
(tests/mail_keys.py). These tests show that check is real: which routes it treats as keys (read
from the URLconf, so a new one is covered without being listed), that every kind of email with a
key passes it, and that it catches the shared introduction email as it used to be, with the
target's step-back link in it.
"""

from __future__ import annotations

import sys
import types

import pytest
import time_machine
from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.http import HttpResponse
from django.urls import clear_url_caches, path

from intros import services
from intros.models import TargetLink
from intros.states import Actor
from lib.outbox.models import OutboxMessage
from lib.outbox.services import outbox_enqueue
from tests.accounts.email_world import SITE_URL, T0, TemplateRecorder, send_every_email
from tests.mail_keys import Mail, check_mail_dir, key_links, key_url_names, keys, problems
from tests.stories import awaiting_target, last_link_token
from workflows import intros as actions

pytestmark = pytest.mark.django_db

KNOWN_KEYS = {"intros:target", "cohorts:join", "followups:calendar", "accounts:password_reset_confirm"}


def test_the_no_login_routes_with_a_key_are_read_from_the_urlconf():
    assert keys() == KNOWN_KEYS


@pytest.fixture
def urlconf_with_a_new_key_route(settings):
    """The project's URLconf plus one new no-login route that takes a token."""
    module = types.ModuleType("tests_new_key_urls")

    def coupon(request, token: str) -> HttpResponse:  # no login: the token is the key
        return HttpResponse("ok")

    def private(request, pk: int) -> HttpResponse:
        return HttpResponse("ok")

    from django.contrib.auth.decorators import login_required
    from django.urls import include

    module.urlpatterns = [
        path("", include("config.urls")),
        path("coupon/<str:token>/", coupon, name="coupon"),
        path("mine/<int:pk>/", login_required(private), name="mine"),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()
    yield module
    del sys.modules[module.__name__]
    clear_url_caches()


def test_a_new_no_login_route_with_a_key_is_covered_without_being_listed(urlconf_with_a_new_key_route):
    assert keys() == {*KNOWN_KEYS, "coupon"}
    assert "mine" not in key_url_names()
    link = f"{SITE_URL}/coupon/abc123/"
    assert [name for name, _ in key_links(f"Use it here: {link}")] == ["coupon"]
    shared = Mail("Your coupon", ("a@example.org", "b@example.org"), (), (), (f"Use it: {link}",), "test")
    found = problems(shared)
    assert len(found) == 1 and "coupon" in found[0] and "2 recipients" in found[0]
    assert problems(Mail("Your coupon", ("a@example.org",), (), (), (f"Use it: {link}",), "test")) == []


def test_every_kind_of_email_with_a_key_goes_to_one_recipient(client, settings, monkeypatch):
    """Every flow that writes an email, played through: each email carrying a key has one `to`
    and no cc (the outbox has no bcc), and each kind of key the app emails is among them."""
    settings.SITE_URL = SITE_URL
    recorder = TemplateRecorder(monkeypatch)
    try:
        with time_machine.travel(T0, tick=False):
            send_every_email(client)
    finally:
        recorder.close()
    with_keys: dict[str, set[str]] = {}
    wrong = []
    for message in OutboxMessage.objects.order_by("pk"):
        links = key_links(message.body_text, message.body_html)
        if not links:
            continue
        kind = recorder.template_of(message)
        with_keys.setdefault(kind, set()).update(name for name, _ in links)
        if len(message.to) != 1 or message.cc:
            wrong.append(f"{kind}: to={message.to} cc={message.cc}")
    assert not wrong, wrong
    assert with_keys == {
        "target_ask": {"intros:target"},  # the first ask, the reminder and the re-ask
        "target_step_back_link": {"intros:target"},
        "target_feedback_ask": {"intros:target"},
        "invitation": {"cohorts:join"},
        "password_reset": {"accounts:password_reset_confirm"},
    }
    # The shared introduction names everyone and links only to pages behind a login.
    introduction = next(m for m in OutboxMessage.objects.order_by("pk") if m.subject.startswith("Introduction:"))
    assert len(introduction.to) == 2 and len(introduction.cc) == 1
    assert key_links(introduction.body_text, introduction.body_html) == []


def _old_introduce(intro):
    """`do_introduce` (then `intros.services._introduce`) as it was: the step-back link inside the shared email."""
    result = services.transition(intro_id=intro.pk, name="introduce", role=Actor.SYSTEM)
    i = result.intro
    _, token = services.target_link_create(intro=i, purpose=TargetLink.Purpose.STEP_BACK)
    outbox_enqueue(
        to=[i.target.email, i.seeker.email],
        cc=[i.connector.email],
        subject=f"Introduction: {i.seeker.full_name} ↔ {i.target.name}",
        template="target_step_back_link",  # any body carrying the link; the old one no longer takes it
        context={"intro": i, "url": services.target_link_url(intro=i, token=token)},
        key=f"intro:{i.pk}:introduce",
    )


def test_the_check_catches_the_step_back_link_in_the_shared_introduction(
    seeker, target, monkeypatch, _mail_key_recorder, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(actions, "do_introduce", _old_introduce)
    intro = awaiting_target(seeker=seeker, target=target)
    link, _ = last_link_token(intro)
    _mail_key_recorder.drain()
    with django_capture_on_commit_callbacks(execute=True):  # and send it, as a worker would
        actions.do_target_accept(link=link, terms=services.TargetTerms())
    found = _mail_key_recorder.drain()  # taken here, so this test's own teardown check passes
    assert len(found) == 2, found  # the outbox row, and the message the backend was handed
    assert all("Introduction: Janet Seeker ↔ Carol Target" in f and "intros:target" in f for f in found)
    assert "outbox row" in found[0] and "sent through the email backend" in found[1]


def test_the_mail_files_a_real_worker_writes_are_checked_the_same_way(tmp_path, settings):
    key = f"{settings.SITE_URL}/cohorts/join/abc/"
    backend = FileBackend(file_path=str(tmp_path))
    backend.send_messages(
        [
            EmailMessage("Just for you", f"Join here: {key}", to=["one@example.org"]),
            EmailMessage("For you both", f"Join here: {key}", to=["one@example.org"], cc=["two@example.org"]),
            EmailMessage("No key", f"See {settings.SITE_URL}/inbox/", to=["a@example.org", "b@example.org"]),
        ]
    )
    found = check_mail_dir(tmp_path)
    assert len(found) == 1 and "For you both" in found[0] and "cohorts:join" in found[0], found


def test_a_step_back_link_reaches_only_the_target(seeker, target):
    intro = awaiting_target(seeker=seeker, target=target)
    link, _ = last_link_token(intro)
    actions.do_target_accept(link=link, terms=services.TargetTerms())
    _, token = last_link_token(intro, purpose=TargetLink.Purpose.STEP_BACK)
    carrying = [m for m in OutboxMessage.objects.all() if token in m.body_text or token in m.body_html]
    assert [(m.to, m.cc) for m in carrying] == [([target.email], [])]
    assert carrying[0].reply_to == [intro.connector.email]
