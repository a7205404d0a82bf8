"""Writes on cases: filing reports, triage, ownership, status, notes, messages, referrals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import require_case_permission, user_has_permission
from vangnet.audit.services import Actor, record_event
from vangnet.common.codes import random_code

from . import tasks
from .choices import ALLOWED_TRANSITIONS, OPEN_STATUSES, CaseEvent, CaseStatus, Priority, TriageRuleEvent
from .models import Case, InternalNote, Message, Referral, TriageOutcome, TriageRule
from . import selectors
from .selectors import active_rules, find_open_case_for_urls
from .triage import ReportFacts, evaluate

from vangnet.intake.models import Report

if TYPE_CHECKING:
    from vangnet.directory.models import ReferralOrganisation

MAX_TEXT = 10_000


def _new_reference() -> str:
    return "C-" + random_code(8)


def _require(actor: Actor, case: Case, permission: str) -> None:
    """Only a staff member holding ``permission`` in the case's organisation may act."""
    require_case_permission(user=actor.user, case=case, permission=permission)


def _merged_steps(*groups: list[str]) -> list[str]:
    """Required steps from several sources, in first-seen order, each once."""
    return list(dict.fromkeys(step for group in groups for step in group))


def _clean_text(text: str, *, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: _("Keep this under %(max)d characters.") % {"max": MAX_TEXT}})
    return text


def _lock_urls(url_hashes: list[str]) -> None:
    """Serialise filings about the same URL until commit, so two reports sent at the same
    moment about new content end up in one case. (SQLite already runs one writer at a time.)"""
    if connection.vendor != "postgresql":
        return
    keys = sorted({int(digest[:15], 16) for digest in url_hashes})  # one order for everyone: no deadlock
    if keys:
        with connection.cursor() as cursor:  # every lock in one round trip
            cursor.execute("SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM unnest(%s::bigint[]) AS k "
                           "ORDER BY k) AS ordered", [keys])


@transaction.atomic
def file_report(*, report: Report, actor: Actor, forms: Sequence[Any] | None = None,
                url_hashes: list[str] | None = None) -> Case:
    """File a new report: into the oldest open case about the same URLs, or a new case; triage it; log it.

    The one call intake makes once the report is stored. ``forms`` (catalogue entries with
    ``slug`` and ``involves_sexual_imagery``) and ``url_hashes`` (every key's digest of each
    URL) save queries when the caller has them; otherwise they are read from the report.
    Triage looks only at the category answers, never at her words.
    """
    if forms is None:
        forms = list(report.forms.all())
    if url_hashes is None:
        url_hashes = [u.normalized_hash for u in report.urls.all()]
    facts = ReportFacts(
        immediate_danger=report.immediate_danger, forms=frozenset(f.slug for f in forms),
        sexual_imagery=any(f.involves_sexual_imagery for f in forms), age_band=report.age_band,
        reporter_role=report.reporter_role, relationship=report.relationship,
        perpetrator_count=report.perpetrator_count, duration=report.duration)
    _lock_urls(url_hashes)
    rules = active_rules()
    fired = evaluate([r.rule for r in rules], facts)
    referral_ids = {r.rule.name: r.referral_ids for r in rules}
    priorities = [f.rule.priority for f in fired if f.rule.priority is not None]
    steps = _merged_steps(*(f.rule.required_steps for f in fired))
    case = find_open_case_for_urls(organisation_id=report.organisation_id, url_hashes=url_hashes, lock=True)
    created = case is None
    if case is None:
        case = Case.objects.create(organisation_id=report.organisation_id, reference=_new_reference(),
                                   priority=min([Priority.P3, *priorities]), required_steps=steps)
    else:
        case.priority = min([case.priority, *priorities])
        case.required_steps = _merged_steps(case.required_steps, steps)
        case.save(update_fields=["priority", "required_steps", "updated_at"])
    Report.objects.filter(pk=report.pk).update(case=case)
    report.case = case
    outcomes = TriageOutcome.objects.bulk_create([
        TriageOutcome(case=case, report=report, rule_name=f.rule.name, reason=f.reason, priority=f.rule.priority,
                      required_steps=list(f.rule.required_steps)) for f in fired])
    Through = TriageOutcome.suggested_referrals.through
    Through.objects.bulk_create([
        Through(triageoutcome_id=outcome.pk, referralorganisation_id=org_id)
        for outcome, fired_rule in zip(outcomes, fired, strict=True)
        for org_id in referral_ids.get(fired_rule.rule.name, ())])
    if created:
        record_event(actor=actor, event_type=CaseEvent.CREATED, subject=case,
                     data={"reference": case.reference, "report": report.receipt_code})
    else:
        record_event(actor=actor, event_type=CaseEvent.REPORT_JOINED, subject=case,
                     data={"report": report.receipt_code, "reason": "same URL as an open case"})
    record_event(actor=actor, event_type=CaseEvent.TRIAGED, subject=case,
                 data={"report": report.receipt_code, "rules": [f.rule.name for f in fired],
                       "priority": case.priority})
    return case


