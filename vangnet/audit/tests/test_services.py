import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from vangnet.audit.models import ChainHead, Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import (GENESIS_HASH, Actor, batched_events, chain_all_pending, chain_pending_events,
                                    digest_of, event_digest, event_digest_v2, record_event)
from vangnet.cases.choices import CaseEvent
from vangnet.intake.choices import ReportEvent

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[Event]:
    with transaction.atomic():
        for i in range(n):
            record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject_type="note",
                         subject_id=i, case_id=1, data={"i": i})
    chain_all_pending()
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
    with pytest.raises(RuntimeError, match=r"^record_event must run inside the transaction that makes the change\.$"):
        record_event(actor=Actor.system(), event_type=CaseEvent.CREATED, subject_type="case", subject_id=1)
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
    Event.objects.filter(pk=events[0].pk).update(event_type=CaseEvent.MERGED)
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
            record_event(actor=Actor.reporter(), event_type=ReportEvent.SUBMITTED, subject_type="report",
                         subject_id=i)
        assert Event.objects.count() == 1, "nothing is written before the batch ends"
    assert Event.objects.filter(seq__isnull=True).count() == 3, "written now, chained by the chainer"
    chain_all_pending()
    assert list(Event.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert list(verify_chain()) == []


def test_a_failed_batch_writes_nothing() -> None:
    with pytest.raises(ValueError), transaction.atomic(), batched_events():
        record_event(actor=Actor.reporter(), event_type=ReportEvent.SUBMITTED, subject_type="report", subject_id=1)
        raise ValueError("the change failed")
    assert not Event.objects.exists()


# --- Known answers: the stored format of the chain (scripts/mutation showed nothing pinned it) -----
# The writer (record_event) and the verifier (verify_chain) share event_digest, so a change to
# the digest's format would pass every round-trip test while every chain already stored stops
# verifying. These digests were computed once and must never change.

KAT_STAFF_EVENT = "8c8cbbc83cff5d61c90f7fcc573692e14a43644e29e897aed22407b166da8eae"
KAT_SECOND_EVENT = "0f32c423348fba6ca13ec4b7b6eeaeb370c221cba0c87aaa8b55ad8798924d69"
KAT_GENESIS_SYSTEM_EVENT = "a0229dd1d01f8e51343252ac418459c941f09de8f56882636cb1e66dd67b789a"

STAFF_EVENT = {
    "seq": 1, "occurred_at": "2025-03-01T09:30:00.250000+00:00", "actor_type": "staff", "actor_user_id": 7,
    "actor_label": "sanne", "event_type": "case.status_changed", "object_type": "case", "object_id": "42",
    "case_id": 42, "data": {"to": "closed", "from": "in_progress", "reason": "Zoë is veilig — dossier gesloten ✓",
                            "steps": [2, None, True]},
}
SECOND_EVENT = {
    "seq": 2, "occurred_at": "2025-03-01T09:31:05+00:00", "actor_type": "reporter", "actor_user_id": None,
    "actor_label": "reporter", "event_type": "report.info_added", "object_type": "report", "object_id": "9",
    "case_id": 42, "data": {"receipt_code": "VN-ABCD-EFGH"},
}


def test_the_genesis_hash_is_64_zeros() -> None:
    assert GENESIS_HASH == "0" * 64


def test_the_digest_of_a_staff_event_with_non_ascii_text_is_a_known_answer() -> None:
    # The canonical form, written out: keys sorted, no spaces, UTF-8 text as is (not \u escapes).
    body = ('{"actor_label":"sanne","actor_type":"staff","actor_user_id":7,"case_id":42,'
            '"data":{"from":"in_progress","reason":"Zoë is veilig — dossier gesloten ✓","steps":[2,null,true],'
            '"to":"closed"},"event_type":"case.status_changed","object_id":"42","object_type":"case",'
            '"occurred_at":"2025-03-01T09:30:00.250000+00:00","seq":1}')
    assert hashlib.sha256((GENESIS_HASH + body).encode("utf-8")).hexdigest() == KAT_STAFF_EVENT
    assert event_digest(prev_hash=GENESIS_HASH, **STAFF_EVENT) == KAT_STAFF_EVENT


def test_the_digest_of_a_first_system_event_and_of_a_two_event_chain_are_known_answers() -> None:
    assert event_digest(prev_hash=GENESIS_HASH, seq=1, occurred_at="2025-01-01T00:00:00+00:00", actor_type="system",
                        actor_user_id=None, actor_label="system", event_type="case.created", object_type="case",
                        object_id="1", case_id=None, data={}) == KAT_GENESIS_SYSTEM_EVENT
    first = event_digest(prev_hash=GENESIS_HASH, **STAFF_EVENT)
    assert event_digest(prev_hash=first, **SECOND_EVENT) == KAT_SECOND_EVENT


KAT_V2_EVENT = "99bf8ede6abc2680d6b6bd0a9ce83b99b563333d77c52967070783862a70fdc8"
V2_EVENT = {
    "seq": 3, "occurred_at": "2026-11-25T16:30:00.125000+00:00", "actor_type": "platform", "actor_user_id": None,
    "actor_label": "forum.example key 1", "event_type": "case.note_added", "subject_type": "cases.internalnote",
    "subject_id": "17", "case_id": 42, "organisation_id": 5, "data": {"reason": "Zoë ✓", "n": [1, None]},
}


def test_the_digest_of_format_2_is_a_known_answer() -> None:
    body = ('{"actor_label":"forum.example key 1","actor_type":"platform","actor_user_id":null,"case_id":42,'
            '"data":{"n":[1,null],"reason":"Zoë ✓"},"event_type":"case.note_added","occurred_at":'
            '"2026-11-25T16:30:00.125000+00:00","organisation_id":5,"seq":3,"subject_id":"17",'
            '"subject_type":"cases.internalnote","v":2}')
    assert hashlib.sha256((KAT_SECOND_EVENT + body).encode("utf-8")).hexdigest() == KAT_V2_EVENT
    assert event_digest_v2(prev_hash=KAT_SECOND_EVENT, **V2_EVENT) == KAT_V2_EVENT
    for key, value in {"organisation_id": 6, "subject_type": "cases.message", "subject_id": "18"}.items():
        assert event_digest_v2(prev_hash=KAT_SECOND_EVENT, **{**V2_EVENT, key: value}) != KAT_V2_EVENT, key


def test_every_field_of_an_event_changes_its_digest() -> None:
    digest = event_digest(prev_hash=GENESIS_HASH, **STAFF_EVENT)
    changed = {"seq": 2, "occurred_at": "2025-03-01T09:30:00.250001+00:00", "actor_type": "system",
               "actor_user_id": 8, "actor_label": "hans", "event_type": "case.note_added", "object_type": "note",
               "object_id": "43", "case_id": None, "data": {**STAFF_EVENT["data"], "to": "open"}}
    for key, value in changed.items():
        assert event_digest(prev_hash=GENESIS_HASH, **{**STAFF_EVENT, key: value}) != digest, key
    assert event_digest(prev_hash="1" * 64, **STAFF_EVENT) != digest


def _canonical_digest(event: Event) -> str:
    """The documented format 2, computed without vangnet's code."""
    body = json.dumps({
        "v": 2, "seq": event.seq, "occurred_at": event.occurred_at.isoformat(), "actor_type": event.actor_type,
        "actor_user_id": event.actor_user_id, "actor_label": event.actor_label, "event_type": event.event_type,
        "subject_type": event.subject_type, "subject_id": event.subject_id, "case_id": event.case_id,
        "organisation_id": event.organisation_id, "data": event.data},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((event.prev_hash + body).encode("utf-8")).hexdigest()


def test_record_event_stores_who_did_what_and_hashes_exactly_that(supervisor) -> None:
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    with transaction.atomic():
        record_event(actor=Actor.staff(supervisor), event_type=CaseEvent.STATUS_CHANGED, subject_type="case",
                     subject_id=42, case_id=42, data={"reason": "Zoë ✓", "when": when, "amount": Decimal("1.50")})
        record_event(actor=Actor.reporter(), event_type=ReportEvent.INFO_ADDED, subject_type="report",
                     subject_id="9")
        record_event(actor=Actor.partner("token test"), event_type=ReportEvent.SUBMITTED, subject_type="report",
                     subject_id=10, data=None)
        record_event(actor=Actor.system(), event_type=CaseEvent.ERASED, subject_type="case", subject_id=42,
                     case_id=42, organisation_id=3, data={})
    assert Event.objects.filter(seq__isnull=True).count() == 4, "writers only insert"
    assert chain_pending_events() == 4 and chain_pending_events() == 0
    staff, reporter, partner, system = Event.objects.order_by("seq")
    assert (staff.actor_type, staff.actor_user, staff.actor_label) == ("staff", supervisor, "sanne")
    assert (staff.event_type, staff.subject_type, staff.subject_id, staff.case_id) == (
        "case.status_changed", "case", "42", 42)
    assert staff.data == {"reason": "Zoë ✓", "when": "2025-03-01 09:30:00+00:00", "amount": "1.50"}
    assert (reporter.actor_type, reporter.actor_user, reporter.actor_label, reporter.case_id, reporter.data) == (
        "reporter", None, "reporter", None, {})
    assert (partner.actor_type, partner.actor_label, partner.data) == ("partner", "token test", {})
    assert (system.actor_type, system.actor_user, system.actor_label) == ("system", None, "system")
    assert (system.organisation_id, system.version, staff.version) == (3, 2, 2)
    assert staff.prev_hash == GENESIS_HASH
    for event in (staff, reporter, partner, system):
        assert event.hash == _canonical_digest(event)
    assert [e.prev_hash for e in (reporter, partner, system)] == [staff.hash, reporter.hash, partner.hash]
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (4, system.hash)


def test_the_events_of_one_batch_share_one_time_and_a_nested_batch_waits_for_the_outer_one() -> None:
    with transaction.atomic(), batched_events():
        record_event(actor=Actor.system(), event_type=CaseEvent.CREATED, subject_type="case", subject_id=1)
        with batched_events():
            record_event(actor=Actor.system(), event_type=CaseEvent.TRIAGED, subject_type="case", subject_id=1)
        assert not Event.objects.exists(), "the inner batch leaves the writing to the outer one"
        record_event(actor=Actor.system(), event_type=CaseEvent.MERGED, subject_type="case", subject_id=1)
    chain_all_pending()
    events = list(Event.objects.order_by("seq"))
    assert [e.event_type for e in events] == ["case.created", "case.triaged", "case.merged"]
    assert len({e.occurred_at for e in events}) == 1
    assert [e.seq for e in events] == [1, 2, 3]
    assert list(verify_chain()) == []


def test_an_empty_batch_writes_nothing() -> None:
    with transaction.atomic(), batched_events():
        pass
    assert not Event.objects.exists() and not ChainHead.objects.exists()
    _append(1)
    assert ChainHead.objects.get().seq == 1


def test_the_database_lets_the_chainer_fill_in_the_chain_once_and_nothing_else() -> None:
    with transaction.atomic():
        record_event(actor=Actor.system(), event_type=CaseEvent.CREATED, subject_type="case", subject_id=1)
    event = Event.objects.get()
    assert (event.seq, event.prev_hash, event.hash) == (None, None, None)
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seq=1, prev_hash=GENESIS_HASH, hash="a" * 64, subject_id="2")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seq=1)  # a half-filled chain link is refused too
    assert chain_pending_events() == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seq=2)
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert list(verify_chain()) == []


