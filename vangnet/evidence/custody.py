"""Staff handling of evidence: looking at it, taking a copy, exporting a signed bundle.

Every one of these is a step in the chain of custody ("bewijsketen"): each writes an event
with who and when before any byte leaves the vault, so the log never misses a look.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import require_case_permission
from vangnet.audit.models import Event
from vangnet.audit.services import Actor, record_event

from . import timestamp
from .bundle import BundleFile, build_bundle
from .choices import EvidenceEvent, Kind, Source
from .media import MediaType
from .models import EvidenceItem, SigningKey
from .rendition import image_rendition
from .services import add_evidence, check_upload, read_original

MAX_TEXT_VIEW_BYTES = 512 * 1024


@dataclass(frozen=True)
class Rendition:
    """What a staff member is shown: an image without metadata, or the start of a text as text."""

    content_type: str
    data: bytes
    truncated: bool = False


def can_view_inline(item: EvidenceItem) -> bool:
    """Images (as a clean rendition) and plain text may be looked at; everything else is downloaded only."""
    return bool(item.storage_name) and item.kind in {Kind.IMAGE, Kind.TEXT} and MediaType(item.media_type).inline_safe


def _require(actor: Actor, case: Any, permission: str) -> None:
    """Only a staff member holding ``permission`` in the case's organisation may touch its evidence."""
    require_case_permission(user=actor.user, case=case, permission=permission)


@transaction.atomic
def add_staff_evidence(*, case: Any, files: list[tuple[str, bytes]], actor: Actor) -> list[EvidenceItem]:
    """A staff member adds files to a case she works on: all of them, or none if one is refused.

    Every file is checked before the first is written, so a refusal leaves no sealed file behind.
    """
    _require(actor, case, Permission.WORK_CASES)
    pending = 0
    for name, data in files:
        try:
            check_upload(case=case, data=data, pending=pending)
        except ValidationError as exc:
            raise ValidationError([f"{name}: {message}" for message in exc.messages]) from exc
        pending += len(data)
    return [add_evidence(case=case, data=data, actor=actor, source=Source.STAFF, original_name=name)
            for name, data in files]


def _log(item: EvidenceItem, actor: Actor, event_type: str, **data: Any) -> None:
    record_event(actor=actor, subject=item, case_id=item.case_id, organisation_id=item.case.organisation_id,
                 event_type=event_type, data={"sha256": item.sha256, **data})


@transaction.atomic
def view_evidence(*, item: EvidenceItem, actor: Actor) -> Rendition:
    """The rendition staff look at; the look is logged as ``evidence.viewed``."""
    _require(actor, item.case, Permission.VIEW_CASES)
    if not can_view_inline(item):
        raise ValidationError(_("This item can only be downloaded."))
    original = read_original(item=item)
    if item.kind == Kind.IMAGE:
        rendition = image_rendition(original)
        if rendition is None:
            raise ValidationError(_("This image cannot be shown. Download it to look at it."))
        _log(item, actor, EvidenceEvent.VIEWED, rendition="png-without-metadata")
        return Rendition("image/png", rendition)
    shown = original[:MAX_TEXT_VIEW_BYTES]
    _log(item, actor, EvidenceEvent.VIEWED, rendition="text")
    return Rendition("text/plain", shown, truncated=len(original) > len(shown))


@transaction.atomic
def download_evidence(*, item: EvidenceItem, actor: Actor) -> bytes:
    """The original bytes, exactly as received; the copy is logged as ``evidence.downloaded``."""
    _require(actor, item.case, Permission.VIEW_CASES)
    original = read_original(item=item)
    _log(item, actor, EvidenceEvent.DOWNLOADED)
    return original


