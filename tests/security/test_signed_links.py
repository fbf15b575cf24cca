"""Signed links (the target's answer and feedback links, invitations, the calendar feed):
thousands of mutated tokens, accepted zero times; reuse, expiry and another object's link
refused with a page that says so."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
import time_machine
from django.core import signing
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from cohorts import services as cohort_services
from cohorts.models import Invitation
from followups.models import CalendarFeed
from followups.views import calendar_feed
from intros import services
from intros.models import TargetLink

from .mutations import mutated
from .world import World

EXAMPLES = 3100  # per kind of link; four kinds
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TRIED: dict[str, set[str]] = {}


def _payload(token: str, salt: str) -> dict:
    return signing.loads(token, salt=salt)


def _link_payloads(world: World, exclude: TargetLink) -> list[dict]:
    """Genuine payloads of other introductions' links (signed with the real key, as if it leaked)."""
    others = TargetLink.objects.exclude(intro_id=exclude.intro_id)
    return [{"l": link.pk, "n": link.nonce} for link in others] + [{"l": exclude.pk, "n": exclude.nonce[::-1]}]


def _run(kind: str, accepts, strategy) -> None:
    tried, accepted = TRIED.setdefault(kind, set()), []

    @HYPOTHESIS
    @given(token=strategy)
    def attempt(token):
        tried.add(token)
        if accepts(token):
            accepted.append(token)

    attempt()
    print(f"{kind}: {len(tried)} distinct mutated tokens tried, {len(accepted)} accepted")
    assert not accepted, f"{kind}: mutated tokens accepted: {accepted[:5]}"
    assert len(tried) >= 2400, f"{kind}: only {len(tried)} distinct tokens were tried"


def _target_accepts(intro_id: int):
    def accepts(token: str) -> bool:
        try:
            services.target_link_resolve(intro_id=intro_id, token=token)
        except services.LinkProblem:
            return False
        return True

    return accepts


@pytest.mark.django_db
def test_mutated_answer_link_tokens_are_never_accepted(world):
    assert _target_accepts(world.awaiting.pk)(world.answer_token), "the genuine token must work"
    payload = _payload(world.answer_token, services.LINK_SALT)
    strategy = mutated(
        world.answer_token, payload, services.LINK_SALT, _link_payloads(world, world.answer_link), compress=True
    )
    _run("target answer link", _target_accepts(world.awaiting.pk), strategy)


@pytest.mark.django_db
def test_mutated_feedback_link_tokens_are_never_accepted(world):
    assert _target_accepts(world.met.pk)(world.feedback_token)
    payload = _payload(world.feedback_token, services.LINK_SALT)
    strategy = mutated(
        world.feedback_token, payload, services.LINK_SALT, _link_payloads(world, world.feedback_link), compress=True
    )
    _run("target feedback link", _target_accepts(world.met.pk), strategy)


@pytest.mark.django_db
def test_mutated_invitation_tokens_are_never_accepted(world):
    other = cohort_services.invitation_create(
        cohort=world.other_cohort, email="someone@example.com", invited_by=world.users["other_coach"]
    )

    def accepts(token: str) -> bool:
        try:
            cohort_services.invitation_resolve(token=token)
        except cohort_services.InvitationProblem:
            return False
        return True

    assert accepts(world.invitation_token)
    payload = _payload(world.invitation_token, cohort_services.INVITATION_SALT)
    others = [{"i": i.pk, "n": i.nonce[::-1]} for i in Invitation.objects.all()] + [{"i": other.pk, "n": "x"}]
    strategy = mutated(world.invitation_token, payload, cohort_services.INVITATION_SALT, others)

    def accepts_only_this(token: str) -> bool:
        # A genuine token for another invitation is not a mutation of this one; none is generated here.
        return accepts(token)

    _run("invitation", accepts_only_this, strategy)


@pytest.mark.django_db
def test_mutated_calendar_tokens_are_never_accepted(world):
    """The feed token is random, not signed: the same character-level mutations. Most go straight
    to the view function (fast); a sample goes through the whole stack, URL routing included."""
    genuine = world.feed.token
    assert Client().get(reverse("followups:calendar", args=[genuine])).status_code == 200
    factory = RequestFactory()

    def accepts(token: str) -> bool:
        try:
            response = calendar_feed(factory.get("/"), token)
        except Http404:
            return False
        return response.status_code != 404

    _run("calendar feed", accepts, mutated(genuine, {"n": genuine}, "calendar", [{"n": "x"}]))


@pytest.mark.django_db
def test_mutated_calendar_urls_are_never_accepted_nor_an_error(world):
    client = Client(raise_request_exception=False)
    genuine, statuses = world.feed.token, {}

    @settings(HYPOTHESIS, max_examples=300)
    @given(token=mutated(genuine, {"n": genuine}, "calendar", [{"n": "x"}]))
    def attempt(token):
        status = client.get(f"/follow-ups/calendar/{quote(token, safe='')}.ics").status_code
        statuses[token] = status

    attempt()
    print(f"calendar URLs: {len(statuses)} tried through the client, answers {sorted(set(statuses.values()))}")
    assert set(statuses.values()) == {404}


