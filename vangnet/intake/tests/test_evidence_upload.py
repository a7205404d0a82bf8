"""The reporter adds files: the optional step after her report is stored, and the follow-up page.

Every accepted file is in the vault (sealed, durable) before the answer; every refused one is
named with its reason in her language and changes nothing: no row, no stored file, no event.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence import services as evidence_services
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.tests.corpus import photo_jpeg, screenshot_png
from vangnet.intake import services
from vangnet.intake.models import Report
from vangnet.intake.views import SESSION_EVIDENCE

from .test_views import _login, complete_flow

pytestmark = pytest.mark.django_db

CHAT = "[12-03-25 21:14] Hij: ik weet waar je woont\n[12-03-25 21:15] Hij: ik zie je morgen".encode()
EXE = b"MZ\x90\x00\x03" + bytes(200)


@pytest.fixture
def vault(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def in_the_evidence_step(client: Client, report: Report) -> None:
    """What the report flow leaves in her session once her report is stored (see test_the_flow_...)."""
    session = client.session
    session[SESSION_EVIDENCE] = report.pk
    session.save()


def post_files(client: Client, url: str, *files: SimpleUploadedFile) -> Any:
    response = client.post(url, {"evidence": list(files)})
    assert response.status_code == 302 and response.url == url, "every upload is Post/Redirect/Get"
    return client.get(url)


def test_the_flow_offers_the_step_after_storing_the_report_and_one_button_skips_it(client, vault) -> None:
    response = complete_flow(client, lang="en")
    report = Report.objects.get()
    assert response.url == "/en/report/evidence/" and report.case is not None, "stored and filed before the step"
    page = client.get(response.url).content.decode()
    assert "Your report has been sent" in page and 'enctype="multipart/form-data"' in page
    assert re.search(r'<input type="file" name="evidence"[^>]* multiple', page), "a plain multipart form"
    for words in ("Screenshots", "short videos", "PDF", "WhatsApp export (.zip)", "At most 25 MB per file",
                  "stored encrypted", "add more files later"):
        assert words in page, words
    [skip] = re.findall(r'<a [^>]*href="/en/report/received/"[^>]*>([^<]*)</a>', page)
    assert skip == "Skip this step"
    receipt = client.get("/en/report/received/").content.decode()
    assert report.receipt_code in receipt
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_files_in_the_step_are_stored_for_her_report_and_listed(client, submit, vault) -> None:
    report = submit().report
    in_the_evidence_step(client, report)
    page = post_files(client, "/en/report/evidence/", upload("Screenshot 2025-03-12.png", screenshot_png()),
                      upload("WhatsApp Chat.txt", CHAT)).content.decode()
    assert "Thank you. We have added this to your report." in page
    items = list(EvidenceItem.objects.order_by("pk"))
    assert [(i.report_id, i.case_id, i.source, i.kind, i.original_name) for i in items] == [
        (report.pk, report.case_id, Source.REPORTER, "image", "Screenshot 2025-03-12.png"),
        (report.pk, report.case_id, Source.REPORTER, "text", "WhatsApp Chat.txt")]
    assert len(stored_files(vault)) == 2, "durably stored before the answer"
    assert evidence_services.read_original(item=items[1]) == CHAT
    events = Event.objects.filter(event_type="evidence.added")
    assert {e.actor_label for e in events} == {f"reporter {report.receipt_code}"}
    listed = re.findall(r"<li data-evidence-item>(.*?)</li>", page, re.S)
    assert len(listed) == 2 and "Screenshot 2025-03-12.png" in listed[0] and "Image or screenshot" in listed[0]
    assert "WhatsApp Chat.txt" in listed[1] and "Text or chat export" in listed[1]
    assert "Done: show my receipt code" in page and "Skip this step" not in page


@pytest.mark.parametrize(("lang", "message"), [
    ("en", "<strong>setup.jpg</strong>: This kind of file cannot be added."),
    ("nl", "<strong>setup.jpg</strong>: Dit soort bestand kan niet worden toegevoegd."),
])
def test_a_refused_file_is_named_in_her_language_and_the_others_are_still_added(client, submit, vault, lang,
                                                                                  message) -> None:
    report = submit().report
    in_the_evidence_step(client, report)
    events = Event.objects.count()
    page = post_files(client, f"/{lang}/report/evidence/", upload("setup.jpg", EXE),
                      upload("photo.jpg", photo_jpeg())).content.decode()
    [refused] = re.findall(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert message in refused
    assert [i.original_name for i in EvidenceItem.objects.all()] == ["photo.jpg"]
    assert len(stored_files(vault)) == 1 and Event.objects.count() == events + 1
    again = client.get(f"/{lang}/report/evidence/").content.decode()
    assert "setup.jpg" not in again, "the refusal is shown once"


@pytest.mark.parametrize(("files", "message"), [
    (0, "Choose one or more files first."), (11, "Choose at most 10 files at a time."),
])
def test_no_file_or_too_many_files_get_a_clear_error_and_store_nothing(client, submit, vault, files,
                                                                       message) -> None:
    in_the_evidence_step(client, submit().report)
    page = post_files(client, "/en/report/evidence/",
                      *[upload(f"chat-{n}.txt", CHAT) for n in range(files)]).content.decode()
    assert message in re.findall(r'role="alert"[^>]*>(.*?)</div>', page, re.S)[0]
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_the_step_takes_files_only_for_the_report_this_session_just_sent(client, submit, vault) -> None:
    report = submit().report
    stranger = Client()
    response = stranger.post("/en/report/evidence/", {"evidence": [upload("chat.txt", CHAT)]})
    assert response.status_code == 302 and response.url == "/en/report/received/"
    in_the_evidence_step(client, report)
    client.get("/en/report/received/")  # the receipt ends the step: later files go through the follow-up page
    response = client.post("/en/report/evidence/", {"evidence": [upload("chat.txt", CHAT)]})
    assert response.url == "/en/report/received/"
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_an_urgent_report_still_says_call_112_in_the_step(client, submit) -> None:
    in_the_evidence_step(client, submit(immediate_danger="yes").report)
    session = client.session
    session["vangnet_receipt"] = {"urgent": True}
    session.save()
    page = client.get("/en/report/evidence/").content.decode()
    assert 'role="alert"' in page and 'href="tel:112"' in page


def test_a_minor_is_asked_not_to_send_sexual_images_and_any_image_is_not_kept(client, submit, vault) -> None:
    report = submit(forms=["non-consensual-intimate-images"], age_band="16_17").report
    in_the_evidence_step(client, report)
    page = client.get("/en/report/evidence/").content.decode()
    assert "do not add nude or sexual photos or videos of anyone under 18" in page
    page = post_files(client, "/en/report/evidence/", upload("photo.jpg", photo_jpeg())).content.decode()
    item = EvidenceItem.objects.get()
    assert item.storage_name == "" and item.sha256 and stored_files(vault) == []
    assert "Not kept: we keep only its fingerprint" in page


def test_a_request_larger_than_the_limit_is_refused_before_it_is_read(submit, vault, settings) -> None:
    settings.VANGNET_UPLOAD_MAX_BYTES = 50_000
    client = Client(enforce_csrf_checks=True)  # the CSRF check would read the body: the limit comes first
    in_the_evidence_step(client, submit().report)
    events = Event.objects.count()
    response = client.post("/nl/report/evidence/", {"evidence": [upload("video.mp4", bytes(60_000))]})
    assert response.status_code == 413
    page = response.content.decode()
    assert "Te veel tegelijk" in page and "data-quick-exit" in page and 'href="/nl/report/evidence/"' in page
    assert not EvidenceItem.objects.exists() and stored_files(vault) == [] and Event.objects.count() == events


def test_a_file_just_over_the_file_limit_is_named_and_refused(client, submit, vault, monkeypatch) -> None:
    monkeypatch.setattr(evidence_services, "MAX_FILE_BYTES", 4096)
    in_the_evidence_step(client, submit().report)
    page = post_files(client, "/en/report/evidence/", upload("long chat.txt", b"a" * 4097)).content.decode()
    assert "<strong>long chat.txt</strong>: The file is larger than" in page
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_uploads_stay_in_memory_and_never_reach_a_temporary_file(client, submit, vault, monkeypatch) -> None:
    from django.core.files import uploadedfile

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", refuse)
    in_the_evidence_step(client, submit().report)
    big = b"a" * (3 * 1024 * 1024)  # above Django's default 2.5 MB in memory
    post_files(client, "/en/report/evidence/", upload("long chat.txt", big))
    assert evidence_services.read_original(item=EvidenceItem.objects.get()) == big


def test_followup_lists_her_files_and_takes_more(client, submit, vault, handler) -> None:
    mine = submit()
    theirs = submit(description="Another victim's story.")
    assert mine.report.case_id == theirs.report.case_id
    services.add_report_evidence(report=theirs.report, data=b"their chat", original_name="their-chat.txt",
                                 actor=Actor.reporter(), source=Source.REPORTER)
    evidence_services.add_evidence(case=mine.report.case, data=b"a handler's note", original_name="staff-note.txt",
                                   actor=Actor.staff(handler), source=Source.STAFF)
    _login(client, mine.report.receipt_code, mine.secret)
    page = client.get("/en/followup/report/").content.decode()
    assert "You have not added any files yet." in page
    response = client.post("/en/followup/evidence/", {"evidence": [upload("screenshot.png", screenshot_png())]})
    assert response.status_code == 302 and response.url == "/en/followup/report/"
    page = client.get(response.url).content.decode()
    assert "Thank you. We have added this to your report." in page
    listed = re.findall(r"<li data-evidence-item>(.*?)</li>", page, re.S)
    assert len(listed) == 1 and "screenshot.png" in listed[0] and "Image or screenshot" in listed[0]
    assert re.search(r"\d+(\.\d)?\sKB", listed[0]), "its size"
    assert "their-chat.txt" not in page and "staff-note.txt" not in page, "only her own files"
    assert EvidenceItem.objects.get(kind="image").report_id == mine.report.pk


def test_followup_upload_redirects_to_the_page_and_names_a_refused_file(client, submit, vault) -> None:
    mine = submit()
    _login(client, mine.report.receipt_code, mine.secret)
    response = client.post("/en/followup/evidence/", {"evidence": [upload("virus.jpg", EXE)]})
    assert response.status_code == 302 and response.url == "/en/followup/report/"
    page = client.get(response.url).content.decode()
    assert "<strong>virus.jpg</strong>: This kind of file cannot be added." in page
    assert client.get("/en/followup/evidence/").url == "/en/followup/report/"
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_no_upload_without_signing_in_or_to_a_withdrawn_report(client, submit, vault) -> None:
    submitted = submit()
    response = client.post("/en/followup/evidence/", {"evidence": [upload("chat.txt", CHAT)]})
    assert response.url == "/en/followup/"
    _login(client, submitted.report.receipt_code, submitted.secret)
    services.withdraw_report(report=submitted.report, actor=Actor.reporter())
    response = client.post("/en/followup/evidence/", {"evidence": [upload("chat.txt", CHAT)]})
    assert response.url == "/en/followup/"
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_a_withdrawn_report_takes_no_files_even_from_a_page_opened_before(submit, vault) -> None:
    report = submit().report
    stale = Report.objects.get(pk=report.pk)
    services.withdraw_report(report=report, actor=Actor.reporter())
    events = Event.objects.count()
    with pytest.raises(Exception, match="withdrawn"):
        services.add_report_evidence(report=stale, data=CHAT, original_name="chat.txt", actor=Actor.reporter(),
                                     source=Source.REPORTER)
    assert not EvidenceItem.objects.exists() and stored_files(vault) == [] and Event.objects.count() == events


def test_control_and_direction_characters_leave_the_file_name(submit, vault) -> None:
    report = submit().report
    item = services.add_report_evidence(report=report, data=CHAT, original_name="chat\x00\n\u202egpj.exe" + "x" * 300,
                                        actor=Actor.reporter(), source=Source.REPORTER)
    assert item.original_name.startswith("chatgpj.exexxx") and len(item.original_name) == 255


def test_uploads_from_one_address_are_rate_limited_kindly(client, submit, vault, settings) -> None:
    settings.VANGNET_UPLOAD_RATE = "2/h"
    report = submit().report
    in_the_evidence_step(client, report)
    for number in range(2):
        assert client.post("/en/report/evidence/", {"evidence": [upload(f"c{number}.txt", CHAT)]}).status_code == 302
    refused = client.post("/en/report/evidence/", {"evidence": [upload("c3.txt", CHAT)]})
    assert refused.status_code == 429 and "Please wait a moment" in refused.content.decode()
    assert report.evidence.count() == 2, "the refused upload stored nothing"
