"""Retention of evidence: each kind's bytes go when its period ends, the hashes stay, a legal hold keeps all."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from vangnet.moderation.retention import KINDS
from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import Actor, chain_all_pending
from vangnet.cases import services as case_services
from vangnet.cases.choices import CaseEvent, CaseStatus
from vangnet.cases.models import Case
from vangnet.evidence import services
from vangnet.evidence.choices import EvidenceEvent, Kind, Source
from vangnet.evidence.models import EvidenceItem
from vangnet.intake import tasks as intake_tasks
from vangnet.intake.choices import ReportEvent

PERIODS = {"image": 10, "video": 10, "document": 30, "text": 30, "archive": 30, "capture": 60}
CLOSED = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def vault_folder(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    settings.VANGNET_EVIDENCE_RETENTION_DAYS = PERIODS
    return tmp_path


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((300, 200)).convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _files(folder) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _close(case: Case, actor_user, *, at: datetime = CLOSED) -> None:
    case_services.change_status(case=case, status=CaseStatus.CLOSED, reason="done", actor=Actor.staff(actor_user))
    Case.objects.filter(pk=case.pk).update(closed_at=at)


def _purge(capture, *, now: datetime) -> int:
    with capture(execute=True):  # the files go once the rows' change commits
        return services.purge_expired_evidence(actor=Actor.system("retention"), now=now)


@pytest.fixture
def evidence(submit, supervisor):
    """A closed case with an image from the reporter, a chat export from staff and a captured page."""
    report = submit().report
    case = report.case
    items = {
        "image": services.add_evidence(case=case, report=report, data=_photo(), actor=Actor.reporter(),
                                       source=Source.REPORTER, original_name="IMG_0042.jpg"),
        "text": services.add_evidence(case=case, data=b"[21:14] Hij: ik weet waar je woont",
                                      actor=Actor.staff(supervisor), source=Source.STAFF,
                                      original_name="WhatsApp Chat.txt"),
        "capture": services.add_evidence(case=case, data=b"<html><body>post</body></html>",
                                         actor=Actor.staff(supervisor), source=Source.CAPTURE,
                                         source_url="https://host.example/p/1"),
    }
    _close(case, supervisor)
    return case, items


def test_each_kind_is_purged_when_its_period_ends_and_not_before(evidence, vault_folder,
                                                                django_capture_on_commit_callbacks) -> None:
    case, items = evidence
    stored = {name: item.storage_name for name, item in items.items()}
    assert _files(vault_folder) == set(stored.values())
    assert items["capture"].kind == Kind.TEXT, "a capture keeps its period whatever its kind"

    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=10)) == 0, "not on the last day"
    assert _files(vault_folder) == set(stored.values()) and not Event.objects.filter(
        event_type=EvidenceEvent.DELETED).exists()

    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=10, seconds=1)) == 1
    assert _files(vault_folder) == {stored["text"], stored["capture"]}, "the image's file is gone from the disk"
    image = EvidenceItem.objects.get(pk=items["image"].pk)
    assert (image.storage_name, image.original_name, image.discarded_reason) == ("", "", services.PURGE_REASON)
    assert image.purged_at is not None
    assert (image.sha256, image.pdq, image.pdq_variants, image.size, image.media_type) == (
        items["image"].sha256, items["image"].pdq, items["image"].pdq_variants, items["image"].size, "image/jpeg"), \
        "hashes and metadata stay"
    event = Event.objects.get(event_type=EvidenceEvent.DELETED)
    assert (event.subject_id, event.case_id, event.organisation_id, event.actor_label) == (
        str(image.pk), case.pk, case.organisation_id, "system: retention")
    assert event.data["reason"] == "retention period ended" and event.data["sha256"] == image.sha256
    assert (event.data["retention_days"], event.data["bytes_deleted"]) == (10, True)
    assert "IMG_0042" not in str(event.data)

    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=30, seconds=1)) == 1
    assert _files(vault_folder) == {stored["capture"]}
    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=60, seconds=1)) == 1
    assert _files(vault_folder) == set()
    capture = EvidenceItem.objects.get(pk=items["capture"].pk)
    assert capture.source_url == "" and capture.sha256 == items["capture"].sha256

    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=999)) == 0, "purging twice"
    assert Event.objects.filter(event_type=EvidenceEvent.DELETED).count() == 3
    assert sorted(Event.objects.filter(event_type=EvidenceEvent.DELETED).values_list("subject_id", flat=True)) == \
        sorted(str(item.pk) for item in items.values())
    chain_all_pending()
    assert list(verify_chain()) == []
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "The event log is intact" in out.getvalue()


def test_an_open_or_reopened_case_keeps_its_evidence(evidence, supervisor, vault_folder,
                                                     django_capture_on_commit_callbacks) -> None:
    case, _items = evidence
    case_services.change_status(case=case, status=CaseStatus.IN_PROGRESS, reason="she wrote again",
                                actor=Actor.staff(supervisor))
    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=999)) == 0
    assert len(_files(vault_folder)) == 3


def test_a_discarded_item_loses_its_source_url_and_keeps_why_it_was_never_stored(
        submit, supervisor, vault_folder, django_capture_on_commit_callbacks) -> None:
    report = submit(forms=["non-consensual-intimate-images"], age_band="16_17").report
    item = services.add_evidence(case=report.case, report=report, data=_photo(), actor=Actor.partner("api:x"),
                                 source=Source.PARTNER, source_url="https://host.example/p/1")
    _close(report.case, supervisor)
    assert _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=11)) == 1
    item.refresh_from_db()
    assert (item.source_url, item.discarded_reason) == ("", services.DISCARD_REASON) and item.purged_at
    assert Event.objects.get(event_type=EvidenceEvent.DELETED).data["bytes_deleted"] is False


def test_a_kind_without_a_period_keeps_the_longest(settings) -> None:
    assert set(Kind.values) | {"capture"} <= set(settings.VANGNET_EVIDENCE_RETENTION_DAYS), \
        "give every kind of evidence a default period in config/base.py"
    item = EvidenceItem(kind="newkind", source=Source.STAFF)
    assert services.retention_days(item=item) == 60
    assert services.retention_days(item=EvidenceItem(kind=Kind.IMAGE, source=Source.CAPTURE)) == 60
    assert services.retention_days(item=EvidenceItem(kind=Kind.IMAGE, source=Source.REPORTER)) == 10


def test_a_legal_hold_blocks_every_purge_until_it_is_lifted(evidence, case_owner, supervisor, vault_folder, settings,
                                                            django_capture_on_commit_callbacks) -> None:
    case, items = evidence
    case_services.assign_owner(case=case, owner=case_owner, actor=Actor.staff(supervisor))
    case_services.add_note(case=case, text="Politie vraagt alles te bewaren.", actor=Actor.staff(case_owner))
    report = case.reports.get()
    long_ago = timezone.now() - timedelta(days=settings.VANGNET_RETENTION_DAYS + 100)
    Case.objects.filter(pk=case.pk).update(closed_at=long_ago)
    case_services.set_legal_hold(case=case, reason="Police investigation, request of 3 March",
                                 actor=Actor.staff(case_owner))

    with django_capture_on_commit_callbacks(execute=True):
        assert intake_tasks.apply_retention_daily.call() == {"cases": 0, "evidence": 0, "idempotency_keys": 0,
        **{f"moderation_{kind}": 0 for kind in KINDS}}
    assert len(_files(vault_folder)) == 3, "no evidence file went"
    report.refresh_from_db()
    assert report.erased_at is None and report.description, "her report is kept"
    assert case.notes.get().text == "Politie vraagt alles te bewaren.", "staff texts are kept"
    assert not Event.objects.filter(event_type__in=[EvidenceEvent.DELETED, ReportEvent.ERASED,
                                                    CaseEvent.ERASED]).exists()

    case_services.lift_legal_hold(case=case, actor=Actor.staff(supervisor))
    with django_capture_on_commit_callbacks(execute=True):
        assert intake_tasks.apply_retention_daily.call() == {"cases": 1, "evidence": 3, "idempotency_keys": 0,
                                                             **{f"moderation_{kind}": 0 for kind in KINDS}}
    assert _files(vault_folder) == set()
    report.refresh_from_db()
    assert report.erased_at is not None and report.description == ""
    assert case.notes.get().text == case_services.ERASED
    assert Event.objects.filter(event_type=EvidenceEvent.DELETED).count() == 3
    chain_all_pending()
    assert list(verify_chain()) == []


def test_the_retention_command_purges_evidence_too(evidence, vault_folder, settings,
                                                   django_capture_on_commit_callbacks) -> None:
    case, _items = evidence
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=61))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("apply_retention", stdout=out)
    assert "Evidence files purged: 3." in out.getvalue() and _files(vault_folder) == set()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="the in-memory SQLite test database refuses concurrent writers; runs on PostgreSQL in CI")
def test_two_runs_at_once_purge_each_item_once(vault_folder) -> None:
    from conftest import report_payload
    from vangnet.accounts.models import Organisation
    from vangnet.common.seed import seed_reference_data
    from vangnet.common.testing import at_the_same_moment
    from vangnet.intake.choices import Channel
    from vangnet.intake.forms import ReportForm
    from vangnet.intake.services import submit_report

    seed_reference_data()  # transactional tests run on a database emptied by the ones before
    organisation = Organisation.objects.get(slug="vangnet-helpline")
    for n in range(4):
        form = ReportForm(data=report_payload(urls=f"https://race.example/post/{n}", share_with=""))
        assert form.is_valid(), form.errors
        report = submit_report(data=form.cleaned_data, organisation=organisation, channel=Channel.API,
                               actor=Actor.partner("race")).report
        for line in range(3):
            services.add_evidence(case=report.case, data=f"chat {n} line {line}".encode(), actor=Actor.system(),
                                  source=Source.STAFF)
    Case.objects.update(status=CaseStatus.CLOSED, closed_at=CLOSED)
    assert len(_files(vault_folder)) == 12
    counts = at_the_same_moment(4, lambda _i: services.purge_expired_evidence(
        actor=Actor.system("retention"), now=CLOSED + timedelta(days=100)))
    assert sum(counts) == 12, counts
    assert _files(vault_folder) == set()
    assert Event.objects.filter(event_type=EvidenceEvent.DELETED).count() == 12
    assert services.purge_expired_evidence(actor=Actor.system(), now=CLOSED + timedelta(days=100)) == 0
    chain_all_pending()
    assert list(verify_chain()) == []


def test_the_address_of_a_capture_goes_with_the_capture_period_even_when_it_failed(
        submit, supervisor, django_capture_on_commit_callbacks) -> None:
    from vangnet.evidence.models import UrlCapture

    case = submit().report.case
    failed = UrlCapture.objects.create(case=case, url="https://host.example/her-name", status="failed",
                                       requested_by="sanne")
    _close(case, supervisor)
    _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=PERIODS["capture"] - 1))
    failed.refresh_from_db()
    assert failed.url == "https://host.example/her-name", "kept while the period runs"
    _purge(django_capture_on_commit_callbacks, now=CLOSED + timedelta(days=PERIODS["capture"] + 1))
    failed.refresh_from_db()
    assert failed.url == "" and failed.status == "failed"


def test_withdrawing_deletes_her_files_but_keeps_their_hashes_unless_on_legal_hold(
        submit, supervisor, vault_folder, django_capture_on_commit_callbacks) -> None:
    from vangnet.intake.services import withdraw_report

    held = submit(urls="https://a.example/1").report
    kept = services.add_evidence(case=held.case, report=held, data=_photo(), actor=Actor.reporter(),
                                 source=Source.REPORTER, original_name="me.jpg")
    case_services.set_legal_hold(case=held.case, reason="Police request", actor=Actor.staff(supervisor))
    report = submit(urls="https://b.example/2").report
    mine = services.add_evidence(case=report.case, report=report, data=_photo(), actor=Actor.reporter(),
                                 source=Source.REPORTER, original_name="me.jpg")
    staffs = services.add_evidence(case=report.case, report=report, data=b"staff note export",
                                   actor=Actor.staff(supervisor), source=Source.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_report(report=report, actor=Actor.reporter())
        withdraw_report(report=held, actor=Actor.reporter())
    mine.refresh_from_db()
    staffs.refresh_from_db()
    kept.refresh_from_db()
    assert mine.storage_name == "" and mine.original_name == "" and mine.sha256 and mine.purged_at
    assert "withdrew" in mine.discarded_reason
    assert staffs.storage_name and kept.storage_name, "staff's own files and files under legal hold stay"
    assert _files(vault_folder) == {staffs.storage_name, kept.storage_name}
    assert Event.objects.filter(event_type=EvidenceEvent.DELETED, subject_id=str(mine.pk)).count() == 1
