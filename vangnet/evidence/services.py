"""Writes of the evidence vault: adding evidence (hash first, then seal and store, or discard)."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vangnet.audit.services import Actor, record_event
from vangnet.cases.choices import CaseStatus
from vangnet.cases.selectors import lock_case_for_retention
from vangnet.hashing.hashers import HASHERS
from vangnet.intake.choices import MINOR_AGE_BANDS

from . import vault
from .choices import EvidenceEvent, Kind, Source
from .media import MediaType, detect
from .models import EvidenceItem
from .rendition import has_location

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_CASE_BYTES = 500 * 1024 * 1024
# Stored in English and shown translated (the case page translates it), so the catalogue knows it.
DISCARD_REASON = gettext_noop("The case concerns a minor and sexual imagery: only the hashes are kept.")


def evidence_storage() -> Storage:
    """The ``evidence`` entry of ``STORAGES``: durable local files by default, or an S3-compatible store."""
    return storages["evidence"]


def concerns_minor_sexual_imagery(case: Any) -> bool:
    """Whether any report in the case is about a minor and names a form of violence with sexual imagery."""
    return case.reports.filter(age_band__in=MINOR_AGE_BANDS, forms__involves_sexual_imagery=True).exists()


def check_upload(*, case: Any, data: bytes, pending: int = 0) -> MediaType:
    """Refuse a file before anything is written: empty, too large, of a kind the vault does not take, or
    more than the case may hold (``pending``: bytes of other files in the same upload, checked first)."""
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError({"file": _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20}})
    media = detect(data)
    if media is None:
        raise ValidationError({"file": _("This kind of file cannot be added. Add images, short videos, PDFs, "
                                         "text or chat exports.")})
    stored = case.evidence.exclude(storage_name="").aggregate(total=Sum("size"))["total"] or 0  # kept bytes only
    if stored + pending + len(data) > MAX_CASE_BYTES:
        raise ValidationError({"file": _("This case holds as much evidence as it can.")})
    return media


@transaction.atomic
def add_evidence(*, case: Any, data: bytes, actor: Actor, source: Source, original_name: str = "",
                 report: Any = None, source_url: str = "") -> EvidenceItem:
    """Fingerprint the exact bytes, then seal and store them durably, or discard them by the hard rule.

    Everything about the file is read from its bytes (type, size, hashes) before anything is
    written. Images of a case about a minor and sexual imagery are hashed in memory and never
    written anywhere; the event says so. A refused file changes nothing.
    """
    media = check_upload(case=case, data=data)
    sha256 = HASHERS["sha256"].hash_bytes(data)
    pdq = HASHERS["pdq"].hash_bytes(data) if media.kind == Kind.IMAGE else None
    discard = media.kind in {Kind.IMAGE, Kind.VIDEO} and concerns_minor_sexual_imagery(case)
    item = EvidenceItem(case=case, report=report, source=source, kind=media.kind, media_type=media.mime,
                        size=len(data), sha256=sha256.value if sha256 else "", pdq=pdq.value if pdq else "",
                        pdq_quality=pdq.quality if pdq else None, pdq_variants=list(pdq.variants) if pdq else [],
                        original_name=original_name[:255], source_url=source_url, added_by=actor.label,
                        has_location=media.kind == Kind.IMAGE and has_location(data))
    if discard:
        item.discarded_reason = DISCARD_REASON
    else:
        name = f"{case.pk}/{secrets.token_hex(16)}"
        # Durable before the row commits, so a committed row always has its file.
        item.storage_name = evidence_storage().save(name, ContentFile(vault.seal(data)))
    item.save()
    record_event(actor=actor, subject=item, case_id=case.pk, organisation_id=case.organisation_id,
                 event_type=EvidenceEvent.DISCARDED if discard else EvidenceEvent.ADDED,
                 data={"sha256": item.sha256, "pdq": item.pdq or None, "size": item.size,
                       "media_type": item.media_type, "source": source})
    return item


def read_original(*, item: EvidenceItem) -> bytes:
    """The original bytes of a kept item (callers log the view or download as a custody event)."""
    if not item.storage_name:
        raise ValidationError(_("The bytes of this item were never kept."))
    with evidence_storage().open(item.storage_name, "rb") as handle:
        return vault.open_sealed(handle.read())


def rotate_evidence_key(*, actor: Actor) -> int:
    """Rewrap every stored file's key with the current master key; return how many files changed.

    The ciphertext is copied, never decrypted. Each rewrapped blob is stored under a new name
    (evidence files are never overwritten), the row points to it, then the old file goes.
    """
    storage = evidence_storage()
    changed = 0
    for item_id in EvidenceItem.objects.exclude(storage_name="").values_list("pk", flat=True).iterator():
        with transaction.atomic():
            item = EvidenceItem.objects.select_for_update().get(pk=item_id)
            with storage.open(item.storage_name, "rb") as handle:
                rewrapped = vault.rewrap(handle.read())
            if rewrapped is None:
                continue
            old_name = item.storage_name
            item.storage_name = storage.save(f"{item.case_id}/{secrets.token_hex(16)}", ContentFile(rewrapped))
            item.save(update_fields=["storage_name"])
            transaction.on_commit(functools.partial(storage.delete, old_name))
            changed += 1
    return changed


# Stored in English and shown translated, like DISCARD_REASON.
PURGE_REASON = gettext_noop("The retention period ended: the file was deleted, its hashes are kept.")
CAPTURE_PERIOD = "capture"


def retention_days(*, item: EvidenceItem) -> int:
    """Days after the case closed that ``item``'s bytes are kept (``VANGNET_EVIDENCE_RETENTION_DAYS``).

    Captures of a URL count as "capture" whatever their kind. A kind the setting does not name
    (one added later) gets the longest period: deleting evidence too early cannot be undone.
    """
    periods: dict[str, int] = settings.VANGNET_EVIDENCE_RETENTION_DAYS
    key = CAPTURE_PERIOD if item.source == Source.CAPTURE else item.kind
    return periods.get(key, max(periods.values()))


def purge_expired_evidence(*, actor: Actor, now: datetime | None = None) -> int:
    """Delete the bytes, file name and source URL of evidence whose retention period ended; return how many items.

    Run by the daily housekeeping (``intake.tasks.apply_retention_daily``). Each item's period
    runs from its case's closing; a reopened case stops it, a case on legal hold keeps
    everything. The row stays with its hashes, size and type, ``purged_at`` and the reason, and
    an ``evidence.deleted`` event records each purge. Case by case, in its own transaction under
    the case's lock (``cases.selectors.lock_case_for_retention``), so a legal hold set meanwhile
    is seen and two runs at once purge each item once. The stored file is deleted after the row's
    change commits (a failed commit leaves the file where the row still points).
    """
    now = now or timezone.now()
    shortest = min(settings.VANGNET_EVIDENCE_RETENTION_DAYS.values())
    case_ids = list(EvidenceItem.objects.filter(
        purged_at__isnull=True, case__status=CaseStatus.CLOSED, case__legal_hold_set_at__isnull=True,
        case__closed_at__lt=now - timedelta(days=shortest)).values_list("case_id", flat=True).distinct()
        .order_by("case_id"))
    storage = evidence_storage()
    purged = 0
    for case_id in case_ids:
        with transaction.atomic():
            case = lock_case_for_retention(case_id=case_id)
            if case is None:
                continue
            assert case.closed_at is not None
            for item in EvidenceItem.objects.select_for_update().filter(case_id=case_id, purged_at__isnull=True):
                days = retention_days(item=item)
                if case.closed_at >= now - timedelta(days=days):
                    continue
                stored_as = item.storage_name
                item.storage_name, item.original_name, item.source_url = "", "", ""
                item.discarded_reason = item.discarded_reason or PURGE_REASON
                item.purged_at = timezone.now()
                item.save(update_fields=["storage_name", "original_name", "source_url", "discarded_reason",
                                         "purged_at"])
                if stored_as:
                    transaction.on_commit(functools.partial(storage.delete, stored_as), robust=True)
                record_event(actor=actor, event_type=EvidenceEvent.DELETED, subject=item,
                             organisation_id=case.organisation_id,
                             data={"sha256": item.sha256, "kind": item.kind, "reason": "retention period ended",
                                   "retention_days": days, "case_closed_at": case.closed_at.isoformat(),
                                   "bytes_deleted": bool(stored_as)})
                purged += 1
    return purged
