"""Webhook deliveries, sent the way the outbox sends email (lib.outbox.services):

1. claim — a short transaction locks the row (`SKIP LOCKED`), checks it is due, and marks it
   `sending` with a fresh claim token, one more attempt, and `next_attempt_at` moved to when the
   claim runs out (`WEBHOOK_CLAIM_SECONDS`); commit;
2. post it to the endpoint (webhooks.net: checked addresses, pinned), signed per the Standard
   Webhooks spec, with no lock held;
3. settle — under the claim token: delivered (a 2xx answer), or the next attempt after a growing
   wait (1 min, 5 min, 30 min, 2 h, then 12 h, each ±20%), or failed after WEBHOOK_MAX_ATTEMPTS.
   Each attempt is logged (`WebhookAttempt`) as it is settled.

A second worker given the same delivery finds it claimed and does nothing; the beat's flush
sends what a lost task or a dead worker left. Delivery is at least once: a receiver dedupes by
`webhook-id`.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lib.outbox.services import retry_delay

from . import net, signing
from .events import envelope
from .models import TEST_EVENT, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)


def enqueue_send(delivery_ids: list[int]) -> None:
    from .tasks import send_webhook_deliveries

    try:
        send_webhook_deliveries.delay(delivery_ids)
    except Exception:  # the broker is away: the beat flush sends them
        log.warning("%s webhook deliveries wait for the flush: broker unreachable", len(delivery_ids), exc_info=True)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- the three steps ---------------------------------------------------------------------------


def _claim(delivery_id: int, *, now: dt.datetime, due_only: bool) -> tuple[WebhookDelivery, uuid.UUID] | None:
    free = WebhookDelivery.objects.due(now)
    if not due_only:
        free = free | WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING)
    with transaction.atomic():
        delivery = (
            free.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None  # delivered, failed, gone, waiting for its retry, or held by another worker
        if delivery.state == WebhookDelivery.State.SENDING:
            log.warning("Webhook delivery %s: the worker sending it stopped; trying again", delivery.pk)
            delivery.last_error = "The worker sending it stopped before it finished (it may or may not have arrived)."
            if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                _give_up(delivery, now=now)
                return None
        if not delivery.endpoint.active:
            delivery.last_error = "Not sent: the endpoint is paused."
            _give_up(delivery, now=now)
            return None
        delivery.state = WebhookDelivery.State.SENDING
        delivery.claim = uuid.uuid4()
        delivery.attempts += 1
        delivery.next_attempt_at = now + dt.timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS)
        delivery.save(update_fields=["state", "claim", "attempts", "next_attempt_at", "last_error"])
    return delivery, delivery.claim


def _give_up(delivery: WebhookDelivery, *, now: dt.datetime) -> None:
    """Called with the row locked: it stays, failed, on the endpoint's page (and "Retry")."""
    delivery.state = WebhookDelivery.State.FAILED
    delivery.failed_at = now
    delivery.next_attempt_at = None
    delivery.claim = None
    delivery.save(update_fields=["state", "failed_at", "next_attempt_at", "claim", "last_error"])
    log.warning("Webhook delivery %s failed after %s attempts: %s", delivery.pk, delivery.attempts, delivery.last_error)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    permanent: bool = False  # trying again cannot help (the address is refused, or gone)
    gone: bool = False  # the receiver said 410 Gone: pause the endpoint

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(delivery: WebhookDelivery) -> Outcome:
    body = body_of(delivery)
    headers = signing.headers(
        secret=delivery.endpoint.secret, msg_id=delivery.event_id, timestamp=int(time.time()), body=body
    )
    started = time.monotonic()
    try:
        answer = net.post(delivery.endpoint.url, body, headers)
    except net.Refused as exc:
        return Outcome(error=str(exc), permanent=True)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        took = int((time.monotonic() - started) * 1000)
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:2000], duration_ms=took)
    if answer.status == 410:  # Standard Webhooks: "Gone" asks the sender to stop
        error = "The server answered 410 Gone: the endpoint is paused until you resume it."
        return Outcome(status_code=410, error=error, duration_ms=answer.duration_ms, permanent=True, gone=True)
    error = "" if 200 <= answer.status < 300 else f"The server answered {answer.status}."
    return Outcome(status_code=answer.status, error=error, duration_ms=answer.duration_ms)


