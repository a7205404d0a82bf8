"""Writes of notice-and-action: draft, edit, queue, confirm by hand, cancel, record replies and outcomes.

Every step is an event on the case. Sending itself is the outbox's job (``notices.outbox``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import require_case_permission
from vangnet.audit.services import Actor, record_event
from vangnet.common.models import lock_only_self
from vangnet.evidence.models import EvidenceItem
from vangnet.intake.models import ReportedUrl
from vangnet.intake.normalization import UrlError, check_url

from . import compose
from .channels import CHANNELS
from .choices import ACTED, DeliveryState, EscalationStep, NoticeEvent, NoticeStatus, Outcome
from .models import Delivery, Escalation, Notice, NoticeUrl

MAX_BODY = 20_000
logger = logging.getLogger(__name__)


def _require(actor: Actor, case: Any, permission: str = Permission.WORK_CASES) -> None:
    require_case_permission(user=actor.user, case=case, permission=permission)


def _event(notice: Notice, actor: Actor, event_type: str, **data: Any) -> None:
    record_event(actor=actor, event_type=event_type, subject=notice, case_id=notice.case_id,
                 organisation_id=notice.case.organisation_id,
                 data={"reference": notice.reference, "provider": notice.provider.slug, **data})


def _normalized(url: str) -> str | None:
    try:
        return check_url(url).normalized
    except UrlError:  # an address kept from elsewhere that is not one we can compare
        return None


def _evidence_for(case: Any, url: str, reported: ReportedUrl | None) -> list[EvidenceItem]:
    """Evidence that shows this URL: what its reporter added, and captures of the same address."""
    normalized = _normalized(url)
    items = []
    for item in EvidenceItem.objects.filter(case=case).order_by("pk"):
        by_report = reported is not None and item.report_id == reported.report_id
        by_capture = bool(item.source_url) and _normalized(item.source_url) == normalized
        if by_report or by_capture:
            items.append(item)
    return items


def _reported_url(case: Any, url: str) -> ReportedUrl | None:
    normalized = check_url(url).normalized
    for reported in ReportedUrl.objects.filter(report__case=case):
        if reported.normalized == normalized:
            return reported
    return None


def draft_notices(*, case: Any, urls: Sequence[str], explanation: str, grounds: Sequence[Any],
                  actor: Actor, follows: Notice | None = None) -> list[Notice]:
    """One draft per provider for the chosen URLs (Art. 16(2) complete), for the handler to review and send.

    Providers are looked up first, outside the drafts' transaction, so an unknown website stays
    flagged for an administrator even though the drafting is refused.
    """
    _require(actor, case)
    explanation = compose.clean_explanation(explanation)
    groups = compose.group_by_provider(compose.clean_urls(urls))
    return _draft(case=case, groups=groups, explanation=explanation, grounds=grounds, actor=actor, follows=follows)


@transaction.atomic
def _draft(*, case: Any, groups: dict[Any, list[str]], explanation: str, grounds: Sequence[Any], actor: Actor,
           follows: Notice | None) -> list[Notice]:
    notifier = compose.notifier_for(case.organisation)
    notices = []
    for provider, provider_urls in groups.items():
        channel = compose.channel_for(provider)
        reference = compose.new_reference()
        drafts = []
        for url in provider_urls:
            reported = _reported_url(case, url)
            drafts.append(compose.DraftUrl(url=url, reported_url=reported, evidence=_evidence_for(case, url, reported)))
        subject, body = compose.render_notice(language=provider.language, provider=provider, reference=reference,
                                              notifier=notifier, urls=drafts, explanation=explanation, grounds=grounds,
                                              follows=follows)
        notice = Notice.objects.create(
            case=case, provider=provider, reference=reference, language=provider.language, channel=channel,
            trusted_flagger=notifier.trusted_flagger, notifier_name=notifier.name, notifier_email=notifier.email,
            explanation=explanation, subject=subject, body=body, created_by=actor.label, follows=follows)
        notice.legal_grounds.set(grounds)
        for draft in drafts:
            row = NoticeUrl.objects.create(notice=notice, url=draft.url, reported_url=draft.reported_url)
            row.evidence.set(draft.evidence or [])
        _event(notice, actor, NoticeEvent.DRAFTED, urls=len(drafts), channel=channel,
               follows=follows.reference if follows else None)
        notices.append(notice)
    return notices


def _locked(notice: Notice) -> Notice:
    return Notice.objects.select_for_update().select_related("case", "provider").get(pk=notice.pk)


@transaction.atomic
def edit_draft(*, notice: Notice, body: str, actor: Actor) -> Notice:
    """The handler's own wording; the text must keep every Art. 16 element to be sent."""
    notice = _locked(notice)
    _require(actor, notice.case)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed."))
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise ValidationError({"body": _("Keep the text between 1 and %(max)d characters.") % {"max": MAX_BODY}})
    notice.body = body + "\n"
    notice.save(update_fields=["body"])
    _event(notice, actor, NoticeEvent.EDITED)
    return notice


