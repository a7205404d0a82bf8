"""Benchmark: the evidence vault's throughput and PDQ hashing speed, each against a baseline in the same run.

- vault: SHA-256 + PDQ-free sealing (AES-256-GCM with a wrapped per-file key) + durable write
  (temporary file, fsync, rename, folder fsync) of 4 MB files, in MB/s, against plain
  ``hashlib.sha256`` over the same bytes;
- PDQ: images per second with 1 and 2 processes (``pdqhash``, including its 8 variants),
  against Pillow's decode alone of the same JPEG photos (1024x768, made here).

The last line reads ``vault_mb_s=<n> sha256_mb_s=<n> pdq_images_s=<n>`` (``pdq_images_s`` with
2 processes, as a 2-core machine runs it).

    python bench/evidence.py [--files 24] [--images 40]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vangnet.config.test")
    import django

    django.setup()


def _photo(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((1024, 768)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(1024), rng.randrange(768)
        draw.ellipse([x, y, x + rng.randrange(20, 300), y + rng.randrange(20, 300)],
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _pdq(data: bytes) -> str:
    from vangnet.hashing.hashers import PdqHasher

    result = PdqHasher().hash_bytes(data)
    assert result is not None
    return result.value


def _decode(data: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return len(image.convert("RGB").tobytes())


def _rate(func, items, processes: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    if processes == 1:
        for item in items:
            func(item)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(func, items, chunksize=2)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=24, help="4 MB files through the vault")
    parser.add_argument("--images", type=int, default=40, help="photos to PDQ-hash")
    args = parser.parse_args()
    _setup()
    from django.core.files.base import ContentFile

    from vangnet.evidence import vault
    from vangnet.evidence.storage import DurableFileSystemStorage

    keys = (vault.MasterKey(os.urandom(32)),)
    files = [os.urandom(4 * 2**20) for _ in range(args.files)]
    megabytes = sum(len(f) for f in files) / 2**20
    start = time.perf_counter()
    for data in files:
        hashlib.sha256(data).hexdigest()
    sha256_mb_s = megabytes / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory(prefix="vangnet-bench-vault-") as folder:
        storage = DurableFileSystemStorage(location=folder)
        start = time.perf_counter()
        for n, data in enumerate(files):
            hashlib.sha256(data).hexdigest()
            storage.save(f"case/{n}", ContentFile(vault.seal(data, keys=keys)))
        vault_mb_s = megabytes / (time.perf_counter() - start)
        assert vault.open_sealed(storage.open("case/0").read(), keys=keys) == files[0]
    photos = [_photo(n) for n in range(args.images)]
    decode_s = _rate(_decode, photos, 1)
    pdq_1 = _rate(_pdq, photos, 1)
    pdq_2 = _rate(_pdq, photos, 2)
    print(f"vault: {megabytes:.0f} MB in 4 MB files, sha256+seal+durable write {vault_mb_s:.0f} MB/s; "
          f"plain sha256 {sha256_mb_s:.0f} MB/s (ratio {vault_mb_s / sha256_mb_s:.2f})")
    print(f"pdq: {args.images} JPEG photos 1024x768, 1 process {pdq_1:.1f}/s, 2 processes {pdq_2:.1f}/s; "
          f"Pillow decode alone {decode_s:.1f}/s (ratio 1 process {pdq_1 / decode_s:.2f}); cores={os.cpu_count()}")
    print(f"vault_mb_s={vault_mb_s:.1f} sha256_mb_s={sha256_mb_s:.1f} pdq_images_s={pdq_2:.1f}")


if __name__ == "__main__":
    main()
