"""Errors as RFC 9457 problem details: `application/problem+json` bodies with `type`, `title`,
`status` and `detail`, and for a refused body the list of what is wrong (`errors`, each with
a JSON pointer into the body). Every refusal the API makes goes through here."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from lib.ratelimit import Blocked

from . import actions

MEDIA_TYPE = "application/problem+json"
# Our own kinds of problem; any other is `about:blank`, whose title is the HTTP status's.
TYPE_PREFIX = "urn:warm-intros:problem:"


# The problem document, for the OpenAPI schema (api.main).
SCHEMA = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "`about:blank`, or `urn:warm-intros:problem:` and its kind."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What happened, for the person."},
        "errors": {
            "type": "array",
            "description": "For a refused body or query: each thing wrong.",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "detail": {"type": "string"},
                    "pointer": {"type": "string", "description": "A JSON pointer into the body: `#/vouch_note`."},
                    "parameter": {"type": "string", "description": "The query or path parameter."},
                },
            },
        },
    },
}


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{kind}" if kind else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=f"{MEDIA_TYPE}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "private, no-store"
    return response


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) into the request body: `#/vouch_note`."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped)


# --- what a view raises -------------------------------------------------------------------


class Invalid(Exception):
    """The body was read and refused by the same checks the page makes (a Django form)."""

    def __init__(self, errors: list[dict[str, str]], detail: str = "Some of what was sent cannot be used."):
        self.errors = errors
        self.detail = detail
        super().__init__(detail)

    @classmethod
    def from_form(cls, form: Form, *, names: dict[str, str] | None = None) -> Invalid:
        """Each of the form's errors, pointing at the body's field (`names` maps the form's
        names to the body's, where they differ); errors of the whole form point nowhere."""
        errors = []
        for field, messages in form.errors.items():
            for message in messages:
                if field == "__all__":
                    errors.append({"detail": message})
                else:
                    errors.append({"detail": message, "pointer": pointer((names or {}).get(field, field))})
        return cls(errors)


class Conflict(Exception):
    """The request is understood but cannot happen in the object's present state."""

    def __init__(self, detail: str, **extra: Any):
        self.detail = detail
        self.extra = extra
        super().__init__(detail)


class TooMany(Exception):
    def __init__(self, blocked: Blocked):
        self.blocked = blocked
        super().__init__(blocked.message)


class ReadOnlyToken(Exception):
    pass


class Unauthenticated(Exception):
    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class CsrfFailed(Exception):
    pass


class BadCursor(Exception):
    pass


# --- the handlers --------------------------------------------------------------------------


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Pydantic's refusals of the body, query or path (a wrong type, a missing field)."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        where, path = (location[0], location[1:]) if location else ("body", [])
        if where == "body" and path and path[0] == "payload":
            path = path[1:]  # ninja's name for the whole body
        entry = {"detail": error.get("msg", "Not valid.")}
        if where == "body":
            entry["pointer"] = pointer(*path)
        else:
            entry["parameter"] = ".".join(path) or where
        errors.append(entry)
    return problem(422, "Some of what was sent cannot be used.", kind="invalid", title="Invalid request", errors=errors)


def install(api: NinjaAPI) -> None:
    api.add_exception_handler(ValidationError, _validation)
    api.add_exception_handler(
        Invalid,
        lambda r, e: problem(422, e.detail, kind="invalid", title="Invalid request", errors=e.errors),
    )
    api.add_exception_handler(
        actions.PreparationIncomplete,
        lambda r, e: problem(
            422,
            "The preparation is not complete yet: the request stays a draft.",
            kind="preparation-incomplete",
            title="Preparation incomplete",
            errors=[{"detail": message, "pointer": pointer(field)} for field, message in e.problems.items()],
        ),
    )
    api.add_exception_handler(
        actions.AlreadyOpen,
        lambda r, e: problem(
            409, str(e), kind="already-open", title="A request is open already", open_request=e.intro.pk
        ),
    )
    api.add_exception_handler(
        actions.NotAllowed, lambda r, e: problem(409, str(e), kind="not-allowed", title="Not possible now")
    )
    api.add_exception_handler(
        Conflict, lambda r, e: problem(409, e.detail, kind="not-allowed", title="Not possible now", **e.extra)
    )
    api.add_exception_handler(
        TooMany,
        lambda r, e: problem(
            429,
            e.blocked.message,
            kind="rate-limited",
            title="Too many requests",
            headers={"Retry-After": str(e.blocked.retry_after)},
        ),
    )
    api.add_exception_handler(
        ReadOnlyToken,
        lambda r, e: problem(
            403, "This token may only read. Make a read-and-write token to change things.", kind="read-only-token"
        ),
    )
    api.add_exception_handler(
        CsrfFailed,
        lambda r, e: problem(
            403, "A browser session writes with its CSRF token (the X-CSRFToken header).", kind="csrf-failed"
        ),
    )
    api.add_exception_handler(
        Unauthenticated,
        lambda r, e: problem(401, e.detail, headers={"WWW-Authenticate": 'Bearer realm="warm-intros"'}),
    )
    api.add_exception_handler(
        AuthenticationError,
        lambda r, e: problem(
            401,
            "Send a personal access token (Authorization: Bearer wi_…) or log in.",
            headers={"WWW-Authenticate": 'Bearer realm="warm-intros"'},
        ),
    )
    api.add_exception_handler(
        BadCursor,
        lambda r, e: problem(400, "This cursor is not one we gave, or not for this list.", kind="bad-cursor"),
    )
    # Not there, or not yours: the same answer, as on the pages.
    api.add_exception_handler(Http404, lambda r, e: problem(404, "There is nothing here for you."))
    api.add_exception_handler(ObjectDoesNotExist, lambda r, e: problem(404, "There is nothing here for you."))
    api.add_exception_handler(HttpError, lambda r, e: problem(e.status_code, str(e)))
