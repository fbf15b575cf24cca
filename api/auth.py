"""Who is asking: a personal access token (`Authorization: Bearer wi_…`, made on the settings
page) or, for the browser, the session (its CSRF token required on every write). A read-only
token may only read. Every request that is let in is counted against the person's API limit."""

from __future__ import annotations

import zoneinfo

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from accounts.models import AccessToken
from lib import ratelimit

from .problems import CsrfFailed, ReadOnlyToken, TooMany, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _admit(request: HttpRequest, user) -> None:
    blocked = ratelimit.API.hit(str(user.pk))
    if blocked:
        raise TooMany(blocked)


def _in_their_zone(user) -> None:
    """As the pages do for a session (lib.middleware): dates in the person's own zone."""
    try:
        timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class TokenAuth(HttpBearer):
    """A personal access token. A token that is not ours (or revoked, or of a deleted or
    deactivated account) is a 401 at once: the session is not tried instead."""

    def authenticate(self, request: HttpRequest, token: str):
        found = AccessToken.find(token.strip())
        if found is None or not found.user.is_active or found.user.is_deleted:
            raise Unauthenticated("This token is not valid: it may have been revoked. Make a new one in your settings.")
        if request.method not in SAFE_METHODS and not found.can_write:
            raise ReadOnlyToken()
        _admit(request, found.user)
        found.used(now=timezone.now())
        request.user = found.user
        _in_their_zone(found.user)
        request.access_token = found
        return found.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser (the docs page's "try it out"). Writes need the CSRF token."""

    def __init__(self) -> None:
        # Checked in `authenticate`, and only for someone logged in (so nobody gets a 403 for a
        # missing CSRF token before a 401 for a missing login). Still True: the docs page reads
        # it, and then sends the token with its "try it out" writes.
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        _admit(request, user)
        return user


AUTH = [TokenAuth(), SessionAuth()]
