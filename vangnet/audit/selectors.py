"""Reading and checking the event log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, QuerySet

from .models import ChainHead, Event
from .services import GENESIS_HASH, digest_of


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class WaitingEvents:
    """Events written but not yet chained (normally only those of the last few seconds)."""

    count: int
    oldest: datetime | None


def events_for_case(*, case_ids: list[int]) -> QuerySet[Event]:
    return Event.objects.filter(case_id__in=case_ids).select_related("actor_user").order_by("occurred_at", "id")


def waiting_events() -> WaitingEvents:
    pending = Event.objects.filter(seq__isnull=True)
    return WaitingEvents(count=pending.count(), oldest=pending.aggregate(oldest=Min("occurred_at"))["oldest"])


def verify_chain(*, batch_size: int = 2000) -> Iterator[ChainProblem]:
    """Recompute every hash of the chained events in order; yield each place where the chain does not hold."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    for event in Event.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=batch_size):
        assert event.seq is not None and event.hash is not None
        if event.seq != expected_seq:
            yield ChainProblem(event.seq, f"expected event #{expected_seq}; events are missing")
        if event.prev_hash != prev_hash:
            yield ChainProblem(event.seq, "previous-hash link does not match the event before it")
        if digest_of(event, prev_hash=event.prev_hash or "", seq=event.seq) != event.hash:
            yield ChainProblem(event.seq, "content does not match its hash (the event was altered)")
        prev_hash = event.hash
        expected_seq = event.seq + 1
        last_seq = event.seq
    head = ChainHead.objects.filter(id=1).first()
    if head is None and last_seq:
        yield ChainProblem(last_seq, "the chain head is missing (the log was reset)")
    elif head is not None and (head.seq != last_seq or head.hash != prev_hash):
        yield ChainProblem(last_seq, "the chain head does not match the last event (events were removed)")