def test_ten_thousand_tokens_were_tried():
    total = sum(len(tokens) for tokens in TRIED.values())
    print(f"signed links: {total} distinct mutated tokens tried in all, none accepted")
    assert len(TRIED) >= 4, "run the whole file: each kind of link adds its tokens"
    assert total >= 10_000


# --- reuse, expiry, another object's link: refused with a page that says so ------------------------


def _target_url(intro_id: int, token: str) -> str:
    return reverse("intros:target", args=[intro_id, token])


@pytest.mark.django_db
def test_answer_link_works_once_then_says_already_answered(world):
    client = Client()
    url = _target_url(world.awaiting.pk, world.answer_token)
    response = client.post(url, {"action": "decline", "decline-note": "Not now."})
    assert response.status_code == 200
    world.answer_link.refresh_from_db()
    assert world.answer_link.used_for == "decline"
    again = client.post(url, {"action": "decline", "decline-note": "Again."})
    assert again.status_code == 410
    assert "You have already answered" in again.content.decode()
    assert client.get(url).status_code == 410


@pytest.mark.django_db
def test_expired_answer_link_is_refused_and_changes_nothing(world):
    url = _target_url(world.awaiting.pk, world.answer_token)
    with time_machine.travel(timezone.now() + dt.timedelta(days=15), tick=False):
        response = Client().post(url, {"action": "decline"})
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    world.awaiting.refresh_from_db()
    assert world.awaiting.status == "awaiting_target"
    assert TargetLink.objects.get(pk=world.answer_link.pk).used_at is None


@pytest.mark.django_db
def test_link_row_past_its_expiry_is_refused_even_with_a_fresh_signature(world):
    TargetLink.objects.filter(pk=world.answer_link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = Client().get(_target_url(world.awaiting.pk, world.answer_token))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


@pytest.mark.django_db
def test_link_of_another_introduction_is_refused(world):
    response = Client().post(_target_url(world.introduced.pk, world.answer_token), {"action": "decline"})
    assert response.status_code == 400
    assert "belongs to a different introduction" in response.content.decode()
    world.awaiting.refresh_from_db()
    world.introduced.refresh_from_db()
    assert (world.awaiting.status, world.introduced.status) == ("awaiting_target", "introduced")


@pytest.mark.django_db
def test_link_for_another_purpose_cannot_answer(world):
    """A step-back link cannot accept or decline, even if someone posts that action."""
    url = _target_url(world.introduced.pk, world.step_back_token)
    response = Client().post(url, {"action": "accept", "accept-writes_first": "seeker"})
    assert response.status_code == 422
    world.introduced.refresh_from_db()
    assert world.introduced.status == "introduced"
    assert TargetLink.objects.get(pk=world.step_back_link.pk).used_at is None


@pytest.mark.django_db
def test_feedback_link_works_once(world):
    client = Client()
    url = _target_url(world.met.pk, world.feedback_token)
    assert client.post(url, {"action": "feedback", "feedback-rating": "4"}).status_code == 200
    again = client.post(url, {"action": "feedback", "feedback-rating": "1"})
    assert again.status_code == 410
    world.met.refresh_from_db()
    assert world.met.target_feedback_rating == 4


@pytest.mark.django_db
def test_invitation_used_expired_and_wrong_are_refused_with_a_page(world):
    client = Client()
    url = reverse("cohorts:join", args=[world.invitation_token])
    Invitation.objects.filter(pk=world.invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = client.get(url)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode().lower()

    Invitation.objects.filter(pk=world.invitation.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1), accepted_at=timezone.now()
    )
    used = client.get(url)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()

    forged = signing.dumps({"i": world.invitation.pk, "n": "guessed"}, salt=cohort_services.INVITATION_SALT)
    wrong = client.get(reverse("cohorts:join", args=[forged]))
    assert wrong.status_code == 400
    assert "not valid" in wrong.content.decode()


@pytest.mark.django_db
def test_signature_older_than_the_invitation_lifetime_is_refused(world):
    with time_machine.travel(timezone.now() + dt.timedelta(days=15), tick=False):
        response = Client().get(reverse("cohorts:join", args=[world.invitation_token]))
    assert response.status_code == 410


@pytest.mark.django_db
def test_calendar_reset_retires_the_old_address(world):
    client = Client()
    old = world.feed.token
    client.force_login(world.seeker)
    assert client.post(reverse("followups:calendar_reset")).status_code == 302
    assert Client().get(reverse("followups:calendar", args=[old])).status_code == 404
    new = CalendarFeed.objects.get(user=world.seeker).token
    assert Client().get(reverse("followups:calendar", args=[new])).status_code == 200
