"""htmx plumbing shared by every app's views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def redirect_after_write(request: HttpRequest, url: str) -> HttpResponse:
    """After a write: htmx is told where to go (never a bare 302); a plain form post is redirected."""
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)
