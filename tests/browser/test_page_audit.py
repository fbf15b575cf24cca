"""The pages the journeys pass by without stopping, audited like the journeys' own: axe-core
(no serious or critical violations), no sideways scrolling, no word broken across lines and
44 px tap targets at 390 and 1280 px, a screenshot of each. Together with the journeys this
covers every page of the app, the error pages included."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from playwright.sync_api import expect

from cohorts import services as cohort_services
from followups import services as followup_services
from intros.models import IntroRequest, TargetLink
from intros.states import Status
from lib.outbox import services as outbox
from lib.outbox.models import OutboxMessage
from tests import mailgun
from tests.contacts.import_samples import GERMAN_HEADER_CSV, international_csv, linkedin_csv, linkedin_rows
from tests.factories import (
    GOOD_PREPARATION,
    CohortFactory,
    ContactFactory,
    IntroRequestFactory,
    MembershipFactory,
    UserFactory,
)
from tests.mail_backends import BOUNCING_DOMAIN, mailer
from tests.stories import accepted, awaiting_target, last_link_token, log_in
from workflows import intros as actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESET_RE = re.compile(r"/accounts/password-reset/[^/\s]+/[^/\s]+/")


def test_pages_without_an_account_pass_the_audit(new_page, check):
    janet = UserFactory(full_name="Janet Seeker")
    page = new_page("visitor", phone=True)

    page.goto("/accounts/login/")
    check(page, "login")
    page.get_by_label("Email address").fill(janet.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That email address and password do not match an account.")).to_be_visible()
    check(page, "login-refused")

    page.get_by_role("link", name=re.compile("Forgot|Reset", re.I)).click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    check(page, "password-reset")
    page.get_by_label("Email address").fill(janet.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check(page, "password-reset-sent")
    message = OutboxMessage.objects.filter(to=[janet.email]).latest("pk")
    page.goto(RESET_RE.search(message.body_text).group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check(page, "password-new")
    page.locator("#id_new_password1").fill("another long and careful passphrase")
    page.locator("#id_new_password2").fill("another long and careful passphrase")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    check(page, "password-changed")

    # The target's other pages: after the meeting, the feedback page; before it, stepping back;
    # and a link used already.
    intro = accepted(
        seeker=janet, target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector"))
    )
    _, step_back = last_link_token(intro, purpose=TargetLink.Purpose.STEP_BACK)
    page.goto(f"/r/{intro.pk}/{step_back}/")
    expect(page.get_by_role("heading", name="Your introduction to Janet Seeker")).to_be_visible()
    check(page, "target-step-back")
    _, answer = last_link_token(intro)
    page.goto(f"/r/{intro.pk}/{answer}/")
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    check(page, "target-link-used")
    intro.refresh_from_db()
    actions.do_record_meeting(intro=intro, seeker=janet, met_on=timezone.localdate())
    intro.refresh_from_db()
    actions.do_ask_feedback(intro=intro)
    _, feedback = last_link_token(intro, purpose=TargetLink.Purpose.FEEDBACK)
    page.goto(f"/r/{intro.pk}/{feedback}/")
    expect(page.get_by_role("heading", name="How was meeting Janet Seeker?")).to_be_visible()
    check(page, "target-feedback")


def test_seeker_pages_outside_the_journeys_pass_the_audit(page, check):
    janet = UserFactory(full_name="Janet Seeker")
    cohort = CohortFactory(name="Spring boot camp")
    MembershipFactory(cohort=cohort, user=janet)
    hank = ContactFactory(owner=janet, name="Hank Scorpio", organisation="Globex", title="Founder")
    ContactFactory(owner=janet, name="Marge Bouvier", organisation="Springfield Library")
    intro = accepted(
        seeker=janet, target=ContactFactory(name="Carol Target", owner=UserFactory(full_name="Jill Connector"))
    )
    followup_services.offer_create(
        seeker=janet, offered_by_name="Sam Okoye", contact_name="Rita Recruiter", contact_organisation="Northwind"
    )
    log_in(page, janet.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_text("Hank Scorpio")).to_be_visible()
    check(page, "contacts")
    page.get_by_role("link", name="Hank Scorpio").click()
    expect(page.get_by_role("heading", name="Hank Scorpio")).to_be_visible()
    check(page, "contact-detail")
    page.goto(f"/contacts/{hank.pk}/edit/")
    expect(page.get_by_label("Name")).to_have_value("Hank Scorpio")
    check(page, "contact-edit")

    page.goto("/contacts/import/")
    expect(page.get_by_role("heading", name="Import contacts")).to_be_visible()
    check(page, "import-upload")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "Connections.csv", "mimeType": "text/csv", "buffer": linkedin_csv()}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Import of “Connections.csv”")).to_be_visible()
    check(page, "import-preview")
    page.get_by_role("button", name="Import with these choices").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    check(page, "import-done")

    # Offers are reached from home, not only from a button on the follow-ups page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Introductions offered to you").click()
    expect(page.get_by_text("Rita Recruiter")).to_be_visible()
    check(page, "offers")
    page.goto(f"/follow-ups/intros/{intro.pk}/outreach/")
    expect(page.get_by_role("heading", name="Log your outreach to Carol Target")).to_be_visible()
    check(page, "outreach-log")
    page.goto(f"/intros/{intro.pk}/chain/")
    expect(page.get_by_role("heading", name="Referral chain")).to_be_visible()
    # The seeker's own chain belongs under Home, not under the connector's Inbox.
    expect(page.get_by_role("navigation", name="Main").locator("[aria-current=page]")).to_have_text("Home")
    check(page, "chain")


def test_contact_import_from_upload_to_result_passes_the_audit(page, check, monkeypatch, settings):
    """The import as a person meets it: a header we do not know, a file over the row limit, the
    page that waits on the worker, the preview with the rows that need a look, the result with
    what was skipped or changed, and a contact whose address can't receive email."""
    from django.core.cache import cache

    from contacts import services as contact_services
    from contacts.models import Contact, ImportBatch

    janet = UserFactory(full_name="Janet Seeker")
    ContactFactory(owner=janet, name="Wei Zhang", organisation="Huawei", email="wei.zhang@example.cn")
    log_in(page, janet.email)
    page.goto("/contacts/import/")

    def choose(name: str, raw: bytes) -> None:
        page.locator("input[type=file]").set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": raw}])
        page.get_by_role("button", name="Upload and preview").click()

    choose("Kontakte.csv", GERMAN_HEADER_CSV)
    expect(page.get_by_text("the header row has the columns “Vorname”")).to_be_visible()
    check(page, "import-unknown-header")

    settings.IMPORT_MAX_ROWS = 40
    choose("Connections.csv", linkedin_csv(linkedin_rows(45)))  # read at once: tasks run eagerly here
    expect(page.get_by_text("The file has 45 contacts; the most one import can take is 40.")).to_be_visible()
    check(page, "import-too-many-rows")
    settings.IMPORT_MAX_ROWS = 50_000

    # The worker is late: the page waits, shows how far it has got, then turns into the preview.
    monkeypatch.setattr(contact_services, "_enqueue_parse", lambda batch_id: None)
    page.goto("/contacts/import/")
    choose("Connections.csv", international_csv() + "\r\n".join(linkedin_rows(38)).encode() + b"\r\n")
    expect(page.get_by_role("heading", name="Reading your file…")).to_be_visible()
    batch = ImportBatch.objects.get(owner=janet, status="parsing")
    cache.set(batch.parse_progress_key, (20, 50))
    expect(page.get_by_text("20 of 50 rows read")).to_be_visible()  # the page polls the worker's count
    check(page, "import-reading")
    cache.delete(batch.parse_progress_key)
    contact_services.import_parse(batch_id=batch.pk)
    expect(page.get_by_role("heading", name="Nothing is saved until you import")).to_be_visible()
    page.get_by_role("link", name="Needs a look (6)").click()
    expect(page.locator(".import-warnings").first).to_contain_text("léa.müller@example.fr")
    check(page, "import-preview-warnings")

    page.get_by_role("link", name="All (50)").click()
    page.get_by_role("button", name="Import with these choices").click()
    expect(page.get_by_role("heading", name="What was skipped or changed")).to_be_visible()
    check(page, "import-result")

    lea = Contact.objects.get(owner=janet, name="Léa Müller")
    page.goto(lea.get_absolute_url())
    expect(page.get_by_text("This address can’t receive email:")).to_be_visible()
    check(page, "contact-unusable-email")
    page.get_by_role("link", name="Fix the address").click()
    expect(page.get_by_label("Email")).to_have_value("léa.müller@example.fr")
    check(page, "contact-fix-email")
    page.goto("/contacts/?q=M%C3%BCller")
    expect(page.get_by_text("Address can’t receive email — fix it")).to_be_visible()
    check(page, "contacts-unusable-email")