def signing_key_for(organisation: Any) -> SigningKey:
    """The organisation's active bundle-signing key, made on first use (one per organisation, race-safe)."""
    key = SigningKey.objects.filter(organisation=organisation, is_active=True).first()
    if key is not None:
        return key
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        with transaction.atomic():
            return SigningKey.objects.create(
                organisation=organisation, fingerprint=hashlib.sha256(der).hexdigest(),
                private_key=private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode(),
                public_key=public.public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    except IntegrityError:  # another export made it at the same moment
        return SigningKey.objects.get(organisation=organisation, is_active=True)


def _private_key(key: SigningKey) -> Ed25519PrivateKey:
    loaded = serialization.load_pem_private_key(key.private_key.encode(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    return loaded


def _custody(item_ids: list[int]) -> list[dict[str, Any]]:
    events = Event.objects.filter(subject_type="evidence.evidenceitem", subject_id__in=[str(i) for i in item_ids])
    return [{"item": int(e.subject_id), "event": e.event_type, "at": e.occurred_at.isoformat(),
             "by": e.actor_label} for e in events.order_by("occurred_at", "pk")]


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    fingerprint: str
    timestamp: str = ""  # "stamped", "unavailable" (configured, but no usable answer) or "" (not configured)


@transaction.atomic
def export_case_bundle(*, case: Any, actor: Actor) -> Export:
    """A signed bundle of every kept original of ``case``; each exported item gets an ``evidence.exported`` event.

    Items whose bytes were discarded (the hard rule) or purged are listed in the manifest with
    their hashes and the reason, without a file: police can still recognise the material.
    """
    _require(actor, case, Permission.EXPORT_EVIDENCE)
    items = list(EvidenceItem.objects.filter(case=case).select_related("case__organisation"))
    if not items:
        raise ValidationError(_("This case has no evidence to export."))
    key = signing_key_for(case.organisation)
    now = timezone.now()
    files, without_bytes = [], []
    for number, item in enumerate(items, start=1):
        about = {"item": item.pk, "kind": item.kind, "media_type": item.media_type, "pdq": item.pdq or None,
                 "pdq_key_frames": item.pdq_frames or None,
                 "pdq_quality": item.pdq_quality, "added_at": item.added_at.isoformat(), "source": item.source,
                 "source_url": item.source_url or None, "original_name": item.original_name or None}
        if item.storage_name:
            extension = _extension(item.media_type)
            files.append(BundleFile(name=f"{number:03d}-{item.sha256[:12]}{extension}", data=read_original(item=item),
                                    metadata=about))
        else:
            without_bytes.append({**about, "sha256": item.sha256, "size": item.size,
                                  "why_no_file": item.discarded_reason})
    reference = getattr(case, "reference", str(case.pk))
    for item in items:
        _log(item, actor, EvidenceEvent.EXPORTED, signing_key=key.fingerprint)
    outcome = ""

    def stamp(manifest: bytes) -> bytes | None:
        nonlocal outcome
        if not timestamp.is_configured():
            return None
        try:
            token = timestamp.timestamp(manifest)
        except timestamp.TimestampUnavailable:
            outcome = "unavailable"  # the bundle is still signed: police get it now, without the third party's time
            return None
        outcome = "stamped"
        return token

    data = build_bundle(files, signing_key=_private_key(key), timestamper=stamp, about={
        "case": reference, "organisation": case.organisation.name, "exported_at": now.isoformat(),
        "exported_by": actor.label, "signing_key_sha256": key.fingerprint, "items_without_file": without_bytes,
        "custody": _custody([i.pk for i in items])})
    return Export(filename=f"evidence-{reference}-{now:%Y%m%d-%H%M%S}.zip", data=data, fingerprint=key.fingerprint,
                  timestamp=outcome)


_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
               "image/heic": ".heic", "image/avif": ".avif", "image/bmp": ".bmp", "image/tiff": ".tif",
               "video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/3gpp": ".3gp",
               "video/x-m4v": ".m4v", "video/x-matroska": ".mkv", "application/pdf": ".pdf",
               "application/zip": ".zip", "text/plain": ".txt"}


def _extension(media_type: str) -> str:
    return _EXTENSIONS.get(media_type, ".bin")


def download_name(item: EvidenceItem) -> str:
    """A file name that says what it is and cannot carry a path or a quote: never the reporter's own name."""
    return f"evidence-{item.pk}-{item.sha256[:12]}{_extension(item.media_type)}"
