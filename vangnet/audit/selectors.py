"""Reading and checking the event log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import ChainHead, Event
from .services import GENESIS_HASH, event_digest


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def events_for_case(*, case_ids: list[int]) -> QuerySet[Event]:
    return Event.objects.filter(case_id__in=case_ids).select_related("actor_user").order_by("seq")


def verify_chain(*, batch_size: int = 2000) -> Iterator[ChainProblem]:
    """Recompute every hash in order; yield each place where the chain does not hold."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    for event in Event.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            yield ChainProblem(event.seq, f"expected event #{expected_seq}; events are missing")
        if event.prev_hash != prev_hash:
            yield ChainProblem(event.seq, "previous-hash link does not match the event before it")
        digest = event_digest(
            prev_hash=event.prev_hash, seq=event.seq, occurred_at=event.occurred_at.isoformat(),
            actor_type=event.actor_type, actor_user_id=event.actor_user_id, actor_label=event.actor_label,
            event_type=event.event_type, object_type=event.object_type, object_id=event.object_id,
            case_id=event.case_id, data=event.data,
        )
        if digest != event.hash:
            yield ChainProblem(event.seq, "content does not match its hash (the event was altered)")
        prev_hash = event.hash
        expected_seq = event.seq + 1
        last_seq = event.seq
    head = ChainHead.objects.filter(id=1).first()
    if head is None and last_seq:
        yield ChainProblem(last_seq, "the chain head is missing (the log was reset)")
    elif head is not None and (head.seq != last_seq or head.hash != prev_hash):
        yield ChainProblem(last_seq, "the chain head does not match the last event (events were removed)")
