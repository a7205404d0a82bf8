"""Replies (hostile mail stays text, matched only by reference), the case-page section and the PDF copy."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.notices import pdf, replies, services
from vangnet.notices.choices import NoticeStatus
from vangnet.notices.models import Notice, Reply

from .test_notices import EXPLANATION, providers  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(submit: Any, providers: Any, handler: Any) -> Notice:  # noqa: F811
    case = submit(urls="https://social.example/p/1").report.case
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.SENT, sent_at=timezone.now())
    notice.refresh_from_db()
    return notice


def _mail(reference: str, *, body: bytes = b"We removed the content.", headers: str = "",
          content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (f"From: DSA team <dsa@social.example.org>\nSubject: Re: [{reference}] Melding\n{headers}"
            f"Content-Type: {content_type}\n\n").encode() + body


def test_a_reply_is_matched_by_its_reference_and_the_notice_is_answered(sent: Notice) -> None:
    reply = replies.receive_reply(raw=_mail(sent.reference), source="imap", actor=Actor.system("imap"))
    sent.refresh_from_db()
    assert reply.notice_id == sent.pk and sent.status == NoticeStatus.ANSWERED
    assert reply.text.strip() == "We removed the content." and "dsa@social.example.org" in reply.from_address
    assert Event.objects.filter(event_type="notice.reply_received", case_id=sent.case_id).exists()


def test_html_with_script_is_kept_as_text_only(sent: Notice) -> None:
    html = (b"<html><head><style>p{}</style><script>alert(document.cookie)</script></head>"
            b"<body><p>Removed &amp; done.</p><img src=x onerror=alert(1)></body></html>")
    reply = replies.receive_reply(raw=_mail(sent.reference, body=html, content_type="text/html"), source="imap",
                                  actor=Actor.system("imap"))
    assert reply.text == "Removed & done." and "<" not in reply.text and "alert" not in reply.text


def test_a_wrong_charset_and_attachments_do_not_break_anything(sent: Notice) -> None:
    raw = (f"From: x@social.example.org\nSubject: [{sent.reference}]\nMIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain; charset=no-such-charset\n\n"
           "caf\xe9 removed\n--B\nContent-Type: application/x-msdownload\nContent-Disposition: attachment; "
           "filename=\"invoice.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--B--\n").encode("latin-1")
    reply = replies.receive_reply(raw=raw, source="imap", actor=Actor.system("imap"))
    assert reply.notice_id == sent.pk and "removed" in reply.text
    assert reply.attachments == [{"name": "invoice.exe", "type": "application/x-msdownload", "size": 12}]


def test_a_forged_or_unknown_reference_attaches_to_nothing(sent: Notice) -> None:
    reply = replies.receive_reply(raw=_mail("N-ZZZZZZZZZZ"), source="imap", actor=Actor.system("imap"))
    assert reply.notice is None
    sent.refresh_from_db()
    assert sent.status == NoticeStatus.SENT


def test_a_huge_or_empty_message_is_refused(sent: Notice) -> None:
    with pytest.raises(ValidationError):
        replies.receive_reply(raw=b"", source="imap", actor=Actor.system("imap"))
    with pytest.raises(ValidationError):
        replies.receive_reply(raw=_mail(sent.reference, body=b"x" * (replies.MAX_MESSAGE_BYTES + 1)), source="imap",
                              actor=Actor.system("imap"))
    assert not Reply.objects.exists()


def test_an_upload_on_a_case_page_never_lands_on_another_organisations_case(sent: Notice, submit: Any,
                                                                           other_org: Any, outsider: Any,
                                                                           handler: Any) -> None:
    foreign_case = submit(urls="https://social.example/p/1", organisation=other_org).report.case
    with pytest.raises(ValidationError, match="geen melding van dit dossier"):
        replies.upload_reply(case=foreign_case, raw=_mail(sent.reference), actor=Actor.staff(outsider))
    assert not Reply.objects.exists()
    reply = replies.upload_reply(case=sent.case, raw=_mail(sent.reference), actor=Actor.staff(handler))
    assert reply.notice_id == sent.pk and reply.source == "upload"


def test_the_case_page_drafts_notices_and_shows_errors_in_place(client: Any, submit: Any, providers: Any,  # noqa: F811
                                                                handler: Any) -> None:
    case = submit(urls="https://social.example/p/1\nhttps://www.video.example/v/2").report.case
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-action="notice-draft"' in page and "https://www.video.example/v/2" in page
    response = client.post(f"/staff/cases/{case.pk}/notices/draft/", {
        "compose-urls": ["https://social.example/p/1"], "compose-explanation": "too short"})
    assert response.status_code == 400 and "too short" in response.content.decode() and not Notice.objects.exists()
    response = client.post(f"/staff/cases/{case.pk}/notices/draft/", {
        "compose-urls": ["https://social.example/p/1", "https://www.video.example/v/2"],
        "compose-explanation": EXPLANATION}, follow=True)
    page = response.content.decode()
    assert Notice.objects.filter(case=case).count() == 2 and page.count('data-notice-status="draft"') == 2
    video = Notice.objects.get(case=case, provider__slug="video")
    response = client.post(f"/staff/cases/{case.pk}/notices/{video.pk}/edit/",
                           {f"edit-{video.pk}-body": "Please remove it."}, follow=True)
    video.refresh_from_db()
    assert video.body == "Please remove it.\n", "a draft's text is the handler's to change"
    response = client.post(f"/staff/cases/{case.pk}/notices/{video.pk}/send/", follow=True)
    video.refresh_from_db()
    assert video.status == NoticeStatus.DRAFT and "de verklaring te goeder trouw" in response.content.decode()


def test_the_pdf_copy_is_a_real_pdf_with_the_text(sent: Notice, client: Any, handler: Any) -> None:
    data = pdf.render_pdf(sent)
    assert data.startswith(b"%PDF-") and len(data) > 1000
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert sent.reference in text and "https://social.example/p/1" in text and "goeder trouw" in text
    Notice.objects.filter(pk=sent.pk).update(pdf_storage_name=pdf.store_pdf(sent))
    sent.refresh_from_db()
    client.force_login(handler)
    response = client.get(f"/staff/cases/{sent.case_id}/notices/{sent.pk}/pdf/")
    assert response.status_code == 200 and response.content == pdf.read_pdf(sent)
    assert response["Content-Disposition"] == f'attachment; filename="notice-{sent.reference}.pdf"'


def test_an_eml_uploaded_on_the_case_page_is_matched(client: Any, sent: Notice, handler: Any) -> None:
    client.force_login(handler)
    upload = SimpleUploadedFile("reply.eml", _mail(sent.reference))
    response = client.post(f"/staff/cases/{sent.case_id}/notices/replies/", {"reply-message": upload}, follow=True)
    assert response.status_code == 200 and "We removed the content." in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == NoticeStatus.ANSWERED
