"""Signed webhooks to platforms ("webhooks"): an outbox, retried with back-off, behind the SSRF guard.

A service that changes something a platform must hear about (a decision, an appeal outcome, a
sanction) calls ``notify()`` inside its own transaction: one ``WebhookDelivery`` row per active
endpoint subscribed to the event, and a kick to the worker once the transaction commits, so a
rolled-back decision is never announced.

The worker (``deliver_due``) takes one due row at a time: in a short transaction it locks the
row (``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it), counts the attempt and
moves ``next_attempt_at`` past the longest a POST may take (a lease), and commits; only then
does it POST. A second worker does not see the row as due while the lease runs, so no row is
ever sent by two workers at once; a worker that dies mid-POST leaves a row that is tried again
when the lease ends (the platform drops the repeat by its ``Vangnet-Event-Id``). The answer
is recorded only by the worker holding the current attempt.

Every request goes through ``common.safefetch.post``: the endpoint's name is resolved once and
refused if any address is not public, the connection goes to the vetted address, and a
redirect is a failure, never followed. A 2xx answer is delivery; anything else (another status,
no connection, a timeout) is tried again after an exponentially growing, jittered delay
(``common.retry.Backoff``) until ``BACKOFF.max_attempts``, after which the row is ``failed``
with the audit event ``WEBHOOK_GAVE_UP``.

Signatures follow Stripe's scheme (see ``sign`` and docs/moderation.md, "Webhooks").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import user_has_permission
from vangnet.audit.services import Actor, record_event
from vangnet.common import safefetch
from vangnet.common.retry import Backoff

from .choices import DeliveryState, ModerationEvent, WebhookEvent
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

ACTOR = Actor.system("webhook outbox")
SIGNATURE_HEADER = "Vangnet-Signature"
EVENT_HEADER = "Vangnet-Event"
EVENT_ID_HEADER = "Vangnet-Event-Id"
# 30 s, 1, 2, 4 … minutes, at most 6 hours apart; given up after 10 attempts (about 15 hours).
BACKOFF = Backoff(first_delay=30.0, factor=2.0, max_delay=6 * 3600.0, max_attempts=10)
# A platform's receiver should answer at once and do its work later; its answer's body is not needed.
LIMITS = safefetch.Limits(max_bytes=64 * 1024, connect_timeout=5.0, total_timeout=15.0, max_redirects=0)
# While one worker's POST may still run, no other worker takes the row.
LEASE = timedelta(seconds=2 * LIMITS.total_timeout + 30)


# ---------------------------------------------------------------------------------------------
# Signatures


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``Vangnet-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.

    The HMAC's key is the endpoint's secret (UTF-8) and its message is the timestamp, a full
    stop and the exact body bytes (``f"{timestamp}."`` + body), as Stripe signs its webhooks,
    so a receiver can check that the body came from vangnet and is recent (no replays later).
    """
    digest = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def verify(*, secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made no more than ``tolerance`` seconds from ``now``.

    For platforms' receivers and the tests. Any ``v1`` in the header may match (room for a
    secret rotation); comparisons take constant time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret=secret, timestamp=timestamp, body=body).partition(",v1=")[2]
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(candidate.encode(), expected.encode())
    return found


# ---------------------------------------------------------------------------------------------
# Queueing


def notify(*, organisation: Any, event_type: WebhookEvent | str, payload: dict[str, Any]) -> int:
    """Queue ``event_type`` with ``payload`` for every active endpoint of ``organisation`` that wants it.

    Runs inside the caller's transaction (the rows vanish with a rollback); delivery is scheduled
    with ``transaction.on_commit``. Returns the number of deliveries queued. An endpoint with an
    empty ``events`` list gets every event.
    """
    event = str(WebhookEvent(event_type))
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(organisation=organisation, is_active=True)
                 if not endpoint.events or event in endpoint.events]
    if not endpoints:
        return 0
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(organisation_id=endpoint.organisation_id, endpoint=endpoint, event_id=uuid.uuid4(),
                        event_type=event, payload=payload, state=DeliveryState.PENDING)
        for endpoint in endpoints])
    transaction.on_commit(functools.partial(_kick_worker), robust=True)
    return len(endpoints)