def _check_complete(notice: Notice) -> None:
    missing = compose.missing_elements(
        body=notice.body, subject=notice.subject, reference=notice.reference,
        urls=[u.url for u in notice.urls.all()], notifier_name=notice.notifier_name,
        notifier_email=notice.notifier_email, language=notice.language, explanation=notice.explanation)
    if missing:
        raise ValidationError(_("This notice cannot be sent: it lacks %(missing)s (DSA Art. 16(2)).")
                              % {"missing": "; ".join(missing)})


def deadline_after(notice: Notice, sent_at: Any) -> Any:
    hours = (settings.VANGNET_NOTICE_TRUSTED_DEADLINE_HOURS if notice.trusted_flagger
             else settings.VANGNET_NOTICE_DEADLINE_HOURS)
    return sent_at + timedelta(hours=hours)


@transaction.atomic
def send_notice(*, notice: Notice, actor: Actor) -> Notice:
    """Queue a complete draft in the outbox (e-mail, API); its text is fixed from here on.

    A notice for a web-form provider is not queued: the handler pastes it and confirms with
    ``confirm_sent_by_hand``. Nothing is queued when an Art. 16 element is missing.
    """
    notice = _locked(notice)
    _require(actor, notice.case)
    return _queue(notice, actor)


def _queue(notice: Notice, actor: Actor) -> Notice:
    """Queue a locked draft (callers checked who may); the outbox sends it."""
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("This notice was already sent or cancelled."))
    _check_complete(notice)
    channel = CHANNELS.get(notice.channel)
    if channel is None:
        raise ValidationError(_("The channel %(name)s is not available.") % {"name": notice.channel})
    if not channel.automatic:
        raise ValidationError(_("Paste this notice into the provider's web form, then confirm it was sent."))
    now = timezone.now()
    notice.status, notice.queued_at = NoticeStatus.QUEUED, now
    notice.save(update_fields=["status", "queued_at"])
    Delivery.objects.create(notice=notice, channel=notice.channel, next_attempt_at=now)
    _event(notice, actor, NoticeEvent.QUEUED, channel=notice.channel)
    transaction.on_commit(functools.partial(_kick_outbox))
    transaction.on_commit(functools.partial(_keep_pdf, notice.pk))
    return notice


def _keep_pdf(notice_id: int) -> None:
    from .tasks import store_notice_pdf

    store_notice_pdf.enqueue(notice_id=notice_id)


def _kick_outbox() -> None:
    from .tasks import process_outbox

    process_outbox.enqueue()


def mark_sent(notice: Notice, *, at: Any) -> None:
    """After a hand-over: sent, and the provider's deadline starts (callers hold the row lock)."""
    notice.status, notice.sent_at = NoticeStatus.SENT, at
    notice.deadline_at = deadline_after(notice, at)
    notice.save(update_fields=["status", "sent_at", "deadline_at"])


@transaction.atomic
def confirm_sent_by_hand(*, notice: Notice, actor: Actor) -> Notice:
    """The handler pasted the notice into the provider's web form and says so."""
    notice = _locked(notice)
    _require(actor, notice.case)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("This notice was already sent or cancelled."))
    _check_complete(notice)
    mark_sent(notice, at=timezone.now())
    _event(notice, actor, NoticeEvent.SENT_BY_HAND)
    transaction.on_commit(functools.partial(_keep_pdf, notice.pk))
    return notice


@transaction.atomic
def resolve_uncertain(*, notice: Notice, arrived: bool, actor: Actor) -> Notice:
    """After a sender stopped mid-send: the handler checked (sent mail, the provider) and says what happened.

    ``arrived``: it was sent; otherwise it goes back in the outbox, once, by her choice.
    """
    notice = _locked(notice)
    _require(actor, notice.case)
    if notice.status != NoticeStatus.UNCERTAIN:
        raise ValidationError(_("Nothing to check for this notice."))
    now = timezone.now()
    if arrived:
        notice.deliveries.filter(state=DeliveryState.UNCERTAIN).update(state=DeliveryState.SENT, sent_at=now)
        mark_sent(notice, at=now)
        _event(notice, actor, NoticeEvent.SENT, confirmed_by_hand=True)
    else:
        notice.deliveries.filter(state=DeliveryState.UNCERTAIN).update(state=DeliveryState.CANCELLED)
        notice.status = NoticeStatus.QUEUED
        notice.save(update_fields=["status"])
        Delivery.objects.create(notice=notice, channel=notice.channel, next_attempt_at=now)
        _event(notice, actor, NoticeEvent.QUEUED, channel=notice.channel, again=True)
        transaction.on_commit(_kick_outbox)
    return notice


