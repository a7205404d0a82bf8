"""What staff see of an image: pixels only, upright, screen-sized; a location in EXIF is noticed."""

from __future__ import annotations

import io

from PIL import Image

from vangnet.evidence.rendition import MAX_SIDE, has_location, image_rendition


def _jpeg(*, gps: bool = False, orientation: int | None = None, size: tuple[int, int] = (300, 200),
          comment: bytes = b"") -> bytes:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=comment)
    return out.getvalue()


def test_gps_coordinates_in_exif_are_noticed_and_their_absence_too() -> None:
    assert has_location(_jpeg(gps=True)) is True
    assert has_location(_jpeg(gps=False)) is False


def test_a_gps_block_without_coordinates_is_no_location() -> None:
    image = Image.new("RGB", (20, 20))
    exif = Image.Exif()
    exif[0x8825] = {0: b"\x02\x02\x00\x00"}  # GPSVersionID only
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert has_location(out.getvalue()) is False


def test_something_that_is_no_image_has_no_location_and_no_rendition() -> None:
    assert has_location(b"%PDF-1.7 not an image") is False
    assert image_rendition(b"%PDF-1.7 not an image") is None


def test_the_rendition_is_a_png_without_any_metadata_or_trailing_bytes() -> None:
    original = _jpeg(gps=True, comment=b"secret comment") + b"<html><script>alert(1)</script></html>"
    rendition = image_rendition(original)
    assert rendition is not None and rendition.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(rendition)) as seen:
        assert dict(seen.getexif()) == {}
        assert set(seen.info) <= {"dpi", "gamma"}  # nothing taken from the original
        assert seen.size == (300, 200)
    assert b"PhoneMaker" not in rendition and b"secret comment" not in rendition and b"<script>" not in rendition


def test_the_rendition_is_turned_upright_by_the_exif_orientation() -> None:
    rendition = image_rendition(_jpeg(orientation=6, size=(300, 200)))  # 6: rotate 90° to view
    assert rendition is not None
    with Image.open(io.BytesIO(rendition)) as seen:
        assert seen.size == (200, 300)


def test_a_large_image_is_made_screen_sized_keeping_its_shape() -> None:
    rendition = image_rendition(_jpeg(size=(4000, 1000)))
    assert rendition is not None
    with Image.open(io.BytesIO(rendition)) as seen:
        assert seen.size == (MAX_SIDE, MAX_SIDE // 4)


def test_a_pixel_bomb_gets_no_rendition_and_is_never_decoded() -> None:
    huge = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(huge, format="PNG")  # 400 megapixels, a few kB
    assert len(huge.getvalue()) < 200_000
    assert image_rendition(huge.getvalue()) is None
    assert has_location(huge.getvalue()) is False


def test_a_truncated_image_gets_no_rendition() -> None:
    assert image_rendition(_jpeg()[:200]) is None
