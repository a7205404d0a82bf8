from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from vangnet.audit.choices import EventType
from vangnet.audit.models import ChainHead, Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import GENESIS_HASH, Actor, batched_events, record_event

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[Event]:
    with transaction.atomic():
        for i in range(n):
            record_event(actor=Actor.system(), event_type=EventType.CASE_NOTE_ADDED, object_type="note",
                         object_id=i, case_id=1, data={"i": i})
    return list(Event.objects.order_by("seq"))


def _drop_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_change ON audit_event")


def test_events_are_chained_in_order() -> None:
    events = _append(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert ChainHead.objects.get().hash == events[2].hash
    assert list(verify_chain()) == []


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(actor=Actor.system(), event_type=EventType.CASE_CREATED, object_type="case", object_id=1)
    assert not Event.objects.exists()


def test_database_refuses_to_update_or_delete_events() -> None:
    event = _append(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()


def test_verify_finds_an_altered_event() -> None:
    events = _append(4)
    _drop_triggers()
    Event.objects.filter(pk=events[1].pk).update(data={"i": 99})
    problems = list(verify_chain())
    assert [p.seq for p in problems] == [2]
    assert "altered" in problems[0].reason


def test_verify_finds_a_removed_event() -> None:
    events = _append(4)
    _drop_triggers()
    Event.objects.filter(pk=events[3].pk).delete()
    problems = list(verify_chain())
    assert problems and "removed" in problems[-1].reason


def test_verify_command_exit_status() -> None:
    events = _append(2)
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "intact: 2 events" in out.getvalue()
    _drop_triggers()
    Event.objects.filter(pk=events[0].pk).update(event_type=EventType.CASE_MERGED)
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("verify_audit_chain", stdout=StringIO(), stderr=StringIO())


def test_removing_the_chain_head_is_reported() -> None:
    _append(2)
    ChainHead.objects.all().delete()
    problems = list(verify_chain())
    assert problems and "chain head is missing" in problems[-1].reason


def test_a_batch_is_written_at_its_end_and_chained_like_single_events() -> None:
    _append(1)
    with transaction.atomic(), batched_events():
        for i in range(3):
            record_event(actor=Actor.reporter(), event_type=EventType.REPORT_SUBMITTED, object_type="report",
                         object_id=i)
        assert Event.objects.count() == 1, "nothing is written before the batch ends"
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert list(verify_chain()) == []


def test_a_failed_batch_writes_nothing() -> None:
    with pytest.raises(ValueError), transaction.atomic(), batched_events():
        record_event(actor=Actor.reporter(), event_type=EventType.REPORT_SUBMITTED, object_type="report", object_id=1)
        raise ValueError("the change failed")
    assert not Event.objects.exists()
