"""Signed webhooks to platforms ("webhooks"): an outbox, retried with back-off, behind the SSRF guard.

A service that changes something a platform must hear about (a decision, an appeal outcome, a
sanction) calls ``notify()`` inside its own transaction: one ``WebhookDelivery`` row per active
endpoint subscribed to the event, and a kick to the worker once the transaction commits. The
worker (``deliver_due``) claims due rows one at a time with ``SELECT … FOR UPDATE SKIP LOCKED``,
so two workers never send the same row at once, and POSTs the signed JSON body through
``common.safefetch`` (resolve once, vetted address, no redirects).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.db import transaction

from .choices import DeliveryState, WebhookEvent
from .models import WebhookDelivery, WebhookEndpoint


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
