"""Adding evidence: fingerprints first, sealed and durable, the hard rule for minors, refusals store nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence import services
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem
from vangnet.hashing.hashers import HASHERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def vault_folder(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def _photo() -> bytes:
    buffer = io.BytesIO()
    image = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_an_image_is_fingerprinted_sealed_and_stored_durably(submit, vault_folder) -> None:
    report = submit().report
    photo = _photo()
    item = services.add_evidence(case=report.case, report=report, data=photo, actor=Actor.reporter(),
                                 source=Source.REPORTER, original_name="IMG_0042.jpg")
    assert (item.kind, item.media_type, item.size) == ("image", "image/jpeg", len(photo))
    assert item.sha256 == HASHERS["sha256"].hash_bytes(photo).value
    assert item.pdq == HASHERS["pdq"].hash_bytes(photo).value and len(item.pdq_variants) == 8
    [stored] = _files(vault_folder)
    blob = stored.read_bytes()
    assert blob != photo and photo[100:164] not in blob, "at rest the bytes are encrypted"
    assert services.read_original(item=item) == photo, "the original comes back byte for byte"
    event = Event.objects.get(event_type="evidence.added")
    assert (event.subject_type, event.case_id, event.data["sha256"], event.data["source"]) == (
        "evidence.evidenceitem", report.case_id, item.sha256, "reporter")
    assert "IMG_0042" not in str(event.data), "no file names in the log"


def test_images_of_a_minor_and_sexual_imagery_are_hashed_and_never_written(submit, vault_folder) -> None:
    report = submit(forms=["non-consensual-intimate-images"], age_band="16_17").report
    photo = _photo()
    item = services.add_evidence(case=report.case, report=report, data=photo, actor=Actor.partner("api:x"),
                                 source=Source.PARTNER, source_url="https://host.example/p/1")
    assert _files(vault_folder) == [], "no byte of the image reached the storage"
    assert item.storage_name == "" and "minor" in item.discarded_reason
    assert item.sha256 == HASHERS["sha256"].hash_bytes(photo).value and item.pdq
    assert Event.objects.get(event_type="evidence.discarded").data["sha256"] == item.sha256
    with pytest.raises(ValidationError):
        services.read_original(item=item)


def test_text_is_kept_without_a_perceptual_hash(submit, handler) -> None:
    report = submit().report
    item = services.add_evidence(case=report.case, data="[21:14] Hij: ik weet waar je woont".encode(),
                                 actor=Actor.staff(handler), source=Source.STAFF)
    assert (item.kind, item.pdq, item.pdq_quality, item.added_by) == ("text", "", None, "hans")
    assert services.read_original(item=item).decode().endswith("ik weet waar je woont")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"), (b"MZ\x90\x00" + b"\x00" * 100, "cannot be added"), (b"x" * 2048, "larger than"),
])
def test_a_refused_file_stores_nothing(submit, vault_folder, monkeypatch, data: bytes, message: str) -> None:
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1024)
    report = submit().report
    events = Event.objects.count()
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        services.add_evidence(case=report.case, data=data, actor=Actor.reporter(), source=Source.REPORTER)
    assert not EvidenceItem.objects.exists() and _files(vault_folder) == [] and Event.objects.count() == events


def test_rotating_the_master_key_rewraps_every_file_and_the_old_key_can_go(submit, settings, vault_folder,
                                                                          django_capture_on_commit_callbacks) -> None:
    import base64

    from django.core.management import call_command

    from vangnet.evidence import vault

    old, new = (base64.urlsafe_b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    settings.VANGNET_EVIDENCE_KEYS = old
    report = submit().report
    photo = _photo()
    item = services.add_evidence(case=report.case, data=photo, actor=Actor.reporter(), source=Source.REPORTER)
    before = _files(vault_folder)[0].read_bytes()
    settings.VANGNET_EVIDENCE_KEYS = f"{new},{old}"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rotate_evidence_key", stdout=io.StringIO())
    item.refresh_from_db()
    [after_file] = _files(vault_folder)
    after = after_file.read_bytes()
    assert after[5:13] == vault.parse_master_keys(new)[0].key_id and after[-100:] == before[-100:]
    settings.VANGNET_EVIDENCE_KEYS = new
    assert services.read_original(item=item) == photo, "opens with the new key alone"
    assert services.rotate_evidence_key(actor=Actor.system()) == 0, "nothing left to rewrap"


def test_the_case_limit_counts_the_bytes_kept_not_those_discarded_or_purged(submit, monkeypatch,
                                                                          vault_folder) -> None:
    monkeypatch.setattr(services, "MAX_CASE_BYTES", 100)
    report = submit().report
    services.add_evidence(case=report.case, data=b"a" * 60, actor=Actor.reporter(), source=Source.REPORTER)
    with pytest.raises(ValidationError, match="geen bewijs meer"):
        services.add_evidence(case=report.case, data=b"b" * 50, actor=Actor.reporter(), source=Source.REPORTER)
    EvidenceItem.objects.filter(case=report.case).update(storage_name="", discarded_reason="retention period ended")
    item = services.add_evidence(case=report.case, data=b"b" * 50, actor=Actor.reporter(), source=Source.REPORTER)
    assert item.storage_name and len(_files(vault_folder)) == 2  # the first file is still on disk: only the row changed


def test_a_video_gets_the_pdq_of_its_key_frames_and_a_minors_video_is_never_written(submit, vault_folder) -> None:
    from vangnet.hashing.tests.test_video import video

    report = submit().report
    clip = video(seconds=3)
    item = services.add_evidence(case=report.case, report=report, data=clip, actor=Actor.reporter(),
                                 source=Source.REPORTER)
    assert item.kind == "video" and [round(f["t"]) for f in item.pdq_frames] == [0, 1, 2]
    assert all(len(f["pdq"]) == 64 for f in item.pdq_frames) and item.pdq == ""
    minor = submit(forms=["non-consensual-intimate-images"], age_band="16_17", urls="https://x.example/1").report
    discarded = services.add_evidence(case=minor.case, report=minor, data=clip, actor=Actor.reporter(),
                                      source=Source.REPORTER)
    assert discarded.storage_name == "" and discarded.pdq_frames == item.pdq_frames, "hashed in memory, kept as hashes"
    assert len(_files(vault_folder)) == 1
