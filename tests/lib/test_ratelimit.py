"""Rate limits: each one lets N attempts through, refuses the N+1th with a 429 that re-renders
the page (what was typed kept, a message saying what happened and when to try again), and
lets the person in again once the window has passed. The clock is time-machine's, never a sleep.
The last test proves the counter lives in Redis, shared by every process."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from cohorts.models import Invitation
from config.settings import env_rate
from contacts.models import ImportBatch
from intros.models import IntroRequest
from intros.states import Status
from lib import ratelimit
from lib.outbox.models import OutboxMessage
from tests.conftest import login
from tests.factories import GOOD_PREPARATION, PASSWORD, ContactFactory, IntroRequestFactory, UserFactory
from tests.stories import awaiting_target, last_link_token

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# The start of a window for every period used here (UTC midnight, a Monday).
START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits(settings):
    """Small limits, so each test reaches N quickly; `limits(name=(n, seconds))`."""

    def set_limits(**given):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **given}

    return set_limits


def assert_refused(response, *, says: str, wait: str) -> str:
    body = response.content.decode()
    assert response.status_code == 429, response.status_code
    assert says in body, body[:2000]
    assert wait in body
    assert int(response["Retry-After"]) > 0
    return body


# --- log in -----------------------------------------------------------------------------------
# Only wrong passwords count; a known device (one that has logged in with the address) is
# counted on its own, so nobody guessing an address can lock its owner out (README, "Logging in").

HOME_NETWORK = "198.51.100.20"
ELSEWHERE = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]


def _login(client, email, password="wrong", **kw):
    return client.post(reverse("accounts:login"), {"username": email, "password": password}, **kw)


def _log_out(client):
    client.post(reverse("accounts:logout"))
    assert SESSION_KEY not in client.session


def test_login_wrong_passwords_per_address_and_network_refuse_the_n_plus_first_then_reset(client, clock, limits):
    limits(login_client=(3, 900))
    UserFactory(email="janet@example.com")
    for _ in range(3):
        response = _login(client, "janet@example.com")
        assert response.status_code == 200  # a wrong password, said so: not refused
        assert b"do not match an account" in response.content
    # The fourth is refused even with the right password, which is never checked.
    refused = _login(client, "janet@example.com", PASSWORD)
    body = assert_refused(
        refused, says="Too many wrong passwords for this email address from here", wait="in 15 minutes"
    )
    assert 'value="janet@example.com"' in body  # the form keeps what was typed
    assert PASSWORD not in body
    assert "do not match" not in body
    assert SESSION_KEY not in client.session
    assert int(refused["Retry-After"]) == 900
    # Another network trying the same address is counted apart.
    assert _login(client, "janet@example.com", REMOTE_ADDR=ELSEWHERE[0]).status_code == 200

    clock.shift(dt.timedelta(minutes=10))
    assert _login(client, "janet@example.com", PASSWORD).status_code == 429
    assert "in 5 minutes" in _login(client, "janet@example.com").content.decode()
    clock.shift(dt.timedelta(minutes=5))  # the window is over
    response = _login(client, "janet@example.com", PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY]


def test_right_passwords_are_never_counted(client, clock, limits):
    """A cohort trying the demo: one room, one account (and a few of their own), many log-ins."""
    limits(login_client=(2, 900), login_email=(2, 900), login_ip=(2, 900))
    demo = UserFactory(email="demo@example.com")
    members = [UserFactory() for _ in range(3)]
    for _ in range(12):
        assert _login(client, "demo@example.com", PASSWORD).status_code == 302
        _log_out(client)
    for member in members:
        assert _login(client, member.email, PASSWORD).status_code == 302
        _log_out(client)
    for limit, who in [
        (ratelimit.LOGIN_EMAIL, demo.email),
        (ratelimit.LOGIN_IP, "127.0.0.1"),
        (ratelimit.LOGIN_CLIENT, f"{demo.email} network:127.0.0.1"),
    ]:
        assert limit.count(who) == 0, limit.name


def test_a_right_password_clears_that_clients_wrong_ones(client, clock, limits):
    limits(login_client=(3, 900))
    UserFactory(email="janet@example.com")
    assert [_login(client, "janet@example.com").status_code for _ in range(2)] == [200, 200]
    assert _login(client, "janet@example.com", PASSWORD).status_code == 302
    # A new browser on the same network: the count for (address, network) starts again.
    other = type(client)()
    assert [_login(other, "janet@example.com").status_code for _ in range(3)] == [200, 200, 200]
    assert _login(other, "janet@example.com").status_code == 429


def test_a_guesser_cannot_lock_the_owner_out_of_her_own_device(client, clock, limits):
    limits(login_client=(3, 900), login_email=(5, 900), login_ip=(4, 900))
    UserFactory(email="janet@example.com")
    # Janet logs in once on her laptop at home: it becomes a known device for her address.
    assert _login(client, "janet@example.com", PASSWORD, REMOTE_ADDR=HOME_NETWORK).status_code == 302
    assert client.cookies[ratelimit.DEVICE_COOKIE].value
    _log_out(client)

    guesser = type(client)()
    # From her own network, then from four others: guesses until every limit a stranger meets is past.
    for address in [HOME_NETWORK, *ELSEWHERE]:
        while _login(guesser, "janet@example.com", REMOTE_ADDR=address).status_code == 200:
            pass
    assert_refused(
        _login(guesser, "janet@example.com", PASSWORD, REMOTE_ADDR="192.0.2.99"),
        says="from several places",
        wait="in 15 minutes",
    )
    assert ratelimit.LOGIN_EMAIL.count("janet@example.com") > 5

    # Her laptop still logs her in, at home or anywhere else.
    response = _login(client, "janet@example.com", PASSWORD, REMOTE_ADDR=HOME_NETWORK)
    assert response.status_code == 302
    assert client.session[SESSION_KEY]
    _log_out(client)
    assert _login(client, "janet@example.com", PASSWORD, REMOTE_ADDR=ELSEWHERE[0]).status_code == 302


def test_a_known_device_has_wrong_tries_of_its_own(client, clock, limits):
    limits(login_client=(2, 900), login_email=(50, 900), login_ip=(50, 900))
    UserFactory(email="janet@example.com")
    assert _login(client, "janet@example.com", PASSWORD).status_code == 302
    _log_out(client)
    assert [_login(client, "janet@example.com").status_code for _ in range(3)] == [200, 200, 429]
    assert_refused(_login(client, "janet@example.com", PASSWORD), says="from here", wait="in 15 minutes")
    # Its wrong tries were not the stranger's counts.
    assert ratelimit.LOGIN_EMAIL.count("janet@example.com") == 0


def test_a_device_is_known_only_for_the_addresses_that_logged_in_on_it(client, clock, limits):
    """A guesser who logs in to an account of their own gets a cookie for that address only; a
    cookie they forge or alter counts for nothing."""
    limits(login_client=(2, 900), login_email=(50, 900), login_ip=(50, 900))
    UserFactory(email="janet@example.com")
    UserFactory(email="mallory@example.com")
    assert _login(client, "mallory@example.com", PASSWORD).status_code == 302
    _log_out(client)
    assert [_login(client, "janet@example.com").status_code for _ in range(3)] == [200, 200, 429]
    assert ratelimit.LOGIN_EMAIL.count("janet@example.com") == 3  # counted as a stranger

    forged = type(client)()
    forged.cookies[ratelimit.DEVICE_COOKIE] = client.cookies[ratelimit.DEVICE_COOKIE].value[:-2] + "xx"
    assert _login(forged, "janet@example.com", REMOTE_ADDR=ELSEWHERE[1]).status_code == 200
    assert ratelimit.LOGIN_EMAIL.count("janet@example.com") == 4


def test_a_shared_computer_remembers_each_address_that_logged_in(client, clock, limits):
    limits(login_client=(1, 900), login_email=(1, 900), login_ip=(1, 900))
    for email in ("janet@example.com", "natalie@example.com"):
        UserFactory(email=email)
        assert _login(client, email, PASSWORD).status_code == 302
        _log_out(client)
    stranger = type(client)()
    for email in ("janet@example.com", "natalie@example.com"):
        _login(stranger, email, REMOTE_ADDR=ELSEWHERE[2])
        _login(stranger, email, REMOTE_ADDR=ELSEWHERE[3])
    for email in ("janet@example.com", "natalie@example.com"):
        assert _login(client, email, PASSWORD).status_code == 302
        _log_out(client)


def test_login_per_network_counts_every_address(client, clock, limits):
    limits(login_ip=(4, 900))
    for n in range(4):
        assert _login(client, f"person{n}@example.com").status_code == 200
    assert_refused(_login(client, "someone.else@example.com"), says="from your network", wait="in 15 minutes")
    # Another network is not held up.
    assert _login(client, "someone.else@example.com", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_login_refusal_for_htmx_says_the_same(client, clock, limits):
    limits(login_client=(1, 900))
    _login(client, "janet@example.com")
    assert_refused(
        _login(client, "janet@example.com", headers=HTMX), says="Too many wrong passwords", wait="in 15 minutes"
    )


def test_wrong_passwords_on_the_delete_page_count_with_the_log_in_tries(client, clock, limits):
    limits(login_client=(2, 900))
    user = UserFactory(email="janet@example.com")
    login(client, user)
    url = reverse("accounts:delete")
    assert [client.post(url, {"password": "wrong"}).status_code for _ in range(2)] == [422, 422]
    assert_refused(client.post(url, {"password": PASSWORD}), says="Too many wrong passwords", wait="in 15 minutes")
    user.refresh_from_db()
    assert user.email == "janet@example.com"  # nothing was deleted


# --- password reset ------------------------------------------------------------------------------


def _reset(client, email, **kw):
    return client.post(reverse("accounts:password_reset"), {"email": email}, **kw)


def test_password_reset_per_email_refuses_the_n_plus_first_then_resets(client, clock, limits):
    limits(password_reset_email=(2, 3600))
    UserFactory(email="janet@example.com")
    assert [_reset(client, "janet@example.com").status_code for _ in range(2)] == [302, 302]
    assert OutboxMessage.objects.count() == 2
    body = assert_refused(
        _reset(client, "JANET@example.com"), says="already sent several reset links", wait="in an hour"
    )
    assert 'value="JANET@example.com"' in body
    assert OutboxMessage.objects.count() == 2  # nothing more was sent
    clock.shift(dt.timedelta(hours=1))
    assert _reset(client, "janet@example.com").status_code == 302
    assert OutboxMessage.objects.count() == 3


def test_password_reset_per_network(client, clock, limits):
    limits(password_reset_ip=(3, 3600))
    for n in range(3):
        assert _reset(client, f"nobody{n}@example.com").status_code == 302
    assert_refused(_reset(client, "nobody9@example.com"), says="from your network", wait="in an hour")
    assert _reset(client, "nobody9@example.com", REMOTE_ADDR="198.51.100.7").status_code == 302


# --- the target's link ------------------------------------------------------------------------------


def test_target_answers_per_link_and_network_then_reset(client, clock, limits):
    limits(target_answer=(3, 3600))
    intro = awaiting_target()
    _, token = last_link_token(intro)
    url = reverse("intros:target", args=[intro.pk, token])
    # A date in the past is refused by the form: an answer that changes nothing, but counts.
    wrong = {"action": "defer", "defer-until": "2020-01-01", "defer-note": "Ask me in spring, please."}
    for _ in range(3):
        assert client.post(url, wrong).status_code == 422
    body = assert_refused(client.post(url, wrong), says="Too many answers were sent from this link", wait="in an hour")
    assert "Ask me in spring, please." in body  # kept as typed, in its open panel
    assert '<details class="defer" open>' in body
    # The right answer is refused too while the window lasts; nothing changes.
    decline = {"action": "decline", "decline-note": "Not this time."}
    assert client.post(url, decline).status_code == 429
    intro.refresh_from_db()
    assert intro.status == Status.AWAITING_TARGET
    # Another network holding the same link is counted apart.
    assert client.post(url, wrong, REMOTE_ADDR="203.0.113.5").status_code == 422
    clock.shift(dt.timedelta(hours=1))
    assert client.post(url, decline).status_code == 200
    intro.refresh_from_db()
    assert intro.status == Status.DECLINED_BY_TARGET


# --- request creation ----------------------------------------------------------------------------------


def test_intro_requests_per_seeker_refuses_the_n_plus_first_then_resets(
    client, clock, limits, cohort, seeker, target, member
):
    limits(intro_request=(2, 3600))
    login(client, seeker)
    # Three people to ask (one open request per person): the third ask is over the limit.
    people = [target, *(ContactFactory(owner=target.owner, shareable=True) for _ in range(2))]
    url, *others = [reverse("intros:create", args=[person.pk]) for person in people]
    assert [client.post(u, GOOD_PREPARATION).status_code for u in (url, others[0])] == [302, 302]
    body = assert_refused(
        client.post(others[1], GOOD_PREPARATION), says="many introduction requests", wait="in an hour"
    )
    assert GOOD_PREPARATION["fit"] in body  # the preparation is still in the form
    assert IntroRequest.objects.filter(seeker=seeker).count() == 2
    # Submitting counts too: the drafts wait until the window has passed.
    draft = IntroRequest.objects.filter(seeker=seeker).first()
    assert client.post(reverse("intros:submit", args=[draft.pk])).status_code == 429
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    # Another member is not held up by this seeker's count.
    login(client, member)
    assert client.post(url, GOOD_PREPARATION).status_code == 302
    login(client, seeker)
    clock.shift(dt.timedelta(hours=1))
    assert client.post(reverse("intros:submit", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_an_edit_saved_and_submitted_is_refused_whole_when_over(client, clock, limits, seeker):
    limits(intro_request=(1, 3600))
    intro = IntroRequestFactory(seeker=seeker)
    login(client, seeker)
    assert client.post(reverse("intros:submit", args=[intro.pk])).status_code == 302
    other = IntroRequestFactory(seeker=seeker)
    response = client.post(reverse("intros:edit", args=[other.pk]), {**GOOD_PREPARATION, "submit": "1"})
    assert_refused(response, says="many introduction requests", wait="in an hour")
    other.refresh_from_db()
    assert other.status == Status.DRAFT


# --- cohort invitations --------------------------------------------------------------------------------


def _invite(client, cohort, emails, **kw):
    return client.post(reverse("cohorts:invite", args=[cohort.pk]), {"emails": ", ".join(emails)}, **kw)


def test_invitations_per_coach_count_each_address_then_reset(client, clock, limits, cohort):
    limits(invitation=(3, 86400))
    login(client, cohort.coach)
    assert _invite(client, cohort, ["a@example.com", "b@example.com"]).status_code == 302
    assert _invite(client, cohort, ["c@example.com"]).status_code == 302
    # A fourth address is one too many; a refused batch is given back, nothing is sent.
    body = assert_refused(
        _invite(client, cohort, ["d@example.com", "e@example.com"]),
        says="A coach can send 3 invitations per day, and 0 more can go out now",
        wait="in 24 hours",
    )
    assert "d@example.com, e@example.com" in body  # kept as typed
    assert Invitation.objects.filter(cohort=cohort).count() == 3
    assert ratelimit.INVITATION.count(str(cohort.coach.pk)) == 3
    clock.shift(dt.timedelta(days=1))
    assert _invite(client, cohort, ["d@example.com", "e@example.com"]).status_code == 302
    assert Invitation.objects.filter(cohort=cohort).count() == 5


def test_a_batch_bigger_than_what_is_left_is_refused_whole_and_says_what_is_left(client, clock, limits, cohort):
    limits(invitation=(3, 86400))
    login(client, cohort.coach)
    assert _invite(client, cohort, ["a@example.com"]).status_code == 302
    response = _invite(client, cohort, ["b@example.com", "c@example.com", "d@example.com"], headers=HTMX)
    # htmx gets its panel back, with the same message.
    body = assert_refused(response, says="and 2 more can go out now", wait="in 24 hours")
    assert 'id="invite-panel"' in body and "<html" not in body
    assert _invite(client, cohort, ["b@example.com", "c@example.com"]).status_code == 302
    assert Invitation.objects.filter(cohort=cohort).count() == 3


# --- contact file uploads -------------------------------------------------------------------------------


def _upload(client, **kw):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.contacts.import_samples import linkedin_csv

    return client.post(
        reverse("contacts:import"), {"file": SimpleUploadedFile("Connections.csv", linkedin_csv())}, **kw
    )


def test_contact_uploads_per_person_refuse_the_n_plus_first_keep_the_form_then_reset(
    client, clock, limits, seeker, member
):
    limits(import_upload=(2, 3600))
    login(client, seeker)
    assert [_upload(client).status_code for _ in range(2)] == [302, 302]
    body = assert_refused(_upload(client), says="You have uploaded 2 contact files per hour", wait="in an hour")
    assert 'enctype="multipart/form-data"' in body and 'type="file"' in body  # the form, to choose the file again
    assert "Nothing was uploaded" in body
    assert ImportBatch.objects.filter(owner=seeker).count() == 2
    # htmx gets the same page and the same words.
    assert_refused(_upload(client, headers=HTMX), says="You have uploaded 2 contact files", wait="in an hour")
    # Another member is not held up by this one's count.
    login(client, member)
    assert _upload(client).status_code == 302
    login(client, seeker)
    clock.shift(dt.timedelta(hours=1))
    assert _upload(client).status_code == 302
    assert ImportBatch.objects.filter(owner=seeker).count() == 3


# --- the pieces ------------------------------------------------------------------------------------------


def test_a_limit_lets_exactly_n_through_in_each_window(clock, limits):
    limits(login_email=(5, 60))
    results = [ratelimit.LOGIN_EMAIL.hit("x@example.com") for _ in range(6)]
    assert results[:5] == [None] * 5
    assert isinstance(results[5], ratelimit.Blocked)
    assert results[5].retry_after == 60
    clock.shift(dt.timedelta(seconds=59))
    assert ratelimit.LOGIN_EMAIL.hit("x@example.com") is not None
    clock.shift(dt.timedelta(seconds=1))
    assert ratelimit.LOGIN_EMAIL.hit("x@example.com") is None
    assert ratelimit.LOGIN_EMAIL.count("x@example.com") == 1


def test_keys_carry_no_address():
    key = ratelimit.LOGIN_EMAIL._key("janet@example.com", 1)
    assert "janet" not in key and "example" not in key


@pytest.mark.parametrize(
    ("behind_proxy", "meta", "counted_as"),
    [
        (False, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}, "192.0.2.1"),
        (True, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1, 192.0.2.44"}, "192.0.2.44"),
        (True, {"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),
        (False, {"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"),
        (False, {"REMOTE_ADDR": "::ffff:192.0.2.9"}, "192.0.2.9"),
        (False, {"REMOTE_ADDR": ""}, "unknown"),
    ],
)
def test_client_ip(settings, behind_proxy, meta, counted_as):
    settings.BEHIND_PROXY = behind_proxy
    request = RequestFactory().get("/", **meta)
    assert ratelimit.client_ip(request) == counted_as


def test_rates_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_X", "12/15m")
    assert env_rate("RATE_LIMIT_X", "1/1h") == (12, 900)
    monkeypatch.setenv("RATE_LIMIT_X", "")
    assert env_rate("RATE_LIMIT_X", "3/1d") == (3, 86400)
    for bad in ("12", "0/1h", "5/0m", "five/1h", "5/1y"):
        monkeypatch.setenv("RATE_LIMIT_X", bad)
        with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_X"):
            env_rate("RATE_LIMIT_X", "1/1h")


@pytest.mark.services(redis=True)
def test_the_counter_is_in_redis_shared_by_separate_connections(settings, clock):
    """Two cache clients with connection pools of their own (as two web processes have) count
    together, and a plain Redis client sees the same number under the key."""
    import redis
    from django.core.cache import caches
    from django_redis.cache import RedisCache

    assert isinstance(caches["default"], RedisCache), settings.CACHES
    # As two web processes have them: the same settings (the key prefix too), pools of their own.
    params = {"KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "")}
    one = RedisCache(settings.REDIS_URL, params)
    other = RedisCache(settings.REDIS_URL, params)
    assert one.client.get_client() is not other.client.get_client()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_email": (3, 900)}
    limit = ratelimit.LOGIN_EMAIL
    assert limit.hit("shared@example.com", cache=one) is None
    assert limit.hit("shared@example.com", cache=other) is None
    assert limit.hit("shared@example.com") is None  # the app's own cache, a third client
    assert limit.count("shared@example.com", cache=one) == limit.count("shared@example.com", cache=other) == 3
    assert limit.hit("shared@example.com", cache=other) is not None

    raw = redis.Redis.from_url(settings.REDIS_URL)
    keys = raw.keys(f"*{settings.RATE_LIMIT_KEY_PREFIX}:login_email:*")
    assert len(keys) == 1
    assert int(raw.get(keys[0])) == 4
    assert 0 < raw.ttl(keys[0]) <= 900 + 60


def test_a_refused_batch_with_no_counter_to_give_back_to_is_still_a_refusal(settings):
    """A cache that keeps nothing (evicted, or Redis unreachable: the forgiving cache then
    behaves so) must not turn a refused batch into a 500."""
    from django.core.cache.backends.dummy import DummyCache

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invitation": (5, 86400)}
    blocked = ratelimit.INVITATION.hit("coach-1", cost=6, cache=DummyCache("dummy", {}))
    assert blocked is not None and blocked.retry_after >= 1
