"""Who sees what: every URL pattern of the project × every role, with the answer expected.

The table below is the source of truth. `test_every_url_pattern_has_a_row` fails when a URL
pattern has no row (or a row names a pattern that no longer exists), so a new page cannot
ship without saying who may open it. A refused request (403/404/405, or the login redirect)
must change nothing in the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests import mailgun
from tests.factories import PASSWORD

from .world import ROLES, World, diff, snapshot

# Executed in this order, so that the roles that may write come after the refused ones.
ORDER = ("anonymous", "outsider", "other_coach", "member", "coach", "connector", "owner")
assert set(ORDER) == set(ROLES)
REFUSED = {302, 400, 401, 403, 404, 405, 409, 410}


def roles(default: int, anonymous: int = 302, **given: int) -> dict[str, int]:
    """Every logged-in role answers `default` unless named; anonymous is sent to log in."""
    table = {role: default for role in ROLES}
    table["anonymous"] = anonymous
    table.update(given)
    return table


def only(anonymous: int = 302, **allowed: int) -> dict[str, int]:
    """The named roles get their answer; everyone else logged in gets a 404 (not yours)."""
    return roles(404, anonymous, **allowed)


POST_ONLY = roles(405, anonymous=405)  # require_POST wraps login_required: the method is checked first
LOGGED_IN = frozenset(ROLES) - {"anonymous"}
API_WRITE = {"content_type": "application/json"}


def api_only(**allowed: int) -> dict[str, int]:
    """An API route: the named roles get their answer, anyone else logged in a 404, nobody a 401."""
    return only(anonymous=401, **allowed)


@dataclass(frozen=True)
class Case:
    method: str
    expect: dict[str, int]
    args: Callable[[World], list] = lambda w: []
    data: Callable[[World], dict] = lambda w: {}
    query: Callable[[World], str] = lambda w: ""
    label: str = ""
    # Roles whose answer is a success that writes (their 302/200 is not a refusal).
    writers: frozenset[str] = field(default_factory=frozenset)
    # Settings the request is made under (a route that works only once configured).
    settings: dict = field(default_factory=dict)
    content_type: str | None = None  # a body posted as is (JSON), rather than as a form


def GET(expect, **kw) -> Case:
    return Case("get", expect, **kw)


def POST(expect, writers=(), **kw) -> Case:
    return Case("post", expect, writers=frozenset(writers), **kw)


def PATCH(expect, writers=(), **kw) -> Case:
    return Case("patch", expect, writers=frozenset(writers), content_type="application/json", **kw)


def DELETE(expect, writers=(), **kw) -> Case:
    return Case("delete", expect, writers=frozenset(writers), **kw)


def pk(attr: str) -> Callable[[World], list]:
    return lambda w: [getattr(w, attr).pk]


VOUCH = {
    "checked_preparation": "on",
    "checked_fit": "on",
    "checked_relationship": "on",
    "vouch_strength": "acquainted",
    "vouch_note": "I worked with Janet for two years on the budget.",
    "mode": "double_opt_in",
}
PREPARATION = {
    "goal": "Learn how the operations team plans its year.",
    "research_company": "They grew fast.",
    "research_person": "Six years there.",
    "questions": "What does a strong first year look like?",
    "followup_plan": "Thank-you within a day.",
    "fit": "Eight years of budgets.",
    "blurb": "Janet runs operations.",
}

MATRIX: dict[str, list[Case]] = {
    # --- accounts -------------------------------------------------------------------------------
    "accounts:login": [GET(roles(302, anonymous=200))],  # a logged-in person is sent home
    "accounts:logout": [
        GET(POST_ONLY),
        POST(roles(302, anonymous=302), writers=ROLES),  # logging out is always allowed
    ],
    "accounts:profile": [GET(roles(200))],
    # Each person's own data: asking prepares their own file; the file is its owner's alone.
    "accounts:data_export": [GET(roles(200)), POST(roles(302), writers=set(ROLES) - {"anonymous"})],
    "accounts:data_export_download": [GET(only(owner=200), args=pk("data_export"))],
    "accounts:delete": [
        GET(roles(200)),  # a coach sees why not yet instead of the form
        # Deleting is each person's own act; a coach is refused (409) until their cohort is handed over.
        POST(
            roles(302, other_coach=409, coach=409),
            data=lambda w: {"password": PASSWORD},
            writers={"owner", "member", "connector", "outsider"},
        ),
    ],
    "accounts:deleted": [GET(roles(200, anonymous=200))],
    "accounts:password_reset": [GET(roles(200, anonymous=200))],
    "accounts:password_reset_done": [GET(roles(200, anonymous=200))],
    "accounts:password_reset_confirm": [
        # A genuine link is swapped for its session-held form (Django's own 302).
        GET(roles(302, anonymous=302), args=lambda w: w.reset_args(), label="valid", writers=ROLES),
        # A wrong one renders "this link is not valid" (Django answers 200 and offers a new link).
        GET(roles(200, anonymous=200), args=lambda w: [w.reset_args()[0], "abc-0123456789abcdef"], label="wrong"),
    ],
    "accounts:password_reset_complete": [GET(roles(200, anonymous=200))],
    # --- intros ---------------------------------------------------------------------------------
    "intros:home": [GET(roles(200))],
    "intros:inbox": [GET(roles(200))],
    "intros:connector_record": [GET(roles(200))],
    "intros:find": [GET(roles(200))],
    "intros:create": [
        # The connector's shareable contact: the cohort's members may ask; its owner and non-members not.
        # The seeker has a draft open to them: the page points to it, and a post makes nothing (409).
        GET(only(owner=200, member=200), args=pk("target")),
        POST(
            only(owner=409, member=302),
            args=pk("target"),
            data=lambda w: PREPARATION,
            writers={"member"},
            label="already-open",
        ),
        POST(
            only(owner=302, member=302),
            args=pk("unasked"),
            data=lambda w: PREPARATION,
            writers={"owner", "member"},
            label="new",
        ),
    ],
    "intros:detail": [
        GET(only(owner=200, connector=200), args=pk("submitted"), label="submitted"),
        # A draft is the seeker's own until submitted, and stays so if withdrawn unsubmitted.
        GET(only(owner=200), args=pk("draft"), label="draft"),
        GET(only(owner=200), args=pk("withdrawn_draft"), label="withdrawn-draft"),
    ],
    "intros:edit": [
        GET(only(owner=200), args=pk("draft")),
        POST(only(owner=302), args=pk("draft"), data=lambda w: PREPARATION, writers={"owner"}),
    ],
    "intros:submit": [GET(POST_ONLY, args=pk("draft")), POST(only(owner=302), args=pk("draft"), writers={"owner"})],
    "intros:withdraw": [
        GET(POST_ONLY, args=pk("submitted")),
        POST(only(owner=302), args=pk("submitted"), writers={"owner"}),
    ],
    "intros:approve": [
        GET(POST_ONLY, args=pk("submitted")),
        POST(only(connector=302), args=pk("submitted"), data=lambda w: VOUCH, writers={"connector"}),
    ],
    "intros:request_changes": [
        GET(POST_ONLY, args=pk("submitted")),
        POST(
            only(connector=302),
            args=pk("submitted"),
            data=lambda w: {"changes-note": "Say more about the team."},
            writers={"connector"},
        ),
    ],
    "intros:decline": [
        GET(POST_ONLY, args=pk("submitted")),
        POST(
            only(connector=302),
            args=pk("submitted"),
            data=lambda w: {"decline-note": "Not the right person, sorry."},
            writers={"connector"},
        ),
    ],
    "intros:ask_again": [
        GET(POST_ONLY, args=pk("awaiting")),
        # The connector's click is told there is nothing to send again (the ask was delivered).
        POST(only(connector=302), args=pk("awaiting"), writers={"connector"}),
    ],
    "intros:meeting": [
        GET(POST_ONLY, args=pk("introduced")),
        POST(
            only(owner=302),
            args=pk("introduced"),
            data=lambda w: {"met_on": f"{timezone.localdate():%Y-%m-%d}"},
            writers={"owner"},
        ),
    ],
    "intros:outcome": [
        GET(POST_ONLY, args=pk("met")),
        POST(only(owner=302), args=pk("met"), data=lambda w: {"outcome": "advice"}, writers={"owner"}),
    ],
    "intros:close": [
        GET(POST_ONLY, args=pk("outcome")),
        # Either party may close; the second click is told nothing changed.
        POST(only(owner=302, connector=302), args=pk("outcome"), writers={"owner", "connector"}),
        # Closing a withdrawn draft is refused to its seeker (nothing to close) and unknown to its connector.
        POST(only(owner=302), args=pk("withdrawn_draft"), label="withdrawn-draft"),
    ],
    "intros:chain": [
        GET(only(owner=200, connector=200), args=pk("outcome")),
        # The chain page follows the request page's rule: a draft's chain is its seeker's alone.
        GET(only(owner=200), args=pk("draft"), label="draft"),
        GET(only(owner=200), args=pk("withdrawn_draft"), label="withdrawn-draft"),
    ],
    "intros:target": [
        # No login: the signed token is the key, whoever holds it.
        GET(roles(200, anonymous=200), args=lambda w: [w.awaiting.pk, w.answer_token], label="valid"),
        GET(roles(400, anonymous=400), args=lambda w: [w.awaiting.pk, w.answer_token[:-2] + "xx"], label="wrong"),
        GET(
            roles(400, anonymous=400),
            args=lambda w: [w.introduced.pk, w.answer_token],
            label="another-intro",
        ),
        POST(
            roles(400, anonymous=400),
            args=lambda w: [w.met.pk, w.step_back_token],  # a step-back link named under another intro
            data=lambda w: {"action": "step_back"},
            label="post-another-intro",
        ),
    ],
    # --- contacts -------------------------------------------------------------------------------
    "contacts:list": [GET(roles(200))],
    # Suggestions come from each person's own contacts: everyone may ask, nobody sees another's.
    "contacts:organisations": [GET(roles(200), query=lambda w: f"organisation={w.own_contact.organisation}")],
    "contacts:create": [GET(roles(200))],
    "contacts:detail": [GET(only(owner=200), args=pk("own_contact"))],
    "contacts:edit": [GET(only(owner=200), args=pk("own_contact"))],
    "contacts:delete": [
        GET(only(owner=200), args=pk("own_contact")),
        POST(only(owner=302, anonymous=302), args=pk("own_contact"), writers={"owner"}),
    ],
    "contacts:import": [GET(roles(200))],
    "contacts:import_detail": [GET(only(owner=200), args=pk("batch"))],
    "contacts:import_choices": [
        GET(POST_ONLY, args=pk("batch")),
        POST(only(owner=302), args=pk("batch"), writers={"owner"}),
    ],
    "contacts:import_confirm": [
        GET(POST_ONLY, args=pk("batch")),
        POST(only(owner=302), args=pk("batch"), writers={"owner"}),
    ],
    "contacts:import_discard": [
        GET(POST_ONLY, args=pk("batch")),
        POST(only(owner=302), args=pk("batch"), writers={"owner"}),
    ],
    "contacts:import_report_csv": [GET(only(owner=200), args=pk("finished_batch"))],
    "contacts:export_csv": [GET(roles(200))],  # each person's own contacts
    "contacts:export_vcard": [GET(roles(200))],
    # --- follow-ups -----------------------------------------------------------------------------
    "followups:list": [GET(roles(200))],
    # One address for the follow-up list's buttons: the button names the action and the follow-up.
    "followups:act": [
        GET(POST_ONLY),
        # Snooze first: it leaves the follow-up open for the next case (done closes it).
        POST(
            only(owner=302),
            data=lambda w: {"snooze": w.followup.pk, f"days-{w.followup.pk}": "1"},
            writers={"owner"},
            label="snooze",
        ),
        POST(only(owner=302), data=lambda w: {"done": w.followup.pk}, writers={"owner"}, label="done"),
    ],
    "followups:outreach": [
        GET(only(owner=200), args=pk("introduced")),
        GET(only(owner=200), args=pk("draft"), label="draft"),
        POST(
            only(owner=302),
            args=pk("introduced"),
            data=lambda w: {
                # Now: not before the world's introduction, made when the module started.
                "at": f"{timezone.localtime():%Y-%m-%dT%H:%M}",
                "channel": "email",
                "confirmed": "True",
            },
            writers={"owner"},
        ),
    ],
    "followups:offers": [
        GET(roles(200)),
        POST(
            roles(302),
            data=lambda w: {"offered_by_name": "Rosa", "contact_name": "Maya"},
            writers=set(ROLES) - {"anonymous"},
        ),
    ],
    "followups:offer_self_contact": [
        GET(POST_ONLY, args=pk("offer")),
        POST(only(owner=302), args=pk("offer"), writers={"owner"}),
    ],
    "followups:offer_request": [
        GET(POST_ONLY, args=pk("offer")),
        POST(only(owner=302), args=pk("offer"), writers={"owner"}),
    ],
    "followups:offer_contacted": [
        GET(POST_ONLY, args=pk("offer")),
        POST(only(owner=302), args=pk("offer"), writers={"owner"}),
    ],
    "followups:offer_dismiss": [
        GET(POST_ONLY, args=pk("offer")),
        POST(only(owner=302), args=pk("offer"), writers={"owner"}),
    ],
    "followups:calendar_reset": [GET(POST_ONLY), POST(roles(302), writers=set(ROLES) - {"anonymous"})],
    "followups:calendar": [
        GET(roles(200, anonymous=200), args=lambda w: [w.feed.token], label="valid"),
        GET(roles(404, anonymous=404), args=lambda w: [w.feed.token[:-1] + "~"], label="wrong"),
    ],
    # --- cohorts --------------------------------------------------------------------------------
    "cohorts:list": [GET(roles(200))],
    "cohorts:create": [GET(roles(200))],
    "cohorts:detail": [GET(only(owner=200, member=200, connector=200, coach=200), args=pk("cohort"))],
    "cohorts:invite": [
        GET(POST_ONLY, args=pk("cohort")),
        POST(only(coach=302), args=pk("cohort"), data=lambda w: {"emails": "new@example.com"}, writers={"coach"}),
    ],
    "cohorts:invitation_cancel": [
        GET(POST_ONLY, args=lambda w: [w.cohort.pk, w.invitation.pk]),
        POST(only(coach=302), args=lambda w: [w.cohort.pk, w.invitation.pk], writers={"coach"}),
    ],
    "cohorts:join": [
        # The invitee has no account yet: anyone holding the link sees the sign-up; a logged-in
        # person is told the invitation is for another address.
        GET(roles(403, anonymous=200), args=lambda w: [w.invitation_token], label="valid"),
        GET(roles(400, anonymous=400), args=lambda w: [w.invitation_token[:-2] + "xx"], label="wrong"),
    ],
    "cohorts:dashboard": [GET(only(coach=200), args=pk("cohort"))],
    "cohorts:dashboard_drill": [
        GET(only(coach=200), args=pk("cohort"), query=lambda w: f"member={w.seeker.pk}"),
    ],
    "cohorts:export_members": [GET(only(coach=200), args=pk("cohort"))],
    "cohorts:export_requests": [GET(only(coach=200), args=pk("cohort"))],
    "cohorts:nudge": [
        GET(POST_ONLY, args=pk("cohort")),
        POST(
            only(coach=302),
            args=pk("cohort"),
            data=lambda w: {"member": str(w.seeker.pk), "note": "How is it going?"},
            writers={"coach"},
        ),
    ],
    "cohorts:remove_member": [
        GET(only(coach=200), args=lambda w: [w.cohort.pk, w.seeker.pk]),
        POST(only(coach=302), args=lambda w: [w.cohort.pk, w.users["member"].pk], writers={"coach"}),
    ],
    # --- webhooks: each endpoint is its owner's alone -------------------------------------------------
    "webhooks:list": [
        GET(roles(200)),
        POST(
            roles(302),
            data=lambda w: {"url": "http://127.0.0.1:9/hook", "scope": "mine", "event_types": ["offer.stale"]},
            settings={"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True, "WEBHOOK_REQUIRE_HTTPS": False},
            writers=set(ROLES) - {"anonymous"},
        ),
    ],
    "webhooks:detail": [
        GET(only(owner=200), args=pk("endpoint")),
        # The coach's endpoint for the cohort is the coach's alone, not its members'.
        GET(only(coach=200), args=pk("cohort_endpoint"), label="cohort"),
    ],
    "webhooks:test": [
        GET(POST_ONLY, args=pk("endpoint")),
        POST(only(owner=302), args=pk("endpoint"), writers={"owner"}),
    ],
    "webhooks:active": [
        GET(POST_ONLY, args=pk("endpoint")),
        POST(only(owner=302), args=pk("endpoint"), writers={"owner"}),
    ],
    "webhooks:delete": [
        GET(POST_ONLY, args=pk("cohort_endpoint")),
        POST(only(coach=302), args=pk("cohort_endpoint"), writers={"coach"}),
    ],
    "webhooks:retry": [
        GET(POST_ONLY, args=lambda w: [w.endpoint.pk, w.delivery.pk]),
        POST(only(owner=302), args=lambda w: [w.endpoint.pk, w.delivery.pk], writers={"owner"}),
    ],
    # --- the email service's reports (lib.outbox.webhooks) -----------------------------------------
    "outbox:mailgun_tracking": [
        # No login: Mailgun's signature is the key. Without the signing key configured, nothing is there.
        GET(roles(404, anonymous=404), label="not-configured"),
        POST(
            roles(404, anonymous=404),
            data=lambda w: mailgun.event("failed", recipient="carol@example.org"),
            content_type="application/json",
            label="not-configured",
        ),
        GET(roles(405, anonymous=405), settings={"ANYMAIL": mailgun.SETTINGS}, label="configured"),
        # Signed: accepted from whoever posts it (a report about no message of ours changes nothing).
        POST(
            roles(200, anonymous=200),
            data=lambda w: mailgun.event("delivered", recipient="carol@example.org"),
            content_type="application/json",
            settings={"ANYMAIL": mailgun.SETTINGS},
            label="signed",
        ),
        # Unsigned, or signed with another key: refused, whoever posts it.
        POST(
            roles(400, anonymous=400),
            data=lambda w: {"event-data": mailgun.event("failed", recipient="carol@example.org")["event-data"]},
            content_type="application/json",
            settings={"ANYMAIL": mailgun.SETTINGS},
            label="unsigned",
        ),
        POST(
            roles(400, anonymous=400),
            data=lambda w: mailgun.event("failed", recipient="carol@example.org", key="not-our-key"),
            content_type="application/json",
            settings={"ANYMAIL": mailgun.SETTINGS},
            label="wrong-signature",
        ),
        POST(
            roles(400, anonymous=400),
            data=lambda w: {"event": "failed"},
            settings={"ANYMAIL": mailgun.SETTINGS},
            label="form",
        ),
    ],
    # --- the JSON API (api/): the session here (tokens: tests/api/); nobody logged in is a 401 ----------
    "api:api-root": [GET(roles(404, anonymous=404))],  # django-ninja's marker for the API's root path
    "api:openapi-json": [GET(roles(200))],  # the schema, for a logged-in person (it is also in the repository)
    "api_docs": [GET(roles(200))],
    "api:contact_list": [GET(roles(200, anonymous=401), query=lambda w: "q=a&strength=close")],
    "api:contact_create": [
        POST(roles(201, anonymous=401), data=lambda w: {"name": "Ada Lovelace"}, **API_WRITE, writers=LOGGED_IN)
    ],
    "api:contact_detail": [GET(api_only(owner=200), args=pk("own_contact"))],
    "api:contact_update": [
        PATCH(api_only(owner=200), args=pk("own_contact"), data=lambda w: {"title": "CFO"}, writers={"owner"})
    ],
    "api:contact_delete": [DELETE(api_only(owner=204), args=pk("own_contact"), writers={"owner"})],
    "api:intro_list": [GET(roles(200, anonymous=401))],
    "api:intro_detail": [
        GET(api_only(owner=200, connector=200), args=pk("submitted"), label="submitted"),
        GET(api_only(owner=200), args=pk("draft"), label="draft"),
        GET(api_only(owner=200), args=pk("withdrawn_draft"), label="withdrawn-draft"),
    ],
    "api:intro_create": [  # (a GET of its path is the list, api:intro_list)
        # The connector's shareable contact: the cohort's members may ask; its owner and non-members not.
        POST(
            api_only(owner=409, member=201),
            data=lambda w: {"target_id": w.target.pk, **PREPARATION},
            **API_WRITE,
            writers={"member"},
            label="already-open",
        ),
        POST(
            api_only(owner=201, member=201),
            data=lambda w: {"target_id": w.unasked.pk, **PREPARATION},
            **API_WRITE,
            writers={"owner", "member"},
            label="new",
        ),
    ],
    "api:intro_submit": [
        GET(roles(405, anonymous=405), args=pk("draft")),
        POST(api_only(owner=200), args=pk("draft"), **API_WRITE, writers={"owner"}),
    ],
    "api:intro_withdraw": [
        GET(roles(405, anonymous=405), args=pk("submitted")),
        POST(api_only(owner=200), args=pk("submitted"), **API_WRITE, writers={"owner"}),
    ],
    "api:intro_approve": [
        GET(roles(405, anonymous=405), args=pk("submitted")),
        POST(
            api_only(connector=200),
            args=pk("submitted"),
            data=lambda w: {**{k: v == "on" or v for k, v in VOUCH.items()}},
            **API_WRITE,
            writers={"connector"},
        ),
    ],
    "api:intro_request_changes": [
        GET(roles(405, anonymous=405), args=pk("submitted")),
        POST(
            api_only(connector=200),
            args=pk("submitted"),
            data=lambda w: {"note": "Say more about the team."},
            **API_WRITE,
            writers={"connector"},
        ),
    ],
    "api:intro_decline": [
        GET(roles(405, anonymous=405), args=pk("submitted")),
        POST(
            api_only(connector=200),
            args=pk("submitted"),
            data=lambda w: {"note": "Not the right person, sorry."},
            **API_WRITE,
            writers={"connector"},
        ),
    ],
    "api:followup_list": [GET(roles(200, anonymous=401), query=lambda w: "status=done")],
    "api:followup_done": [
        GET(roles(405, anonymous=405), args=pk("followup")),
        POST(api_only(owner=200), args=pk("followup"), **API_WRITE, writers={"owner"}),
    ],
    "api:followup_skip": [
        GET(roles(405, anonymous=405), args=pk("followup")),
        POST(api_only(owner=200), args=pk("followup"), **API_WRITE, writers={"owner"}),
    ],
    "api:followup_snooze": [
        GET(roles(405, anonymous=405), args=pk("followup")),
        POST(api_only(owner=200), args=pk("followup"), data=lambda w: {"days": 3}, **API_WRITE, writers={"owner"}),
    ],
    "api:offer_list": [GET(roles(200, anonymous=401))],
    "api:offer_create": [
        POST(
            roles(201, anonymous=401),
            data=lambda w: {"offered_by_name": "Rosa", "contact_name": "Maya"},
            **API_WRITE,
            writers=LOGGED_IN,
        )
    ],
    "api:offer_self_contact": [
        GET(roles(405, anonymous=405), args=pk("offer")),
        POST(api_only(owner=200), args=pk("offer"), **API_WRITE, writers={"owner"}),
    ],
    "api:offer_request": [
        GET(roles(405, anonymous=405), args=pk("offer")),
        POST(api_only(owner=200), args=pk("offer"), **API_WRITE, writers={"owner"}),
    ],
    "api:offer_contacted": [
        GET(roles(405, anonymous=405), args=pk("offer")),
        POST(api_only(owner=200), args=pk("offer"), **API_WRITE, writers={"owner"}),
    ],
    "api:offer_dismiss": [
        GET(roles(405, anonymous=405), args=pk("offer")),
        POST(api_only(owner=200), args=pk("offer"), **API_WRITE, writers={"owner"}),
    ],
    "api:cohort_list": [GET(roles(200, anonymous=401))],  # each coach's own (none, for most)
    "api:cohort_numbers": [GET(api_only(coach=200), args=pk("cohort"))],
    # A token is made and revoked on the settings page: each person's own.
    "accounts:token_create": [
        GET(POST_ONLY),
        POST(roles(201), data=lambda w: {"name": "My spreadsheet", "scope": "read"}, writers=LOGGED_IN),
    ],
    "accounts:token_revoke": [
        GET(POST_ONLY, args=pk("access_token")),
        POST(only(owner=302), args=pk("access_token"), writers={"owner"}),
    ],
}


# --- the admin (lib.staff_admin), one rule for its every route ---------------------------------------
# Nobody in the world is staff: each route sends an anonymous visitor to the app's log-in and is a
# 404 for everyone logged in. What staff see is tests/security/test_admin.py.


ADMIN_SITE_WIDE = {"index", "login", "logout", "password_change", "password_change_done", "autocomplete", "jsi18n"}


def _admin_args(name: str) -> Callable[[World], list]:
    route = name.removeprefix("admin:")
    if route == "view_on_site":
        return lambda w: [1, w.seeker.pk]
    if route == "app_list":
        return lambda w: ["outbox"]
    if route not in ADMIN_SITE_WIDE and route.endswith(("_change", "_delete", "_history", "_redirect")):
        return lambda w: [w.seeker.pk]  # one object's page (whichever model: nobody here gets that far)
    return lambda w: []


def admin_rows() -> dict[str, list[Case]]:
    rows = {name: [GET(only(), args=_admin_args(name))] for name in url_names() if name.startswith("admin:")}
    # An action posted by someone who is not staff: refused, and nothing changes.
    rows["admin:outbox_outboxmessage_changelist"].append(
        POST(only(), data=lambda w: {"action": "retry", "_selected_action": [w.awaiting.last_ask_id]}, label="retry")
    )
    rows["admin:webhooks_webhookdelivery_changelist"].append(
        POST(only(), data=lambda w: {"action": "retry", "_selected_action": [w.delivery.pk]}, label="retry")
    )
    rows["admin:accounts_user_changelist"].append(
        POST(only(), data=lambda w: {"action": "deactivate", "_selected_action": [w.seeker.pk]}, label="deactivate")
    )
    return rows


def url_names(resolver=None, namespace: str = "") -> set[str]:
    """Every named URL pattern, walked recursively through includes (`intros:detail`)."""
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"URL pattern {pattern.pattern} has no name, so it cannot have a row"
            names.add(f"{namespace}{pattern.name}")
    return names


MATRIX.update(admin_rows())


def test_every_url_pattern_has_a_row():
    found = url_names()
    missing, extra = sorted(found - MATRIX.keys()), sorted(MATRIX.keys() - found)
    assert not missing, f"URL patterns with no row in the permission matrix: {missing}"
    assert not extra, f"Rows in the permission matrix for URL patterns that no longer exist: {extra}"


def test_every_row_covers_every_role():
    for name, cases in MATRIX.items():
        for case in cases:
            assert set(case.expect) == set(ROLES), f"{name} {case.label}: roles {sorted(case.expect)}"


def _client(world: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def _request(world: World, name: str, case: Case, role: str):
    client = _client(world, role)  # first: logging in moves last_login, which a reset token depends on
    url = reverse(name, args=case.args(world))
    query = case.query(world)
    if query:
        url = f"{url}?{query}"
    with override_settings(**case.settings):
        if case.method == "get":
            return client.get(url)
        if case.method in ("patch", "delete"):
            body = json.dumps(case.data(world)) if case.method == "patch" else None
            return getattr(client, case.method)(url, body, content_type="application/json")
        if case.content_type:
            return client.post(url, json.dumps(case.data(world)), content_type=case.content_type)
        return client.post(url, case.data(world))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(name, world):
    wrong = []
    for case in MATRIX[name]:
        for role in ORDER:
            expected = case.expect[role]
            refused = role not in case.writers and expected in REFUSED
            before = snapshot() if refused else None
            response = _request(world, name, case, role)
            where = f"{name} {case.label or ''} {case.method.upper()} as {role}"
            if response.status_code != expected:
                wrong.append(f"{where}: {response.status_code}, expected {expected}")
                continue
            if expected == 302 and role == "anonymous" and role not in case.writers:
                assert response["Location"].startswith(reverse("accounts:login")), where
            if refused:
                changed = diff(before, snapshot())
                assert not changed, f"{where} was refused ({expected}) but changed {changed}"
    assert not wrong, "\n".join(wrong)


def test_the_matrix_size():
    cells = sum(len(ROLES) for cases in MATRIX.values() for _ in cases)
    print(f"permission matrix: {len(MATRIX)} URL names × {len(ROLES)} roles, {cells} requests")
    assert len(MATRIX) == len(url_names())