def test_unknown_event_types_and_missing_subjects_are_refused() -> None:
    with transaction.atomic():
        with pytest.raises(ValueError, match="Unknown event type 'case.exploded'"):
            record_event(actor=Actor.system(), event_type="case.exploded", subject_type="case", subject_id=1)
        with pytest.raises(ValueError, match="needs its subject"):
            record_event(actor=Actor.system(), event_type=CaseEvent.CREATED)
    assert not Event.objects.exists()


def test_a_subject_gives_its_type_case_and_organisation(submit) -> None:
    report = submit().report
    chain_all_pending()
    submitted = Event.objects.get(event_type="report.submitted")
    created = Event.objects.get(event_type="case.created")
    assert (submitted.subject_type, submitted.subject_id, submitted.case_id, submitted.organisation_id) == (
        "intake.report", str(report.pk), None, report.organisation_id), "stored, then filed: the case comes next"
    assert (created.subject_type, created.subject_id, created.case_id, created.organisation_id) == (
        "cases.case", str(report.case_id), report.case_id, report.organisation_id)


# --- Who and what an event names (scripts/mutation) ------------------------------------------
# Equivalent mutants that survive in audit/services.py: ``ensure_ascii=False`` -> ``None`` (json
# reads any false value alike); ``update_fields=None`` on the chain head (it has no other fields);
# the chainer's round size (``limit`` 5000 -> 5001) and ``bulk_update``'s ``batch_size``; leaving
# out ``version=CURRENT_VERSION`` (the model's default is the current format).


