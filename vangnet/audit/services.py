"""Writing to the event log. Callers run inside their own transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .choices import ActorType, EventType
from .models import ChainHead, Event

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff user, the reporter, a partner's API token or the system."""

    type: ActorType
    user: User | None = None
    label: str = ""

    @classmethod
    def staff(cls, user: User) -> "Actor":
        return cls(type=ActorType.STAFF, user=user, label=user.get_username())

    @classmethod
    def reporter(cls) -> "Actor":
        return cls(type=ActorType.REPORTER, label="reporter")

    @classmethod
    def partner(cls, label: str) -> "Actor":
        return cls(type=ActorType.PARTNER, label=label)

    @classmethod
    def system(cls) -> "Actor":
        return cls(type=ActorType.SYSTEM, label="system")


def event_digest(*, prev_hash: str, seq: int, occurred_at: str, actor_type: str, actor_user_id: int | None,
                 actor_label: str, event_type: str, object_type: str, object_id: str, case_id: int | None,
                 data: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON form of the event."""
    body = json.dumps(
        {
            "seq": seq, "occurred_at": occurred_at, "actor_type": actor_type, "actor_user_id": actor_user_id,
            "actor_label": actor_label, "event_type": event_type, "object_type": object_type,
            "object_id": object_id, "case_id": case_id, "data": data,
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass
class _PendingEvent:
    actor: Actor
    event_type: EventType
    object_type: str
    object_id: str
    case_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


_batch: ContextVar[list[_PendingEvent] | None] = ContextVar("audit_event_batch", default=None)


@contextmanager
def batched_events() -> Iterator[None]:
    """Collect the events of one unit of work and chain them together at its end.

    Appending locks the chain head until the transaction commits, which serialises every
    writer; batching keeps that lock for the last moment of a transaction instead of its
    whole length. Use it inside ``transaction.atomic``.
    """
    if _batch.get() is not None:  # already batching: the outer batch writes
        yield
        return
    pending: list[_PendingEvent] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    _append(pending)


def record_event(*, actor: Actor, event_type: EventType, object_type: str, object_id: object,
                 case_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Append one event to the chain; must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction that makes the change.")
    pending = _PendingEvent(actor=actor, event_type=event_type, object_type=object_type, object_id=str(object_id),
                            case_id=case_id, data=json.loads(json.dumps(data or {}, default=str)))
    batch = _batch.get()
    if batch is not None:
        batch.append(pending)
    else:
        _append([pending])


def _append(pending: list[_PendingEvent]) -> None:
    if not pending:
        return
    head, _created = ChainHead.objects.select_for_update().get_or_create(id=1)
    occurred_at = timezone.now()
    events = []
    for item in pending:
        seq = head.seq + 1
        user_id = item.actor.user.pk if item.actor.user is not None else None
        digest = event_digest(
            prev_hash=head.hash, seq=seq, occurred_at=occurred_at.isoformat(), actor_type=str(item.actor.type),
            actor_user_id=user_id, actor_label=item.actor.label, event_type=str(item.event_type),
            object_type=item.object_type, object_id=item.object_id, case_id=item.case_id, data=item.data)
        events.append(Event(
            seq=seq, occurred_at=occurred_at, actor_type=item.actor.type, actor_user_id=user_id,
            actor_label=item.actor.label, event_type=item.event_type, object_type=item.object_type,
            object_id=item.object_id, case_id=item.case_id, data=item.data, prev_hash=head.hash, hash=digest))
        head.seq, head.hash = seq, digest
    Event.objects.bulk_create(events)
    head.save(update_fields=["seq", "hash"])
