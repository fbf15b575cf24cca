"""The OpenAPI schema as committed (api/openapi.json): written by `manage.py api_schema`,
compared by the test suite, so a change to the API is a change to this file too."""

from __future__ import annotations

import json
from pathlib import Path

from .main import api

PATH = Path(__file__).resolve().parent / "openapi.json"


def schema_text() -> str:
    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, ensure_ascii=False, default=str) + "\n"