def _settle(delivery: WebhookDelivery, claim: uuid.UUID, outcome: Outcome, *, at: dt.datetime) -> bool:
    now = timezone.now()
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk, claim=claim).first()
        if row is None:
            log.error(
                "Webhook delivery %s was settled after its claim ran out and another worker took it over: "
                "it may arrive twice",
                delivery.pk,
            )
            return False
        WebhookAttempt.objects.create(
            delivery=row, at=at, duration_ms=outcome.duration_ms, status_code=outcome.status_code, error=outcome.error
        )
        row.last_status_code = outcome.status_code
        row.last_error = outcome.error
        if outcome.delivered:
            row.state = WebhookDelivery.State.DELIVERED
            row.delivered_at, row.next_attempt_at, row.claim = now, None, None
            row.save(
                update_fields=["state", "delivered_at", "next_attempt_at", "claim", "last_status_code", "last_error"]
            )
            return True
        if outcome.gone:
            WebhookEndpoint.objects.filter(pk=row.endpoint_id).update(active=False)
        if outcome.permanent or row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            row.save(update_fields=["last_status_code"])
            _give_up(row, now=now)
            return False
        row.state = WebhookDelivery.State.PENDING
        row.claim = None
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.save(update_fields=["state", "claim", "next_attempt_at", "last_status_code", "last_error"])
    return False


def delivery_send(*, delivery_id: int, due_only: bool = False) -> bool:
    """Send one delivery if it is still to be sent and nobody else is sending it; whether it
    arrived (a 2xx answer) on this call."""
    claimed = _claim(delivery_id, now=timezone.now(), due_only=due_only)
    if claimed is None:
        return False
    delivery, claim = claimed
    at = timezone.now()
    try:
        outcome = _post(delivery)
    except SoftTimeLimitExceeded:
        _settle(delivery, claim, Outcome(error="Out of time before the server answered."), at=at)
        raise
    return _settle(delivery, claim, outcome, at=at)


def deliveries_flush(*, limit: int = 500) -> int:
    """Send what is due, soonest first: lost tasks, retries whose wait is over, dead workers'."""
    ids = list(
        WebhookDelivery.objects.due(timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    return sum(delivery_send(delivery_id=pk, due_only=True) for pk in ids)


# --- what the endpoint's owner does ----------------------------------------------------------------


def delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """ "Retry": a failed delivery gets a fresh set of attempts; one waiting for its next attempt
    is tried now. False when there is nothing to retry (delivered, or being sent)."""
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if row is None or not row.can_retry:
            return False
        if row.state == WebhookDelivery.State.FAILED:
            row.attempts = 0
        row.state, row.next_attempt_at, row.failed_at = WebhookDelivery.State.PENDING, timezone.now(), None
        row.save(update_fields=["state", "attempts", "next_attempt_at", "failed_at"])
        transaction.on_commit(lambda: enqueue_send([row.pk]))
    return True


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """ "Send a test event": a `webhook.test` delivery, sent and logged like any other."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=f"evt_test_{uuid.uuid4().hex}",
            event_type=TEST_EVENT,
            payload=envelope(
                TEST_EVENT,
                now,
                {"endpoint": {"id": endpoint.pk, "url": endpoint.url}, "message": "A test event from Warm Intros."},
            ),
        )
        transaction.on_commit(lambda: enqueue_send([delivery.pk]))
    return delivery


def endpoint_create(
    *, owner, url: str, event_types: Iterable[str], description: str = "", cohort=None
) -> WebhookEndpoint:
    net.check(url)
    if cohort is not None and cohort.coach_id != owner.pk:
        raise PermissionError("Only the cohort's coach subscribes to its events.")
    return WebhookEndpoint.objects.create(
        owner=owner, cohort=cohort, url=url.strip(), description=description, event_types=sorted(set(event_types))
    )
