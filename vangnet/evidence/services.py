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
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vangnet.audit.services import Actor, record_event
from vangnet.cases.choices import CaseStatus
from vangnet.cases.selectors import lock_case_for_retention
from vangnet.hashing.hashers import HASHERS
from vangnet.hashing.video import keyframe_hashes
from vangnet.intake.choices import MINOR_AGE_BANDS

from . import vault
from .choices import CaptureStatus, EvidenceEvent, Kind, Source
from .media import MediaType, detect
from .models import EvidenceItem, UrlCapture
from .rendition import has_location
from .signals import evidence_added

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
    frames = keyframe_hashes(data) if media.kind == Kind.VIDEO else []
    discard = media.kind in {Kind.IMAGE, Kind.VIDEO} and concerns_minor_sexual_imagery(case)
    item = EvidenceItem(case=case, report=report, source=source, kind=media.kind, media_type=media.mime,
                        size=len(data), sha256=sha256.value if sha256 else "", pdq=pdq.value if pdq else "",
                        pdq_quality=pdq.quality if pdq else None, pdq_variants=list(pdq.variants) if pdq else [],
                        original_name=original_name[:255], source_url=source_url, added_by=actor.label,
                        has_location=media.kind == Kind.IMAGE and has_location(data),
                        pdq_frames=[frame.as_dict() for frame in frames])
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
                       "video_key_frames": len(item.pdq_frames),
                       "media_type": item.media_type, "source": source})
    # Once the item is committed, others may look at its fingerprints (the notices' re-upload watch).
    transaction.on_commit(functools.partial(evidence_added.send, sender=EvidenceItem, item_id=item.pk))
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
WITHDRAWN_REASON = gettext_noop("The reporter withdrew her report: the file was deleted, its hashes are kept.")
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
    capture_cutoff = now - timedelta(days=settings.VANGNET_EVIDENCE_RETENTION_DAYS[CAPTURE_PERIOD])
    past = {"case__status": CaseStatus.CLOSED, "case__legal_hold_set_at__isnull": True}
    case_ids = sorted(set(EvidenceItem.objects.filter(
        purged_at__isnull=True, case__closed_at__lt=now - timedelta(days=shortest), **past)
        .values_list("case_id", flat=True).distinct()) | set(
        UrlCapture.objects.filter(case__closed_at__lt=capture_cutoff, **past).exclude(url="")
        .values_list("case_id", flat=True).distinct()))
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
                _purge_item(item, shown_reason=PURGE_REASON, actor=actor, organisation_id=case.organisation_id,
                            reason="retention period ended", retention_days=days,
                            case_closed_at=case.closed_at.isoformat())
                purged += 1
            if case.closed_at < capture_cutoff:  # the address asked for goes with what was captured from it
                UrlCapture.objects.filter(case_id=case_id).exclude(url="").update(url="")
    return purged


def purge_reporter_evidence(*, report: Any, actor: Actor) -> int:
    """She withdrew her report: the files she added go (bytes, name, source), the hashes stay.

    Not while the case is on legal hold (a police or court request): then the files stay until
    the hold is lifted and the retention period ends. Returns how many items were purged.
    Callers hold the report's transaction; the files are deleted once it commits.
    """
    case = report.case
    if case is None or case.on_legal_hold:
        return 0
    purged = 0
    for item in EvidenceItem.objects.select_for_update().filter(report=report, source=Source.REPORTER,
                                                                purged_at__isnull=True):
        _purge_item(item, shown_reason=WITHDRAWN_REASON, actor=actor, organisation_id=case.organisation_id,
                    reason="the reporter withdrew her report")
        purged += 1
    return purged


def _purge_item(item: EvidenceItem, *, shown_reason: str, actor: Actor, organisation_id: int, reason: str,
                **event_data: Any) -> None:
    """Delete a locked item's bytes, name and source URL (the file once the row's change commits); keep its
    hashes; record an ``evidence.deleted`` event with ``reason``."""
    stored_as = item.storage_name
    item.storage_name, item.original_name, item.source_url = "", "", ""
    item.discarded_reason = item.discarded_reason or shown_reason
    item.purged_at = timezone.now()
    item.save(update_fields=["storage_name", "original_name", "source_url", "discarded_reason", "purged_at"])
    if stored_as:
        transaction.on_commit(functools.partial(evidence_storage().delete, stored_as), robust=True)
    record_event(actor=actor, event_type=EvidenceEvent.DELETED, subject=item, organisation_id=organisation_id,
                 data={"sha256": item.sha256, "kind": item.kind, "reason": reason, **event_data,
                       "bytes_deleted": bool(stored_as)})


# ---------------------------------------------------------------------------------------------
# URL captures ("this URL at this moment"), made by the worker


# Stored in English (message ids) and shown translated on the case page, like the fetcher's own messages.
NOT_STORED = gettext_noop("The capture could not be stored as evidence: the case may hold as much as it can.")
SCREENSHOT_NOT_STORED = gettext_noop("The screenshot could not be stored.")


