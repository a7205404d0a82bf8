"""Replies from providers: parsed as plain text, matched to their notice by its reference, never rendered.

Mail from outside is hostile by default: it may be huge, mislabel its charset, carry HTML
with script, attachments, or a forged reference. So the whole message is only parsed, its
text taken from the plain part (or from HTML with every tag dropped), attachments recorded by
name, type and size only, and a reply is attached only to a notice whose reference it carries,
and, when uploaded on a case page, only if that notice belongs to that case.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from html.parser import HTMLParser
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor

from .choices import NoticeEvent, NoticeStatus
from .models import Notice, Reply

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_TEXT = 100_000
REFERENCE = re.compile(r"\bN-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}\b")


class _TextOnly(HTMLParser):
    """Keeps the text of HTML and drops everything else (script and style contents too)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"script", "style", "head", "title"}:
            self._skip += 1
        elif tag in {"br", "p", "div", "li", "tr"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head", "title"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


@dataclass
class ParsedReply:
    subject: str
    sender: str
    message_id: str
    text: str
    references: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""
    size: int = 0


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset that does not exist
        return payload.decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name, "") or "")[:1000]
    except (ValueError, TypeError, IndexError):  # a malformed header the parser chokes on
        return ""


def parse_message(raw: bytes) -> ParsedReply:
    """What a reply says, as plain text; the references it names (subject, headers, text)."""
    if not raw:
        raise ValidationError(_("The file is empty."))
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ValidationError(_("The message is larger than %(mb)d MB.") % {"mb": MAX_MESSAGE_BYTES // 2**20})
    message = message_from_bytes(raw, policy=policy.compat32)
    plain, html, attachments = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").lower()
        kind = part.get_content_type()
        if "attachment" in disposition or part.get_filename():
            payload = part.get_payload(decode=True)
            attachments.append({"name": (part.get_filename() or "")[:200], "type": kind[:100],
                                "size": len(payload) if isinstance(payload, bytes) else 0})
        elif kind == "text/plain":
            plain.append(_decoded(part))
        elif kind == "text/html":
            html.append(html_to_text(_decoded(part)))
    text = "\n\n".join(plain) if plain else "\n\n".join(html)
    subject = _header(message, "Subject")
    where = " ".join([subject, _header(message, "In-Reply-To"), _header(message, "References"),
                      _header(message, "X-Vangnet-Notice"), text[:20_000]])
    references = list(dict.fromkeys(REFERENCE.findall(where)))
    return ParsedReply(subject=subject[:500], sender=_header(message, "From")[:500],
                       message_id=_header(message, "Message-ID")[:300], text=text[:MAX_TEXT],
                       references=references, attachments=attachments[:50],
                       sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))


def _store(parsed: ParsedReply, *, notice: Notice | None, source: str) -> Reply:
    return Reply.objects.create(notice=notice, source=source, message_id=parsed.message_id,
                                from_address=parsed.sender, subject=parsed.subject, text=parsed.text,
                                attachments=parsed.attachments, raw_sha256=parsed.sha256, raw_size=parsed.size)


def _matched(notice: Notice, reply: Reply, actor: Actor) -> None:
    from .services import _event

    if notice.status == NoticeStatus.SENT:
        notice.status = NoticeStatus.ANSWERED
        notice.save(update_fields=["status"])
    _event(notice, actor, NoticeEvent.REPLY_RECEIVED, reply=reply.pk, sha256=reply.raw_sha256,
           attachments=len(reply.attachments))


@transaction.atomic
def receive_reply(*, raw: bytes, source: str, actor: Actor) -> Reply:
    """A reply from the mailbox: attached to the notice whose reference it names, or kept unattached."""
    parsed = parse_message(raw)
    notices = list(Notice.objects.select_for_update().select_related("case", "provider")
                   .filter(reference__in=parsed.references))
    notice = notices[0] if len(notices) == 1 else None  # two references: ambiguous, a person looks at it
    reply = _store(parsed, notice=notice, source=source)
    if notice is not None:
        _matched(notice, reply, actor)
    return reply


@transaction.atomic
def upload_reply(*, case: Any, raw: bytes, actor: Actor) -> Reply:
    """A handler uploads a reply (.eml) on a case page: it must name a notice of this case."""
    from .services import _require

    _require(actor, case)
    parsed = parse_message(raw)
    notice = (Notice.objects.select_for_update().select_related("case", "provider")
              .filter(case=case, reference__in=parsed.references).first())
    if notice is None:
        raise ValidationError(_("This message names no notice of this case (no reference such as N-…)."))
    reply = _store(parsed, notice=notice, source="upload")
    _matched(notice, reply, actor)
    return reply
