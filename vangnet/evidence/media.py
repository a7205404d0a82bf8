"""What kind of file an upload is, read from its content, never from its name.

``filetype`` recognises binary formats by their magic numbers; text is what decodes as
UTF-8 without control characters. Only the kinds the evidence vault takes are accepted;
an executable named ``photo.jpg`` is refused because its bytes say what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import filetype

IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/avif", "image/bmp",
                    "image/tiff"})
VIDEOS = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/3gpp", "video/x-m4v", "video/x-matroska"})
DOCUMENTS = frozenset({"application/pdf"})
ARCHIVES = frozenset({"application/zip"})  # a WhatsApp chat export: kept unopened, never unpacked
TEXT = "text/plain"
ACCEPTED = IMAGES | VIDEOS | DOCUMENTS | ARCHIVES | {TEXT}
# Never shown inline to staff (they can run script or hide content): downloaded only.
ACTIVE_CONTENT = frozenset({"application/pdf", "image/svg+xml", "text/html"}) | ARCHIVES


@dataclass(frozen=True)
class MediaType:
    mime: str

    @property
    def kind(self) -> str:
        if self.mime in IMAGES:
            return "image"
        if self.mime in VIDEOS:
            return "video"
        if self.mime in DOCUMENTS:
            return "document"
        if self.mime in ARCHIVES:
            return "archive"
        return "text"

    @property
    def inline_safe(self) -> bool:
        return self.mime not in ACTIVE_CONTENT and self.kind in {"image", "text"}


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text)


def detect(data: bytes) -> MediaType | None:
    """The accepted media type of ``data``, or None when it is empty or of a kind the vault refuses.

    HTML and SVG are text: they are stored as text (``text/plain``) and only ever downloaded.
    """
    if not data:
        return None
    guess = filetype.guess(data)
    if guess is not None:
        return MediaType(guess.mime) if guess.mime in ACCEPTED else None
    return MediaType(TEXT) if _looks_like_text(data) else None
