"""Which item of the main navigation says "you are here" (aria-current="page"), on every page
of the app, for every role that can open it.

It walks the permission matrix (every URL pattern × every role): each GET that answers a page
with the main navigation must mark the item in NAV below, and a refusal or error page marks
none. A page missing from NAV fails, so a new page cannot ship with the wrong item lit (as the
referral chain once lit "Inbox" for the seeker whose chain it was).
"""

from __future__ import annotations

import re

import pytest

from .test_permission_matrix import MATRIX, ORDER, _request

# URL name → the item marked, or per role where the page is a different person's place: an
# introduction is the seeker's (Home) and the connector's (Inbox). None: no item is marked.
NAV: dict[str, str | dict[str, str] | None] = {
    "accounts:profile": "profile",
    "accounts:delete": "profile",
    "accounts:data_export": "profile",
    "accounts:deleted": None,
    "accounts:password_reset": None,
    "accounts:password_reset_done": None,
    "accounts:password_reset_confirm": None,
    "accounts:password_reset_complete": None,
    "intros:home": "home",
    "intros:inbox": "inbox",
    "intros:connector_record": "inbox",
    "intros:find": "home",
    "intros:create": "home",
    "intros:detail": {"owner": "home", "connector": "inbox"},
    "intros:edit": "home",
    "intros:chain": {"owner": "home", "connector": "inbox"},
    "intros:target": None,  # the target's page, behind a link: not a place in anyone's app
    "contacts:list": "contacts",
    "contacts:create": "contacts",
    "contacts:detail": "contacts",
    "contacts:edit": "contacts",
    "contacts:delete": "contacts",
    "contacts:import": "contacts",
    "contacts:organisations": "contacts",
    "contacts:import_detail": "contacts",
    "followups:list": "followups",
    "followups:outreach": "home",  # an outreach to the target of one of my introductions
    "followups:offers": "followups",
    "cohorts:list": "cohorts",
    "cohorts:create": "cohorts",
    "cohorts:detail": "cohorts",
    "cohorts:dashboard": "cohorts",
    "cohorts:dashboard_drill": "cohorts",
    "cohorts:remove_member": "cohorts",
    # Made and revoked on the settings page, which each answers with (a POST: not walked below).
    "accounts:token_create": "profile",
    "accounts:token_revoke": "profile",
    # The API's reference is Swagger UI, a page of its own without the app's navigation.
    "api_docs": None,
    "webhooks:list": "profile",  # reached from Your settings
    "webhooks:detail": "profile",
}

NAV_BLOCK = re.compile(r'<nav aria-label="Main">(.*?)</nav>.*?<div class="account">(.*?)</div>', re.S)
CURRENT = re.compile(r'<a href="([^"]*)"[^>]*aria-current="page"')
ITEMS = {
    "/": "home",
    "/inbox/": "inbox",
    "/follow-ups/": "followups",
    "/contacts/": "contacts",
    "/cohorts/": "cohorts",
    "/accounts/profile/": "profile",
}


def marked(html: str) -> list[str]:
    """The navigation items marked current on a page (the main navigation and the account link)."""
    block = NAV_BLOCK.search(html)
    assert block, "the page has no main navigation"
    return [ITEMS[href] for href in CURRENT.findall(block.group(1) + block.group(2))]


def expected(name: str, role: str, status: int) -> list[str]:
    if status != 200:
        return []  # a refusal, a problem with a link, not found: no place in the app
    item = NAV[name]
    if isinstance(item, dict):
        item = item[role]
    return [item] if item else []


@pytest.mark.django_db
def test_every_page_marks_the_navigation_item_it_belongs_to(world):
    wrong, unlisted, pages = [], set(), 0
    for name, cases in sorted(MATRIX.items()):
        for case in cases:
            if case.method != "get":
                continue
            for role in ORDER:
                if role == "anonymous":
                    continue
                response = _request(world, name, case, role)
                if response.status_code in (301, 302, 405) or "text/html" not in response.get("Content-Type", ""):
                    continue
                html = response.content.decode()
                if '<nav aria-label="Main">' not in html:
                    continue
                pages += 1
                if name not in NAV and response.status_code == 200:
                    unlisted.add(name)
                    continue
                got, want = marked(html), expected(name, role, response.status_code)
                if got != want:
                    wrong.append(
                        f"{name} {case.label} as {role} ({response.status_code}): marks {got}, expected {want}"
                    )
    assert not unlisted, f"Pages with no row in NAV (which navigation item do they belong to?): {sorted(unlisted)}"
    assert not wrong, "\n".join(wrong)
    assert pages > 60, pages  # the walk reached the pages, not only refusals


def test_nav_names_only_existing_url_patterns():
    assert not NAV.keys() - MATRIX.keys(), sorted(NAV.keys() - MATRIX.keys())
