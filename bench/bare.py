"""The bare-Django floor: what any Django page costs before this app adds anything.

Session and authentication middleware only, a login-required view and a short response,
served by the same process type as our floor (the test client's handler in the bench
process), from a handler whose middleware chain is loaded with `MIDDLEWARE` below. The
issue's target is our floor (`/bench/floor/`: every middleware, `base.html`) at most 2× this."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import override_settings

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
# A bare project's session store: Django's default, the database.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
URL = "/bench/bare/"


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<!doctype html><title>bare</title><p>{request.user.pk}</p>")


def client(user=None) -> Client:
    """A test client whose handler runs only MIDDLEWARE with database sessions (it loads its
    chain, and with it the session store, once, here), logged in as `user` if given."""
    made = Client()
    with override_settings(MIDDLEWARE=MIDDLEWARE, SESSION_ENGINE=SESSION_ENGINE):
        made.handler.load_middleware()
        if user is not None:
            made.force_login(user)
    return made
