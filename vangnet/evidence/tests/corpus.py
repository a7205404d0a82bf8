"""A hostile corpus of uploads, made by the tests themselves (nothing is downloaded or checked in).

Every entry is a ``Sample``: the bytes, the name a reporter or partner would give the file,
and what the vault must do with it: refuse it (with the English words its message holds),
or keep it as the kind and media type its bytes say, never what its name says. Any test of
a path that takes uploads (the report flow, the follow-up page, the partner API, the case
page) can run the whole corpus: ``@pytest.mark.parametrize("key", HOSTILE)`` with ``sample(key)``.

The bombs are built without ever holding their expanded form: a deflate stream of a block
that repeats is the same bytes each time once the compressor's history is flushed, so a zip
that unpacks to 1 GiB, or a PNG of 1.6 gigapixels, costs a few megabytes and milliseconds.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

ZIP_BOMB_EXPANDED = 1 << 30  # 1 GiB of zeros inside the zip bomb
PIXEL_BOMB_SIDE = 40_000  # 1.6 gigapixels: about 4.8 GB as RGB, if anything decoded it


@dataclass(frozen=True)
class Sample:
    """One hostile upload and the answer the vault owes it."""

    key: str
    filename: str
    data: bytes
    accepted: bool
    kind: str = ""  # when accepted: the kind its bytes say
    media_type: str = ""
    message: str = ""  # when refused: words of the English message

    def __repr__(self) -> str:  # pytest ids and failure output: never megabytes of bytes
        return f"Sample({self.key}, {len(self.data)} bytes)"


def _repeated_deflate(block: bytes, times: int) -> bytes:
    """A raw deflate stream of ``block`` repeated ``times`` times, compressing the block only once.

    A full flush empties the compressor's history, so the compressed block does not depend on
    what came before it and can simply be repeated; an empty final block ends the stream.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    once = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return once * times + zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)


def _repeated_checksum(function: object, block: bytes, times: int, start: int) -> int:
    value = start
    for _ in range(times):
        value = function(block, value)  # type: ignore[operator]
    return value


def photo_jpeg(size: tuple[int, int] = (320, 240), *, quality: int = 90) -> bytes:
    """An ordinary photo: a gradient with some structure, so PDQ has something to see."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((180, 30, 60), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def screenshot_png(size: tuple[int, int] = (360, 740)) -> bytes:
    """A phone screenshot: light background, a dark bar and a few message bubbles."""
    image = Image.new("RGB", size, (245, 245, 245))
    image.paste((40, 40, 40), (0, 0, size[0], 60))
    for row in range(6):
        top = 90 + row * 100
        left = 20 if row % 2 else size[0] // 3
        image.paste((90, 26, 107) if row % 2 else (220, 220, 220), (left, top, left + size[0] // 2, top + 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@functools.cache
def zip_bomb() -> bytes:
    """A valid zip with one entry that unpacks to 1 GiB of zeros, about 1 MB on the wire."""
    block = bytes(1 << 24)
    times = ZIP_BOMB_EXPANDED // len(block)
    deflated = _repeated_deflate(block, times)
    crc = _repeated_checksum(zlib.crc32, block, times, 0)
    name = b"WhatsApp Chat met Hem.txt"
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), ZIP_BOMB_EXPANDED,
                         len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(deflated),
                          ZIP_BOMB_EXPANDED, len(name), 0, 0, 0, 0, 0, 0) + name
    offset = len(header) + len(deflated)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0)
    return header + deflated + central + end


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def pixel_bomb_png() -> bytes:
    """A valid black-and-white PNG of 40,000 x 40,000 pixels in about 200 KB."""
    side = PIXEL_BOMB_SIDE
    row = bytes(1 + (side + 7) // 8)  # filter byte "none", then one bit per pixel, all black
    rows_per_block = 1000
    block = row * rows_per_block
    times = side // rows_per_block
    deflated = _repeated_deflate(block, times)
    adler = _repeated_checksum(zlib.adler32, block, times, 1)
    stream = b"\x78\xda" + deflated + struct.pack(">I", adler)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", stream) + _png_chunk(b"IEND", b""))


def pixel_bomb_jpeg() -> bytes:
    """A tiny JPEG whose frame header claims 65,500 x 65,500 pixels (4.3 gigapixels)."""
    data = bytearray(photo_jpeg((16, 16)))
    sof = next(i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    struct.pack_into(">HH", data, sof + 5, 65_500, 65_500)
    return bytes(data)


HTML = b"<html><body><script>fetch('/staff/').then(r=>r.text()).then(alert)</script></body></html>"


def polyglot_jpeg_html() -> bytes:
    """A JPEG that is also an HTML page: the page in a comment segment and again after the image's end."""
    jpeg = photo_jpeg((64, 64))
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    return jpeg[:2] + comment + jpeg[2:] + HTML


