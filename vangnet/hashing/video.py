"""PDQ hashes of a video's key frames, so a re-encoded or cut copy of a video can be recognised.

PyAV (FFmpeg's decoders, bundled in its wheel) decodes only the key frames; each is hashed with
the same PDQ as images (``pdqhash``). At most one frame per ``min_gap`` seconds and
``MAX_FRAMES`` in all, so a long video costs bounded time; frames larger than an image may be
are skipped, never decoded into memory. Anything that is not a decodable video gives no hashes.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from .hashers import MAX_IMAGE_PIXELS, _bits_to_hex

logger = logging.getLogger(__name__)
MAX_FRAMES = 120


@dataclass(frozen=True)
class FrameHash:
    seconds: float
    pdq: str
    quality: int

    def as_dict(self) -> dict[str, object]:
        return {"t": round(self.seconds, 3), "pdq": self.pdq, "q": self.quality}


def keyframe_hashes(data: bytes, *, min_gap: float = 1.0, max_frames: int = MAX_FRAMES) -> list[FrameHash]:
    """PDQ of key frames at least ``min_gap`` seconds apart; an empty list for what cannot be decoded."""
    import av
    import pdqhash

    hashes: list[FrameHash] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            last = None
            for frame in container.decode(stream):
                if frame.width * frame.height > MAX_IMAGE_PIXELS:
                    return hashes
                seconds = float(frame.time or 0.0)
                if last is not None and seconds - last < min_gap:
                    continue
                pixels = frame.to_ndarray(format="rgb24")
                bits, quality = pdqhash.compute(pixels)
                hashes.append(FrameHash(seconds=seconds, pdq=_bits_to_hex(bits), quality=int(quality)))
                last = seconds
                if len(hashes) >= max_frames:
                    break
    except (av.error.FFmpegError, ValueError, OSError, MemoryError) as exc:
        logger.info("No key-frame hashes: the video could not be decoded (%s).", exc.__class__.__name__)
    return hashes
