from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from .main import api


@require_safe
@login_required
def docs(request: HttpRequest) -> HttpResponse:
    """The API's reference (Swagger UI, served from our own static files), for a logged-in
    person, whose session its "try it out" uses."""
    return api.docs.render_page(request, api)
