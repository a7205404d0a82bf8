"""The PDF copy of a notice kept with the case (WeasyPrint), sealed like evidence.

Made from the fixed text once the notice is queued or confirmed sent. WeasyPrint gets no
network: every resource it asks for is refused, so a URL in the text is only ever text.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import translation

from vangnet.evidence import vault
from vangnet.evidence.services import evidence_storage


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"notice PDFs load nothing ({url[:60]})")


def render_pdf(notice: Any) -> bytes:
    from weasyprint import HTML

    with translation.override(notice.language):
        html = render_to_string("notices/notice_pdf.html", {"notice": notice})
    return bytes(HTML(string=html, url_fetcher=_no_fetching).write_pdf())


def store_pdf(notice: Any) -> str:
    """Seal and store the PDF; returns its storage name (durable before the caller records it)."""
    name = f"notices/{notice.case_id}/{notice.reference}-{secrets.token_hex(8)}.pdf"
    return evidence_storage().save(name, ContentFile(vault.seal(render_pdf(notice))))


def read_pdf(notice: Any) -> bytes:
    with evidence_storage().open(notice.pdf_storage_name, "rb") as handle:
        return vault.open_sealed(handle.read())
