"""The outbox worker: hands queued notices to their channels so that none is sent twice or lost.

Each delivery is claimed in its own committed transaction (``sending``) before the channel is
called, and marked ``sent`` in another after. So:

- a crash before the claim commits leaves it ``pending``: the next run sends it;
- a crash after the hand-over but before ``sent`` commits leaves ``sending``: whether the
  provider got it cannot be known here, so ``recover_stalled`` marks it ``uncertain`` and the
  handler decides (``services.resolve_uncertain``); nothing is re-sent by itself;
- a channel that certainly did not deliver (no connection, refused) puts it back to
  ``pending`` with back-off, its error visible on the case page.

Claims use ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the
queue without ever taking the same delivery.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from vangnet.audit.services import Actor

from . import services
from .channels import CHANNELS, MaybeDelivered, NotDelivered
from .choices import DeliveryState, NoticeEvent, NoticeStatus
from .models import Delivery, Notice

logger = logging.getLogger(__name__)
ACTOR = Actor.system("notice outbox")
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
STALLED_AFTER = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, … minutes after each failed attempt, at most an hour: a mail server that is down gets time."""
    return min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


def _claim(now: Any) -> Delivery | None:
    """Take the next due delivery and mark it ``sending`` (committed before anything is sent)."""
    with transaction.atomic():
        due = (Delivery.objects.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
               .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, notice__status=NoticeStatus.QUEUED)
               .order_by("next_attempt_at", "pk"))
        delivery = due.first()
        if delivery is None:
            return None
        delivery.state, delivery.claimed_at = DeliveryState.SENDING, timezone.now()
        delivery.attempts += 1
        reference = Notice.objects.values_list("reference", flat=True).get(pk=delivery.notice_id)
        delivery.message_id = make_msgid(idstring=f"{reference}.{delivery.pk}.{delivery.attempts}",
                                         domain="vangnet.notices")
        delivery.save(update_fields=["state", "claimed_at", "attempts", "message_id"])
        return delivery


def _finish(delivery: Delivery, *, state: str, error: str = "") -> None:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        notice = Notice.objects.select_for_update().select_related("case", "provider").get(pk=delivery.notice_id)
        now = timezone.now()
        delivery.last_error = error[:300]
        if state == DeliveryState.SENT:
            delivery.state, delivery.sent_at = DeliveryState.SENT, now
            services.mark_sent(notice, at=now)
            services._event(notice, ACTOR, NoticeEvent.SENT, channel=delivery.channel, message_id=delivery.message_id,
                            attempts=delivery.attempts)
        elif state == DeliveryState.PENDING:
            delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            services._event(notice, ACTOR, NoticeEvent.SEND_FAILED, error=error[:300], attempts=delivery.attempts,
                            next_attempt_at=delivery.next_attempt_at.isoformat())
        else:
            delivery.state = DeliveryState.UNCERTAIN
            notice.status = NoticeStatus.UNCERTAIN
            notice.save(update_fields=["status"])
            services._event(notice, ACTOR, NoticeEvent.UNCERTAIN, error=error[:300])
        delivery.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])


def send_one(delivery: Delivery) -> str:
    """Hand one claimed delivery to its channel; returns the state it ended in."""
    notice = Notice.objects.select_related("provider", "case").get(pk=delivery.notice_id)
    channel = CHANNELS.get(delivery.channel)
    try:
        if channel is None:
            raise NotDelivered(f"no channel called {delivery.channel!r}")
        channel.send(notice, delivery)
    except NotDelivered as exc:
        _finish(delivery, state=DeliveryState.PENDING, error=str(exc))
        return DeliveryState.PENDING
    except MaybeDelivered as exc:
        _finish(delivery, state=DeliveryState.UNCERTAIN, error=str(exc))
        return DeliveryState.UNCERTAIN
    _finish(delivery, state=DeliveryState.SENT)
    return DeliveryState.SENT


def process_outbox(*, limit: int = 500) -> dict[str, int]:
    """Send what is due, one delivery at a time, until nothing is due or ``limit`` is reached.

    Each delivery is claimed and marked on its own; the channels' connections last the run
    (``Channel.batch``), so an SMTP connection is opened once rather than once per notice.
    """
    counts: dict[str, int] = {DeliveryState.SENT: 0, DeliveryState.PENDING: 0, DeliveryState.UNCERTAIN: 0}
    now = timezone.now()
    with ExitStack() as batches:
        for channel in CHANNELS.values():
            batches.enter_context(channel.batch())
        for _ in range(limit):
            delivery = _claim(now)
            if delivery is None:
                break
            counts[send_one(delivery)] += 1
    return {str(k): v for k, v in counts.items()}


def recover_stalled(*, now: Any = None) -> int:
    """Deliveries left ``sending`` by a worker that died: ``uncertain``, for the handler to check. Never re-sent."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = list(Delivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=cutoff).values_list(
        "pk", flat=True))
    for pk in stalled:
        _finish(Delivery.objects.get(pk=pk), state=DeliveryState.UNCERTAIN,
                error="the sender stopped while sending; check whether the provider received it")
    return len(stalled)


def next_due() -> Any:
    """When the next pending delivery is due (None if none), for scheduling the next run."""
    return (Delivery.objects.filter(state=DeliveryState.PENDING, notice__status=NoticeStatus.QUEUED)
            .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())