def _kick_worker() -> None:
    from .tasks import deliver_webhooks

    deliver_webhooks.enqueue()


# ---------------------------------------------------------------------------------------------
# Delivery


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body of a delivery: the same bytes on every attempt."""
    envelope = {"id": str(delivery.event_id), "type": delivery.event_type,
                "created": delivery.created_at.isoformat(), "data": delivery.payload}
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _due(now: Any) -> Q:
    return Q(state=DeliveryState.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _claim(now: Any) -> WebhookDelivery | None:
    """Take the next due delivery: count the attempt and lease it past the longest POST (committed at once)."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects
                    .select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
                    .filter(_due(now)).order_by("next_attempt_at", "pk").first())
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed body once: (HTTP status or None, error for people; empty when delivered)."""
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if not endpoint.is_active:
        return None, "the webhook was switched off"
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", EVENT_HEADER: delivery.event_type,
               EVENT_ID_HEADER: str(delivery.event_id),
               SIGNATURE_HEADER: sign(secret=endpoint.secret, timestamp=int(time.time()), body=body)}
    if not endpoint.url.lower().startswith("https://") and not _allow_http():
        return None, "https_required: plain http is allowed only in development and tests"
    try:
        result = safefetch.post(endpoint.url, body=body, headers=headers, limits=LIMITS)
    except safefetch.FetchError as exc:
        with translation.override(None):  # the stored error is read by engineers: in English
            return None, f"{exc.code}: {exc.message}"
    if 200 <= result.status < 300:
        return result.status, ""
    if result.status in safefetch.REDIRECT_STATUSES:
        return result.status, f"HTTP {result.status}: redirects are not followed"
    return result.status, f"HTTP {result.status}"


def _finish(delivery: WebhookDelivery, *, status: int | None, error: str) -> str:
    """Record the answer of the attempt this worker holds; returns the row's state."""
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if row.state != DeliveryState.PENDING or row.attempts != delivery.attempts:
            return str(row.state)  # the lease ran out and another worker took it over: its answer counts
        now = timezone.now()
        row.last_status, row.last_error = status, error[:300]
        if not error:
            row.state, row.delivered_at, row.next_attempt_at = DeliveryState.DELIVERED, now, None
        elif row.attempts >= BACKOFF.max_attempts:
            row.state, row.next_attempt_at = DeliveryState.FAILED, None
            record_event(actor=ACTOR, event_type=ModerationEvent.WEBHOOK_GAVE_UP, subject=row,
                         organisation_id=row.organisation_id,
                         data={"endpoint": row.endpoint_id, "event_id": str(row.event_id), "event": row.event_type,
                               "attempts": row.attempts, "last_status": status, "last_error": error[:300]})
        else:
            row.next_attempt_at = now + timedelta(seconds=BACKOFF.delay(row.attempts))
        row.save(update_fields=["state", "delivered_at", "next_attempt_at", "last_status", "last_error"])
        return str(row.state)


def deliver_one(delivery: WebhookDelivery) -> str:
    """Send one claimed delivery and record the answer; returns ``delivered``, ``pending`` or ``failed``."""
    status, error = _post(delivery)
    if error:
        logger.warning("Webhook delivery %s (attempt %d) failed: %s", delivery.event_id, delivery.attempts, error)
    return _finish(delivery, status=status, error=error)


def deliver_due(*, limit: int = 200) -> dict[str, int]:
    """Send what is due, one delivery at a time, until nothing is due or ``limit`` is reached."""
    counts = {str(state): 0 for state in DeliveryState}
    now = timezone.now()
    for _i in range(limit):
        delivery = _claim(now)
        if delivery is None:
            break
        counts[deliver_one(delivery)] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Endpoints


