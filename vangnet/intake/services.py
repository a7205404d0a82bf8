"""Writes of the reporting facility: submitting, adding information, withdrawing."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.models import ApiToken, Organisation
from vangnet.audit.services import Actor, batched_events, record_event
from vangnet.cases import selectors as case_selectors
from vangnet.cases import services as case_services
from vangnet.common.models import lock_only_self
from vangnet.common.crypto import keyed_hash, seal, url_hash_keys
from vangnet.directory.selectors import shareable_catalogue
from vangnet.evidence.choices import Source as EvidenceSource
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.services import add_evidence
from vangnet.taxonomy.selectors import form_catalogue

from . import tasks
from .choices import Channel, ContactPreference, ReportEvent
from .models import FollowupAttempts, Report, ReportAddition, ReportedUrl
from .receipts import hash_secret, new_receipt_code, new_secret


def count_followup_attempt(*, receipt_code: str, now: datetime | None = None) -> int:
    """Count one sign-in attempt for a receipt code and return the count in the current window.

    Called *before* the secret is checked. The row is created if missing and then raised
    in one UPDATE that holds its row lock until the transaction ends, so simultaneous
    attempts each get a different count and at most ``VANGNET_FOLLOWUP_CODE_FAILURES``
    of them see a count low enough to check a secret. A window that has ended starts
    again at 1; each attempt up to the limit moves the window's end forward (as the lockout
    did before), attempts after it do not, so a locked code unlocks on time.
    """
    now = now or timezone.now()
    window_end = now + timedelta(seconds=settings.VANGNET_FOLLOWUP_LOCKOUT_SECONDS)
    rows = FollowupAttempts.objects.filter(receipt_code=receipt_code)
    ended = Q(window_ends_at__lte=now)
    with transaction.atomic():
        FollowupAttempts.objects.bulk_create(
            [FollowupAttempts(receipt_code=receipt_code, attempts=0, window_ends_at=window_end)],
            ignore_conflicts=True)
        rows.update(
            attempts=Case(When(ended, then=Value(1)), default=F("attempts") + 1),
            window_ends_at=Case(When(ended | Q(attempts__lt=settings.VANGNET_FOLLOWUP_CODE_FAILURES),
                                     then=Value(window_end)), default=F("window_ends_at")))
        return rows.values_list("attempts", flat=True).get()


def clear_followup_attempts(*, receipt_code: str, now: datetime | None = None) -> None:
    """Forget the attempts on a code after the right secret, and rows whose window has ended."""
    FollowupAttempts.objects.filter(Q(receipt_code=receipt_code) | Q(window_ends_at__lte=now or timezone.now())
                                    ).delete()


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    secret: str


@transaction.atomic
def submit_report(*, data: dict[str, Any], organisation: Organisation, channel: Channel, actor: Actor,
                  language: str = "nl", api_token: ApiToken | None = None) -> SubmittedReport:
    """Store a validated report (``ReportForm.cleaned_data``), file it in a case and triage it.

    Everything happens in one transaction: when this returns, the report is committed or
    nothing is. The receipt e-mail is queued only after the commit.
    """
    with batched_events():
        return _submit_report(data=data, organisation=organisation, channel=channel, actor=actor, language=language,
                              api_token=api_token)


def _submit_report(*, data: dict[str, Any], organisation: Organisation, channel: Channel, actor: Actor,
                   language: str, api_token: ApiToken | None) -> SubmittedReport:
    secret = new_secret()
    catalogue = form_catalogue()
    forms = [catalogue[slug] for slug in data["forms"] if slug in catalogue]
    share_with = shareable_catalogue().get(data.get("share_with") or "")
    urls = data.get("urls", [])
    report = Report.objects.create(
        receipt_code=new_receipt_code(), secret_hash=hash_secret(secret), organisation=organisation,
        channel=channel, submitted_via=api_token, language=language if language in {"nl", "en"} else "nl",
        reporter_role=data["reporter_role"], description=data.get("description", ""),
        platform=data.get("platform", ""), immediate_danger=data["immediate_danger"] == "yes",
        age_band=data["age_band"], relationship=data.get("relationship", ""),
        perpetrator_count=data.get("perpetrator_count", ""), duration=data.get("duration", ""),
        contact_preference=data.get("contact_preference") or ContactPreference.NONE,
        contact_email=data.get("contact_email", ""), contact_phone=data.get("contact_phone", ""),
        consent_processing=bool(data["consent_processing"]),
        consent_share_with_id=share_with.id if share_with else None,
    )
    Report.forms.through.objects.bulk_create(
        Report.forms.through(report_id=report.pk, formofviolence_id=f.id) for f in forms)
    ReportedUrl.objects.bulk_create(
        ReportedUrl(report=report, url=u.original, normalized=u.normalized, normalized_hash=u.digest) for u in urls)
    record_event(actor=actor, event_type=ReportEvent.SUBMITTED, subject=report,
                 data={"receipt_code": report.receipt_code, "channel": channel, "urgent": report.immediate_danger})
    # Every key's digest, so an open case whose URLs were hashed before a key rotation is still found.
    case_services.file_report(report=report, actor=actor, forms=forms, url_hashes=[d for u in urls for d in u.digests])
    if report.contact_email:
        sealed = seal(secret) if data.get("email_secret") else ""
        transaction.on_commit(lambda: tasks.send_receipt.enqueue(report_id=report.pk, sealed_secret=sealed))
    return SubmittedReport(report=report, secret=secret)


@transaction.atomic
def add_information(*, report: Report, text: str, actor: Actor) -> ReportAddition:
    """The reporter adds to her own report; the case owner sees it on the case page."""
    if report.is_withdrawn:
        raise ValueError("A withdrawn report takes no additions.")
    addition = ReportAddition.objects.create(report=report, text=text.strip())
    record_event(actor=actor, event_type=ReportEvent.INFO_ADDED, subject=report,
                 data={"receipt_code": report.receipt_code})
    return addition


def add_report_evidence(*, report: Report, data: bytes, original_name: str, actor: Actor,
                        source: EvidenceSource) -> EvidenceItem:
    """A file for a report from whoever made it: the reporter on the web, or the partner that sent it.

    The report is locked while the file is added, so a withdrawal cannot slip in between, and
    a withdrawn report takes no files. The rest is the vault's (``evidence.services.add_evidence``):
    size and type read from the bytes, hashes, sealing and durable storage before this returns,
    the hard rule for a minor and sexual imagery, the custody event. A refused file raises
    ``ValidationError`` (``{"file": [message]}``) and changes nothing.
    """
    with transaction.atomic():
        # Only the report row: the case is joined by an outer join, which PostgreSQL will not lock.
        locked = Report.objects.select_for_update(of=lock_only_self()).select_related("case").get(pk=report.pk)
        if locked.is_withdrawn or locked.case is None:
            raise ValidationError({"file": _("This report was withdrawn: it takes no more files.")})
        return add_evidence(case=locked.case, report=locked, data=data, actor=actor, source=source,
                            original_name=clean_file_name(original_name))


# Direction overrides and isolates: "photo\u202egpj.exe" shows as "photoexe.jpg".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_file_name(name: str) -> str:
    """The name as she gave it, at most 255 characters, without control characters (a NUL, a line break)
    or the direction controls that make a name look like another."""
    return "".join(ch for ch in name if unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS).strip()[:255]


@transaction.atomic
def revoke_sharing_consent(*, report: Report, actor: Actor) -> Report:
    """The reporter no longer wants her report passed on; referrals already made stay on record."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.consent_share_with_id is None:
        return report
    report.consent_share_with = None
    report.save(update_fields=["consent_share_with"])
    record_event(actor=actor, event_type=ReportEvent.SHARING_REVOKED, subject=report,
                 data={"receipt_code": report.receipt_code})
    return report


