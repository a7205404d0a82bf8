"""What staff see of an image: a fresh copy without metadata, and whether the original holds a location.

The original stays byte for byte in the vault (its EXIF can matter as evidence). Staff look at
a rendition re-encoded from the pixels alone, so no EXIF, XMP, ICC comment or trailing data
(such as HTML appended to a JPEG) survives, and the image is no larger than a screen needs.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from vangnet.hashing.hashers import MAX_IMAGE_PIXELS

MAX_SIDE = 1600
GPS_IFD = 0x8825
_ERRORS = (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning, ValueError,
           SyntaxError)


def _open(data: bytes) -> Image.Image | None:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # broken EXIF, read while opening a JPEG, is skipped
            image = Image.open(io.BytesIO(data))
    except _ERRORS:
        return None
    if image.width * image.height > MAX_IMAGE_PIXELS:  # from the header, before any pixel is decoded
        image.close()
        return None
    return image


def has_location(data: bytes) -> bool:
    """Whether the image's EXIF holds GPS coordinates (latitude or longitude), read without decoding pixels."""
    image = _open(data)
    if image is None:
        return False
    with image, warnings.catch_warnings():
        # Broken or lying EXIF (a hostile upload, a damaged file) makes Pillow warn and skip the bad
        # tags; that is the answer wanted here, never an error.
        warnings.simplefilter("ignore", UserWarning)
        try:
            gps = image.getexif().get_ifd(GPS_IFD)
        except _ERRORS:
            return False
    # 1-4 are latitude/longitude and their references; a GPS block with only a version says nothing.
    return any(tag in gps for tag in (1, 2, 3, 4))


def image_rendition(data: bytes) -> bytes | None:
    """A PNG made from the pixels only, turned upright and at most ``MAX_SIDE`` wide or high; None if unreadable."""
    image = _open(data)
    if image is None:
        return None
    try:
        with image, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # broken EXIF is skipped (see has_location)
            image.seek(0)  # the first frame of an animation is enough to see what it is
            upright = ImageOps.exif_transpose(image)
            pixels = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
            pixels.thumbnail((MAX_SIDE, MAX_SIDE))
            clean = Image.new(pixels.mode, pixels.size)
            clean.paste(pixels)  # a new image carries no info dict from the original
            out = io.BytesIO()
            clean.save(out, format="PNG", optimize=False)
            return out.getvalue()
    except _ERRORS:
        return None
