"""Mailgun's tracking webhook as Mailgun posts it: the JSON body its documentation (and
anymail's tests) show, signed as Mailgun signs it — HMAC-SHA256 of timestamp + token under the
webhook signing key — so a test can drive lib.outbox.webhooks with no network."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from django.urls import reverse

SIGNING_KEY = "test-mailgun-webhook-signing-key-0123456789"
SETTINGS = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def signature(timestamp: str, token: str, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode("ascii"), f"{timestamp}{token}".encode("ascii"), hashlib.sha256).hexdigest()


def event(
    kind: str,
    *,
    recipient: str,
    message=None,
    message_id: str | None = None,
    outbox_id: int | None = None,
    token: str | None = None,
    key: str = SIGNING_KEY,
) -> dict[str, Any]:
    """One webhook body. `kind` is Mailgun's event name: "failed" (a permanent bounce), "rejected",
    "complained" or "delivered". About `message` (an outbox row, as Mailgun saw it: its message
    id, and our id in the metadata), or about the ids given."""
    if message is not None:
        outbox_id = message.pk if outbox_id is None else outbox_id
        message_id = message.provider_message_id if message_id is None else message_id
    message_id = message_id or f"{secrets.token_hex(8)}@mg.warm-intros.test"
    timestamp = f"{time.time():.6f}"
    token = token or secrets.token_hex(25)
    data: dict[str, Any] = {
        "event": kind,
        "id": secrets.token_urlsafe(16),
        "timestamp": float(timestamp),
        "recipient": recipient,
        "log-level": "error" if kind in ("failed", "rejected") else "info",
        "user-variables": {} if outbox_id is None else {"outbox": str(outbox_id)},
        "tags": [],
        "message": {
            "headers": {
                "to": recipient,
                "message-id": message_id.strip("<>"),
                "from": "Warm Intros <hello@warm-intros.test>",
                "subject": "An introduction",
            }
        },
    }
    if kind == "failed":
        data |= {
            "severity": "permanent",
            "reason": "bounce",
            "delivery-status": {
                "attempt-no": 1,
                "code": 550,
                "description": "",
                "message": "5.1.1 The email account that you tried to reach does not exist.",
            },
        }
    elif kind == "rejected":
        data["reject"] = {"reason": "Sending to this address is suppressed: it bounced before."}
    elif kind == "delivered":
        data["delivery-status"] = {"attempt-no": 1, "code": 250, "description": "", "message": "OK"}
    seconds = timestamp.split(".")[0]
    return {
        "signature": {"timestamp": seconds, "token": token, "signature": signature(seconds, token, key)},
        "event-data": data,
    }


def post(client, body: dict[str, Any]):
    """Post it to our webhook, as Mailgun does."""
    return client.post(reverse("outbox:mailgun_tracking"), data=json.dumps(body), content_type="application/json")
