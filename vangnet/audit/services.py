"""Writing to the event log. Callers run inside their own transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .choices import ActorType, EventType
from .models import ChainHead, Event

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff user, the reporter, a partner's API token or the system."""

    type: ActorType
    user: AbstractBaseUser | None = None
    label: str = ""

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> "Actor":
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


def record_event(*, actor: Actor, event_type: EventType, object_type: str, object_id: object,
                 case_id: int | None = None, data: dict[str, Any] | None = None) -> Event:
    """Append one event to the chain; must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction that makes the change.")
    payload = json.loads(json.dumps(data or {}, default=str))
    head, _created = ChainHead.objects.select_for_update().get_or_create(id=1)
    occurred_at = timezone.now()
    seq = head.seq + 1
    fields = dict(
        seq=seq, occurred_at=occurred_at.isoformat(), actor_type=str(actor.type),
        actor_user_id=actor.user.pk if actor.user is not None else None, actor_label=actor.label,
        event_type=str(event_type), object_type=object_type, object_id=str(object_id), case_id=case_id,
        data=payload,
    )
    digest = event_digest(prev_hash=head.hash, **fields)
    event = Event.objects.create(
        seq=seq, occurred_at=occurred_at, actor_type=actor.type, actor_user=actor.user,
        actor_label=actor.label, event_type=event_type, object_type=object_type, object_id=str(object_id),
        case_id=case_id, data=payload, prev_hash=head.hash, hash=digest,
    )
    head.seq, head.hash = seq, digest
    head.save(update_fields=["seq", "hash"])
    return event
