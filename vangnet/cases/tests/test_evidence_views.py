"""Evidence on the case page: staff add files, look at clean renditions, download originals, export bundles.

Every look, copy and export is a custody event; active content is never served as a page.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import Actor, chain_all_pending
from vangnet.evidence import custody
from vangnet.evidence.bundle import verify_bundle
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem, SigningKey
from vangnet.evidence.services import add_evidence, request_capture

pytestmark = pytest.mark.django_db


def _photo(*, gps: bool = False) -> bytes:
    image = Image.linear_gradient("L").resize((120, 80)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _upload(client, case, *files: tuple[str, bytes]):
    return client.post(f"/staff/cases/{case.pk}/evidence/", {
        "evidence-attachments": [SimpleUploadedFile(name, data) for name, data in files]})


def test_a_handler_adds_several_files_and_sees_them_with_their_fingerprints(client, submit, handler,
                                                                             evidence_folder) -> None:
    case = submit().report.case
    client.force_login(handler)
    chat = "Hij: ik weet waar je woont".encode()
    response = _upload(client, case, ("shot.jpg", _photo(gps=True)), ("chat.txt", chat))
    assert response.status_code == 302 and response["Location"].endswith("#evidence-heading")
    items = list(EvidenceItem.objects.filter(case=case).order_by("pk"))
    assert [(i.kind, i.source, i.added_by) for i in items] == [("image", "staff", "hans"), ("text", "staff", "hans")]
    assert len(_files(evidence_folder)) == 2
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert items[0].sha256 in page and items[0].pdq in page and items[1].sha256 in page
    assert page.count("data-location-warning") == 1, "the photo with GPS is flagged, the text is not"
    assert page.count('data-custody-event="evidence.added"') == 2


def test_one_refused_file_refuses_the_whole_upload_and_writes_nothing(client, submit, handler,
                                                                      evidence_folder) -> None:
    case = submit().report.case
    client.force_login(handler)
    response = _upload(client, case, ("good.jpg", _photo()), ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200))
    assert response.status_code == 400
    assert "photo.jpg: Dit soort bestand kan niet worden toegevoegd" in response.content.decode()
    assert not EvidenceItem.objects.exists() and _files(evidence_folder) == []
    assert not Event.objects.filter(event_type__startswith="evidence.").exists()


def test_an_empty_upload_is_a_form_error(client, submit, handler) -> None:
    case = submit().report.case
    client.force_login(handler)
    response = client.post(f"/staff/cases/{case.pk}/evidence/", {})
    assert response.status_code == 400 and not EvidenceItem.objects.exists()


def test_viewing_an_image_serves_a_clean_rendition_and_logs_the_look(client, submit, handler) -> None:
    case = submit().report.case
    item = add_evidence(case=case, data=_photo(gps=True) + b"<script>alert(1)</script>", actor=Actor.reporter(),
                        source=Source.REPORTER)
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'loading="lazy"' in page and "data-evidence-image" in page, "the image waits, hidden, until opened"
    assert not Event.objects.filter(event_type="evidence.viewed").exists(), "opening the case is not a look"
    response = client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/view/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert b"PhoneMaker" not in response.content and b"<script>" not in response.content
    event = Event.objects.get(event_type="evidence.viewed")
    assert (event.actor_label, event.subject_id, event.case_id) == ("hans", str(item.pk), case.pk)


def test_active_content_is_never_viewed_only_downloaded_as_an_attachment(client, submit, handler) -> None:
    case = submit().report.case
    pdf = b"%PDF-1.4\n1 0 obj<</JS(app.alert(1))>>endobj\n%%EOF\n"
    item = add_evidence(case=case, data=pdf, actor=Actor.reporter(), source=Source.REPORTER, original_name='a"b.pdf')
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert f"/evidence/{item.pk}/view/" not in page and f"/evidence/{item.pk}/download/" in page
    assert client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/view/").status_code == 409
    response = client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/download/")
    assert response.status_code == 200 and response.content == pdf, "the original, byte for byte"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{item.pk}-{item.sha256[:12]}.pdf"'
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert Event.objects.filter(event_type="evidence.downloaded", subject_id=str(item.pk)).count() == 1
    assert not Event.objects.filter(event_type="evidence.viewed").exists()


def test_html_sent_as_text_is_shown_as_plain_text_never_as_a_page(client, submit, handler) -> None:
    case = submit().report.case
    html = b"<html><body><script>alert(document.cookie)</script>hello</body></html>"
    item = add_evidence(case=case, data=html, actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(handler)
    response = client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/view/")
    assert response["Content-Type"] == "text/plain; charset=utf-8" and response.content == html
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]


def test_a_discarded_item_says_why_and_has_nothing_to_view_or_download(client, submit, handler) -> None:
    case = submit(forms=["non-consensual-intimate-images"], age_band="16_17").report.case
    item = add_evidence(case=case, data=_photo(), actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "data-discarded" in page and "alleen de hashes" in page and item.sha256 in page, "translated on display"
    assert f"/evidence/{item.pk}/download/" not in page
    assert client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/download/").status_code == 410


def test_staff_of_another_organisation_reach_no_evidence(client, submit, outsider) -> None:
    case = submit().report.case
    item = add_evidence(case=case, data=_photo(), actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(outsider)
    for action in ("view", "download"):
        assert client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/{action}/").status_code == 404
    assert client.post(f"/staff/cases/{case.pk}/evidence/export/").status_code == 404
    assert not Event.objects.filter(event_type__in=["evidence.viewed", "evidence.downloaded",
                                                    "evidence.exported"]).exists()


def test_an_item_of_another_case_is_not_reachable_through_this_case(client, submit, handler) -> None:
    case = submit(urls="https://a.example/1").report.case
    other = submit(urls="https://b.example/2").report.case
    item = add_evidence(case=other, data=_photo(), actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(handler)
    assert client.get(f"/staff/cases/{case.pk}/evidence/{item.pk}/download/").status_code == 404


def test_a_handler_may_not_export_a_case_owner_exports_a_bundle_that_verifies(client, submit, handler, case_owner,
                                                                              tmp_path) -> None:
    case = submit(forms=["doxing"]).report.case
    photo, text = _photo(), "chat export".encode()
    add_evidence(case=case, data=photo, actor=Actor.reporter(), source=Source.REPORTER, original_name="me.jpg")
    add_evidence(case=case, data=text, actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(handler)
    assert "export-evidence" not in client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert client.post(f"/staff/cases/{case.pk}/evidence/export/").status_code == 403
    client.force_login(case_owner)
    response = client.post(f"/staff/cases/{case.pk}/evidence/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="evidence-{case.reference}-')
    key = SigningKey.objects.get(organisation=case.organisation, is_active=True)
    assert response["X-Signing-Key-SHA256"] == key.fingerprint
    assert verify_bundle(response.content).ok
    assert verify_bundle(response.content, trusted_key=custody._private_key(key).public_key()).ok
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        contents = sorted(bundle.read(n) for n in bundle.namelist() if n.startswith("files/"))
        manifest = bundle.read("manifest.json").decode()
    assert contents == sorted([photo, text])
    assert case.reference in manifest and '"evidence.exported"' in manifest and '"evidence.added"' in manifest
    assert Event.objects.filter(event_type="evidence.exported").count() == 2
    chain_all_pending()
    assert list(verify_chain()) == []


def test_the_second_export_signs_with_the_same_organisation_key(client, submit, case_owner) -> None:
    case = submit().report.case
    add_evidence(case=case, data=_photo(), actor=Actor.reporter(), source=Source.REPORTER)
    client.force_login(case_owner)
    first = client.post(f"/staff/cases/{case.pk}/evidence/export/")["X-Signing-Key-SHA256"]
    second = client.post(f"/staff/cases/{case.pk}/evidence/export/")["X-Signing-Key-SHA256"]
    assert first == second and SigningKey.objects.count() == 1
    assert SigningKey.objects.get().private_key.startswith("-----BEGIN PRIVATE KEY-----")
    raw = SigningKey.objects.values_list("private_key", flat=True).query
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute(str(raw))
        [(stored,)] = cursor.fetchall()
    assert "PRIVATE KEY" not in stored, "the private key is encrypted in the database"


def test_an_export_of_a_case_without_evidence_says_so(client, submit, case_owner) -> None:
    case = submit().report.case
    client.force_login(case_owner)
    response = client.post(f"/staff/cases/{case.pk}/evidence/export/", follow=True)
    assert "geen bewijs om te exporteren" in response.content.decode()
    assert not SigningKey.objects.exists()


def test_merging_moves_evidence_to_the_case_it_joins(submit, supervisor) -> None:
    from vangnet.cases.services import merge_cases

    source = submit(urls="https://a.example/1").report.case
    target = submit(urls="https://b.example/2").report.case
    item = add_evidence(case=source, data=_photo(), actor=Actor.reporter(), source=Source.REPORTER)
    capture = request_capture(case=source, url="https://host.example/p/1", actor=Actor.staff(supervisor))
    merge_cases(source=source, target=target, actor=Actor.staff(supervisor))
    item.refresh_from_db()
    capture.refresh_from_db()
    assert item.case_id == target.pk and capture.case_id == target.pk
    bundle = custody.export_case_bundle(case=target, actor=Actor.staff(supervisor))
    assert verify_bundle(bundle.data).ok and item.sha256 in bundle.data.decode("latin-1")
