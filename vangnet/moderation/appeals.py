"""Appeals ("bezwaren") against decisions: the platform's internal complaint-handling system (DSA Art. 20).

A platform passes on its user's appeal (``receive_appeal``); it waits in the appeal queue for a
moderator who did not make the decision appealed (Art. 20(6): never the first decider, and
never solely automated). Upholding keeps the decision (and confirms a fully automated
restriction: its strike counts from then on); overturning a restriction withdraws the strikes
counted for the item, ends the suspensions they led to and records a new decision without
restriction that resolves the appeal.

A notifier may appeal a decision to leave the item (``no_action``): overturning that means
restricting it, which needs a full decision with its statement of reasons. So a plain
"overturn" is refused there; the moderator records the restricting decision with
``decisions.decide(..., appeal=appeal)``, which resolves the appeal as overturned
(``resolve_by_decision``). The platform hears the outcome by webhook. ``appeal_file`` puts the
whole matter in one JSON document for an out-of-court dispute settlement body (Art. 21).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor, record_event
from vangnet.common.models import lock_only_self

from . import queue
from .choices import AppealStatus, ModerationEvent, TaskKind, WebhookEvent
from .decisions import record_no_action, require_moderator, require_other_moderator
from .models import Appeal, Decision, ReviewTask, StatementOfReasons
from .strikes import record_strikes, withdraw_strikes

MAX_REASON = 5000
MAX_EXPLANATION = 5000
FILE_FORMAT = "vangnet-appeal-file/1"


def _clean_text(value: str, *, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep this under %(max)d characters.") % {"max": limit}})
    return value


@transaction.atomic
def receive_appeal(*, organisation: Any, decision: Decision, external_id: str, reason: str, actor: Actor) -> Appeal:
    """A user's appeal against ``decision``, passed on by her platform; queued for review.

    The same ``external_id`` again returns the appeal already received (a platform's retry).
    """
    if decision.organisation_id != organisation.pk:
        raise ValidationError({"decision": _("This platform has no such decision.")})
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 200:
        raise ValidationError({"external_id": _("Give the platform's id of the appeal (at most 200 characters).")})
    reason = _clean_text(reason, field="reason", limit=MAX_REASON)
    existing = Appeal.objects.filter(organisation=organisation, external_id=external_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(organisation=organisation, decision=decision,
                                               external_id=external_id, reason=reason)
        except IntegrityError:  # the same appeal sent twice at once
            existing = Appeal.objects.get(organisation=organisation, external_id=external_id)
    if existing is not None:
        if existing.decision_id != decision.pk:
            raise ValidationError({"external_id": _("This id belongs to an appeal against another decision.")})
        return existing
    record_event(actor=actor, event_type=ModerationEvent.APPEAL_RECEIVED, subject=appeal,
                 data={"decision": decision.pk, "external_id": external_id})
    item = decision.item
    queue.enqueue(item=item, kind=TaskKind.APPEAL, severity=item.severity, actor=actor, appeal=appeal)
    return appeal


def needs_decision(appeal: Appeal) -> bool:
    """Whether overturning ``appeal`` takes a full decision: the decision appealed left the item as it was."""
    return bool(appeal.decision.no_action)


def lock_open_appeal(appeal: Appeal) -> Appeal:
    """The appeal, locked for the deciding transaction; ValidationError when it was decided already."""
    appeal = (Appeal.objects.select_for_update(of=lock_only_self())
              .select_related("organisation", "decision", "decision__item").get(pk=appeal.pk))
    if appeal.status != AppealStatus.OPEN:
        raise ValidationError(_("This appeal was already decided."))
    return appeal


@transaction.atomic
def decide_appeal(*, appeal: Appeal, user: Any, uphold: bool, explanation: str) -> Appeal:
    """Uphold or overturn the decision appealed; raises PermissionDenied for its own decider or a non-moderator.

    Overturning a decision without restriction is refused (ValidationError on ``outcome``): it
    takes a restricting decision, made with ``decisions.decide(..., appeal=appeal)``.
    """
    require_moderator(user=user, organisation_id=appeal.organisation_id)
    appeal = (Appeal.objects.select_for_update(of=lock_only_self())
              .select_related("organisation", "decision", "decision__item").get(pk=appeal.pk))
    require_other_moderator(appeal=appeal, user=user)
    if appeal.status != AppealStatus.OPEN:
        raise ValidationError(_("This appeal was already decided."))
    explanation = _clean_text(explanation, field="explanation", limit=MAX_EXPLANATION)
    if not uphold and needs_decision(appeal):
        raise ValidationError({"outcome": _("The decision appealed left the content as it was: to overturn it, "
                                            "record the restriction in the full decision form.")},
                              code="decision_needed")
    decision = appeal.decision
    appeal.status = AppealStatus.UPHELD if uphold else AppealStatus.OVERTURNED
    appeal.decided_by, appeal.decided_at, appeal.explanation = user, timezone.now(), explanation
    appeal.save(update_fields=["status", "decided_by", "decided_at", "explanation"])
    actor = Actor.staff(user)
    withdrawn, ended, resolution = 0, list[int](), None
    if uphold:
        record_strikes(decision=decision, actor=actor, confirmed=True)  # a moderator confirmed the restriction
    else:
        withdrawn, ended = withdraw_strikes(decision=decision, now=appeal.decided_at)
        resolution = record_no_action(appeal=appeal, user=user, facts=explanation)
    _close(appeal=appeal, actor=actor, withdrawn=withdrawn, ended=ended, resolution=resolution)
    return appeal


def resolve_by_decision(*, appeal: Appeal, user: Any, decision: Decision) -> Appeal:
    """``decision`` (by ``decisions.decide``, inside its transaction) replaces the one appealed: overturned.

    Its facts are the explanation the user receives. A new decision without restriction
    withdraws the item's strikes as a plain overturn does; a restricting one counted its own
    strike already, if the item had none.
    """
    appeal = lock_open_appeal(appeal)
    appeal.status = AppealStatus.OVERTURNED
    appeal.decided_by, appeal.decided_at = user, timezone.now()
    appeal.explanation = (decision.facts or decision.incompatible_explanation or decision.illegal_explanation)[
        :MAX_EXPLANATION]
    appeal.save(update_fields=["status", "decided_by", "decided_at", "explanation"])
    withdrawn, ended = 0, list[int]()
    if decision.no_action:
        withdrawn, ended = withdraw_strikes(decision=appeal.decision, now=appeal.decided_at)
    _close(appeal=appeal, actor=Actor.staff(user), withdrawn=withdrawn, ended=ended, resolution=decision)
    return appeal


def _close(*, appeal: Appeal, actor: Actor, withdrawn: int, ended: list[int], resolution: Decision | None) -> None:
    """The appeal is decided: its tasks done, the next appeal about the item queued, the event and the webhook."""
    decision = appeal.decision
    explanation = appeal.explanation
    for task in ReviewTask.objects.filter(appeal=appeal, done_at__isnull=True):
        queue.complete(task=task)
    _queue_next_appeal(appeal, actor)
    record_event(actor=actor, event_type=ModerationEvent.APPEAL_DECIDED, subject=appeal,
                 data={"decision": decision.pk, "outcome": appeal.status, "strikes_withdrawn": withdrawn,
                       "suspensions_ended": ended, "resolution": resolution.pk if resolution else None})
    from . import webhooks

    webhooks.notify(organisation=appeal.organisation, event_type=WebhookEvent.APPEAL_DECIDED, payload={
        "appeal_id": appeal.external_id,
        "decision_id": decision.pk,
        "item_id": decision.item.external_id,
        "outcome": appeal.status,
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        "explanation": explanation,
        "strikes_withdrawn": withdrawn,
        "suspensions_ended": ended,
        "new_decision_id": resolution.pk if resolution else None,
        "redress": ["out_of_court_settlement", "judicial_redress"],
    })


def _queue_next_appeal(appeal: Appeal, actor: Actor) -> None:
    """Another open appeal about the same item waited behind this one's task (one open task per queue): queue it."""
    waiting = (Appeal.objects.filter(decision__item_id=appeal.decision.item_id, status=AppealStatus.OPEN)
               .exclude(pk=appeal.pk).order_by("received_at", "id").first())
    if waiting is not None and not ReviewTask.objects.filter(appeal=waiting, done_at__isnull=True).exists():
        queue.enqueue(item=appeal.decision.item, kind=TaskKind.APPEAL, severity=appeal.decision.item.severity,
                      actor=actor, appeal=waiting)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@transaction.atomic
def appeal_file(*, appeal: Appeal, user: Any) -> dict[str, Any]:
    """The appeal's file for an out-of-court dispute settlement body (DSA Art. 21), as JSON-ready data.

    It holds the content, the decision, its statement of reasons, the appeal and its outcome and
    a timeline. The author appears only by the platform's pseudonymous id; notifiers appear
    without name, e-mail or text; moderators only as "moderator 1", "moderator 2" (so the body
    can see the appeal was decided by someone else).
    """
    require_moderator(user=user, organisation_id=appeal.organisation_id)
    appeal = Appeal.objects.select_related("organisation", "decision", "decision__item").get(pk=appeal.pk)
    decision = appeal.decision
    item = decision.item
    deciders: dict[int, str] = {}

    def who(user_id: int | None) -> str:
        if user_id is None:
            return "automated"
        return deciders.setdefault(user_id, f"moderator {len(deciders) + 1}")

    def decision_data(row: Decision) -> dict[str, Any]:
        statement = StatementOfReasons.objects.filter(decision=row).first()
        return {
            "id": row.pk, "decided_at": _iso(row.decided_at), "decided_by": who(row.decided_by_id),
            "no_action": row.no_action, "labels": list(row.labels), "visibility": list(row.visibility),
            "visibility_other": row.visibility_other, "monetary": row.monetary, "provision": row.provision,
            "account": row.account, "restriction_end": _iso(row.restriction_end), "ground": row.ground,
            "legal_ground": row.legal_ground, "illegal_explanation": row.illegal_explanation,
            "incompatible_ground": row.incompatible_ground, "incompatible_explanation": row.incompatible_explanation,
            "facts": row.facts, "category": row.category, "source_type": row.source_type,
            "automated_detection": row.automated_detection, "automated_decision": row.automated_decision,
            "statement_of_reasons": statement.payload if statement else None,
        }

    decided = decision_data(decision)
    resolutions = [decision_data(row) for row in appeal.resolutions.order_by("decided_at", "id")]
    notices = list(item.notices.order_by("received_at", "id"))
    strikes = list(decision.strikes.order_by("created_at", "id"))
    timeline = [{"at": _iso(item.received_at), "event": "content_received"}]
    timeline += [{"at": _iso(n.received_at), "event": "notice_received"} for n in notices]
    timeline.append({"at": _iso(decision.decided_at), "event": "decision_made"})
    timeline += [{"at": _iso(s.created_at), "event": "strike_recorded"} for s in strikes]
    timeline += [{"at": _iso(s.withdrawn_at), "event": "strike_withdrawn"} for s in strikes if s.withdrawn_at]
    timeline.append({"at": _iso(appeal.received_at), "event": "appeal_received"})
    if appeal.decided_at:
        timeline.append({"at": _iso(appeal.decided_at), "event": f"appeal_{appeal.status}"})
    timeline += [{"at": r["decided_at"], "event": "decision_replaced"} for r in resolutions]
    timeline.sort(key=lambda entry: entry["at"] or "")
    policy = getattr(appeal.organisation, "moderation_policy", None)
    file = {
        "format": FILE_FORMAT,
        "platform": appeal.organisation.name,
        "dispute_settlement_body": policy.dispute_body if policy else "",
        "terms": policy.terms_url if policy else "",
        "content": {
            "id": item.external_id, "author": item.author_id, "posted_at": _iso(item.content_date),
            "received_at": _iso(item.received_at), "language": item.language, "text": item.text,
            "has_image": item.has_image, "scores": item.scores, "hash_bank_matches": len(item.matches),
        },
        "notices": [{"received_at": _iso(n.received_at), "label": n.label, "trusted_flagger": n.trusted_flagger}
                    for n in notices],
        "decision": decided,
        "statement_of_reasons": decided["statement_of_reasons"],
        "appeal": {"id": appeal.external_id, "received_at": _iso(appeal.received_at), "reason": appeal.reason},
        "outcome": {
            "status": appeal.status, "decided_at": _iso(appeal.decided_at),
            "decided_by": who(appeal.decided_by_id) if appeal.decided_by_id else None,
            "explanation": appeal.explanation, "resolutions": resolutions,
            "strikes_withdrawn": sum(1 for s in strikes if s.withdrawn_at),
        },
        "timeline": timeline,
    }
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.APPEAL_FILE_EXPORTED, subject=appeal,
                 data={"decision": decision.pk, "outcome": appeal.status})
    return file
