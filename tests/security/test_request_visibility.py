"""One rule decides who may see a request: `IntroRequest.objects.visible_to(user)`. The seeker
sees every request they made; the connector sees a request once it was submitted to them, in
whatever state it reached since; nobody else sees it. A draft never submitted, or withdrawn
before it was, is the seeker's alone.

Three checks hold every page to it:
- every URL that names a request × a request in every state at rest × every logged-in role
  that may not see it answers 404 (or 405 for a POST-only action asked with GET) and changes
  nothing; the request's page and its chain page answer 200 to those who may see it;
- every way the views start a lookup of requests is one of the rule's own methods (a static
  read of the views' source), and each of those methods returns no request outside the rule.
"""

from __future__ import annotations

import ast
import inspect
from importlib import import_module

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from intros import services
from intros.models import IntroRequest
from intros.states import Outcome, Status
from tests.factories import GOOD_PREPARATION, ContactFactory, IntroRequestFactory
from tests.stories import accepted, awaiting_target, last_link_token, submitted
from workflows import intros as actions

from .world import World, diff, snapshot

LOGGED_IN = ("owner", "member", "connector", "coach", "other_coach", "outsider")
# Approved and accepted last only inside the transaction that moves them on (the target is
# asked; both are introduced), so no request rests in them.
TRANSIENT = {Status.APPROVED, Status.ACCEPTED}


def _may_see(role: str, intro: IntroRequest) -> bool:
    return role == "owner" or (role == "connector" and intro.first_submitted_at is not None)


@pytest.fixture(scope="module")
def every_state(world: World, django_db_blocker) -> dict[str, IntroRequest]:
    """A request of the world's seeker, to the world's connector, resting in each state (and the
    draft withdrawn unsubmitted, which the connector must not see either)."""
    with django_db_blocker.unblock(), transaction.atomic():
        seeker, connector = world.seeker, world.connector

        def target(name: str):
            return ContactFactory(owner=connector, name=name, email=f"{name.split()[0].lower()}@example.org")

        def fresh(name: str) -> IntroRequest:
            return IntroRequestFactory(seeker=seeker, target=target(name))

        needs_changes = submitted(seeker=seeker, target=target("Nina Changes"))
        actions.do_request_changes(intro=needs_changes, connector=connector, note="Say more.")
        declined = submitted(seeker=seeker, target=target("Dora Declined"))
        actions.do_decline(intro=declined, connector=connector, note="Not now, sorry.")
        withdrawn = submitted(seeker=seeker, target=target("Will Withdrawn"))
        actions.do_withdraw(intro=withdrawn, seeker=seeker)
        deferred = awaiting_target(seeker=seeker, target=target("Del Deferred"))
        link, _ = last_link_token(deferred)
        actions.do_target_defer(link=link, until=timezone.localdate() + timezone.timedelta(days=9))
        target_declined = awaiting_target(seeker=seeker, target=target("Tess Declines"))
        link, _ = last_link_token(target_declined)
        actions.do_target_decline(link=link)
        expired = awaiting_target(seeker=seeker, target=target("Ezra Expired"))
        actions.do_expire(intro=expired)
        dropped = accepted(seeker=seeker, target=target("Drew Dropped"))
        link, _ = last_link_token(dropped, purpose="step_back")
        actions.do_target_step_back(link=link)
        closed = accepted(seeker=seeker, target=target("Cleo Closed"))
        actions.do_record_meeting(intro=closed, seeker=seeker, met_on=timezone.localdate())
        actions.do_record_outcome(intro=closed, seeker=seeker, outcome=Outcome.ADVICE)
        actions.do_close(intro=closed, user=seeker)
        left_draft = fresh("Lena Leftdraft")  # the connector left while it was a draft
        actions.do_connector_left(intro=left_draft, connector=connector, note="Left.")
        by_label = {
            "draft": world.draft,
            "withdrawn-draft": world.withdrawn_draft,
            "draft-closed-when-connector-left": left_draft,
            "submitted": world.submitted,
            "needs_changes": needs_changes,
            "declined_by_connector": declined,
            "withdrawn": withdrawn,
            "awaiting_target": world.awaiting,
            "deferred": deferred,
            "declined_by_target": target_declined,
            "expired": expired,
            "introduced": world.introduced,
            "dropped_by_target": dropped,
            "met": world.met,
            "outcome": world.outcome,
            "closed": closed,
        }
        for intro in by_label.values():
            intro.refresh_from_db()
    at_rest = {intro.status for intro in by_label.values()}
    assert at_rest == set(Status) - TRANSIENT, f"states with no request: {set(Status) - TRANSIENT - at_rest}"
    return by_label


def request_url_names(resolver=None, namespace: str = "") -> list[str]:
    """Every URL that names a request by its id alone: `intros:*` with a `pk`, anything with an
    `intro_pk` (the target's no-login page names one too, with its key: tests/security/test_signed_links.py)."""
    resolver = resolver or get_resolver()
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += request_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            params = set(getattr(pattern.pattern, "converters", {}))
            if params == {"intro_pk"} or (namespace == "intros:" and params == {"pk"}):
                names.append(f"{namespace}{pattern.name}")
    return sorted(names)


REQUEST_URLS = request_url_names()
PAGES = {"intros:detail", "intros:chain"}  # what anyone who may see a request may open


def test_the_urls_that_name_a_request_are_found():
    assert {"intros:detail", "intros:chain", "intros:edit", "intros:approve", "followups:outreach"} <= set(REQUEST_URLS)
    assert len(REQUEST_URLS) >= 12, REQUEST_URLS


