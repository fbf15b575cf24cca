"""The API itself: django-ninja, mounted at /api/v1/ (config/urls.py), its schema at
/api/v1/openapi.json and its docs at /api/docs, both for a logged-in person."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from ninja import NinjaAPI

from . import problems
from .auth import AUTH
from .routes import cohorts, contacts, followups, intros

DESCRIPTION = """\
The Warm Intros API answers from the same lists and makes every change through the same
steps as the pages: you see through it exactly what you see in the app.

**Authentication.** Make a personal access token on your settings page and send it as
`Authorization: Bearer wi_…`. A read-only token may only read (`GET`). A logged-in browser
may use its session instead, with the `X-CSRFToken` header on every write.

**Lists** are paged by cursor: pass the `next_cursor` of a page as `cursor` to get the next;
it is null on the last page. `limit` is 1–100 (25 by default).

**Errors** are problem details (RFC 9457, `application/problem+json`): `type`, `title`,
`status`, `detail`, and for a refused body `errors`, each with a `detail` and a `pointer`
into the body. Something that is not yours is a 404, as on the pages.

**Reads** carry an `ETag`: send it back as `If-None-Match` and an unchanged answer is a
`304 Not Modified` with no body.

**Rate limits** are the site's: `RATE_LIMIT_API` requests per person (1000 an hour by
default), and starting or submitting requests counts against `RATE_LIMIT_INTRO_REQUESTS` as
on the pages. Past a limit the answer is 429 with `Retry-After`.
"""


class WarmAPI(NinjaAPI):
    def create_response(
        self,
        request: HttpRequest,
        data,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        patch_vary_headers(response, ["Authorization", "Cookie"])
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            # The answer's own fingerprint: an unchanged answer is a 304, with no body.
            etag = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
            response["ETag"] = etag
            response["Cache-Control"] = "private, no-cache"
            return get_conditional_response(request, etag=etag, response=response)
        response["Cache-Control"] = "private, no-store"
        return response

    def get_openapi_schema(self, **kwargs):
        """Ninja's schema, with the problem document every operation may answer instead."""
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = problems.SCHEMA
        answer = {
            "description": "A problem (RFC 9457): not logged in (401), not allowed (403), not yours or not "
            "there (404), not possible now (409), a refused body (422), too many requests (429).",
            "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("responses", {})["4XX"] = answer
        return schema


api = WarmAPI(
    title="Warm Intros API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    docs_url=None,  # the docs page is /api/docs (api.views.docs), for a logged-in person
    docs_decorator=login_required,
)
problems.install(api)
api.add_router("", contacts.router)
api.add_router("", intros.router)
api.add_router("", followups.router)
api.add_router("", cohorts.router)
