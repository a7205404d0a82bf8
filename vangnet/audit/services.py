"""Writing to the event log: writers insert, the chainer links.

``record_event`` only inserts the event inside the caller's transaction, so a change and
its event commit together and writers never wait for one another. ``chain_pending_events``
(run every few seconds by the scheduler that ``vangnet serve`` starts, and by
``vangnet chain_audit_events``) gives the waiting events their place in the hash chain.
``bench/audit_chain.py`` measured why: locking one chain head in every writer's
transaction capped the log at one writer at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.utils import timezone

from .choices import ActorType
from .models import ChainHead, Event
from .registry import registry

GENESIS_HASH = "0" * 64
CURRENT_VERSION = 2


@dataclass(frozen=True)
class Actor:
    """Who made a change; every service takes one and writes it into its events.

    A staff user, the reporter (known only by her receipt code), a partner organisation's
    API token, a platform's moderation key, or the system (a named job).
    """

    type: ActorType
    user: Any = None
    label: str = ""

    @classmethod
    def staff(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        return cls(type=ActorType.STAFF, user=user, label=user.get_username())

    @classmethod
    def reporter(cls, receipt_code: str = "") -> Actor:
        return cls(type=ActorType.REPORTER, label=f"reporter {receipt_code}" if receipt_code else "reporter")

    @classmethod
    def partner(cls, label: str) -> Actor:
        return cls(type=ActorType.PARTNER, label=label)

    @classmethod
    def platform(cls, label: str) -> Actor:
        return cls(type=ActorType.PLATFORM, label=label)

    @classmethod
    def system(cls, job: str = "") -> Actor:
        return cls(type=ActorType.SYSTEM, label=f"system: {job}" if job else "system")

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None and self.user.is_authenticated else None


def _digest(prev_hash: str, body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def event_digest(*, prev_hash: str, seq: int, occurred_at: str, actor_type: str, actor_user_id: int | None,
                 actor_label: str, event_type: str, object_type: str, object_id: str, case_id: int | None,
                 data: dict[str, Any]) -> str:
    """Format 1: SHA-256 over the previous hash and a canonical JSON form of the event.

    Events written before format 2 keep verifying with this; its keys never change.
    """
    return _digest(prev_hash, {
        "seq": seq, "occurred_at": occurred_at, "actor_type": actor_type, "actor_user_id": actor_user_id,
        "actor_label": actor_label, "event_type": event_type, "object_type": object_type,
        "object_id": object_id, "case_id": case_id, "data": data,
    })


def event_digest_v2(*, prev_hash: str, seq: int, occurred_at: str, actor_type: str, actor_user_id: int | None,
                    actor_label: str, event_type: str, subject_type: str, subject_id: str, case_id: int | None,
                    organisation_id: int | None, data: dict[str, Any]) -> str:
    """Format 2: as format 1 with typed subjects and the organisation, and ``"v": 2`` in the body."""
    return _digest(prev_hash, {
        "v": 2, "seq": seq, "occurred_at": occurred_at, "actor_type": actor_type, "actor_user_id": actor_user_id,
        "actor_label": actor_label, "event_type": event_type, "subject_type": subject_type,
        "subject_id": subject_id, "case_id": case_id, "organisation_id": organisation_id, "data": data,
    })


def digest_of(event: Event, *, prev_hash: str, seq: int) -> str:
    """The digest of a stored event in its own format (writer and verifier share this)."""
    common = {"prev_hash": prev_hash, "seq": seq, "occurred_at": event.occurred_at.isoformat(),
              "actor_type": event.actor_type, "actor_user_id": event.actor_user_id,
              "actor_label": event.actor_label, "event_type": event.event_type, "case_id": event.case_id,
              "data": event.data}
    if event.version == 1:
        return event_digest(object_type=event.subject_type, object_id=event.subject_id, **common)
    if event.version == 2:
        return event_digest_v2(subject_type=event.subject_type, subject_id=event.subject_id,
                               organisation_id=event.organisation_id, **common)
    raise ValueError(f"Unknown event digest format {event.version}.")


_batch: ContextVar[list[Event] | None] = ContextVar("audit_event_batch", default=None)


@contextmanager
def batched_events() -> Iterator[None]:
    """Collect the events of one unit of work and insert them together at its end (one statement)."""
    if _batch.get() is not None:  # already batching: the outer batch writes
        yield
        return
    pending: list[Event] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    _insert(pending)


def record_event(*, actor: Actor, event_type: str, subject: models.Model | None = None, subject_type: str = "",
                 subject_id: object = "", case_id: int | None = None, organisation_id: int | None = None,
                 data: dict[str, Any] | None = None) -> None:
    """Log one change; must run inside the transaction that makes it.

    ``subject`` is the record that changed: its type is the model's label (``cases.case``)
    and its case and organisation are read from it where it has them, unless given.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction that makes the change.")
    if event_type not in registry:
        raise ValueError(f"Unknown event type {event_type!r}: declare it with @register_event_types.")
    if subject is not None:
        subject_type = subject._meta.label_lower
        subject_id = subject.pk
        if case_id is None:
            case_id = subject.pk if subject_type == "cases.case" else getattr(subject, "case_id", None)
        if organisation_id is None:
            organisation_id = getattr(subject, "organisation_id", None)
    if not subject_type or subject_id in ("", None):
        raise ValueError("An event needs its subject: give subject=, or subject_type= and subject_id=.")
    event = Event(version=CURRENT_VERSION, actor_type=actor.type,
                  actor_user_id=actor.user_id, actor_label=actor.label, event_type=str(event_type),
                  subject_type=subject_type, subject_id=str(subject_id), case_id=case_id,
                  organisation_id=organisation_id, data=json.loads(json.dumps(data or {}, default=str)))
    batch = _batch.get()
    if batch is not None:
        batch.append(event)
    else:
        _insert([event])


def _insert(events: list[Event]) -> None:
    """Insert the events of one unit of work, stamped with one moment."""
    if events:
        now = timezone.now()
        for event in events:
            event.occurred_at = now
        Event.objects.bulk_create(events)


def chain_pending_events(*, limit: int = 5000) -> int:
    """Give waiting events, oldest first, the next sequence numbers and hashes; return how many.

    One chainer runs at a time (it locks the chain head); a late commit of an older event
    is simply chained in the next round, so the chain's order is the order of chaining.
    """
    with transaction.atomic():
        head, _created = ChainHead.objects.select_for_update().get_or_create(id=1)
        pending = list(Event.objects.filter(seq__isnull=True).order_by("id")[:limit])
        for event in pending:
            seq = head.seq + 1
            event.seq, event.prev_hash = seq, head.hash
            event.hash = digest_of(event, prev_hash=head.hash, seq=seq)
            head.seq, head.hash = seq, event.hash
        if pending:
            Event.objects.bulk_update(pending, ["seq", "prev_hash", "hash"], batch_size=500)
            head.save(update_fields=["seq", "hash"])
    return len(pending)


def chain_all_pending() -> int:
    """Chain until nothing waits (commands, tests and the scheduler's job)."""
    total = 0
    while chained := chain_pending_events():
        total += chained
    return total
