"""The OpenAPI schema is committed (api/openapi.json): a change to the API that is not
written there fails here, with the command that rewrites it."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.schema import PATH, schema_text


def test_the_committed_openapi_schema_is_the_apis_own():
    assert PATH.read_text() == schema_text(), "api/openapi.json has drifted: run `make api-schema` and commit it"


def test_the_schema_names_every_resource_and_its_bearer_token():
    schema = json.loads(PATH.read_text())
    paths = schema["paths"]
    for path in ("/api/v1/contacts", "/api/v1/intros", "/api/v1/follow-ups", "/api/v1/offers", "/api/v1/cohorts"):
        assert path in paths, path
    assert set(paths["/api/v1/contacts/{contact_id}"]) == {"get", "patch", "delete"}
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values()), schemes


def test_the_check_command_fails_when_the_file_differs(tmp_path, monkeypatch):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\\n")
    monkeypatch.setattr("api.management.commands.api_schema.PATH", stale)
    with pytest.raises(CommandError, match="out of date"):
        call_command("api_schema", "--check")
    call_command("api_schema")
    assert stale.read_text() == schema_text()
    call_command("api_schema", "--check")
