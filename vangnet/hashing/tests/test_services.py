"""Every change to a bank is logged and moves its version; entries are checked, unique per bank, and an
evidence item's hashes join a bank with its case."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.hashing import services
from vangnet.hashing.choices import BankEvent
from vangnet.hashing.models import Bank, BankEntry
from vangnet.hashing.tests.test_hashers import encoded, picture

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SHA, PDQ = "ab" * 32, "cd" * 32


@pytest.fixture
def bank(helpline) -> Bank:
    return services.create_bank(slug="bank", name="Bank", organisation=helpline, actor=SYSTEM)


def versions(bank: Bank) -> tuple[int, int]:
    fresh = Bank.objects.get(pk=bank.pk)
    return fresh.version, fresh.removals


def test_creating_and_changing_a_bank_is_logged_and_counted(helpline, supervisor) -> None:
    bank = services.create_bank(slug="b", name="B", organisation=helpline, actor=Actor.staff(supervisor))
    created = Event.objects.get(event_type=BankEvent.CREATED)
    assert (created.subject_type, created.subject_id, created.organisation_id) == ("hashing.bank", str(bank.pk),
                                                                                   helpline.pk)
    assert created.actor_label == "sanne" and created.data["pdq_max_distance"] == 31 and versions(bank) == (1, 0)
    bank.pdq_max_distance, bank.is_active = 20, False
    services.save_bank(bank=bank, actor=SYSTEM)
    changed = Event.objects.get(event_type=BankEvent.CHANGED)
    assert changed.data == {"changed": ["pdq_max_distance", "is_active"], "pdq_max_distance": 20, "is_active": False}
    assert versions(bank) == (2, 0)
    services.save_bank(bank=bank, actor=SYSTEM)
    assert Event.objects.filter(event_type=BankEvent.CHANGED).count() == 1 and versions(bank) == (2, 0)


def test_bank_thresholds_and_case_are_checked(helpline, other_org, submit) -> None:
    with pytest.raises(ValidationError) as raised:
        services.create_bank(slug="x", name="X", organisation=helpline, pdq_max_distance=65, actor=SYSTEM)
    assert "pdq_max_distance" in raised.value.message_dict
    with pytest.raises(ValidationError):
        services.create_bank(slug="y", name="Y", organisation=helpline, pdq_min_quality=101, actor=SYSTEM)
    case = submit().report.case
    with pytest.raises(ValidationError) as raised:
        services.create_bank(slug="z", name="Z", organisation=other_org, case=case, actor=SYSTEM)
    assert "case" in raised.value.message_dict
    own = services.create_bank(slug="case-bank", name="Case", case=case, actor=SYSTEM)
    assert own.organisation == case.organisation and Event.objects.get(
        event_type=BankEvent.CREATED, subject_id=str(own.pk)).case_id == case.pk
    assert not Bank.objects.filter(slug__in=["x", "y", "z"]).exists()


def test_adding_hashes_is_logged_without_the_label_and_a_known_hash_is_left_out(bank) -> None:
    entry = services.add_entry(bank=bank, sha256=SHA.upper(), pdq=f" {PDQ} ", pdq_quality=77, label="Private words",
                               actor=SYSTEM)
    assert entry is not None and (entry.sha256, entry.pdq, entry.pdq_quality) == (SHA, PDQ, 77)
    added = Event.objects.get(event_type=BankEvent.ENTRY_ADDED)
    assert added.data == {"entry": entry.pk, "sha256": SHA, "pdq": PDQ, "pdq_quality": 77}
    assert "Private" not in str(added.data) and versions(bank) == (2, 0)
    assert services.add_entry(bank=bank, sha256=SHA, actor=SYSTEM) is None
    assert versions(bank) == (2, 0), "nothing new: nothing counted"
    only_new = services.add_entry(bank=bank, sha256="ef" * 32, pdq=PDQ, actor=SYSTEM)
    assert only_new is not None and only_new.pdq is None and versions(bank) == (3, 0)
    for bad in ({"sha256": "xyz"}, {"pdq": "ab" * 33}, {}, {"pdq": "12" * 32, "pdq_quality": 101}):
        with pytest.raises(ValidationError):
            services.add_entry(bank=bank, actor=SYSTEM, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        services.add_entry(bank=bank, pdq="34" * 32, label="x" * 201, actor=SYSTEM)
    assert bank.entries.count() == 2


def test_the_database_holds_a_hash_once_per_bank(bank, helpline) -> None:
    BankEntry.objects.create(bank=bank, pdq=PDQ)
    with pytest.raises(IntegrityError), transaction.atomic():
        BankEntry.objects.create(bank=bank, pdq=PDQ, sha256=SHA)
    with pytest.raises(IntegrityError), transaction.atomic():
        BankEntry.objects.create(bank=bank)
    other = services.create_bank(slug="other", name="Other", organisation=helpline, actor=SYSTEM)
    BankEntry.objects.create(bank=other, pdq=PDQ)


def test_removing_and_deleting_are_logged_and_counted(bank) -> None:
    entry = services.add_entry(bank=bank, sha256=SHA, actor=SYSTEM)
    services.add_entry(bank=bank, pdq=PDQ, actor=SYSTEM)
    assert entry is not None
    entry_pk = entry.pk
    services.remove_entry(entry=entry, actor=SYSTEM)
    removed = Event.objects.get(event_type=BankEvent.ENTRY_REMOVED)
    assert removed.data == {"entry": entry_pk, "sha256": SHA, "pdq": None} and versions(bank) == (4, 1)
    pk = bank.pk
    services.delete_bank(bank=bank, actor=SYSTEM)
    deleted = Event.objects.get(event_type=BankEvent.DELETED)
    assert deleted.subject_id == str(pk) and deleted.data == {"slug": "bank", "name": "Bank", "entries": 1}
    assert not Bank.objects.filter(pk=pk).exists() and not BankEntry.objects.filter(bank_id=pk).exists()


def test_an_evidence_items_hashes_join_a_bank_with_its_case(bank, submit, other_org) -> None:
    case = submit().report.case
    item = add_evidence(case=case, data=encoded(picture(40)), actor=Actor.reporter(), source=Source.REPORTER)
    entry = services.add_item_to_bank(bank=bank, item=item, label="taken down", actor=SYSTEM)
    assert entry is not None
    assert (entry.sha256, entry.pdq, entry.pdq_quality, entry.case, entry.label) == (
        item.sha256, item.pdq, item.pdq_quality, case, "taken down")
    assert Event.objects.get(event_type=BankEvent.ENTRY_ADDED).case_id == case.pk
    assert services.add_item_to_bank(bank=bank, item=item, label="again", actor=SYSTEM) is None
    text = add_evidence(case=case, data=b"chat log", actor=Actor.reporter(), source=Source.REPORTER)
    text_entry = services.add_item_to_bank(bank=bank, item=text, label="chat", actor=SYSTEM)
    assert text_entry is not None and text_entry.pdq is None and text_entry.sha256 == text.sha256
    shared = services.create_bank(slug="shared", name="Shared", actor=SYSTEM)
    shared_entry = services.add_item_to_bank(bank=shared, item=item, label="shared", actor=SYSTEM)
    assert shared_entry is not None and shared_entry.case == case, "kept on our side, for a withdrawn consent"
    theirs = services.create_bank(slug="theirs", name="Theirs", organisation=other_org, actor=SYSTEM)
    with pytest.raises(ValidationError):
        services.add_item_to_bank(bank=theirs, item=item, label="no", actor=SYSTEM)
    assert not theirs.entries.exists()


def test_a_cases_hashes_come_out_of_the_shared_banks_only_each_removal_logged(bank, submit) -> None:
    case = submit().report.case
    other = submit(urls="https://other.example/1").report.case
    shared = services.create_bank(slug="ncii", name="NCII", actor=SYSTEM)
    kept_own = services.add_entry(bank=bank, sha256=SHA, case=case, actor=SYSTEM)
    taken = services.add_entry(bank=shared, sha256=SHA, pdq=PDQ, pdq_quality=90, case=case, actor=SYSTEM)
    kept_other = services.add_entry(bank=shared, sha256="ef" * 32, case=other, actor=SYSTEM)
    assert taken is not None and kept_own is not None and kept_other is not None
    before = versions(shared)
    assert services.remove_case_entries(case_ids=[case.pk], actor=SYSTEM) == 1
    assert set(BankEntry.objects.values_list("pk", flat=True)) == {kept_own.pk, kept_other.pk}
    removed = Event.objects.get(event_type=BankEvent.ENTRY_REMOVED)
    assert (removed.case_id, removed.subject_id, removed.data["entry"]) == (case.pk, str(shared.pk), taken.pk)
    assert versions(shared) == (before[0] + 1, before[1] + 1), "every match index reloads the bank"
    assert services.remove_case_entries(case_ids=[case.pk], actor=SYSTEM) == 0