ERASED_FIELDS = ("description", "platform", "contact_email", "contact_phone")


def _erase_personal_data(report: Report) -> None:
    """Blank what identifies the reporter or tells her story; keep the anonymous category answers.

    What is kept (forms of violence, age band, relationship, number of perpetrators,
    duration, dates) identifies nobody and is needed for the statistics the law asks for
    and for accountability of what staff did.
    """
    for field in ERASED_FIELDS:
        setattr(report, field, "")
    report.contact_preference = ContactPreference.NONE
    report.consent_share_with = None
    report.erased_at = timezone.now()
    report.save(update_fields=[*ERASED_FIELDS, "contact_preference", "consent_share_with", "erased_at"])
    report.urls.all().delete()
    report.additions.all().delete()
    report.messages.all().delete()


@transaction.atomic
def withdraw_report(*, report: Report, actor: Actor) -> Report:
    """The reporter withdraws: her personal data is erased and a case left without reports closes."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.is_withdrawn:
        return report
    report.withdrawn_at = timezone.now()
    report.save(update_fields=["withdrawn_at"])
    _erase_personal_data(report)
    from vangnet.evidence.services import purge_reporter_evidence  # evidence depends on intake, not back

    files = purge_reporter_evidence(report=report, actor=actor)
    record_event(actor=actor, event_type=ReportEvent.WITHDRAWN, subject=report,
                 data={"receipt_code": report.receipt_code, "files_deleted": files})
    if report.case is not None:
        case_services.close_if_no_active_reports(case=report.case, actor=Actor.system(),
                                                 reason="every report in the case was withdrawn")
    return report


def rehash_urls(*, batch_size: int = 500) -> int:
    """Re-key every stored URL hash with the current URL hash key; returns how many changed.

    Run after putting a new key in front of ``VANGNET_URL_HASH_KEYS``; the old key can go once
    this has finished. The normal form is stored (encrypted), so each hash is recomputed.
    """
    current = url_hash_keys()[0]
    changed = 0
    stale: list[ReportedUrl] = []
    rows = ReportedUrl.objects.only("id", "normalized", "normalized_hash").order_by("id")
    for url in rows.iterator(chunk_size=batch_size):
        digest = keyed_hash(url.normalized, current)
        if url.normalized_hash != digest:
            url.normalized_hash = digest
            stale.append(url)
        if len(stale) >= batch_size:
            changed += ReportedUrl.objects.bulk_update(stale, ["normalized_hash"])
            stale = []
    if stale:
        changed += ReportedUrl.objects.bulk_update(stale, ["normalized_hash"])
    return changed


@transaction.atomic
def apply_retention(*, actor: Actor, now: datetime | None = None) -> int:
    """Erase personal data of cases closed longer than ``VANGNET_RETENTION_DAYS`` ago; return how many cases.

    Run daily (``vangnet apply_retention``). A reopened case starts its period again when it
    closes again; a case on legal hold keeps everything until the hold is lifted. Evidence
    files have periods of their own (``evidence.services.purge_expired_evidence``).
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.VANGNET_RETENTION_DAYS)
    cases = list(case_selectors.cases_past_retention(closed_before=cutoff).select_for_update())
    for case in cases:
        for report in case.reports.filter(erased_at__isnull=True):
            _erase_personal_data(report)
            record_event(actor=actor, event_type=ReportEvent.ERASED, subject=report,
                         data={"receipt_code": report.receipt_code, "reason": "retention period ended"})
        case_services.erase_case_texts(case=case, actor=actor)
    return len(cases)