def _require_work_on(actor: Actor, case: Any) -> None:
    from vangnet.accounts.choices import Permission
    from vangnet.accounts.selectors import require_case_permission

    require_case_permission(user=actor.user, case=case, permission=Permission.WORK_CASES)


def check_capture_url(url: str) -> str:
    """The URL to capture, stripped; refuses what can be refused without the network (scheme, credentials,
    an address literally inside a private network). The worker checks the rest after DNS."""
    from vangnet.common import safefetch

    url = url.strip()
    if not url:
        raise ValidationError({"url": _("This field is required.")})
    if len(url) > settings.VANGNET_MAX_URL_CHARS:
        raise ValidationError({"url": _("This web address is too long.")})
    try:
        _scheme, host, _port, _target = safefetch.check_url(url)
    except safefetch.FetchError as exc:
        raise ValidationError({"url": exc.message}) from exc
    if safefetch.is_ip_literal(host) and safefetch.is_forbidden_address(
            host, allow_loopback=settings.VANGNET_FETCH_ALLOW_LOOPBACK):
        raise ValidationError({"url": _("The address points to a private network.")})
    return url


@transaction.atomic
def request_capture(*, case: Any, url: str, actor: Actor) -> UrlCapture:
    """Queue a capture of ``url`` for ``case``; the worker makes it after this commits.

    A capture of the same URL for the case that is still waiting or running is returned
    instead of a second one (a double click captures once).
    """
    _require_work_on(actor, case)
    url = check_capture_url(url)
    for pending in UrlCapture.objects.select_for_update().filter(
            case=case, status__in=[CaptureStatus.QUEUED, CaptureStatus.RUNNING]):
        if pending.url == url:
            return pending
    capture = UrlCapture.objects.create(case=case, url=url, requested_by=actor.label)
    record_event(actor=actor, event_type=EvidenceEvent.CAPTURE_REQUESTED, subject=capture,
                 organisation_id=case.organisation_id, data={"capture": capture.pk})
    transaction.on_commit(functools.partial(_enqueue_capture, capture.pk))
    return capture


def _enqueue_capture(capture_id: int) -> None:
    from .tasks import capture_url

    capture_url.enqueue(capture_id=capture_id)


def _set_error(capture: UrlCapture, *, code: str, msgid: str, params: dict[str, Any]) -> None:
    capture.error_code, capture.error_message, capture.error_params = code, msgid, params


def _capture_event(capture: UrlCapture, actor: Actor, event_type: str, **data: Any) -> None:
    record_event(actor=actor, event_type=event_type, subject=capture, organisation_id=capture.case.organisation_id,
                 data={"capture": capture.pk, "attempt": capture.attempts, **data})


def _claim_capture(capture_id: int) -> UrlCapture | None:
    """Mark the capture as running (one more attempt), unless it is already done or failed."""
    with transaction.atomic():
        capture = UrlCapture.objects.select_for_update().select_related("case").filter(pk=capture_id).first()
        if capture is None or capture.status in {CaptureStatus.DONE, CaptureStatus.FAILED}:
            return None
        capture.status = CaptureStatus.RUNNING
        capture.attempts += 1
        capture.started_at = timezone.now()
        capture.save(update_fields=["status", "attempts", "started_at"])
        return capture


STALLED_AFTER = timedelta(minutes=15)  # far beyond a capture's own time limits (page and screenshot)
STALLED_MSGID = gettext_noop("The capture was interrupted (the worker stopped).")


def recover_stalled_captures(*, max_attempts: int, now: datetime | None = None) -> int:
    """Captures still "running" long after their start lost their worker (a crash, a restart, SIGKILL).

    Each is queued again with a fresh task while attempts remain, else marked failed with a
    plain reason; both are events. Returns how many were recovered.
    """
    cutoff = (now or timezone.now()) - STALLED_AFTER
    recovered = 0
    for capture_id in UrlCapture.objects.filter(status=CaptureStatus.RUNNING, started_at__lt=cutoff).values_list(
            "pk", flat=True):
        with transaction.atomic():
            capture = UrlCapture.objects.select_for_update().select_related("case").filter(
                pk=capture_id, status=CaptureStatus.RUNNING, started_at__lt=cutoff).first()
            if capture is None:
                continue
            again = capture.attempts < max_attempts
            capture.status = CaptureStatus.QUEUED if again else CaptureStatus.FAILED
            capture.finished_at = None if again else timezone.now()
            _set_error(capture, code="interrupted", msgid=STALLED_MSGID, params={})
            capture.save(update_fields=["status", "finished_at", "error_code", "error_message", "error_params"])
            _capture_event(capture, Actor.system("recover_stalled_captures"),
                           EvidenceEvent.CAPTURE_POSTPONED if again else EvidenceEvent.CAPTURE_FAILED,
                           error="interrupted")
            if again:
                transaction.on_commit(functools.partial(_enqueue_capture, capture.pk))
            recovered += 1
    return recovered


