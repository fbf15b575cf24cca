"""Calling the API as a script would: a personal access token in the Authorization header."""

from __future__ import annotations

import json

from django.test import Client

from accounts.models import AccessToken

BASE = "/api/v1"


class ApiClient:
    def __init__(self, user=None, *, scope: str = AccessToken.Scope.WRITE, secret: str | None = None):
        self.client = Client()
        if secret is None and user is not None:
            _, secret = AccessToken.issue(user=user, name="tests", scope=scope)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def _call(self, method: str, path: str, body=None, **headers):
        kwargs = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.client, method)(BASE + path, **kwargs)

    def get(self, path: str, **headers):
        return self._call("get", path, **headers)

    def post(self, path: str, body=None, **headers):
        return self._call("post", path, body if body is not None else {}, **headers)

    def patch(self, path: str, body, **headers):
        return self._call("patch", path, body, **headers)

    def delete(self, path: str, **headers):
        return self._call("delete", path, **headers)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content.decode()[:3000]
    return response.json() if response.content else {}