def _allow_http() -> bool:
    """Plain http only for development (``DEBUG``) and tests (``VANGNET_FETCH_ALLOW_LOOPBACK``); never in production."""
    return bool(settings.DEBUG or getattr(settings, "VANGNET_FETCH_ALLOW_LOOPBACK", False))


def _check_scheme(url: str) -> None:
    if not url.lower().startswith("https://") and not _allow_http():
        raise ValidationError(_("A webhook's address must start with https://."), code="https_required")


def check_endpoint_url(url: str) -> str:
    """Check a webhook address before it is saved; raises ``ValidationError`` for people.

    The same checks as the SSRF guard without DNS (scheme, credentials, port, host), https
    (see ``_allow_http``), and an address given as a number must be public. A name is resolved
    and vetted on every delivery, since its addresses can change.
    """
    url = url.strip()
    try:
        _scheme, host, _port, _target = safefetch.check_url(url)
    except safefetch.Refused as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
    _check_scheme(url)
    if safefetch.is_ip_literal(host) and safefetch.is_forbidden_address(
            host, allow_loopback=bool(getattr(settings, "VANGNET_FETCH_ALLOW_LOOPBACK", False))):
        raise ValidationError(_("The address points to a private network."), code="private_address")
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:  # type: ignore[operator]
        raise ValidationError(_("The address is too long."), code="too_long")
    return url


def logged_address(url: str) -> str:
    """What the event log keeps of a webhook's address: its scheme and host (with a port), never its path or query.

    The log is append-only and never erased, and a path or query string may carry a token.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme.lower()}://{host}{f':{port}' if port else ''}"


def _require_manager(*, user: Any, organisation_id: int) -> None:
    if not user_has_permission(user=user, organisation_id=organisation_id, permission=Permission.MANAGE_MODERATION):
        raise PermissionDenied(_("Only a policy manager can change the platform's webhooks."))


@transaction.atomic
def save_endpoint(*, organisation: Any, url: str, events: list[str], user: Any) -> tuple[WebhookEndpoint, str]:
    """Add a webhook for ``organisation``; returns it and its signing secret, shown this once.

    ``events`` are ``WebhookEvent`` values (empty: every event). The secret is stored encrypted
    and never shown again; a platform that lost it adds a new webhook and switches off the old.
    """
    _require_manager(user=user, organisation_id=organisation.pk)
    if not organisation.is_platform:
        raise ValidationError(_("Only a platform can have webhooks."), code="not_a_platform")
    url = check_endpoint_url(url)
    known = set(WebhookEvent.values)
    unknown = [event for event in events if event not in known]
    if unknown:
        raise ValidationError(_("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))},
                              code="unknown_event")
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(organisation=organisation, url=url, secret=secret,
                                              events=sorted(set(events)))
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.WEBHOOK_CHANGED, subject=endpoint,
                 organisation_id=organisation.pk,
                 data={"change": "created", "url": logged_address(url), "events": endpoint.events})
    return endpoint, secret


@transaction.atomic
def deactivate_endpoint(*, endpoint: WebhookEndpoint, user: Any) -> WebhookEndpoint:
    """Switch a webhook off; what still waits for it is given up (it is never sent)."""
    _require_manager(user=user, organisation_id=endpoint.organisation_id)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.is_active:
        return endpoint
    endpoint.is_active = False
    endpoint.save(update_fields=["is_active"])
    dropped = (WebhookDelivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING)
               .update(state=DeliveryState.FAILED, next_attempt_at=None, last_error="the webhook was switched off"))
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.WEBHOOK_CHANGED, subject=endpoint,
                 organisation_id=endpoint.organisation_id,
                 data={"change": "deactivated", "url": logged_address(endpoint.url),
                       "pending_dropped": dropped})
    return endpoint
