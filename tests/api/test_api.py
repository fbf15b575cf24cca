"""The API's rules: who is let in (tokens, their scope, the session with its CSRF token),
errors as problem details, cursor pages, ETags, the rate limit, and the settings page where
tokens are made and revoked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessToken
from contacts.models import Contact
from tests.factories import CohortFactory, ContactFactory, MembershipFactory, UserFactory
from tests.stories import accepted
from workflows.personal_data import do_account_delete

from .helpers import ApiClient, ok

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content.decode()[:2000]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


# --- who is let in --------------------------------------------------------------------------


def test_nobody_and_a_wrong_token_get_a_401_problem():
    user = UserFactory()
    _problem(ApiClient().get("/contacts"), 401)
    wrong = ApiClient(secret="wi_" + "x" * 43).get("/contacts")
    assert _problem(wrong, 401)["detail"].startswith("This token is not valid")
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    token, secret = AccessToken.issue(user=user, name="n", scope="read")
    assert ApiClient(secret=secret).get("/contacts").status_code == 200
    token.delete()  # revoked
    _problem(ApiClient(secret=secret).get("/contacts"), 401)


def test_a_read_only_token_reads_and_may_not_write():
    user = UserFactory()
    reader = ApiClient(user, scope=AccessToken.Scope.READ)
    assert reader.get("/contacts").status_code == 200
    refused = _problem(reader.post("/contacts", {"name": "Ada"}), 403)
    assert refused["type"].endswith("read-only-token")
    assert not Contact.objects.filter(owner=user).exists()
    ok(ApiClient(user).post("/contacts", {"name": "Ada"}), 201)


def test_a_token_records_its_last_use_and_stores_only_a_hash():
    user = UserFactory()
    token, secret = AccessToken.issue(user=user, name="Sheet", scope="read")
    assert token.last_used_at is None and secret not in {token.token_hash, token.hint}
    assert secret.startswith("wi_") and len(secret) > 40 and token.hint == secret[:7]
    ApiClient(secret=secret).get("/contacts")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_deleted_account_takes_its_tokens_with_it():
    user = UserFactory()
    _, secret = AccessToken.issue(user=user, name="Sheet", scope="write")
    do_account_delete(user=user)
    assert not AccessToken.objects.filter(user=user).exists()
    _problem(ApiClient(secret=secret).get("/contacts"), 401)


def test_the_session_works_and_needs_its_csrf_token_to_write():
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/api/v1/contacts").status_code == 200
    refused = browser.post("/api/v1/contacts", '{"name": "Ada"}', content_type="application/json")
    assert _problem(refused, 403)["type"].endswith("csrf-failed")
    browser.get(reverse("accounts:profile"))  # sets the CSRF cookie, as any page does
    token = browser.cookies["csrftoken"].value
    made = browser.post(
        "/api/v1/contacts", '{"name": "Ada"}', content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert made.status_code == 201, made.content


def test_the_docs_and_schema_are_for_a_logged_in_person(client):
    assert client.get("/api/docs/").status_code == 302
    assert client.get("/api/v1/openapi.json").status_code == 302
    client.force_login(UserFactory())
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.content
    assert b"cdn." not in page.content  # Swagger UI from our own static files (CSP: 'self')
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Warm Intros API"


# --- problems ----------------------------------------------------------------------------


def test_a_refused_body_lists_each_problem_with_a_pointer():
    api = ApiClient(UserFactory())
    bad = _problem(api.post("/contacts", {"name": "Ada", "email": "not an address", "weekdays": []}), 422)
    pointers = {e.get("pointer") for e in bad["errors"]}
    assert {"#/email", "#/weekdays"} <= pointers, bad
    typed = _problem(api.post("/contacts", {"name": "Ada", "shareable": "perhaps", "colour": "red"}), 422)
    assert {"#/shareable", "#/colour"} <= {e.get("pointer") for e in typed["errors"]}, typed
    assert not Contact.objects.exists()


def test_someone_elses_object_is_a_404_problem_as_on_the_pages():
    contact = ContactFactory()
    stranger = ApiClient(UserFactory())
    _problem(stranger.get(f"/contacts/{contact.pk}"), 404)
    _problem(stranger.patch(f"/contacts/{contact.pk}", {"name": "Mine now"}), 404)
    _problem(stranger.delete(f"/contacts/{contact.pk}"), 404)
    contact.refresh_from_db()
    assert contact.name != "Mine now"


def test_a_contact_in_an_introduction_cannot_be_deleted_409():
    intro = accepted()
    owner = ApiClient(intro.connector)
    body = _problem(owner.delete(f"/contacts/{intro.target_id}"), 409)
    assert "part of an introduction" in body["detail"]
    assert Contact.objects.filter(pk=intro.target_id).exists()


def test_an_update_changes_only_what_is_sent():
    user = UserFactory()
    api = ApiClient(user)
    made = ok(
        api.post("/contacts", {"name": "Ada", "tags": ["math", "poetry"], "notes": "Met at the Royal Society."}), 201
    )
    changed = ok(api.patch(f"/contacts/{made['id']}", {"title": "Analyst"}))
    assert changed["title"] == "Analyst" and changed["tags"] == ["math", "poetry"]
    assert changed["notes"] == "Met at the Royal Society." and changed["name"] == "Ada"
    assert api.delete(f"/contacts/{made['id']}").status_code == 204
    assert not Contact.objects.filter(owner=user).exists()


# --- lists, ETags, the limit ----------------------------------------------------------------------


def test_cursor_pages_walk_the_whole_list_in_the_pages_order_once():
    user = UserFactory()
    for i in range(23):
        ContactFactory(owner=user, name=f"Person {i:02d}")
    api = ApiClient(user)
    seen, cursor, pages = [], None, 0
    while True:
        body = ok(api.get("/contacts?limit=10" + (f"&cursor={cursor}" if cursor else "")))
        seen += [c["name"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and seen == sorted(seen) and len(set(seen)) == 23
    assert _problem(api.get("/contacts?cursor=made-up"), 400)["type"].endswith("bad-cursor")
    other_list = ok(api.get("/intros?limit=1"))  # a cursor of one list is refused by another
    assert other_list["next_cursor"] is None
    first = ok(api.get("/contacts?limit=1"))["next_cursor"]
    _problem(api.get(f"/follow-ups?cursor={first}"), 400)


def test_a_read_carries_an_etag_and_an_unchanged_one_is_304():
    user = UserFactory()
    contact = ContactFactory(owner=user)
    api = ApiClient(user)
    first = api.get(f"/contacts/{contact.pk}")
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = api.get(f"/contacts/{contact.pk}", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    ok(api.patch(f"/contacts/{contact.pk}", {"title": "Director"}))
    changed = api.get(f"/contacts/{contact.pk}", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_the_api_limit_answers_429_with_retry_after(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (3, 3600)}
    api = ApiClient(UserFactory())
    for _ in range(3):
        assert api.get("/contacts").status_code == 200
    refused = _problem(api.get("/contacts"), 429)
    assert refused["type"].endswith("rate-limited")
    assert int(api.get("/contacts")["Retry-After"]) > 0


# --- a coach's numbers ------------------------------------------------------------------------


def test_a_coachs_numbers_are_the_dashboards_without_a_targets_email_or_notes():
    coach = UserFactory()
    cohort = CohortFactory(coach=coach)
    intro = accepted(target=ContactFactory(email="secret-target@example.org", notes="Private notes about her."))
    MembershipFactory(cohort=cohort, user=intro.seeker)
    # The numbers are as of the minute (as the dashboard's): look from a little later.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        response = ApiClient(coach).get(f"/cohorts/{cohort.pk}/numbers?period=30")
    body = ok(response)
    funnel = {s["key"]: s["count"] for s in body["funnel"]}
    assert funnel["requested"] == 1 and funnel["introduced"] == 1, funnel
    assert [m["id"] for m in body["members"]] == [intro.seeker.pk]
    text = response.content.decode()
    assert "secret-target@example.org" not in text and "Private notes" not in text
    assert [c["id"] for c in ok(ApiClient(coach).get("/cohorts"))] == [cohort.pk]
    _problem(ApiClient(intro.seeker).get(f"/cohorts/{cohort.pk}/numbers"), 404)
    bad = _problem(ApiClient(coach).get(f"/cohorts/{cohort.pk}/numbers?period=custom&start=2026-01-05"), 422)
    assert bad["errors"]


# --- the settings page ----------------------------------------------------------------------------


def test_a_token_is_made_on_the_settings_page_and_its_secret_shown_once(client):
    user = UserFactory()
    client.force_login(user)
    made = client.post(reverse("accounts:token_create"), {"name": "My spreadsheet", "scope": "write"})
    assert made.status_code == 201 and made["Cache-Control"] == "private, no-store"
    secret = re.search(r"wi_[A-Za-z0-9_-]{40,}", made.content.decode()).group(0)
    token = AccessToken.objects.get(user=user)
    assert token.token_hash == AccessToken.digest(secret) and token.scope == "write"
    assert ApiClient(secret=secret).post("/contacts", {"name": "Ada"}).status_code == 201
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "My spreadsheet" in page and token.hint in page and secret not in page
    refused = client.post(reverse("accounts:token_create"), {"name": "", "scope": "admin"})
    assert refused.status_code == 422 and AccessToken.objects.filter(user=user).count() == 1


def test_a_token_is_revoked_by_its_owner_only(client):
    owner, other = UserFactory(), UserFactory()
    token, secret = AccessToken.issue(user=owner, name="Old script", scope="read")
    client.force_login(other)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    client.force_login(owner)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 302
    assert not AccessToken.objects.filter(pk=token.pk).exists()
    _problem(ApiClient(secret=secret).get("/contacts"), 401)


def test_a_person_holds_at_most_twenty_tokens(client):
    user = UserFactory()
    for i in range(AccessToken.MAX_PER_USER):
        AccessToken.issue(user=user, name=f"t{i}", scope="read")
    client.force_login(user)
    refused = client.post(reverse("accounts:token_create"), {"name": "one more", "scope": "read"})
    assert refused.status_code == 422 and "the most one person can" in refused.content.decode()
    assert AccessToken.objects.filter(user=user).count() == AccessToken.MAX_PER_USER


def test_the_email_key_rule_sees_api_routes_as_needing_a_login_unless_they_do_not():
    """tests/mail_keys.py reads the no-login routes from the URLconf: an API route with its
    authentication is not one; one made without any would be (a key, kept out of shared emails)."""
    from django.urls import URLResolver, path
    from django.urls.resolvers import RegexPattern
    from ninja import NinjaAPI

    from tests.mail_keys import key_url_names

    open_api = NinjaAPI(urls_namespace="open-test")

    @open_api.get("/things/{token}", url_name="thing")
    def thing(request, token: str):
        return {}

    resolver = URLResolver(RegexPattern(r"^/"), [path("open/", open_api.urls), path("api/", include_api())])
    found = key_url_names(resolver)
    assert "open-test:thing" in found
    assert not {name for name in found if name.startswith("api:")}


def include_api():
    from django.urls import include

    return include("api.urls")


@pytest.mark.parametrize("path", ["/contacts", "/intros", "/follow-ups", "/offers"])
def test_each_list_takes_the_same_queries_whatever_its_length(path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from followups.services import offer_create

    def grow(seeker, n: int) -> None:
        for _ in range(n):
            ContactFactory(owner=seeker).tags.create(
                owner=seeker, name=f"tag {ContactFactory._meta.model.objects.count()}"
            )
            accepted(seeker=seeker)
            offer_create(seeker=seeker, offered_by_name="Rosa", contact_name="Maya")

    seeker = UserFactory()
    api = ApiClient(seeker)
    grow(seeker, 1)
    api.get(path)  # the token's first use of the minute is written down: not a cost of the list
    with CaptureQueriesContext(connection) as few:
        assert api.get(path).status_code == 200
    grow(seeker, 4)
    with CaptureQueriesContext(connection) as many:
        body = ok(api.get(path))
    assert len(body["items"]) >= 4 or path == "/follow-ups"
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_my_data_download_names_my_tokens_and_never_a_secret():
    from workflows.personal_data import account_export

    user = UserFactory()
    _, secret = AccessToken.issue(user=user, name="Sheet", scope="read")
    data = account_export(user=user)
    assert [t["name"] for t in data["access_tokens"]] == ["Sheet"]
    assert secret not in str(data) and AccessToken.digest(secret) not in str(data)
