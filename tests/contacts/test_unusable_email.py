"""An address that can't receive email (an accented local part, an imported typo) is kept for
its owner to see and fix, and nothing is ever sent to it; internationalised domains are fine.

The rule over the whole app: a contact's address reaches an outbox message only through
`Contact.email`, which the database allows to hold only a sendable address, and the outbox
itself refuses any other."""

from __future__ import annotations

import ast
import pathlib

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from intros import services as intro_services
from intros.states import Mode, Status
from lib.addresses import sendable, unusable_reason
from lib.outbox.models import OutboxMessage
from lib.outbox.services import Pending, UnsendableAddress, outbox_enqueue
from tests.conftest import login
from tests.factories import ContactFactory
from tests.stories import awaiting_target, last_link_token, submitted
from workflows import intros as actions

ACCENTED = "léa.müller@example.fr"
IDNA = "juergen@bücher.de"

VOUCH = {
    "checked_preparation": "on",
    "checked_fit": "on",
    "checked_relationship": "on",
    "vouch_strength": "acquainted",
    "vouch_note": "I worked with Janet for two years on the library budget.",
    "mode": "double_opt_in",
}


# --- What can be sent to ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("jill@example.org", True),
        (IDNA, True),  # an internationalised domain goes out as IDNA
        ("ann@例え.jp", True),
        (ACCENTED, False),
        ("josé@correo.es", False),
        ("chloé@exämple.fr", False),
        ("tom.baker(at)example.co.uk", False),
        ("jill@example", False),
        ("", False),
    ],
)
def test_sendable_addresses_are_what_the_mail_system_accepts(address, ok):
    assert sendable(address) is ok
    assert (unusable_reason(address) == "") is ok


def test_the_smtp_backend_agrees(settings):
    """Django's own SMTP backend refuses exactly what `sendable` refuses, and sends IDNA."""
    from django.core.mail.backends.smtp import EmailBackend

    backend = EmailBackend(alias="smtp", host="smtp.example.org")  # never connects: only its address check is used
    assert backend.prep_address(IDNA) == "juergen@xn--bcher-kva.de"
    with pytest.raises(ValueError):
        backend.prep_address(ACCENTED)


def test_the_reason_names_the_letters():
    assert unusable_reason(ACCENTED) == "the part before the @ has letters (é, ü) that mail servers refuse"


# --- The database and the outbox hold the line ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("writer", ["create", "bulk_create", "update"])
def test_no_writer_can_put_an_unsendable_address_in_contact_email(connector, writer):
    with pytest.raises(IntegrityError), transaction.atomic():
        if writer == "create":
            Contact.objects.create(owner=connector, name="Léa", email=ACCENTED)
        elif writer == "bulk_create":
            Contact.objects.bulk_create([Contact(owner=connector, name="Léa", email=ACCENTED)])
        else:
            Contact.objects.filter(pk=ContactFactory(owner=connector).pk).update(email=ACCENTED)


@pytest.mark.django_db
def test_an_address_is_either_sendable_or_set_aside_never_both(connector):
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(owner=connector, name="Léa", email="lea@example.fr", email_unusable=ACCENTED)
    assert Contact.objects.create(owner=connector, name="Jürgen", email=IDNA).email == IDNA


@pytest.mark.django_db
def test_the_outbox_refuses_an_unsendable_address():
    with pytest.raises(UnsendableAddress, match="cannot receive email"):
        outbox_enqueue(to=[ACCENTED], subject="Hello", template="intro_expired", context={})
    with pytest.raises(UnsendableAddress):
        Pending(to=ACCENTED, subject="Hello", template="followup_reminder")
    assert not OutboxMessage.objects.exists()


# Where an address comes from in each place that writes an email. `.email` is a model
# field that only ever holds a sendable address (Contact.email by a database check, User.email
# and Invitation.email by EmailValidator); the two names are the password-reset form's
# user.email and a coach's validated invitation address; the third, the people to tell when a
# message failed for good, were the connector's and the seeker's User.email when it was written.
RECIPIENT_ARGS = {"to", "cc", "reply_to"}
ALLOWED_SOURCES = {
    ("accounts/forms.py", "to_email"),
    ("cohorts/services.py", "email"),
    ("lib/outbox/services.py", "addresses[role]"),
}
SENDING_CALLS = {"outbox_enqueue", "Pending"}
APPS = ["lib", "accounts", "contacts", "intros", "followups", "cohorts", "webhooks", "workflows", "api", "config"]


