"""The hostile corpus (``evidence.tests.corpus``) through every way a reporter or partner adds a file.

The evidence step of the report flow, the follow-up page and the partner API each give the
answer the corpus names: a kept file is stored exactly as received (an archive unopened, a
pixel bomb never decoded), a refused one is named with its reason and changes nothing: no
row, no file in the evidence folder, no event.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ImageFile

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence import services as evidence_services
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.tests.corpus import HOSTILE, Sample, sample
from vangnet.hashing.hashers import MAX_IMAGE_PIXELS

from .test_evidence_upload import in_the_evidence_step
from .test_views import _login

pytestmark = pytest.mark.django_db

REPORT = {"immediate_danger": False, "reporter_role": "victim", "forms": ["doxing"], "age_band": "18_plus",
          "consent_processing": True}


@pytest.fixture
def vault(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image whose pixels anything decodes; archives may not even be opened."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(image: Any) -> Any:
        sizes.append(image.size)
        return load(image)

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an uploaded archive was opened")

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    monkeypatch.setattr(zipfile.ZipFile, "__init__", never)
    return sizes


def _upload(item: Sample) -> SimpleUploadedFile:
    return SimpleUploadedFile(item.filename, item.data, content_type="image/jpeg")  # what a browser might claim


def through_the_report_step(client: Client, submit: Any) -> Callable[[Sample], str]:
    in_the_evidence_step(client, submit().report)

    def send(item: Sample) -> str:
        response = client.post("/en/report/evidence/", {"evidence": [_upload(item)]})
        assert response.status_code == 302 and response.url == "/en/report/evidence/"
        return client.get(response.url).content.decode()

    return send


def through_the_followup_page(client: Client, submit: Any) -> Callable[[Sample], str]:
    submitted = submit()
    _login(client, submitted.report.receipt_code, submitted.secret)

    def send(item: Sample) -> str:
        response = client.post("/en/followup/evidence/", {"evidence": [_upload(item)]})
        assert response.status_code == 302 and response.url == "/en/followup/report/"
        return client.get(response.url).content.decode()

    return send


def through_the_api(client: Client, submit: Any) -> Callable[[Sample], dict[str, Any]]:
    _row, token = create_api_token(organisation=Organisation.objects.get(slug="vangnet-helpline"), name="p",
                                   actor=Actor.system())
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    code = client.post("/api/v1/reports", REPORT, content_type="application/json", headers=headers).json()[
        "receipt_code"]

    def send(item: Sample) -> dict[str, Any]:
        response = client.post(f"/api/v1/reports/{code}/evidence", {"file": _upload(item)}, headers=headers)
        assert response.status_code == (201 if item.accepted else 400), response.content[:300]
        return dict(response.json())

    return send


PATHS: dict[str, Callable[[Client, Any], Callable[[Sample], Any]]] = {
    "report-step": through_the_report_step, "followup": through_the_followup_page, "api": through_the_api}
REFUSALS = {"empty": "The file is empty.", "cannot be added": "This kind of file cannot be added. Add images, short "
                                                              "videos, PDFs, text or chat exports."}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("key", HOSTILE)
def test_the_hostile_corpus(client, submit, vault, decoded, path: str, key: str) -> None:
    item = sample(key)
    send = PATHS[path](client, submit)
    events = Event.objects.count()
    answer = send(item)
    assert all(w * h <= MAX_IMAGE_PIXELS for w, h in decoded), f"a pixel bomb was decoded: {decoded}"
    files = [p for p in vault.rglob("*") if p.is_file()]
    if not item.accepted:
        if path == "api":
            assert answer == {"errors": {"file": [REFUSALS[item.message]]}}
        else:
            [refused] = re.findall(r'role="alert"[^>]*>(.*?)</div>', answer, re.S)
            assert f"<strong>{item.filename}</strong>: {REFUSALS[item.message]}" in refused
        assert not EvidenceItem.objects.exists() and files == [], "a refused file stored something"
        assert Event.objects.count() == events, "a refused file wrote an event"
        return
    stored = EvidenceItem.objects.get()
    assert (stored.kind, stored.media_type, stored.size) == (item.kind, item.media_type, len(item.data))
    assert stored.sha256 == hashlib.sha256(item.data).hexdigest()
    assert evidence_services.read_original(item=stored) == item.data, "kept byte for byte"
    assert len(files) == 1, f"one sealed file and nothing else (nothing unpacked): {files}"
    assert len(item.data) < files[0].stat().st_size < len(item.data) + 1024, "the sealed original, no more"
    if key.startswith("pixel-bomb"):
        assert stored.pdq == "" and stored.pdq_quality is None, "no perceptual hash without decoding"
    if path == "api":
        assert (answer["kind"], answer["media_type"], answer["size"]) == (item.kind, item.media_type, len(item.data))
    else:
        [listed] = re.findall(r"<li data-evidence-item>(.*?)</li>", answer, re.S)
        assert item.filename in listed