def test_each_kind_of_actor_is_logged_as_itself(supervisor) -> None:
    actors = [Actor.staff(supervisor), Actor.reporter("VN-ABCD-EFGH"), Actor.reporter(), Actor.partner("api:x"),
              Actor.platform("forum.example key 1"), Actor.system("retention"), Actor.system()]
    with transaction.atomic():
        for actor in actors:
            record_event(actor=actor, event_type=CaseEvent.NOTE_ADDED, subject_type="note", subject_id=1)
    chain_all_pending()
    assert list(Event.objects.order_by("seq").values_list("actor_type", "actor_user_id", "actor_label")) == [
        ("staff", supervisor.pk, "sanne"), ("reporter", None, "reporter VN-ABCD-EFGH"), ("reporter", None, "reporter"),
        ("partner", None, "api:x"), ("platform", None, "forum.example key 1"), ("system", None, "system: retention"),
        ("system", None, "system")]
    assert list(verify_chain()) == []


def test_an_event_reads_its_case_and_organisation_from_its_subject(submit, handler, api_token) -> None:
    from vangnet.accounts.models import ApiToken
    from vangnet.cases.models import InternalNote
    from vangnet.directory.models import ReferralOrganisation

    case = submit().report.case
    note = InternalNote.objects.create(case=case, author=handler, text="x")
    while note.pk == case.pk:  # the note's own id must not pass for its case's
        note = InternalNote.objects.create(case=case, author=handler, text="x")
    token = ApiToken.objects.get()
    organisation = ReferralOrganisation.objects.get(slug="helpwanted")
    first = Event.objects.count()
    with transaction.atomic():
        record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject=note)
        record_event(actor=Actor.system(), event_type=CaseEvent.CREATED, subject=case)
        record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject=token)
        record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject=organisation)
        record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject=note, case_id=99,
                     organisation_id=98)
    rows = list(Event.objects.order_by("id").values_list("subject_type", "subject_id", "case_id", "organisation_id",
                                                          "version"))[first:]
    assert rows == [
        ("cases.internalnote", str(note.pk), case.pk, None, 2),
        ("cases.case", str(case.pk), case.pk, case.organisation_id, 2),
        ("accounts.apitoken", str(token.pk), None, token.organisation_id, 2),
        ("directory.referralorganisation", str(organisation.pk), None, None, 2),
        ("cases.internalnote", str(note.pk), 99, 98, 2),
    ]


