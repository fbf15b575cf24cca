"""The admin, for whoever runs the service (lib.staff_admin): staff only, through the app's own
log-in; every registered model's pages open for a superuser (a rule over the admin's registry);
private words are in no list, form or search; and its actions do what the app's own commands do.
Who else may open which admin route (nobody) is the permission matrix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from contacts.models import Contact
from intros.admin import PRIVATE as INTRO_PRIVATE
from intros.models import IntroRequest
from lib.outbox import services as outbox
from lib.outbox.models import DeliveryReport, OutboxMessage
from tests.factories import PASSWORD, UserFactory
from tests.mail_backends import BOUNCING_DOMAIN, mailer
from workflows.personal_data import do_account_delete

pytestmark = pytest.mark.django_db

MARK = "PRIVATE-WORDS-7f3a"


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("ops@example.org", PASSWORD, full_name="Opal Operator")


@pytest.fixture
def ops(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def page_name(model, page: str) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}_{page}"


def one_of_each(world) -> None:
    """What the world lacks for a page of every registered model."""
    Group.objects.get_or_create(name="Operators")
    message = OutboxMessage.objects.filter(to__contains=["carol@example.org"]).first() or OutboxMessage.objects.first()
    DeliveryReport.objects.create(
        message=message, provider="Mailgun", event_id="e-1", kind="bounced", recipient=message.to[0]
    )


def test_every_registered_model_opens_for_a_superuser(world, ops, superuser):
    """The rule over the admin: each model's list, one object's page and its history, and the
    add and delete pages where allowed (refused, 403, where the admin is read-only)."""
    one_of_each(world)
    request = type("Request", (), {"user": superuser})()
    assert ops.get(url("index")).status_code == 200
    opened = []
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the world holds no {model._meta.label}"
        assert ops.get(url("app_list", model._meta.app_label)).status_code == 200
        for page, args, allowed in (
            ("changelist", (), True),
            ("change", (obj.pk,), True),
            ("history", (obj.pk,), True),
            ("add", (), model_admin.has_add_permission(request)),
            ("delete", (obj.pk,), model_admin.has_delete_permission(request, obj)),
        ):
            response = ops.get(url(page_name(model, page), *args))
            expected = 200 if allowed else 403
            assert response.status_code == expected, f"{model._meta.label} {page}: {response.status_code}"
        opened.append(model._meta.label)
    assert set(opened) >= {
        "accounts.User",
        "auth.Group",
        "cohorts.Cohort",
        "cohorts.Membership",
        "cohorts.Invitation",
        "contacts.Contact",
        "contacts.ImportBatch",
        "intros.IntroRequest",
        "outbox.OutboxMessage",
        "outbox.DeliveryReport",
    }


def test_each_list_page_takes_a_handful_of_queries(world, ops):
    """Every related column is joined, not looked up row by row (the world has several rows of each)."""
    one_of_each(world)
    for model in admin.site._registry:
        with CaptureQueriesContext(connection) as queries:
            assert ops.get(url(page_name(model, "changelist"))).status_code == 200
        assert len(queries) <= 10, f"{model._meta.label}: {len(queries)} queries"


def test_private_words_are_in_no_admin_list_form_or_search(world, ops):
    contact = world.target
    Contact.objects.filter(pk=contact.pk).update(
        notes=f"{MARK} notes", how_we_know=f"{MARK} how", email=f"{MARK.lower()}@example.org"
    )
    intro = world.introduced
    IntroRequest.objects.filter(pk=intro.pk).update(**{field: f"{MARK} {field}" for field in INTRO_PRIVATE})
    OutboxMessage.objects.filter(pk=world.awaiting.last_ask_id).update(
        body_text=f"{MARK} body", body_html=f"<p>{MARK} body</p>", context={"note": MARK}
    )
    pages = [
        url("contacts_contact_changelist"),
        url("contacts_contact_change", contact.pk),
        url("intros_introrequest_changelist"),
        url("intros_introrequest_change", intro.pk),
        url("outbox_outboxmessage_changelist"),
        url("outbox_outboxmessage_change", world.awaiting.last_ask_id),
        url("contacts_importbatch_change", world.batch.pk),
    ]
    for page in pages:
        html = ops.get(page).content.decode()
        assert MARK not in html and MARK.lower() not in html, page
    # Nor can they be searched for: a search for them finds nothing.
    for changelist in ("contacts_contact_changelist", "intros_introrequest_changelist"):
        html = ops.get(url(changelist), {"q": MARK}).content.decode()
        assert "0 results" in html, changelist
    # The rule behind it: no private field is listed, shown or searched.
    for model, private in (
        (Contact, {"notes", "how_we_know", "email", "email_unusable", "search_email"}),
        (IntroRequest, set(INTRO_PRIVATE)),
        (OutboxMessage, {"body_text", "body_html", "context"}),
    ):
        model_admin = admin.site._registry[model]
        shown = model_admin.fields or model_admin.readonly_fields
        named = {*model_admin.list_display, *shown, *(s.lstrip("=^@") for s in model_admin.search_fields)}
        assert not named & private, f"{model._meta.label}: {named & private}"


def test_anonymous_visitors_log_in_through_the_app_and_others_are_not_shown_the_admin(world):
    anonymous = Client()
    response = anonymous.get(url("index"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/{settings.ADMIN_URL}"
    # The admin's own log-in form (which the app's wrong-password limits would not cover) is not
    # there: it sends to the app's.
    response = anonymous.post(url("login"), {"username": world.seeker.email, "password": "guess"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    member = Client()
    member.force_login(world.seeker)
    for name in ("index", "login", "outbox_outboxmessage_changelist"):
        assert member.get(url(name)).status_code == 404


def test_staff_without_permissions_see_an_empty_admin(world):
    staff = UserFactory(full_name="Sam Staff", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert "have permission to view or edit anything" in client.get(url("index")).content.decode()
    assert client.get(url("outbox_outboxmessage_changelist")).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    assert client.get(url("outbox_outboxmessage_changelist")).status_code == 200
    # Looking is not sending again: without the change permission there is no retry action.
    assert 'value="retry"' not in client.get(url("outbox_outboxmessage_changelist")).content.decode()


def test_staff_log_in_on_the_apps_page_and_arrive_in_the_admin(superuser):
    client = Client()
    login = client.get(url("index"), follow=True)
    assert login.request["PATH_INFO"] == reverse("accounts:login")
    response = client.post(
        f"{reverse('accounts:login')}?next=/{settings.ADMIN_URL}",
        {"username": superuser.email, "password": PASSWORD},
        follow=True,
    )
    assert response.request["PATH_INFO"] == f"/{settings.ADMIN_URL}"
    assert "Warm Intros operations" in response.content.decode()


def failed_message(world, settings) -> OutboxMessage:
    settings.MAILERS = mailer("tests.mail_backends.RefusingBackend")
    message = outbox.outbox_enqueue(
        to=[f"lost@{BOUNCING_DOMAIN}"], subject="A nudge from your coach", template="coach_nudge", context={}
    )
    outbox.outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED
    return message


def test_retry_sends_failed_messages_again_as_the_command_does(world, ops, settings):
    failed = failed_message(world, settings)
    sent = outbox.outbox_enqueue(to=["ann@example.org"], subject="Hello Ann", template="coach_nudge", context={})
    outbox.outbox_send(message_id=sent.pk)
    changelist = url("outbox_outboxmessage_changelist")
    listed = ops.get(changelist, {"state__exact": "failed"}).content.decode()
    assert f"lost@{BOUNCING_DOMAIN}" in listed and "Hello Ann" not in listed

    response = ops.post(changelist, {"action": "retry", "_selected_action": [failed.pk, sent.pk]}, follow=True)
    page = response.content.decode()
    assert f"1 failed message will be sent again, each with a fresh set of attempts: #{failed.pk}." in page
    assert "1 of those chosen had not failed, and were left as they were" in page
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.failed_at) == (OutboxMessage.State.PENDING, 0, None)
    settings.MAILERS = mailer("django.core.mail.backends.locmem.EmailBackend")
    failed.to = ["lost@example.org"]  # the address was corrected meanwhile
    failed.save(update_fields=["to"])
    mail.outbox.clear()
    outbox.outbox_flush()
    failed.refresh_from_db()
    assert failed.state == OutboxMessage.State.SENT
    assert len([m for m in mail.outbox if m.to == ["lost@example.org"]]) == 1


def test_deactivating_someone_ends_their_sessions(world, ops, superuser):
    member = UserFactory(full_name="Max Member")
    theirs = Client()
    theirs.force_login(member)
    assert theirs.get(reverse("intros:home")).status_code == 200
    response = ops.post(
        url("accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [member.pk, superuser.pk]},
        follow=True,
    )
    assert "1 person deactivated." in response.content.decode()
    assert "You cannot deactivate yourself" in response.content.decode()
    member.refresh_from_db()
    superuser.refresh_from_db()
    assert not member.is_active and superuser.is_active
    assert theirs.get(reverse("intros:home")).status_code == 302  # logged out
    ops.post(url("accounts_user_changelist"), {"action": "reactivate", "_selected_action": [member.pk]})
    member.refresh_from_db()
    assert member.is_active


def test_the_admin_history_keeps_no_name_of_someone_who_deleted_their_account(world, ops):
    member = UserFactory(full_name="Max Member")
    ops.post(url("accounts_user_change", member.pk), {"is_active": "on"})
    entry = LogEntry.objects.get(object_id=str(member.pk), content_type__model="user")
    assert entry.object_repr == "Max Member"
    do_account_delete(user=member)
    entry.refresh_from_db()
    assert entry.object_repr == "A former member"


def test_a_password_reset_goes_to_the_person_alone(world, ops):
    member = UserFactory(full_name="Max Member")
    response = ops.post(
        url("accounts_user_changelist"), {"action": "send_password_reset", "_selected_action": [member.pk]}, follow=True
    )
    assert f"A password reset email is on its way to {member.email}." in response.content.decode()
    reset = OutboxMessage.objects.get(template="password_reset", to=[member.email])
    assert reset.cc == [] and "/accounts/password-reset/" in reset.body_text


def test_only_a_superuser_changes_who_is_staff(world):
    staff = UserFactory(full_name="Sam Staff", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = Client()
    client.force_login(staff)
    form = client.get(url("accounts_user_change", world.seeker.pk)).content.decode()
    assert 'name="is_active"' in form
    assert 'name="is_staff"' not in form and 'name="is_superuser"' not in form and 'name="email"' not in form
    response = client.post(
        url("accounts_user_change", staff.pk), {"is_active": "on", "is_superuser": "on", "is_staff": "on"}
    )
    assert response.status_code == 302  # saved: what they may change, and nothing else
    staff.refresh_from_db()
    assert staff.is_active and staff.is_staff and not staff.is_superuser


def test_createsuperuser_works_without_questions(monkeypatch):
    """README: `DJANGO_SUPERUSER_PASSWORD=… manage.py createsuperuser --noinput --email … --full_name …`."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long and unguessable phrase")
    call_command("createsuperuser", interactive=False, email="Ops@Example.org", full_name="Opal Operator")
    user = User.objects.get(email="ops@example.org")
    assert user.is_superuser and user.is_staff and user.check_password("a long and unguessable phrase")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={k: v for k, v in os.environ.items() if k != "ADMIN_URL"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_admin_url_is_never_empty_and_never_over_the_apps_own_pages():
    assert settings.ADMIN_URL == "ops/"
    empty = _manage("check", ADMIN_URL="")
    assert empty.returncode != 0 and "ADMIN_URL='' must be a path such as ops/" in empty.stderr
    taken = _manage("check", ADMIN_URL="contacts")
    assert taken.returncode != 0
    assert "warm.E001" in taken.stderr and "ADMIN_URL='contacts/' leads to contacts:list" in taken.stderr
    elsewhere = _manage("check", ADMIN_URL="/staff/desk/")
    assert elsewhere.returncode == 0, elsewhere.stderr