def test_coach_pages_outside_the_journeys_pass_the_audit(page, check):
    dana = UserFactory(full_name="Dana Coach")
    janet = UserFactory(full_name="Janet Seeker")
    cohort = CohortFactory(name="Autumn boot camp", coach=dana)
    MembershipFactory(cohort=cohort, user=janet)
    cohort_services.invitations_send(cohort=cohort, emails=["newcomer@example.org"], invited_by=dana)
    log_in(page, dana.email)
    # A coach's home starts with their cohorts' dashboards.
    expect(page.get_by_role("link", name="Dashboard of Autumn boot camp")).to_be_visible()
    check(page, "coach-home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    expect(page.get_by_role("heading", name="Cohorts", exact=True)).to_be_visible()
    check(page, "cohorts")
    page.goto("/cohorts/new/")
    expect(page.get_by_role("heading", name="Start a cohort")).to_be_visible()
    check(page, "cohort-new")
    page.goto(f"/cohorts/{cohort.pk}/")
    expect(page.get_by_text("newcomer@example.org")).to_be_visible()
    check(page, "cohort-detail")
    # The drill-down as a page of its own (a link opened in a new tab, or without JavaScript).
    page.goto(f"/cohorts/{cohort.pk}/dashboard/drill/?member={janet.pk}")
    expect(page.get_by_role("heading", name="Janet Seeker", exact=True)).to_be_visible()
    check(page, "drill-page")


def test_a_target_ask_that_was_not_delivered_shows_on_the_request_page(new_page, check, settings):
    settings.MAILERS = mailer("tests.mail_backends.RefusingBackend")  # refuses Carol's address for good
    jill = UserFactory(full_name="Jill Connector")
    janet = UserFactory(full_name="Janet Seeker")
    carol = ContactFactory(owner=jill, name="Carol Target", email=f"carol@{BOUNCING_DOMAIN}", shareable=True)
    intro = awaiting_target(seeker=janet, target=carol)  # the ask is refused as it is sent
    headline = "Our email to Carol Target could not be delivered: check their address"

    seeker = new_page("seeker")
    log_in(seeker, janet.email)
    seeker.goto(f"/intros/{intro.pk}/")
    expect(seeker.get_by_role("heading", name="Our email to Carol Target could not be delivered")).to_be_visible()
    check(seeker, "undelivered-ask-seeker")

    connector = new_page("connector")
    log_in(connector, jill.email)
    connector.goto(f"/intros/{intro.pk}/")
    expect(connector.get_by_role("heading", name=headline)).to_be_visible()
    check(connector, "undelivered-ask-connector")
    connector.get_by_role("link", name="correct it on your contact").click()
    connector.get_by_label("Email").fill("carol@example.org")
    connector.get_by_role("button", name=re.compile("Save")).click()
    expect(connector.get_by_text("Saved Carol Target.")).to_be_visible()
    connector.goto(f"/intros/{intro.pk}/")
    connector.get_by_role("button", name="Ask Carol Target again").click()
    expect(connector.get_by_text("Carol Target is asked again, at carol@example.org.")).to_be_visible()
    expect(connector.get_by_role("heading", name=headline)).to_have_count(0)
    check(connector, "undelivered-ask-asked-again")


def test_an_introduction_that_bounced_for_the_target_shows_on_the_request_page(new_page, check, settings, client):
    settings.MAILERS = mailer("anymail.backends.test.EmailBackend")
    settings.ANYMAIL = mailgun.SETTINGS
    jill = UserFactory(full_name="Jill Connector")
    janet = UserFactory(full_name="Janet Seeker")
    MembershipFactory(cohort=CohortFactory(), user=janet)
    carol = ContactFactory(owner=jill, name="Carol Target", email="carol@example.org", shareable=True)
    intro = accepted(seeker=janet, target=carol)
    outbox.outbox_flush()
    introduction = OutboxMessage.objects.get(key=intro.introduction_key)
    # Mailgun reports, through its signed webhook, that Carol's copy bounced.
    assert mailgun.post(client, mailgun.event("failed", recipient=carol.email, message=introduction)).status_code == 200

    seeker = new_page("seeker")
    log_in(seeker, janet.email)
    seeker.goto(f"/intros/{intro.pk}/")
    expect(seeker.get_by_role("heading", name="Our introduction email did not reach Carol Target")).to_be_visible()
    expect(seeker.get_by_text("please do not write to it for now")).to_be_visible()
    check(seeker, "undelivered-introduction-seeker")

    connector = new_page("connector")
    log_in(connector, jill.email)
    connector.goto(f"/intros/{intro.pk}/")
    headline = "Our introduction email did not reach Carol Target: check their address"
    expect(connector.get_by_role("heading", name=headline)).to_be_visible()
    check(connector, "undelivered-introduction-connector")
    connector.get_by_role("link", name="Correct the address on your contact").click()
    connector.get_by_label("Email").fill("carol.target@example.org")
    connector.get_by_role("button", name=re.compile("Save")).click()
    expect(connector.get_by_text("Saved Carol Target.")).to_be_visible()
    connector.goto(f"/intros/{intro.pk}/")
    expect(connector.get_by_role("heading", name=headline)).to_have_count(0)


def test_error_pages_pass_the_audit(new_page, check, browser_problems):
    browser_problems.allow_error_pages()  # a 404 or 403 page, not a file it loads
    janet = UserFactory(full_name="Janet Seeker")
    visitor = new_page("visitor", phone=True)
    visitor.goto("/no-such-page/")
    expect(visitor.get_by_role("heading", name="Not found")).to_be_visible()
    check(visitor, "not-found-anonymous")

    # A form sent without its CSRF cookie (open too long, or from elsewhere).
    visitor.goto("/accounts/login/")
    visitor.context.clear_cookies()
    visitor.get_by_label("Email address").fill(janet.email)
    visitor.get_by_label("Password").fill("whatever it was")
    visitor.get_by_role("button", name="Log in").click()
    expect(visitor.get_by_role("heading", name="Please try again")).to_be_visible()
    check(visitor, "csrf-refused")

    # The server error page, as Django serves it (its own file, no template context). Served
    # here with status 200: the page is what is audited, and the suite fails on any 5xx answer.
    body = render_to_string("500.html")
    visitor.route("**/broken/", lambda route: route.fulfill(status=200, content_type="text/html", body=body))
    visitor.goto("/broken/")
    expect(visitor.get_by_role("heading", name="Something went wrong")).to_be_visible()
    check(visitor, "server-error")

    page = new_page("seeker")
    log_in(page, janet.email)
    page.goto(f"/intros/{IntroRequestFactory().pk}/")  # someone else's introduction
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").locator("[aria-current=page]")).to_have_count(0)
    check(page, "not-found-logged-in")


def test_asking_twice_and_asking_again_pages_pass_the_audit(new_page, check):
    """The warm-path search points to the open request; a person who said no before is shown
    with that history, and asking again needs a reason, which the connector reads."""
    jill = UserFactory(full_name="Jill Connector")
    janet = UserFactory(full_name="Janet Seeker")
    cohort = CohortFactory(name="Spring boot camp")
    for member in (jill, janet):
        MembershipFactory(cohort=cohort, user=member)

    def contact(name: str, email: str):
        return ContactFactory(owner=jill, shareable=True, name=name, email=email, organisation="Northwind Agency")

    carol = contact("Carol Target", "carol@northwind.example.org")
    priya = contact("Priya Manager", "priya@northwind.example.org")
    contact("Olga Other", "olga@northwind.example.org")
    declined = awaiting_target(seeker=janet, target=carol)
    link, _ = last_link_token(declined)
    actions.do_target_decline(link=link, note="Too much on my plate this spring.")
    draft = IntroRequestFactory(seeker=janet, target=priya)

    page = new_page("seeker", phone=True)
    log_in(page, janet.email)
    page.goto("/intros/new/")
    priya_row = page.locator("li", has_text="Priya Manager")
    expect(priya_row.get_by_role("link", name="You already have a request open — see it")).to_have_attribute(
        "href", f"/intros/{draft.pk}/"
    )
    carol_row = page.locator("li", has_text="Carol Target")
    expect(carol_row.get_by_text("You asked before:")).to_be_visible()
    check(page, "find-already-open")

    carol_row.get_by_role("link", name="Ask Jill to introduce you").click()
    expect(page.get_by_role("heading", name="You asked to meet Carol Target before")).to_be_visible()
    expect(page.locator("#asked-before")).to_contain_text("Carol Target declined")
    expect(page.locator("#asked-before")).to_contain_text("Too much on my plate this spring.")
    for name, text in GOOD_PREPARATION.items():
        page.locator(f"#id_{name}").fill(text)
    check(page, "ask-again-form")
    page.get_by_role("button", name="Save and submit to Jill").click()
    expect(page.locator("#id_why_now_error")).to_contain_text("Say what has changed since you last asked them.")
    expect(page.locator("#id_goal")).to_have_value(GOOD_PREPARATION["goal"])  # what was typed is kept
    check(page, "ask-again-refused")
    page.locator("#id_why_now").fill("She now runs the Berlin office, which hires for the team I know best.")
    page.get_by_role("button", name="Save and submit to Jill").click()
    expect(page.locator(".messages")).to_contain_text("Sent to Jill Connector to vet.")

    page.goto(f"/intros/new/{priya.pk}/")
    expect(page.get_by_role("heading", name="You already have a request open to meet Priya Manager")).to_be_visible()
    check(page, "already-open")

    asked_again = IntroRequest.objects.get(seeker=janet, target=carol, status=Status.SUBMITTED)
    connector_page = new_page("connector")
    log_in(connector_page, jill.email)
    connector_page.goto(f"/intros/{asked_again.pk}/")
    expect(connector_page.get_by_role("heading", name="Janet Seeker asked to meet Carol Target before")).to_be_visible()
    expect(connector_page.locator("#asked-before")).to_contain_text("She now runs the Berlin office")
    check(connector_page, "vet-asked-before")
