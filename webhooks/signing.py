"""Standard Webhooks signatures (https://www.standardwebhooks.com): the receiver checks them
with any of its libraries (`standardwebhooks` on PyPI; the test suite does)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from .models import SECRET_PREFIX


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`: the `webhook-signature` header."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }
