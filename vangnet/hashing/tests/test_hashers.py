"""Every hasher keeps the same contract; PDQ survives resizing and re-encoding and, through its
variants, mirroring; a different picture does not match."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import subprocess
import sys

import pytest
from PIL import Image, ImageDraw, ImageOps

from vangnet.hashing.hashers import HASHERS, MAX_IMAGE_PIXELS, Hasher, hamming_distance

PDQ_MATCH = 31


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like test image made here: a gradient with random shapes (no files, no downloads)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, 200), rng.randrange(20, 200)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=colour)
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("hasher", list(HASHERS.values()), ids=list(HASHERS))
def test_every_hasher_keeps_the_contract(hasher: Hasher) -> None:
    assert isinstance(hasher, Hasher) and re.fullmatch(r"[a-z0-9_]+", hasher.name)
    data = encoded(picture(1))
    first, again = hasher.hash_bytes(data), hasher.hash_bytes(data)
    assert first is not None and first == again, "deterministic"
    assert first.hasher == hasher.name and re.fullmatch(r"[0-9a-f]{64}", first.value)
    other = hasher.hash_bytes(encoded(picture(2)))
    assert other is not None and other.value != first.value


def test_sha256_is_the_plain_digest_of_the_exact_bytes() -> None:
    assert HASHERS["sha256"].hash_bytes(b"abc").value == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2 known answer
    assert HASHERS["sha256"].hash_bytes(b"").value == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
                                  encoded(picture(3), "JPEG")[:300]], ids=["empty", "pdf", "png-header", "truncated"])
def test_pdq_of_what_is_not_a_whole_image_is_none(data: bytes) -> None:
    assert HASHERS["pdq"].hash_bytes(data) is None


def test_a_pixel_bomb_is_refused_without_decoding_it() -> None:
    bomb = encoded(Image.new("1", (10_000, 10_000)), "PNG")  # 100 megapixels in a few kilobytes
    assert len(bomb) < 100_000 and 10_000 * 10_000 > MAX_IMAGE_PIXELS
    assert HASHERS["pdq"].hash_bytes(bomb) is None


def test_pdq_survives_half_size_and_jpeg_quality_70_but_not_another_picture() -> None:
    original = picture(4)
    pdq = HASHERS["pdq"]
    base = pdq.hash_bytes(encoded(original))
    smaller = pdq.hash_bytes(encoded(original.resize((320, 240)), "JPEG", quality=70))
    different = pdq.hash_bytes(encoded(picture(5)))
    assert base is not None and smaller is not None and different is not None
    assert base.quality is not None and base.quality >= 50
    assert hamming_distance(base.value, smaller.value) <= PDQ_MATCH
    assert hamming_distance(base.value, different.value) > PDQ_MATCH


def test_a_mirror_image_matches_through_the_variants() -> None:
    original, mirrored = picture(6), ImageOps.mirror(picture(6))
    base, flipped = HASHERS["pdq"].hash_bytes(encoded(original)), HASHERS["pdq"].hash_bytes(encoded(mirrored))
    assert base is not None and flipped is not None and len(base.variants) == 8
    assert hamming_distance(base.value, flipped.value) > PDQ_MATCH, "as such the mirror image looks different"
    assert min(hamming_distance(v, flipped.value) for v in base.variants) <= PDQ_MATCH


def test_hamming_distance() -> None:
    assert hamming_distance("00", "ff") == 8 and hamming_distance("0f", "0e") == 1
    with pytest.raises(ValueError):
        hamming_distance("00", "000")


def test_the_hash_command_prints_one_json_line_per_file(tmp_path) -> None:
    image, text = tmp_path / "photo.png", tmp_path / "chat.txt"
    image.write_bytes(encoded(picture(7)))
    text.write_bytes("Zoë: ik ben bang".encode())
    result = subprocess.run([sys.executable, "-m", "vangnet.cli", "hash", str(image), str(text)],
                            capture_output=True, text=True, timeout=60,
                            env={"DJANGO_SETTINGS_MODULE": "vangnet.config.test", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [sorted(line) for line in lines] == [["file", "pdq", "quality", "sha256"]] * 2
    assert lines[0]["file"] == str(image) and lines[0]["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", lines[0]["pdq"]) and isinstance(lines[0]["quality"], int)
    assert lines[1]["pdq"] is None and lines[1]["quality"] is None
    missing = subprocess.run([sys.executable, "-m", "vangnet.cli", "hash", str(tmp_path / "gone.jpg")],
                             capture_output=True, text=True, timeout=60,
                             env={"DJANGO_SETTINGS_MODULE": "vangnet.config.test", "PATH": "/usr/bin:/bin"})
    assert missing.returncode != 0 and "gone.jpg" in missing.stderr