@pytest.mark.django_db
@pytest.mark.parametrize("name", REQUEST_URLS)
def test_a_request_is_unknown_to_everyone_the_rule_hides_it_from(name, world, every_state):
    clients = {}
    for role in LOGGED_IN:
        clients[role] = Client()
        clients[role].force_login(world.users[role])
    wrong = []
    for label, intro in every_state.items():
        url = reverse(name, args=[intro.pk])
        before = snapshot()
        for role in LOGGED_IN:
            if _may_see(role, intro):
                continue
            for method in ("get", "post"):
                status = getattr(clients[role], method)(url).status_code
                if status != 404 and not (method == "get" and status == 405):
                    wrong.append(f"{method.upper()} {name} of a {label} request as {role}: {status}, not 404")
        changed = diff(before, snapshot())
        assert not changed, f"{name} of a {label} request, refused, changed {changed}"
        if name in PAGES:
            for role in LOGGED_IN:
                if _may_see(role, intro):
                    status = clients[role].get(url).status_code
                    if status != 200:
                        wrong.append(f"GET {name} of a {label} request as {role}: {status}, not 200")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_a_chain_never_shows_another_person_s_draft(client, world):
    """Referred on: the next request starts as the seeker's draft, under the same connector. The
    connector's chain page shows the introduction, not the draft, until it is submitted."""
    met = accepted(seeker=world.seeker, target=ContactFactory(owner=world.connector, name="Rhea Referrer"))
    actions.do_record_meeting(intro=met, seeker=world.seeker, met_on=timezone.localdate())
    actions.do_record_outcome(
        intro=met, seeker=world.seeker, outcome=Outcome.REFERRED_ON, referred_to={"name": "Nora Nextperson"}
    )
    draft = IntroRequest.objects.get(parent=met)
    url = reverse("intros:chain", args=[met.pk])
    client.force_login(world.connector)
    assert "Nora Nextperson" not in client.get(url).content.decode()
    client.force_login(world.seeker)
    assert "Nora Nextperson" in client.get(url).content.decode()
    services.intro_update_preparation(intro=draft, seeker=world.seeker, preparation=GOOD_PREPARATION)
    actions.do_submit(intro=draft, seeker=world.seeker)
    client.force_login(world.connector)
    assert "Nora Nextperson" in client.get(url).content.decode()


# --- every lookup the views make starts from the rule ---------------------------------------

VIEW_MODULES = ("intros.views", "followups.views", "contacts.views", "cohorts.views", "accounts.views")
# The rule and the methods built on it, each returning a subset of `visible_to(user)`.
RULE_METHODS = ("visible_to", "of_seeker", "of_connector", "awaiting_connector", "queue_of", "carried_by")


def _lookups_outside_the_rule(module_name: str) -> list[str]:
    module = import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        where = f"{module_name} line {getattr(node, 'lineno', '?')}"
        # IntroRequest.objects… / IntroRequest._default_manager…: the next call must be the rule's.
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "IntroRequest"
            and node.attr in {"objects", "_default_manager", "_base_manager"}
        ):
            after = parents.get(node)
            if not (isinstance(after, ast.Attribute) and after.attr in RULE_METHODS):
                method = after.attr if isinstance(after, ast.Attribute) else "(used as it is)"
                found.append(f"{where}: IntroRequest.{node.attr}.{method}")
        # get_object_or_404(IntroRequest, …) looks up every request there is.
        if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == "IntroRequest" for a in node.args):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name != "isinstance":
                found.append(f"{where}: {name}(IntroRequest, …)")
    return sorted(found, key=lambda line: int(line.split(" line ")[1].split(":")[0]))


def test_every_view_looks_requests_up_through_the_rule():
    found = [problem for module in VIEW_MODULES for problem in _lookups_outside_the_rule(module)]
    assert not found, "Views that look up requests without IntroRequest.objects.visible_to:\n" + "\n".join(found)


def test_the_lookup_check_finds_a_lookup_outside_the_rule(monkeypatch):
    source = (
        "from intros.models import IntroRequest\n"
        "def chain(request, pk):\n"
        "    intro = get_object_or_404(IntroRequest.objects.with_people(), pk=pk)\n"
        "    other = get_object_or_404(IntroRequest, pk=pk)\n"
        "    mine = IntroRequest.objects.of_seeker(request.user).get(pk=pk)\n"
    )
    monkeypatch.setattr(inspect, "getsource", lambda module: source)
    found = _lookups_outside_the_rule("intros.views")
    assert len(found) == 2 and "with_people" in found[0] and "get_object_or_404(IntroRequest" in found[1], found


@pytest.mark.django_db
def test_each_of_the_rule_s_methods_stays_inside_it(world, every_state):
    for role in LOGGED_IN:
        user = world.users[role]
        allowed = set(IntroRequest.objects.visible_to(user).values_list("pk", flat=True))
        expected = {i.pk for i in IntroRequest.objects.all() if _may_see_user(user, i)}
        assert allowed == expected, role
        for method in RULE_METHODS:
            got = set(getattr(IntroRequest.objects, method)(user).values_list("pk", flat=True))
            assert got <= allowed, f"IntroRequest.objects.{method}({role}) returns requests outside visible_to"


def _may_see_user(user, intro: IntroRequest) -> bool:
    return intro.seeker_id == user.pk or (intro.connector_id == user.pk and intro.first_submitted_at is not None)