@transaction.atomic
def cancel_notice(*, notice: Notice, actor: Actor) -> Notice:
    notice = _locked(notice)
    _require(actor, notice.case)
    if notice.status not in {NoticeStatus.DRAFT, NoticeStatus.QUEUED}:
        raise ValidationError(_("A notice that was sent cannot be cancelled."))
    if notice.deliveries.filter(state=DeliveryState.SENDING).exists():
        raise ValidationError(_("This notice is being sent right now."))
    notice.deliveries.filter(state=DeliveryState.PENDING).update(state=DeliveryState.CANCELLED)
    notice.status = NoticeStatus.CANCELLED
    notice.save(update_fields=["status"])
    _event(notice, actor, NoticeEvent.CANCELLED)
    return notice


@transaction.atomic
def record_outcome(*, notice: Notice, outcome: str, note: str, actor: Actor) -> Notice:
    """What the provider did; a refusal needs the provider's reason."""
    notice = _locked(notice)
    _require(actor, notice.case)
    if notice.status not in {NoticeStatus.SENT, NoticeStatus.ANSWERED, NoticeStatus.CLOSED}:
        raise ValidationError(_("Record an outcome once the notice was sent."))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    note = (note or "").strip()
    if outcome == Outcome.REFUSED and not note:
        raise ValidationError({"note": _("Write down the provider's reason for refusing.")})
    if len(note) > 5000:
        raise ValidationError({"note": _("Keep this under %(max)d characters.") % {"max": 5000}})
    notice.outcome, notice.outcome_note, notice.outcome_at = outcome, note, timezone.now()
    notice.status = NoticeStatus.CLOSED
    notice.save(update_fields=["outcome", "outcome_note", "outcome_at", "status"])
    _event(notice, actor, NoticeEvent.OUTCOME_RECORDED, outcome=outcome)
    if outcome in ACTED:
        from .reupload import watch_removed

        watch_removed(notice, actor)
    return notice


@transaction.atomic
def notice_for_reupload(*, alert: Any, actor: Actor) -> Notice:
    """One click: a draft to the provider of the new copy, citing the notice that had the first removed."""
    from .models import ReuploadAlert

    alert = (ReuploadAlert.objects.select_for_update(of=lock_only_self()).select_related("case", "item", "original")
             .get(pk=alert.pk))
    _require(actor, alert.case)
    if alert.notice_id:
        raise ValidationError(_("A notice was already drafted for this re-upload."))
    urls = [alert.item.source_url] if alert.item.source_url else (
        [u.url for u in alert.item.report.urls.all()] if alert.item.report_id else [])
    if not urls:
        raise ValidationError(_("The new copy has no address to send a notice about: add it when drafting."))
    original = alert.original
    explanation = original.explanation if original else ""
    grounds = list(original.legal_grounds.all()) if original else []
    notices = draft_notices(case=alert.case, urls=urls, explanation=explanation, grounds=grounds, actor=actor,
                            follows=original)
    alert.notice = notices[0]
    alert.save(update_fields=["notice"])
    return notices[0]


# ---------------------------------------------------------------------------------------------
# Deadlines and escalation


def overdue(now: Any = None) -> Any:
    """Sent notices past their deadline without an outcome, not yet handled by the deadline job."""
    return Notice.objects.filter(status__in=[NoticeStatus.SENT, NoticeStatus.ANSWERED], outcome="",
                                 deadline_at__lt=now or timezone.now(), overdue_handled_at__isnull=True)