def perform_capture(*, capture_id: int, max_attempts: int) -> dict[str, Any]:
    """Make the capture (the worker's task): fetch with the guard, screenshot, store all three, log it.

    A temporary failure (no answer, too slow) puts the capture back in the queue with its
    reason shown and raises ``TryAgainLater`` until ``max_attempts``; a refused address, a
    page too large or a last failed attempt marks it failed. Nothing is stored unless the
    page was fetched.
    """
    from vangnet.common import safefetch
    from vangnet.common.retry import TryAgainLater

    from .capture import PAGE_LIMITS, ScreenshotFailed, take_screenshot

    capture = _claim_capture(capture_id)
    if capture is None:
        return {"capture": capture_id, "status": "skipped"}
    actor = Actor.system(f"URL capture for {capture.requested_by}")
    try:
        page = safefetch.fetch(capture.url, limits=PAGE_LIMITS)
    except safefetch.FetchError as exc:
        again = exc.temporary and capture.attempts < max_attempts
        with transaction.atomic():
            capture.status = CaptureStatus.QUEUED if again else CaptureStatus.FAILED
            capture.finished_at = None if again else timezone.now()
            _set_error(capture, code=exc.code, msgid=exc.msgid, params=exc.params)
            capture.save(update_fields=["status", "finished_at", "error_code", "error_message", "error_params"])
            _capture_event(capture, actor, EvidenceEvent.CAPTURE_POSTPONED if again else EvidenceEvent.CAPTURE_FAILED,
                           error=exc.code)
        if again:
            raise TryAgainLater(str(exc)) from exc
        return {"capture": capture.pk, "status": capture.status, "error": exc.code}
    screenshot, screenshot_error = None, None
    try:
        screenshot = take_screenshot(page)
    except ScreenshotFailed as exc:
        screenshot_error = exc
    return _store_capture(capture, page=page, screenshot=screenshot, screenshot_error=screenshot_error, actor=actor)


def _store_capture(capture: UrlCapture, *, page: Any, screenshot: Any, screenshot_error: Any,
                   actor: Actor) -> dict[str, Any]:
    """Store body, screenshot and record as evidence in one transaction, or mark the capture failed."""
    from .capture import build_record

    case = capture.case
    try:
        with transaction.atomic(), translation.override("en"):  # notes in the record are in English
            body, body_note = None, ""
            try:
                with transaction.atomic():
                    body = add_evidence(case=case, data=page.body, actor=actor, source=Source.CAPTURE,
                                        source_url=page.final_url, original_name=f"capture-{capture.pk}-body")
            except ValidationError as exc:
                body_note = " ".join(exc.messages)
            shot, shot_note = None, screenshot_error.english if screenshot_error else ""
            if screenshot is not None:
                try:
                    with transaction.atomic():
                        shot = add_evidence(case=case, data=screenshot.png, actor=actor, source=Source.CAPTURE,
                                            source_url=page.final_url, original_name=f"capture-{capture.pk}.png")
                except ValidationError as exc:
                    shot_note = " ".join(exc.messages)
            data = build_record(capture_id=capture.pk, url=capture.url, page=page, body_stored=body is not None,
                                body_note=body_note, screenshot=screenshot if shot is not None else None,
                                screenshot_note=shot_note)
            record = add_evidence(case=case, data=data, actor=actor, source=Source.CAPTURE, source_url=capture.url,
                                  original_name=f"capture-{capture.pk}-record.json")
            capture.status, capture.finished_at, capture.http_status = CaptureStatus.DONE, timezone.now(), page.status
            capture.body, capture.screenshot, capture.record = body, shot, record
            if shot is None:  # the page shows "captured without a screenshot" and why
                _set_error(capture, code="no_screenshot",
                           msgid=screenshot_error.msgid if screenshot_error else SCREENSHOT_NOT_STORED,
                           params=screenshot_error.params if screenshot_error else {})
            else:
                _set_error(capture, code="", msgid="", params={})
            capture.save(update_fields=["status", "finished_at", "http_status", "body", "screenshot", "record",
                                        "error_code", "error_message", "error_params"])
            _capture_event(capture, actor, EvidenceEvent.CAPTURED, http_status=page.status,
                           body=body.sha256 if body else None, screenshot=shot.sha256 if shot else None,
                           record=record.sha256, redirects=len(page.hops) - 1)
    except ValidationError:
        with transaction.atomic():
            capture.status, capture.finished_at = CaptureStatus.FAILED, timezone.now()
            _set_error(capture, code="not_stored", msgid=NOT_STORED, params={})
            capture.save(update_fields=["status", "finished_at", "error_code", "error_message", "error_params"])
            _capture_event(capture, actor, EvidenceEvent.CAPTURE_FAILED, error="not_stored")
    return {"capture": capture.pk, "status": capture.status, "error": capture.error_code or None}