@pytest.mark.parametrize("subject", [{}, {"subject_type": "note"}, {"subject_id": 3},
                                     {"subject_type": "note", "subject_id": ""},
                                     {"subject_type": "note", "subject_id": None}])
def test_an_event_without_a_subject_is_refused(subject: dict) -> None:
    with pytest.raises(ValueError) as caught, transaction.atomic():
        record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, **subject)
    assert str(caught.value) == "An event needs its subject: give subject=, or subject_type= and subject_id=."
    assert not Event.objects.exists()


def test_an_undeclared_event_type_is_refused() -> None:
    with pytest.raises(ValueError) as caught, transaction.atomic():
        record_event(actor=Actor.system(), event_type="case.exploded", subject_type="case", subject_id=1)
    assert str(caught.value) == "Unknown event type 'case.exploded': declare it with @register_event_types."


def test_an_unknown_digest_format_is_named() -> None:
    event = Event(version=3, occurred_at=datetime(2025, 1, 1, tzinfo=UTC), actor_type="system", actor_label="system",
                  event_type="case.created", subject_type="cases.case", subject_id="1", data={})
    with pytest.raises(ValueError) as caught:
        digest_of(event, prev_hash=GENESIS_HASH, seq=1)
    assert str(caught.value) == "Unknown event digest format 3."


def test_chaining_everything_that_waits_counts_every_round(monkeypatch) -> None:
    from functools import partial

    from vangnet.audit import services

    with transaction.atomic(), batched_events():
        for i in range(5):
            record_event(actor=Actor.system(), event_type=CaseEvent.NOTE_ADDED, subject_type="note", subject_id=i)
    assert chain_pending_events(limit=2) == 2
    monkeypatch.setattr(services, "chain_pending_events", partial(chain_pending_events, limit=2))  # small rounds
    assert chain_all_pending() == 3
    assert chain_all_pending() == 0
    assert ChainHead.objects.get().seq == 5
    assert list(verify_chain()) == []