def _recipient_expressions():
    base = pathlib.Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((base / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(base).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in SENDING_CALLS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg in RECIPIENT_ARGS:
                        values = keyword.value.elts if isinstance(keyword.value, ast.List) else [keyword.value]
                        for value in values:
                            yield relative, node.lineno, value


def test_every_email_the_app_writes_takes_its_addresses_from_a_sendable_field():
    """A new `outbox_enqueue(to=[contact.email_unusable])`, or an address read from an import
    row or typed text, fails here by name and line."""
    places = list(_recipient_expressions())
    assert len(places) > 30  # the scan sees the app's emails (not a vacuous pass)
    wrong = []
    for path, line, value in places:
        source = ast.unparse(value)
        from_a_field = isinstance(value, ast.Attribute) and value.attr == "email"
        allowed = (path, source) in ALLOWED_SOURCES
        if not (from_a_field or allowed) or "unusable" in source:
            wrong.append(f"{path}:{line} sends to {source}")
    assert not wrong, "Addresses that may not be sendable:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_a_target_whose_address_became_unusable_gets_nothing_from_any_workflow(client, settings):
    """The owner fixes a target's address into one that can't receive email while the request
    is under way: re-asks, the introduction and the feedback ask all go without it, and no
    message anywhere is addressed to it."""
    intro = awaiting_target()
    link, _ = last_link_token(intro)
    target = intro.target
    login(client, intro.connector)
    client.post(
        reverse("contacts:edit", args=[target.pk]),
        {
            "name": target.name,
            "email": ACCENTED,
            "strength": target.strength,
            "time_zone": "UTC",
            "weekdays": [0, 1, 2, 3, 4],
            "hours_start": "09:00",
            "hours_end": "17:00",
            "min_days_between": 0,
        },
    )
    target.refresh_from_db()
    assert (target.email, target.email_unusable) == ("", ACCENTED)
    before = OutboxMessage.objects.count()

    actions.do_remind_target(intro=intro)
    actions.do_target_accept(link=link, terms=intro_services.TargetTerms())
    intro.refresh_from_db()
    actions.do_record_meeting(intro=intro, seeker=intro.seeker, met_on=timezone.localdate())
    actions.do_ask_feedback(intro=intro)

    assert OutboxMessage.objects.count() > before  # the seeker and the connector still hear
    for message in OutboxMessage.objects.all():
        for address in [*message.to, *message.cc, *message.reply_to]:
            assert sendable(address), (message.subject, address)
            assert address != ACCENTED


# --- Approving says in words that the address needs fixing ----------------------------------------------


@pytest.mark.django_db
def test_approving_an_introduction_to_an_unusable_address_says_it_needs_fixing(client):
    intro = submitted(target=ContactFactory(name="Léa Müller", email="", email_unusable=ACCENTED))

    response = login(client, intro.connector).post(reverse("intros:approve", args=[intro.pk]), VOUCH)

    page = response.content.decode()
    assert response.status_code == 422
    assert "Léa Müller&#x27;s address “léa.müller@example.fr” can&#x27;t receive email" in page
    assert "the part before the @ has letters (é, ü)" in page
    assert "Fix it on their contact page first" in page
    intro.refresh_from_db()
    assert intro.status == Status.SUBMITTED
    assert not OutboxMessage.objects.filter(to__contains=[ACCENTED]).exists()


@pytest.mark.django_db
def test_an_introduction_to_an_idna_address_is_asked():
    intro = submitted(target=ContactFactory(email=IDNA))

    actions.do_approve(
        intro=intro,
        connector=intro.connector,
        vouch_strength="close",
        vouch_note="Known for years.",
        mode=Mode.DOUBLE_OPT_IN,
    )

    assert OutboxMessage.objects.filter(to=[IDNA]).exists()


# --- The contact form ------------------------------------------------------------------------------------


def contact_post(**changes) -> dict:
    data = {
        "name": "Léa Müller",
        "email": "",
        "strength": "acquainted",
        "time_zone": "Europe/Paris",
        "weekdays": [0, 1, 2, 3, 4],
        "hours_start": "09:00",
        "hours_end": "17:00",
        "min_days_between": 0,
    }
    return data | changes


@pytest.mark.django_db
def test_the_form_takes_an_internationalised_domain(client, connector):
    response = login(client, connector).post(reverse("contacts:create"), contact_post(email=IDNA))

    contact = Contact.objects.get(owner=connector)
    assert response.status_code == 302
    assert (contact.email, contact.email_unusable) == (IDNA, "")


@pytest.mark.django_db
def test_the_form_keeps_an_accented_address_and_says_why_it_cannot_be_used(client, connector):
    login(client, connector)

    response = client.post(reverse("contacts:create"), contact_post(email=ACCENTED), follow=True)

    contact = Contact.objects.get(owner=connector)
    assert (contact.email, contact.email_unusable) == ("", ACCENTED)
    page = response.content.decode()
    assert "Saved Léa Müller. Their address “léa.müller@example.fr” can&#x27;t receive email" in page
    assert "the part before the @ has letters (é, ü) that mail servers refuse" in page


@pytest.mark.django_db
def test_the_form_refuses_something_that_is_not_an_address_beside_the_field(client, connector):
    response = login(client, connector).post(reverse("contacts:create"), contact_post(email="lea(at)example.fr"))

    page = response.content.decode()
    assert response.status_code == 422
    assert "“lea(at)example.fr” is not an email address we can use: it has no @" in page
    assert 'value="lea(at)example.fr"' in page  # kept as typed
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_editing_shows_the_unusable_address_keeps_it_unchanged_and_fixing_it_clears_the_warning(client, connector):
    contact = ContactFactory(owner=connector, name="Tom Baker", email="", email_unusable="tom.baker(at)example.co.uk")
    login(client, connector)

    form_page = client.get(reverse("contacts:edit", args=[contact.pk])).content.decode()
    unchanged = client.post(
        reverse("contacts:edit", args=[contact.pk]),
        contact_post(name="Tom Baker", email="tom.baker(at)example.co.uk", notes="Met at the Proms."),
    )
    contact.refresh_from_db()
    kept = (contact.email, contact.email_unusable, contact.notes)
    fixed = client.post(
        reverse("contacts:edit", args=[contact.pk]), contact_post(name="Tom Baker", email="tom.baker@example.co.uk")
    )
    contact.refresh_from_db()

    assert 'value="tom.baker(at)example.co.uk"' in form_page
    assert "This address can&#x27;t receive email: it has no @" in form_page
    assert unchanged.status_code == 302  # other changes are not held up by it
    assert kept == ("", "tom.baker(at)example.co.uk", "Met at the Proms.")
    assert fixed.status_code == 302
    assert (contact.email, contact.email_unusable) == ("tom.baker@example.co.uk", "")


# --- The contact page and the list say so ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_contact_page_warns_and_links_to_the_fix(client, connector):
    contact = ContactFactory(owner=connector, name="Léa Müller", email="", email_unusable=ACCENTED)

    page = login(client, connector).get(contact.get_absolute_url()).content.decode()

    assert "This address can’t receive email:" in page
    assert "“léa.müller@example.fr” — the part before the @ has letters (é, ü) that mail servers refuse" in page
    assert f'href="{reverse("contacts:edit", args=[contact.pk])}#id_email"' in page
    assert "Can’t receive email" in page
    assert 'href="mailto:' not in page


@pytest.mark.django_db
def test_the_contact_list_marks_the_contact(client, connector):
    ContactFactory(owner=connector, name="Léa Müller", email="", email_unusable=ACCENTED)
    ContactFactory(owner=connector, name="Jürgen Groß", email=IDNA)

    page = login(client, connector).get(reverse("contacts:list")).content.decode()

    assert page.count("Address can’t receive email — fix it") == 1


@pytest.mark.django_db
def test_the_data_download_keeps_the_unusable_address(connector):
    from contacts.personal_data import export

    ContactFactory(owner=connector, email="", email_unusable=ACCENTED)

    assert next(export(connector)["contacts"])["email_that_cannot_receive_mail"] == ACCENTED
