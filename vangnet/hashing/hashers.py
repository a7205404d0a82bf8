"""Hashers: exact (SHA-256) and perceptual (PDQ) fingerprints of evidence and content.

Pluggable in the manner of ThreatExchange's ``SignalType``: an abstract base, a stable name
that never changes once hashes are stored under it, and one contract test
(``tests/test_hashers.py``) that every hasher passes. SHA-256 matches the exact bytes; PDQ
(Meta's perceptual hash, computed by the ``pdqhash`` package, never a port of our own)
survives resizing and re-encoding, and with its eight flip/rotation variants also mirroring,
but not cropping.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

# Decompression-bomb guard, set deliberately: evidence screenshots and photos stay far
# below 60 megapixels; Pillow refuses larger images instead of allocating gigabytes.
MAX_IMAGE_PIXELS = 60_000_000


@dataclass(frozen=True)
class HashResult:
    """One fingerprint: ``value`` as lower-case hex; PDQ adds its quality and its variants."""

    hasher: str
    value: str
    quality: int | None = None
    variants: tuple[str, ...] = field(default_factory=tuple)


class Hasher(ABC):
    """A way to fingerprint bytes; ``name`` is stored with every hash and never changes."""

    name: str = ""

    @abstractmethod
    def hash_bytes(self, data: bytes) -> HashResult | None:
        """The fingerprint of ``data``, or None when this hasher does not apply (PDQ of a PDF)."""


class Sha256Hasher(Hasher):
    name = "sha256"

    def hash_bytes(self, data: bytes) -> HashResult:
        return HashResult(hasher=self.name, value=hashlib.sha256(data).hexdigest())


def _bits_to_hex(bits: object) -> str:
    import numpy as np

    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return bytes(packed).hex()


class PdqHasher(Hasher):
    """PDQ (256 bits) of an image, with its quality (0-100) and the hashes of its 8 dihedral variants."""

    name = "pdq"

    def hash_bytes(self, data: bytes, *, max_side: int | None = None) -> HashResult | None:
        """PDQ of the image in ``data``; None when it is no image, does not decode or is a pixel bomb.

        ``max_side`` reduces the image before hashing, so no side is longer (a JPEG is decoded at a
        smaller scale straight away): PDQ sees the picture through a 64x64 filter anyway, so a
        1,024-pixel copy hashes within a few bits of the original, at a fraction of the time. For
        a moderation check, where one request may carry many images; evidence keeps the full size.
        """
        import numpy as np
        import pdqhash
        from PIL import Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
        try:
            with warnings.catch_warnings():
                # Pillow only warns up to twice its limit: here every image past it is refused.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                # Broken or lying metadata (EXIF) only makes Pillow warn and skip it; the pixels still count.
                warnings.simplefilter("ignore", UserWarning)
                image = Image.open(io.BytesIO(data))
                with image:
                    width, height = image.size  # read from the header: a pixel bomb is refused before decoding
                    if width * height > MAX_IMAGE_PIXELS:
                        return None
                    if max_side is not None:
                        image.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                    image.load()
                    rgb = image.convert("RGB")
                    if max_side is not None:
                        rgb.thumbnail((max_side, max_side))
                    pixels = np.asarray(rgb)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                ValueError):
            return None
        hashes, quality = pdqhash.compute_dihedral(pixels)
        values = tuple(_bits_to_hex(h) for h in hashes)
        return HashResult(hasher=self.name, value=values[0], quality=int(quality), variants=values)


HASHERS: dict[str, Hasher] = {hasher.name: hasher for hasher in (Sha256Hasher(), PdqHasher())}


def hamming_distance(left: str, right: str) -> int:
    """Bits that differ between two hex hashes of equal length (PDQ matches at 31 or less)."""
    if len(left) != len(right):
        raise ValueError("Hashes of different lengths cannot be compared.")
    return (int(left, 16) ^ int(right, 16)).bit_count()
