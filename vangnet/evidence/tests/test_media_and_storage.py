"""Uploads are typed by content; evidence files are written durably and never overwritten."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from vangnet.evidence.media import detect
from vangnet.evidence.storage import DurableFileSystemStorage


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 20, 20)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "mime", "kind", "inline"), [
    (_jpeg(), "image/jpeg", "image", True),
    (b"%PDF-1.7\n1 0 obj\n", "application/pdf", "document", False),
    (b"PK\x03\x04" + b"\x00" * 40, "application/zip", "archive", False),
    ("[12-03-25 21:14] Hij: ik weet waar je woont".encode(), "text/plain", "text", True),
    (b"<html><script>alert(1)</script></html>", "text/plain", "text", True),
])
def test_the_kind_comes_from_the_bytes(data: bytes, mime: str, kind: str, inline: bool) -> None:
    found = detect(data)
    assert found is not None and (found.mime, found.kind, found.inline_safe) == (mime, kind, inline)


@pytest.mark.parametrize("data", [b"", b"MZ\x90\x00\x03" + b"\x00" * 60, b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
                                  b"\x00\x01\x02binary\xff\xfe", b"Rar!\x1a\x07\x00" + b"\x00" * 20],
                         ids=["empty", "windows-exe", "linux-elf", "binary", "rar"])
def test_what_the_vault_does_not_take_is_refused_whatever_its_name(data: bytes) -> None:
    assert detect(data) is None


def test_a_polyglot_is_what_its_first_bytes_say_and_is_never_html() -> None:
    polyglot = _jpeg() + b"<html><script>alert(1)</script></html>"
    found = detect(polyglot)
    assert found is not None and found.mime == "image/jpeg"


def test_files_are_written_durably_and_never_overwritten(tmp_path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    storage = DurableFileSystemStorage(location=str(tmp_path))
    name = storage.save("case-1/blob", ContentFile(b"sealed bytes"))
    assert (tmp_path / name).read_bytes() == b"sealed bytes"
    assert len(synced) == 2, "the file and its folder reach the disk before save returns"
    again = storage.save("case-1/blob", ContentFile(b"other"))
    assert again != name and (tmp_path / name).read_bytes() == b"sealed bytes"
    assert oct((tmp_path / name).stat().st_mode & 0o777) == "0o600"
    assert not [p for p in (tmp_path / "case-1").iterdir() if p.name.startswith(".incoming-")]