def html_then_jpeg() -> bytes:
    """The reverse polyglot: an HTML page first, with a JPEG's bytes inside it."""
    return HTML[:-14] + b"<!--" + photo_jpeg((32, 32)) + b"-->" + HTML[-14:]


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" '
            b'onload="alert(1)"><script type="text/javascript">alert(document.domain)</script>'
            b'<rect width="100" height="100" fill="red"/></svg>\n')


def _app1(body: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def huge_exif_jpeg() -> bytes:
    """A photo carrying about 6.5 MB of EXIF: a first block claiming 65,535 entries that are not there,
    then a full-size block with GPS coordinates and a 60 KB maker note, then 98 more full-size blocks."""
    exif = Image.Exif()
    exif[0x010F] = "Hostile Camera Co."
    exif[0x927C] = b"M" * 60_000  # maker note
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((200, 150)).convert("RGB").save(buffer, format="JPEG", exif=exif.tobytes())
    jpeg = buffer.getvalue()
    lying = _app1(b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x0f\x01\x02\x00\xff\xff\xff\x7f" * 16)
    filler = b"".join(_app1(b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + bytes([n]) * 65_000) for n in range(98))
    scan = jpeg.index(b"\xff\xda")  # the extra segments go before the scan starts
    return jpeg[:2] + lying + jpeg[2:scan] + filler + jpeg[scan:]


def truncated_jpeg() -> bytes:
    """A photo cut off half-way, as an interrupted download leaves it."""
    photo = photo_jpeg((640, 480))
    return photo[: len(photo) // 2]


def elf_executable() -> bytes:
    """The first bytes of a 64-bit Linux program (an ELF header), then padding."""
    header = (b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0,
                                                                 64, 56, 1, 64, 0, 0))
    return header + bytes(4096 - len(header))


def pe_executable() -> bytes:
    """A Windows program's headers: "MZ", the DOS stub's pointer, then "PE"."""
    dos = bytearray(b"MZ" + bytes(126))
    struct.pack_into("<I", dos, 0x3C, 128)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + bytes(4096)


REFUSED_TYPE = "cannot be added"

# key: (file name, generator, accepted, kind, media type, words of the English refusal)
_SPECS: dict[str, tuple[str, Callable[[], bytes], bool, str, str, str]] = {
    "zip-bomb": ("WhatsApp Chat met Hem.zip", zip_bomb, True, "archive", "application/zip", ""),
    "pixel-bomb-png": ("screenshot.png", pixel_bomb_png, True, "image", "image/png", ""),
    "pixel-bomb-jpeg": ("photo.jpg", pixel_bomb_jpeg, True, "image", "image/jpeg", ""),
    "polyglot-jpeg-html": ("photo.jpg", polyglot_jpeg_html, True, "image", "image/jpeg", ""),
    "html-then-jpeg": ("photo.jpg", html_then_jpeg, False, "", "", REFUSED_TYPE),
    "svg-with-script": ("drawing.svg", svg_with_script, True, "text", "text/plain", ""),
    "huge-exif": ("IMG_0001.jpg", huge_exif_jpeg, True, "image", "image/jpeg", ""),
    "truncated-jpeg": ("IMG_0002.jpg", truncated_jpeg, True, "image", "image/jpeg", ""),
    "empty": ("empty.jpg", bytes, False, "", "", "empty"),
    "elf-named-jpg": ("holiday.jpg", elf_executable, False, "", "", REFUSED_TYPE),
    "pe-named-jpg": ("holiday2.jpg", pe_executable, False, "", "", REFUSED_TYPE),
}
# For ``pytest.mark.parametrize("key", HOSTILE)``; ``sample(key)`` builds the bytes (once) when a test runs,
# so collecting tests costs nothing.
HOSTILE: tuple[str, ...] = tuple(_SPECS)


@functools.cache
def sample(key: str) -> Sample:
    filename, make, accepted, kind, media_type, message = _SPECS[key]
    return Sample(key, filename, make(), accepted, kind, media_type, message)


def samples() -> list[Sample]:
    return [sample(key) for key in HOSTILE]
