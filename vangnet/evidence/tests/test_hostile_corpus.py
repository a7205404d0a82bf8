"""The hostile corpus against the vault itself: every sample gets the answer the corpus names, and
nothing in the vault decodes a pixel bomb, opens an archive or trips over broken metadata.

The same corpus goes through every upload path in ``intake/tests/test_hostile_uploads.py``.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image, ImageFile

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence import services
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.rendition import has_location, image_rendition
from vangnet.evidence.tests.corpus import HOSTILE, PIXEL_BOMB_SIDE, ZIP_BOMB_EXPANDED, sample
from vangnet.hashing.hashers import MAX_IMAGE_PIXELS


@pytest.fixture
def vault(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def test_the_bombs_are_what_they_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # only to read the header here
    with zipfile.ZipFile(io.BytesIO(sample("zip-bomb").data)) as archive:
        [entry] = archive.infolist()
        assert entry.file_size == ZIP_BOMB_EXPANDED and entry.compress_size < ZIP_BOMB_EXPANDED // 500
        with archive.open(entry) as handle:
            assert handle.read(1 << 20) == bytes(1 << 20), "a real deflate stream, not just a lying header"
    png = sample("pixel-bomb-png").data
    assert struct.unpack(">II", png[16:24]) == (PIXEL_BOMB_SIDE, PIXEL_BOMB_SIDE) and len(png) < 300_000
    with Image.open(io.BytesIO(sample("pixel-bomb-jpeg").data)) as image:
        assert image.width * image.height > 4_000_000_000
    assert len(sample("huge-exif").data) > 6_000_000


@pytest.mark.django_db
@pytest.mark.parametrize("key", HOSTILE)
def test_the_vault_gives_every_sample_its_answer_without_decoding_a_bomb(submit, vault, monkeypatch, key) -> None:
    item = sample(key)
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: (sizes.append(image.size), load(image))[1])
    report = submit().report
    events = Event.objects.count()
    with translation.override("en"):
        if not item.accepted:
            with pytest.raises(ValidationError, match=item.message):
                services.add_evidence(case=report.case, report=report, data=item.data, actor=Actor.reporter(),
                                      source=Source.REPORTER, original_name=item.filename)
            assert not EvidenceItem.objects.exists() and Event.objects.count() == events
            assert [p for p in vault.rglob("*") if p.is_file()] == []
            return
        stored = services.add_evidence(case=report.case, report=report, data=item.data, actor=Actor.reporter(),
                                       source=Source.REPORTER, original_name=item.filename)
    assert (stored.kind, stored.media_type, stored.size) == (item.kind, item.media_type, len(item.data))
    assert all(w * h <= MAX_IMAGE_PIXELS for w, h in sizes), sizes
    if key in {"huge-exif", "polyglot-jpeg-html"}:
        assert stored.pdq and stored.pdq_quality is not None, "broken metadata or a trailer still leave the pixels"


@pytest.mark.parametrize("key", ["huge-exif", "truncated-jpeg", "pixel-bomb-png", "pixel-bomb-jpeg",
                                 "polyglot-jpeg-html"])
def test_what_staff_see_of_a_hostile_image_never_fails(key: str) -> None:
    """Broken or lying metadata makes Pillow warn; reading it must neither raise nor decode a bomb."""
    data = sample(key).data
    assert has_location(data) in (True, False)
    rendition = image_rendition(data)
    if key.startswith("pixel-bomb"):
        assert rendition is None
