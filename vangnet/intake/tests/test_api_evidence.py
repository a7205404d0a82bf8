"""``POST /api/v1/reports/{receipt_code}/evidence``: a partner adds files to the reports it sent, and to no other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence import services as evidence_services
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.tests.corpus import photo_jpeg
from vangnet.hashing.hashers import HASHERS
from vangnet.intake import services

pytestmark = pytest.mark.django_db

CHAT = "[21:14] Hij: ik weet waar je woont".encode()
REPORT = {"immediate_danger": False, "reporter_role": "professional", "forms": ["doxing"], "age_band": "18_plus",
          "consent_processing": True, "urls": ["https://forum.example/t/1"]}


@pytest.fixture
def vault(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def send_report(client: Client, token: str, **overrides: Any) -> str:
    response = client.post("/api/v1/reports", json.dumps({**REPORT, **overrides}), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.content
    return str(response.json()["receipt_code"])


def add(client: Client, token: str, code: str, name: str, data: bytes, language: str = "en") -> Any:
    return client.post(f"/api/v1/reports/{code}/evidence", {"file": SimpleUploadedFile(name, data)},
                       headers={"Authorization": f"Bearer {token}", "Accept-Language": language})


def test_a_file_for_a_report_the_partner_sent_is_stored_and_described(client, api_token, vault) -> None:
    code = send_report(client, api_token)
    photo = photo_jpeg()
    response = add(client, api_token, code, "IMG_0042.jpg", photo)
    assert response.status_code == 201 and response["Content-Language"] == "en"
    body = response.json()
    item = EvidenceItem.objects.get()
    pdq = HASHERS["pdq"].hash_bytes(photo)
    assert pdq is not None
    assert body == {"id": item.pk, "sha256": HASHERS["sha256"].hash_bytes(photo).value, "pdq": pdq.value,
                    "quality": pdq.quality, "media_type": "image/jpeg", "size": len(photo), "kind": "image",
                    "discarded": False}
    assert (item.source, item.report.receipt_code, item.original_name) == ("partner", code, "IMG_0042.jpg")
    assert evidence_services.read_original(item=item) == photo and len(stored_files(vault)) == 1
    event = Event.objects.get(event_type="evidence.added")
    assert event.actor_type == "partner" and event.actor_label == "api:vangnet-helpline:test"


def test_any_token_of_the_same_partner_may_add(client, api_token, helpline, vault) -> None:
    code = send_report(client, api_token)
    _row, newer = create_api_token(organisation=helpline, name="replacement", actor=Actor.system())
    response = add(client, newer, code, "chat.txt", CHAT)
    assert response.status_code == 201 and response.json()["kind"] == "text"


def test_every_report_the_partner_did_not_send_is_the_same_404(client, api_token, helpline, other_org, submit,
                                                               vault) -> None:
    _row, foreign = create_api_token(organisation=other_org, name="theirs", actor=Actor.system())
    theirs = send_report(client, foreign)
    web = submit().report.receipt_code
    withdrawn = send_report(client, api_token)
    services.withdraw_report(report=services.Report.objects.get(receipt_code=withdrawn), actor=Actor.reporter())
    events = Event.objects.count()
    answers = {add(client, api_token, code, "chat.txt", CHAT).content for code in (theirs, web, withdrawn,
                                                                                    "VN-AAAA-BBBB")}
    assert answers == {json.dumps({"detail": "Your organisation sent no report with this receipt code.",
                                   "code": "not_found"}).encode()}, "nothing tells one case from another"
    assert add(client, api_token, theirs, "chat.txt", CHAT).status_code == 404
    assert not EvidenceItem.objects.exists() and stored_files(vault) == [] and Event.objects.count() == events


def test_a_malformed_receipt_code_is_a_field_error(client, api_token) -> None:
    response = add(client, api_token, "vn-aaaa-bbbb", "chat.txt", CHAT)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["receipt_code"]


@pytest.mark.parametrize(("language", "name", "data", "message"), [
    ("en", "setup.jpg", b"MZ\x90\x00\x03" + bytes(100), "This kind of file cannot be added. Add images, short "
                                                         "videos, PDFs, text or chat exports."),
    ("nl", "setup.jpg", b"MZ\x90\x00\x03" + bytes(100), "Dit soort bestand kan niet worden toegevoegd. "
                                                         "Voeg afbeeldingen, korte video's, pdf's, tekst of "
                                                         "chatexports toe."),
    ("en", "empty.txt", b"", "The file is empty."),
    ("nl", "empty.txt", b"", "Het bestand is leeg."),
])
def test_a_refused_file_is_a_field_error_in_the_requests_language(client, api_token, vault, language, name, data,
                                                                  message) -> None:
    code = send_report(client, api_token)
    events = Event.objects.count()
    response = add(client, api_token, code, name, data, language)
    assert response.status_code == 400 and response["Content-Language"] == language
    assert response.json() == {"errors": {"file": [message]}}
    assert not EvidenceItem.objects.exists() and stored_files(vault) == [] and Event.objects.count() == events


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_form_without_a_file_is_a_field_error(client, api_token, language) -> None:
    """The language of a multipart request comes from its headers: its body is no JSON to read one from."""
    code = send_report(client, api_token)
    response = client.post(f"/api/v1/reports/{code}/evidence", {"name": "chat.txt"},
                           headers={"Authorization": f"Bearer {api_token}", "Accept-Language": language})
    assert response.status_code == 400
    assert response.json() == {"errors": {"file": [
        {"en": "This field is required.", "nl": "Dit veld is verplicht."}[language]]}}


def test_a_file_over_the_limit_is_refused(client, api_token, vault, monkeypatch) -> None:
    monkeypatch.setattr(evidence_services, "MAX_FILE_BYTES", 1000)
    code = send_report(client, api_token)
    response = add(client, api_token, code, "chat.txt", b"a" * 1001)
    assert response.status_code == 400 and response.json() == {"errors": {"file": ["The file is larger than 0 MB."]}}
    assert not EvidenceItem.objects.exists() and stored_files(vault) == []


def test_a_request_over_the_upload_limit_is_refused_before_it_is_read(client, api_token, vault, settings) -> None:
    code = send_report(client, api_token)
    settings.VANGNET_UPLOAD_MAX_BYTES = 2 * 2**20
    events = Event.objects.count()
    response = add(client, api_token, code, "video.mp4", bytes(2 * 2**20))
    assert response.status_code == 413 and response["Content-Language"] == "en"
    assert response.json() == {"code": "body_too_large", "detail": "The request is larger than 2 MB. Send fewer or "
                                                                   "smaller files at a time."}
    assert not EvidenceItem.objects.exists() and stored_files(vault) == [] and Event.objects.count() == events


def test_too_many_files_in_a_minute_are_throttled(client, api_token, vault, settings) -> None:
    settings.VANGNET_API_EVIDENCE_PER_MINUTE = 2
    code = send_report(client, api_token)
    assert [add(client, api_token, code, f"{n}.txt", CHAT).status_code for n in range(2)] == [201, 201]
    response = add(client, api_token, code, "3.txt", CHAT)
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert response.json()["code"] == "throttled" and EvidenceItem.objects.count() == 2


def test_the_images_of_a_report_about_a_minor_and_sexual_imagery_are_hashed_and_discarded(client, api_token,
                                                                                          vault) -> None:
    code = send_report(client, api_token, forms=["non-consensual-intimate-images"], age_band="16_17")
    response = add(client, api_token, code, "photo.jpg", photo_jpeg())
    body = response.json()
    assert response.status_code == 201 and body["discarded"] is True and body["pdq"] and body["sha256"]
    assert stored_files(vault) == [], "no byte of it was written"
    assert Event.objects.filter(event_type="evidence.discarded").count() == 1


def test_the_document_states_the_limits_the_server_enforces(client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/reports/{receipt_code}/evidence"]["post"]
    file = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"]
    assert file["format"] == "binary" and file["minLength"] == 1
    assert f"{evidence_services.MAX_FILE_BYTES} bytes" in file["description"]
    assert "64 MiB" in operation["responses"]["413"]["description"]
    assert set(operation["responses"]) == {"201", "400", "401", "404", "413", "429"}
    link = document["paths"]["/api/v1/reports"]["post"]["responses"]["201"]["links"]["AddEvidence"]
    assert link["parameters"] == {"receipt_code": "$response.body#/receipt_code"}


def test_the_helpline_of_another_partner_never_sees_its_reports_files(client, api_token, other_org,
                                                                       vault) -> None:
    """The report's organisation decides: the same receipt code through another partner's token is a 404."""
    code = send_report(client, api_token)
    assert add(client, api_token, code, "chat.txt", CHAT).status_code == 201
    _row, foreign = create_api_token(organisation=other_org, name="theirs", actor=Actor.system())
    assert add(client, foreign, code, "chat.txt", CHAT).status_code == 404
    assert EvidenceItem.objects.count() == 1
    assert Organisation.objects.get(pk=other_org.pk).reports.count() == 0