def handle_deadlines(*, now: Any = None) -> dict[str, int]:
    """For each notice past its deadline: an event, a reminder to the case owner, one automatic follow-up.

    The follow-up is a new notice to the same provider about the same addresses that cites the
    first; it is queued at once where the provider takes notices automatically (e-mail, API), and
    left as a draft for a web form. Each notice is handled once (``overdue_handled_at``).
    """
    from django.db import connection

    actor = Actor.system("notice deadlines")
    counts = {"overdue": 0, "reminded": 0, "follow_ups": 0}
    for pk in list(overdue(now).values_list("pk", flat=True)):
        with transaction.atomic():
            notice = (overdue(now).select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked,
                                                     of=lock_only_self())
                      .select_related("case", "case__owner", "provider").filter(pk=pk).first())
            if notice is None:
                continue
            notice.overdue_handled_at = timezone.now()
            notice.save(update_fields=["overdue_handled_at"])
            _event(notice, actor, NoticeEvent.OVERDUE, deadline_at=notice.deadline_at.isoformat())
            counts["overdue"] += 1
            owner = notice.case.owner
            if owner is not None and owner.email:
                transaction.on_commit(functools.partial(_remind, owner.email, notice.pk), robust=True)
                counts["reminded"] += 1
            if not notice.follow_ups.exists():
                try:
                    with transaction.atomic():
                        follow_up = _follow_up(notice, actor)
                except ValidationError as exc:  # e.g. the provider lost its point of contact: the handler sees it
                    logger.warning("No automatic follow-up for notice %s: %s", notice.reference, exc.messages)
                    follow_up = None
                counts["follow_ups"] += 1 if follow_up else 0
    return counts


def _remind(address: str, notice_id: int) -> None:
    from django.urls import reverse

    from vangnet.common.email import send_templated

    notice = Notice.objects.select_related("case", "provider").get(pk=notice_id)
    send_templated(to=address, template="notices/email/overdue", language="nl", context={
        "notice": notice, "case_url": settings.VANGNET_SITE_URL + reverse("cases:detail", args=[notice.case_id])})


def _follow_up(notice: Notice, actor: Actor) -> Notice | None:
    urls = [u.url for u in notice.urls.all()]
    [follow_up] = _draft(case=notice.case, groups={notice.provider: urls}, explanation=notice.explanation,
                         grounds=list(notice.legal_grounds.all()), actor=actor, follows=notice)
    channel = CHANNELS.get(follow_up.channel)
    if channel is not None and channel.automatic:
        _queue(_locked(follow_up), actor)
    return follow_up


ESCALATION_PLACES = {
    EscalationStep.DPA: "VANGNET_DPA_COMPLAINT_URL",
    EscalationStep.POLICE: "VANGNET_POLICE_REPORT_URL",
}


@transaction.atomic
def prepare_escalation(*, notice: Notice, step: str, actor: Actor) -> Escalation:
    """The next step when a provider does not act: the text prepared, where it goes, an event.

    For the upstream provider this drafts a notice to it (citing the first), for the handler to
    check and send like any other.
    """
    notice = _locked(notice)
    _require(actor, notice.case)
    if step not in EscalationStep.values:
        raise ValidationError({"step": _("Choose a step.")})
    if not notice.sent_at:
        raise ValidationError(_("Escalate once the notice was sent."))
    if notice.outcome and notice.outcome not in {Outcome.REFUSED, Outcome.NO_ANSWER, Outcome.PARTLY}:
        raise ValidationError(_("The provider acted on this notice."))
    upstream_notice, where, text = None, "", ""
    if step == EscalationStep.UPSTREAM:
        upstream = notice.provider.upstream
        if upstream is None:
            raise ValidationError({"step": _("No upstream provider is known for %(provider)s.")
                                   % {"provider": notice.provider.name}})
        [upstream_notice] = _draft(case=notice.case, groups={upstream: [u.url for u in notice.urls.all()]},
                                   explanation=notice.explanation, grounds=list(notice.legal_grounds.all()),
                                   actor=actor, follows=notice)
        where, text = upstream.name, upstream_notice.body
    else:
        if step == EscalationStep.COORDINATOR:
            coordinator = notice.provider.coordinator
            if coordinator is None:
                raise ValidationError({"step": _("No Digital Services Coordinator is known for %(provider)s.")
                                       % {"provider": notice.provider.name}})
            where = coordinator.complaint_url or coordinator.complaint_email or coordinator.name
            language = "nl" if coordinator.country == "NL" else "en"
        else:
            where, language = getattr(settings, ESCALATION_PLACES[EscalationStep(step)]), "nl"
        with translation.override(language):
            text = render_to_string(f"notices/escalation_{step}_{language}.txt", {"notice": notice})
    escalation = Escalation.objects.create(notice=notice, step=step, text=text, where=where[:300],
                                           upstream_notice=upstream_notice, created_by=actor.label)
    _event(notice, actor, NoticeEvent.ESCALATED, step=step,
           upstream_notice=upstream_notice.reference if upstream_notice else None)
    return escalation
