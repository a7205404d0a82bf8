"""The verifier names each place where the stored chain does not hold, in words an administrator reads."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction

from vangnet.audit.models import ChainHead, Event
from vangnet.audit.selectors import ChainProblem, WaitingEvents, events_for_case, verify_chain, waiting_events
from vangnet.audit.services import GENESIS_HASH, Actor, chain_all_pending, record_event
from vangnet.cases.choices import CaseEvent

from .test_services import KAT_SECOND_EVENT, KAT_STAFF_EVENT, SECOND_EVENT, STAFF_EVENT, _append, _drop_triggers

pytestmark = pytest.mark.django_db

# Equivalent mutants that survive in audit/selectors.py: the default ``batch_size`` (2000 -> 2001)
# and ``iterator(chunk_size=None)``: how many rows are fetched at a time changes no finding;
# ``assert event.seq is not None and ...`` -> ``or`` and ``prev_hash or "XXXX"``: the query takes
# chained events only, which always have both; ``order_by("occurred_at", "id")`` without "id":
# events with one timestamp come back in insertion order anyway.

ALTERED = "content does not match its hash (the event was altered)"
LINK = "previous-hash link does not match the event before it"


def _stored(fields: dict, *, prev_hash: str, hash: str) -> Event:
    """An event as format 1 stored it (subjects were then called objects)."""
    values = {**fields, "occurred_at": datetime.fromisoformat(fields["occurred_at"])}
    values["subject_type"], values["subject_id"] = values.pop("object_type"), values.pop("object_id")
    return Event.objects.create(**values, version=1, prev_hash=prev_hash, hash=hash)


def test_a_chain_stored_earlier_still_verifies_and_grows() -> None:
    """Known answers: a chain written by an earlier version must verify with this one."""
    User.objects.create(pk=7, username="sanne")
    _stored(STAFF_EVENT, prev_hash=GENESIS_HASH, hash=KAT_STAFF_EVENT)
    _stored(SECOND_EVENT, prev_hash=KAT_STAFF_EVENT, hash=KAT_SECOND_EVENT)
    ChainHead.objects.create(seq=2, hash=KAT_SECOND_EVENT)
    assert list(verify_chain()) == []
    with transaction.atomic():
        record_event(actor=Actor.system(), event_type=CaseEvent.ERASED, subject_type="case", subject_id=42)
    chain_all_pending()
    third = Event.objects.get(seq=3)
    assert third.version == 2, "new events use format 2 after a format 1 chain"
    assert third.prev_hash == KAT_SECOND_EVENT
    assert list(verify_chain()) == []


def test_an_empty_log_is_intact() -> None:
    assert list(verify_chain()) == []
    ChainHead.objects.create()
    assert list(verify_chain()) == []


@pytest.mark.parametrize("batch_size", [1, 2, 2000])
def test_an_altered_event_is_named_alone(batch_size: int) -> None:
    events = _append(4)
    _drop_triggers()
    Event.objects.filter(pk=events[1].pk).update(actor_label="someone else")
    assert list(verify_chain(batch_size=batch_size)) == [ChainProblem(2, ALTERED)]


def test_a_removed_event_in_the_middle_is_named_where_the_gap_is() -> None:
    events = _append(4)
    _drop_triggers()
    Event.objects.filter(pk=events[1].pk).delete()
    assert list(verify_chain()) == [ChainProblem(3, "expected event #2; events are missing"), ChainProblem(3, LINK)]


def test_a_rewritten_link_is_named() -> None:
    events = _append(3)
    _drop_triggers()
    Event.objects.filter(pk=events[2].pk).update(prev_hash="f" * 64)
    assert list(verify_chain()) == [ChainProblem(3, LINK), ChainProblem(3, ALTERED)]


def test_a_first_event_must_follow_the_genesis_hash() -> None:
    events = _append(2)
    _drop_triggers()
    Event.objects.filter(pk=events[0].pk).update(prev_hash="1" * 64)
    assert list(verify_chain()) == [ChainProblem(1, LINK), ChainProblem(1, ALTERED)]


def test_removing_the_last_events_is_found_through_the_chain_head() -> None:
    events = _append(4)
    _drop_triggers()
    Event.objects.filter(pk__in=[events[2].pk, events[3].pk]).delete()
    assert list(verify_chain()) == [
        ChainProblem(2, "the chain head does not match the last event (events were removed)")]


def test_a_head_that_points_elsewhere_is_found() -> None:
    _append(2)
    ChainHead.objects.update(hash="e" * 64)
    assert list(verify_chain()) == [
        ChainProblem(2, "the chain head does not match the last event (events were removed)")]


def test_a_missing_head_is_named_at_the_last_event() -> None:
    _append(3)
    ChainHead.objects.all().delete()
    assert list(verify_chain()) == [ChainProblem(3, "the chain head is missing (the log was reset)")]


def test_the_command_names_every_problem() -> None:
    events = _append(3)
    _drop_triggers()
    Event.objects.filter(pk=events[0].pk).update(subject_id="999")
    err = StringIO()
    with pytest.raises(CommandError, match=r"^The event log is NOT intact: 1 problem\(s\)\.$"):
        call_command("verify_audit_chain", stdout=StringIO(), stderr=err)
    assert err.getvalue() == f"event #1: {ALTERED}\n"


def test_events_for_case_in_order_with_their_staff_member(supervisor, django_assert_num_queries) -> None:
    with transaction.atomic():
        for case_id in (1, 2, 1, 3):
            record_event(actor=Actor.staff(supervisor), event_type=CaseEvent.NOTE_ADDED, subject_type="note",
                         subject_id=case_id, case_id=case_id)
    with django_assert_num_queries(1):
        events = list(events_for_case(case_ids=[1, 3]))
        assert [(e.subject_id, e.case_id) for e in events] == [("1", 1), ("1", 1), ("3", 3)]
        assert events[0].id < events[1].id < events[2].id, "in the order they happened, chained or not"
        assert {e.actor_user.username for e in events} == {"sanne"}
    assert list(events_for_case(case_ids=[])) == []


def test_waiting_events_are_those_not_yet_chained() -> None:
    assert waiting_events() == WaitingEvents(count=0, oldest=None)
    for i in range(2):
        with transaction.atomic():
            record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject_type="note", subject_id=i)
    _append(1)  # chains the two waiting ones as well
    with transaction.atomic():
        for i in range(2):
            record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject_type="note", subject_id=i)
    _drop_triggers()
    Event.objects.filter(seq__isnull=True, subject_id="1").update(occurred_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert waiting_events() == WaitingEvents(count=2, oldest=datetime(2025, 1, 1, tzinfo=UTC))
    chain_all_pending()
    assert waiting_events() == WaitingEvents(count=0, oldest=None)


def test_a_case_timeline_is_in_the_order_things_happened() -> None:
    for label in ("first", "second", "third"):
        with transaction.atomic():
            record_event(actor=Actor.system(label), event_type=CaseEvent.NOTE_ADDED, subject_type="note",
                         subject_id=1, case_id=1)
    # an event that reached the log late is shown where it happened
    _drop_triggers()
    Event.objects.filter(actor_label="system: third").update(occurred_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert [e.actor_label for e in events_for_case(case_ids=[1])] == [
        "system: third", "system: first", "system: second"]