def _priority_from_outcomes(case: Case) -> int:
    best = case.triage_outcomes.filter(priority__isnull=False).aggregate(best=Min("priority"))["best"]
    return Priority.P3 if best is None else min(best, Priority.P3)


@transaction.atomic
def assign_owner(*, case: Case, owner: User, actor: Actor) -> Case:
    """Make ``owner`` the case owner ("regiehouder"); they must work for the case's organisation."""
    _require(actor, case, Permission.ASSIGN)
    if not user_has_permission(user=owner, organisation_id=case.organisation_id, permission=Permission.WORK_CASES):
        raise ValidationError({"owner": _("The case owner must work on cases in this organisation.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    previous = case.owner.get_username() if case.owner else None
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    record_event(actor=actor, event_type=CaseEvent.OWNER_ASSIGNED, subject=case,
                 data={"from": previous, "to": owner.get_username()})
    return case


def _transition(case: Case, new_status: str, *, reason: str, actor: Actor) -> None:
    if new_status not in ALLOWED_TRANSITIONS.get(case.status, frozenset()):
        raise ValidationError({"status": _("A case cannot go from %(old)s to %(new)s.") % {
            "old": CaseStatus(case.status).label, "new": CaseStatus(new_status).label}})
    old = case.status
    case.status = new_status
    case.closed_at = timezone.now() if new_status == CaseStatus.CLOSED else None
    case.save(update_fields=["status", "closed_at", "updated_at"])
    record_event(actor=actor, event_type=CaseEvent.STATUS_CHANGED, subject=case,
                 data={"from": old, "to": new_status, "reason": reason})


@transaction.atomic
def change_status(*, case: Case, status: str, reason: str, actor: Actor) -> Case:
    """Move the case along the allowed transitions; a reason is always required."""
    _require(actor, case, Permission.WORK_CASES)
    reason = _clean_text(reason, field="reason")
    if status not in CaseStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    _transition(case, status, reason=reason, actor=actor)
    return case


@transaction.atomic
def add_note(*, case: Case, text: str, actor: Actor) -> InternalNote:
    _require(actor, case, Permission.WORK_CASES)
    note = InternalNote.objects.create(case=case, author=actor.user, text=_clean_text(text, field="text"))
    record_event(actor=actor, event_type=CaseEvent.NOTE_ADDED, subject=note,
                 organisation_id=case.organisation_id)
    return note


@transaction.atomic
def send_message(*, case: Case, report: Report, text: str, actor: Actor) -> Message:
    """Write to one reporter; she is told by e-mail that a message waits, never what it says."""
    _require(actor, case, Permission.WORK_CASES)
    if report.case_id != case.pk:
        raise ValidationError({"report": _("This report is not part of this case.")})
    if report.is_withdrawn:
        raise ValidationError({"report": _("This report was withdrawn; the reporter can no longer be reached.")})
    message = Message.objects.create(case=case, report=report, author=actor.user, text=_clean_text(text, field="text"))
    record_event(actor=actor, event_type=CaseEvent.MESSAGE_SENT, subject=message,
                 organisation_id=case.organisation_id, data={"report": report.receipt_code})
    if report.contact_preference == "email" and report.contact_email:
        transaction.on_commit(lambda: tasks.notify_reporter_of_message.enqueue(report_id=report.pk))
    return message


@transaction.atomic
def refer_case(*, case: Case, report: Report, organisation: ReferralOrganisation, summary: str,
               actor: Actor) -> Referral:
    """Hand the case over to an organisation the reporter consented to share with."""
    _require(actor, case, Permission.REFER)
    if report.case_id != case.pk:
        raise ValidationError({"report": _("This report is not part of this case.")})
    if report.is_withdrawn or report.consent_share_with_id != organisation.pk:
        raise ValidationError({"organisation": _(
            "The reporter did not consent to sharing her report with this organisation.")})
    case = Case.objects.select_for_update().get(pk=case.pk)
    referral = Referral.objects.create(case=case, report=report, organisation=organisation,
                                       summary=_clean_text(summary, field="summary"), created_by=actor.user)
    record_event(actor=actor, event_type=CaseEvent.REFERRED, subject=referral,
                 organisation_id=case.organisation_id,
                 data={"organisation": organisation.slug, "report": report.receipt_code})
    if case.status != CaseStatus.REFERRED:
        _transition(case, CaseStatus.REFERRED, reason=f"referred to {organisation.slug}", actor=actor)
    if organisation.handover_email:
        transaction.on_commit(lambda: tasks.send_handover.enqueue(referral_id=referral.pk))
    return referral


@transaction.atomic
def merge_cases(*, source: Case, target: Case, actor: Actor) -> Case:
    """Fold ``source`` into ``target``: its reports, notes, messages, triage, evidence and captures move over."""
    _require(actor, source, Permission.MERGE_SPLIT)
    _require(actor, target, Permission.MERGE_SPLIT)
    if source.pk == target.pk:
        raise ValidationError({"target": _("A case cannot be merged into itself.")})
    if source.organisation_id != target.organisation_id:
        raise ValidationError({"target": _("Only cases of the same organisation can be merged.")})
    source, target = (Case.objects.select_for_update().get(pk=source.pk),
                      Case.objects.select_for_update().get(pk=target.pk))
    if source.merged_into_id or target.merged_into_id:
        raise ValidationError({"target": _("This case was already merged.")})
    for related in (source.reports, source.notes, source.messages, source.triage_outcomes, source.referrals,
                    source.evidence, source.captures):
        related.all().update(case=target)
    target.required_steps = _merged_steps(target.required_steps, source.required_steps)
    target.priority = _priority_from_outcomes(target)
    target.save(update_fields=["required_steps", "priority", "updated_at"])
    source.merged_into = target
    source.status = CaseStatus.CLOSED
    source.closed_at = timezone.now()
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    for merged in (source, target):
        record_event(actor=actor, event_type=CaseEvent.MERGED, subject=merged,
                     data={"source": source.reference, "target": target.reference})
    return target


@transaction.atomic
def split_report(*, case: Case, report: Report, actor: Actor) -> Case:
    """Move one report, with its messages, triage and evidence, out into a case of its own."""
    _require(actor, case, Permission.MERGE_SPLIT)
    if report.case_id != case.pk:
        raise ValidationError({"report": _("This report is not part of this case.")})
    if case.reports.count() < 2:
        raise ValidationError({"report": _("A case with one report cannot be split.")})
    new_case = Case.objects.create(organisation_id=case.organisation_id, reference=_new_reference(),
                                   status=CaseStatus.TRIAGED if case.status != CaseStatus.NEW else CaseStatus.NEW)
    report.case = new_case
    report.save(update_fields=["case"])
    case.messages.filter(report=report).update(case=new_case)
    case.evidence.filter(report=report).update(case=new_case)
    moved = case.triage_outcomes.filter(report=report)
    steps = _merged_steps(*(outcome.required_steps for outcome in moved))
    moved.update(case=new_case)
    new_case.required_steps = steps
    new_case.priority = _priority_from_outcomes(new_case)
    new_case.save(update_fields=["required_steps", "priority"])
    case.priority = _priority_from_outcomes(case)
    case.save(update_fields=["priority", "updated_at"])
    for affected in (case, new_case):
        record_event(actor=actor, event_type=CaseEvent.SPLIT, subject=affected,
                     data={"report": report.receipt_code, "from": case.reference, "to": new_case.reference})
    return new_case


def close_if_no_active_reports(*, case: Case, actor: Actor, reason: str) -> None:
    """Close a case whose every report was withdrawn: nobody is left to help."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status in OPEN_STATUSES and not case.reports.filter(withdrawn_at__isnull=True).exists():
        _transition(case, CaseStatus.CLOSED, reason=reason, actor=actor)


ERASED = "—"


def erase_case_texts(*, case: Case, actor: Actor) -> None:
    """Blank staff-written texts of a case whose retention period ended (notes, messages, hand-overs).

    The rows stay, so the timeline and the figures still show that the work was done.
    """
    case.notes.update(text=ERASED)
    case.messages.update(text=ERASED)
    case.referrals.update(summary=ERASED)
    case.texts_erased_at = timezone.now()
    case.save(update_fields=["texts_erased_at", "updated_at"])
    record_event(actor=actor, event_type=CaseEvent.ERASED, subject=case, data={"closed_at": case.closed_at})


MAX_HOLD_REASON = 500


def _require_owner_or_coordinator(actor: Actor, case: Case) -> None:
    """See ``selectors.may_manage_legal_hold``."""
    if actor.user is None or not selectors.may_manage_legal_hold(user=actor.user, case=case):
        raise PermissionDenied(_("You may not do this for this case."))


@transaction.atomic
def set_legal_hold(*, case: Case, reason: str, actor: Actor) -> Case:
    """Put the case on legal hold ("bewaarplicht"): no retention period deletes anything of it until lifted.

    Evidence bytes, the reporters' personal data and the staff texts all stay. For the case
    owner or a supervisor/administrator; the reason (for example a police request) is required.
    Setting it again replaces the reason and keeps the original moment and person.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)  # the owner as she is now
    _require_owner_or_coordinator(actor, case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    if len(reason) > MAX_HOLD_REASON:
        raise ValidationError({"reason": _("Keep this under %(max)d characters.") % {"max": MAX_HOLD_REASON}})
    previous = case.legal_hold_reason
    if not case.on_legal_hold:
        case.legal_hold_set_at = timezone.now()
        case.legal_hold_set_by = actor.user
    case.legal_hold_reason = reason
    case.save(update_fields=["legal_hold_reason", "legal_hold_set_at", "legal_hold_set_by", "updated_at"])
    record_event(actor=actor, event_type=CaseEvent.LEGAL_HOLD_SET, subject=case,
                 data={"reason": reason, "previous_reason": previous or None})
    return case


@transaction.atomic
def lift_legal_hold(*, case: Case, actor: Actor) -> Case:
    """End the legal hold: from the next daily housekeeping on, the retention periods apply again.

    Periods are counted from the closing as always, so what expired during the hold goes in
    that next run. The same people as for setting it; the event keeps the reason and since when.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    _require_owner_or_coordinator(actor, case)
    if not case.on_legal_hold:
        raise ValidationError(_("This case is not on legal hold."))
    assert case.legal_hold_set_at is not None
    data = {"reason": case.legal_hold_reason, "set_at": case.legal_hold_set_at.isoformat(),
            "set_by": case.legal_hold_set_by.get_username() if case.legal_hold_set_by else None}
    case.legal_hold_reason, case.legal_hold_set_at, case.legal_hold_set_by = "", None, None
    case.save(update_fields=["legal_hold_reason", "legal_hold_set_at", "legal_hold_set_by", "updated_at"])
    record_event(actor=actor, event_type=CaseEvent.LEGAL_HOLD_LIFTED, subject=case, data=data)
    return case


@transaction.atomic
def set_ncii_consent(*, case: Case, consent: bool, actor: Actor) -> Case:
    """Record that the victim consents to the NCII bank, or that she withdraws her consent.

    With her consent, the hashes (never the images) of intimate images a provider removed join
    the shared NCII bank that platforms match against, so a re-upload elsewhere is recognised
    (``notices.reupload``); images removed before she consented join now. Offered only for a case
    about sexual imagery of an adult (``selectors.concerns_adult_sexual_imagery``), never a
    minor's. Withdrawing takes every hash of the case (and of cases merged into it) out of the
    shared banks again, each removal logged. For the same people as a legal hold.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if actor.user is None or not selectors.may_manage_ncii_consent(user=actor.user, case=case):
        raise PermissionDenied(_("You may not do this for this case."))
    if consent:
        if case.has_ncii_consent:
            raise ValidationError({"consent": _("Her consent is already recorded.")})
        if not selectors.concerns_adult_sexual_imagery(case=case):
            raise ValidationError({"consent": _(
                "Only a case about intimate images of an adult can feed the NCII bank.")})
        case.ncii_consent_at, case.ncii_consent_by = timezone.now(), actor.user.get_username()
        case.save(update_fields=["ncii_consent_at", "ncii_consent_by", "updated_at"])
        record_event(actor=actor, event_type=CaseEvent.NCII_CONSENT_GIVEN, subject=case, data={})
        from vangnet.notices.reupload import feed_ncii

        feed_ncii(case, actor)
        return case
    if not case.has_ncii_consent:
        raise ValidationError({"consent": _("No consent is recorded for this case.")})
    assert case.ncii_consent_at is not None
    data = {"given_at": case.ncii_consent_at.isoformat(), "given_by": case.ncii_consent_by}
    case.ncii_consent_at, case.ncii_consent_by = None, ""
    case.save(update_fields=["ncii_consent_at", "ncii_consent_by", "updated_at"])
    from vangnet.hashing.services import remove_case_entries

    merged = list(Case.objects.filter(merged_into=case).values_list("pk", flat=True))
    removed = remove_case_entries(case_ids=[case.pk, *merged], actor=actor)
    record_event(actor=actor, event_type=CaseEvent.NCII_CONSENT_WITHDRAWN, subject=case,
                 data={**data, "hashes_removed": removed})
    return case


RULE_FIELDS = ("name", "conditions", "priority", "required_steps", "is_active", "order")


@transaction.atomic
def save_triage_rule(*, rule: TriageRule, actor: Actor) -> TriageRule:
    """Create or change a triage rule (the admin calls this); a broken rule is refused, the change is logged.

    The event names the fields whose stored value changed, with their new values. Rules are
    switched off (``is_active``), never deleted, so the case pages can still say why a rule fired.
    """
    before = TriageRule.objects.select_for_update().filter(pk=rule.pk).first() if rule.pk else None
    rule.full_clean()
    rule.save()
    changed = [f for f in RULE_FIELDS if before is None or getattr(before, f) != getattr(rule, f)]
    if before is not None and not changed:
        return rule
    record_event(actor=actor, subject=rule,
                 event_type=TriageRuleEvent.CREATED if before is None else TriageRuleEvent.CHANGED,
                 data={"changed": changed, **{f: getattr(rule, f) for f in changed}})
    return rule
