"""Key-frame PDQ of videos: a re-encoded, smaller copy is recognised frame by frame; junk gives nothing."""

from __future__ import annotations

import io

import av
import pytest
from PIL import Image

from vangnet.hashing.hashers import hamming_distance
from vangnet.hashing.tests.test_hashers import picture
from vangnet.hashing.video import keyframe_hashes


def video(*, seconds: int = 4, rate: int = 5, size: tuple[int, int] = (320, 240), seed: int = 1,
          codec: str = "mpeg4", gop: int = 5) -> bytes:
    """An MP4 made here from drawn pictures (one scene per second), a key frame every ``gop`` frames."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = gop
        for second in range(seconds):
            scene = picture(seed * 100 + second, (640, 480)).resize(size)
            for _ in range(rate):
                for packet in stream.encode(av.VideoFrame.from_image(scene)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_one_hash_per_second_of_key_frames_with_their_times() -> None:
    frames = keyframe_hashes(video(seconds=4))
    assert [round(f.seconds) for f in frames] == [0, 1, 2, 3]
    assert all(len(f.pdq) == 64 and 0 <= f.quality <= 100 for f in frames)
    assert len({f.pdq for f in frames}) == 4, "each scene hashes differently"


def test_a_smaller_reencoded_copy_matches_frame_by_frame() -> None:
    original = keyframe_hashes(video(seconds=3))
    copy = keyframe_hashes(video(seconds=3, size=(160, 120), gop=10, rate=10))
    assert len(copy) == 3
    for mine, theirs in zip(original, copy, strict=True):
        assert hamming_distance(mine.pdq, theirs.pdq) <= 31
    other = keyframe_hashes(video(seconds=3, seed=9))
    assert min(hamming_distance(a.pdq, b.pdq) for a in original for b in other) > 31


def test_the_number_of_frames_is_bounded() -> None:
    assert len(keyframe_hashes(video(seconds=6), max_frames=2)) == 2
    assert [round(f.seconds) for f in keyframe_hashes(video(seconds=6), min_gap=2.5)] == [0, 3]


@pytest.mark.parametrize("junk", [b"", b"not a video at all", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100])
def test_what_cannot_be_decoded_gives_no_hashes(junk: bytes) -> None:
    assert keyframe_hashes(junk) == []


def test_a_still_image_is_not_a_video_here() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, format="PNG")
    assert len(keyframe_hashes(out.getvalue())) <= 1  # FFmpeg may decode a PNG as a one-frame stream
