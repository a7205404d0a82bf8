"""Decisions on items ("besluiten"): by a moderator (``decide``) or by the platform's policy (``decide_automatically``).

A decision is recorded in the DSA's own terms (Art. 17): the restrictions, the ground with its
provision or clause, the facts, whether detection and decision were automated, and whose
initiative it answers (a user's or a trusted flagger's notice, or the platform's own). A
restricting decision gets its statement of reasons (``moderation.sor``) and, when a moderator
made it, a strike against the author (``moderation.strikes``; a fully automated one counts
only once a moderator confirmed it) in the same transaction; a decision to leave the item
(``no_action``) gets neither. The platform hears of it by webhook, sent after commit from the
outbox, with the users' notices it decided (so the platform can tell those notifiers, Art. 16(5)).

The quick decisions of the review page (``preset_form_data``) are built here too: they are
``DecisionForm`` data like any other, filled in from the item and the platform's policy.

The redress a user has against a decision (the platform's complaint procedure, Art. 20; an
out-of-court dispute settlement body, Art. 21; the courts) is in ``REDRESS`` and in every
decision's webhook, so the platform can tell its user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import user_has_permission
from vangnet.audit.services import Actor, record_event
from vangnet.common.models import lock_only_self

from . import dsa, queue
from .choices import (ACTION_VISIBILITY, RESTRICTING_ACTIONS, ItemSource, ItemStatus, Label, ModerationEvent,
                      NoticeStatus, TaskKind, WebhookEvent)
from .forms import DecisionForm
from .models import Appeal, Decision, Item, Policy, PolicyRule, ReviewTask, StatementOfReasons
from .policy import DEFAULT_CATEGORY, EffectivePolicy
from .sor import content_types_for, record_statement
from .strikes import record_strikes, was_warned

# What a user can do against a decision, in the order the DSA gives them (stable codes for platforms).
REDRESS: tuple[str, ...] = ("internal_complaint", "out_of_court_settlement", "judicial_redress")

# The fields of ``DecisionForm`` stored on the decision as they are.
FORM_FIELDS: tuple[str, ...] = (
    "no_action", "labels", "visibility", "visibility_other", "monetary", "monetary_other", "provision", "account",
    "restriction_end", "ground", "legal_ground", "illegal_explanation", "incompatible_ground",
    "incompatible_explanation", "incompatible_illegal", "ground_reference_url", "facts", "category",
    "category_addition", "keywords", "keyword_other", "territorial_scope", "account_type",
)


def require_moderator(*, user: Any, organisation_id: int) -> None:
    """Only a staff member holding ``MODERATE`` in the platform may decide on its content."""
    if user is None or not user_has_permission(user=user, organisation_id=organisation_id,
                                               permission=Permission.MODERATE):
        raise PermissionDenied(_("You may not decide on this platform's content."))


def require_other_moderator(*, appeal: Appeal, user: Any) -> None:
    """The moderator who made the decision appealed never decides the appeal (DSA Art. 20(6))."""
    if appeal.decision.decided_by_id is not None and appeal.decision.decided_by_id == user.pk:
        raise PermissionDenied(_("Another moderator must decide the appeal against your own decision."))


def _locked_item(item: Item) -> Item:
    return (Item.objects.select_for_update(of=lock_only_self()).select_related("organisation")
            .get(pk=item.pk))


def decision_payload(decision: Decision, *, notices: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """What the platform's webhook hears about a decision (no moderator, no text).

    ``notices`` are the platform's ids of the users' notices this decision decided: the
    platform tells those notifiers the outcome (DSA Art. 16(5)).
    """
    statement = StatementOfReasons.objects.filter(decision=decision).values_list("puid", flat=True).first()
    return {
        "decision_id": decision.pk,
        "item_id": decision.item.external_id,
        "notices": list(notices),
        "decided_at": decision.decided_at.isoformat(),
        "no_action": decision.no_action,
        "labels": list(decision.labels),
        "visibility": list(decision.visibility),
        "monetary": decision.monetary or None,
        "provision": decision.provision or None,
        "account": decision.account or None,
        "restriction_end": decision.restriction_end.isoformat() if decision.restriction_end else None,
        "ground": decision.ground or None,
        "category": decision.category or None,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision,
        "statement_puid": statement,
        "appeal_id": decision.appeal.external_id if decision.appeal_id and decision.appeal else None,
        "redress": list(REDRESS),
    }


def _source_of(item: Item) -> str:
    """Whose initiative the decision answers: a trusted flagger's or a user's notice, or the platform's own.

    An item that came in as a notice, or that users noticed (decided already or not), was
    brought to the platform's attention by them, whoever decides on it and however often.
    """
    notices = list(item.notices.values_list("trusted_flagger", flat=True))
    if any(notices):
        return dsa.SourceType.TRUSTED_FLAGGER
    if notices or item.source == ItemSource.NOTICE:
        return dsa.SourceType.ARTICLE_16
    return dsa.SourceType.VOLUNTARY


def _event_data(decision: Decision) -> dict[str, Any]:
    return {"item": decision.item_id, "no_action": decision.no_action, "visibility": list(decision.visibility),
            "monetary": decision.monetary, "provision": decision.provision, "account": decision.account,
            "ground": decision.ground, "category": decision.category,
            "automated_decision": decision.automated_decision, "appeal": decision.appeal_id}


def _settle_item(item: Item, *, status: str) -> None:
    """The item is decided: its status, and the sealed image no longer kept."""
    item.status = status
    item.image_sealed = None
    item.save(update_fields=["status", "image_sealed"])


@transaction.atomic
def decide(*, item: Item, user: Any, form_data: dict[str, Any], task: ReviewTask | None = None,
           appeal: Appeal | None = None) -> Decision:
    """A moderator's decision on ``item``, validated by ``DecisionForm``; raises ValidationError or PermissionDenied.

    ``task`` is the review task she took (completed here); ``appeal`` the appeal the decision
    resolves (she may not be who made the decision appealed; the appeal's outcome itself is
    ``appeals.decide_appeal``'s). Users' notices about the item are decided with it.
    """
    require_moderator(user=user, organisation_id=item.organisation_id)
    item = _locked_item(item)
    from .appeals import lock_open_appeal, resolve_by_decision
    if not item.organisation.is_platform:
        raise PermissionDenied(_("You may not decide on this platform's content."))
    now = timezone.now()
    if task is not None:
        task = ReviewTask.objects.select_for_update(of=lock_only_self()).get(pk=task.pk)
        if task.item_id != item.pk:
            raise ValidationError(_("This review task is about another item."))
        if task.done_at is not None:
            raise ValidationError(_("This review task was already decided."))
        if (task.assigned_to_id not in (None, user.pk) and task.lease_expires_at is not None
                and task.lease_expires_at > now):
            raise ValidationError(_("Another moderator is working on this review task."))
        if appeal is None and task.appeal_id is not None:
            appeal = task.appeal
    if appeal is not None:
        appeal = lock_open_appeal(appeal)
        if appeal.decision.item_id != item.pk:
            raise ValidationError(_("This appeal is about another item."))
        require_other_moderator(appeal=appeal, user=user)
    elif task is None and item.status == ItemStatus.DECIDED:
        raise ValidationError(_("This item was already decided."))

    form = DecisionForm(data=form_data, author_warned=was_warned(organisation_id=item.organisation_id,
                                                                 author_id=item.author_id))
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    data = {field: form.cleaned_data.get(field) for field in FORM_FIELDS}
    for field, value in data.items():
        if value is None and field != "restriction_end":
            data[field] = ""
    source_type = _source_of(item)
    decision = Decision.objects.create(
        organisation_id=item.organisation_id, item=item, decided_by=user, appeal=appeal,
        content_types=content_types_for(item), source_type=source_type,
        automated_detection=source_type == dsa.SourceType.VOLUNTARY and bool(item.flagged or item.matches),
        automated_decision=dsa.AutomatedDecision.NOT_AUTOMATED, **data)
    _settle_item(item, status=ItemStatus.DECIDED)
    actor = Actor.staff(user)
    if not decision.no_action:
        record_statement(decision)
    record_event(actor=actor, event_type=ModerationEvent.DECISION_MADE, subject=decision, data=_event_data(decision))
    record_strikes(decision=decision, actor=actor)
    if task is not None:
        queue.complete(task=task)
    if appeal is None:
        for kind in (TaskKind.FLAGGED, TaskKind.NOTICE):
            queue.complete_all(item=item, kind=kind)
    open_notices = item.notices.filter(status=NoticeStatus.OPEN)
    decided_notices = list(open_notices.order_by("received_at", "id").values_list("external_id", flat=True))
    open_notices.update(status=NoticeStatus.DECIDED)
    from . import webhooks

    webhooks.notify(organisation=item.organisation, event_type=WebhookEvent.DECISION_MADE,
                    payload=decision_payload(decision, notices=decided_notices))
    if appeal is not None:
        resolve_by_decision(appeal=appeal, user=user, decision=decision)
    return decision


def _automatic_texts(label: str) -> tuple[str, str]:
    """The explanation and the facts of an automatic restriction (no content, no personal data)."""
    if label:
        name = Label(label).label
        explanation = _("The platform's terms do not allow content of this kind: %(label)s.") % {"label": name}
        facts = _("The content was checked automatically when it was posted. The platform's classifier scored it "
                  "as '%(label)s' at or above the score from which the platform's policy restricts content "
                  "without review.") % {"label": name}
    else:
        explanation = _("The platform's terms do not allow images that are known to violate them.")
        facts = _("The content was checked automatically when it was posted. Its image matched a hash bank of "
                  "images known to violate the platform's terms, which the platform's policy restricts without "
                  "review.")
    return explanation, facts


@transaction.atomic
def decide_automatically(*, item: Item, action: str, label: str, actor: Actor) -> Decision:
    """The policy restricted ``item`` at once with ``action`` for ``label`` ("" for a hash-bank match).

    A fully automated decision on the ground of the platform's terms (the rule's clause), with
    the rule's category; its source is the platform's own initiative unless the item came in as
    a user's notice. Its statement and webhook follow; its strike waits for a moderator's
    confirmation (``moderation.strikes``).
    """
    if action not in RESTRICTING_ACTIONS:
        raise ValueError(f"{action!r} is not a restricting action.")
    item = _locked_item(item)
    policy = Policy.objects.filter(organisation_id=item.organisation_id).first()
    rule = PolicyRule.objects.filter(policy=policy, label=label).first() if policy and label else None
    if rule is not None:
        category = rule.category
    elif label:
        category = DEFAULT_CATEGORY.get(label, dsa.StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH)
    else:  # a hash-bank match
        category = dsa.StatementCategory.OTHER_VIOLATION_TC
    with translation.override(settings.LANGUAGE_CODE):
        # The statement's texts in the site's language, whoever called (an API request names its own).
        explanation, facts = _automatic_texts(label)
        terms_in_general = _("The platform's terms and conditions")
    decision = Decision.objects.create(
        organisation_id=item.organisation_id, item=item, decided_by=None, no_action=False,
        labels=[label] if label else [], visibility=[ACTION_VISIBILITY[action]],
        ground=dsa.DecisionGround.INCOMPATIBLE_CONTENT,
        incompatible_ground=(rule.terms_clause if rule and rule.terms_clause
                             else terms_in_general)[:500],
        incompatible_explanation=explanation, ground_reference_url=policy.terms_url if policy else "", facts=facts,
        category=category,
        content_types=content_types_for(item), source_type=_source_of(item),
        automated_detection=True, automated_decision=dsa.AutomatedDecision.FULLY)
    _settle_item(item, status=ItemStatus.ACTIONED)
    record_statement(decision)
    record_event(actor=actor, event_type=ModerationEvent.ITEM_ACTIONED, subject=decision,
                 data={**_event_data(decision), "action": action, "label": label})
    record_strikes(decision=decision, actor=actor)  # counts nothing until a moderator confirms
    from . import webhooks

    webhooks.notify(organisation=item.organisation, event_type=WebhookEvent.ITEM_ACTIONED,
                    payload={**decision_payload(decision), "action": action, "label": label or None})
    return decision


def record_no_action(*, appeal: Appeal, user: Any, facts: str) -> Decision:
    """The decision replacing an overturned one: no restriction, resolving ``appeal`` (inside its transaction)."""
    old = appeal.decision
    decision = Decision.objects.create(
        organisation_id=appeal.organisation_id, item_id=old.item_id, decided_by=user, appeal=appeal, no_action=True,
        labels=[], facts=facts[:5000], content_types=list(old.content_types), source_type=old.source_type,
        automated_detection=False, automated_decision=dsa.AutomatedDecision.NOT_AUTOMATED)
    Item.objects.filter(pk=old.item_id).update(status=ItemStatus.DECIDED, image_sealed=None)
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.DECISION_MADE, subject=decision,
                 data=_event_data(decision))
    return decision



# ---------------------------------------------------------------------------------------------
# The review page's quick decisions

PRESETS: tuple[str, ...] = ("no_action", "remove_terms", "remove_illegal")


def preset_form_data(*, item: Item, preset: str, policy: EffectivePolicy) -> dict[str, Any]:
    """A common decision as ``DecisionForm`` data: no action; removal under the terms; removal as illegal.

    The labels are those flagged (else the first notice's), the category and the clause the
    policy's rule for the main label (else the terms' address). Removal as illegal needs the
    legal provision and why it applies, which only the moderator can give: it is the full form
    filled in as far as it can be. Raises ``ValueError`` for an unknown preset.
    """
    if preset not in PRESETS:
        raise ValueError(f"Unknown preset {preset!r}.")
    if preset == "no_action":
        return {"no_action": "on", "labels": []}
    labels = [label for label in (item.flagged or []) if isinstance(label, str)]
    if not labels:
        labels = [n.label for n in item.notices.all() if n.label][:1]
    main = labels[0] if labels else ""
    if not main and item.scores:
        main = max(item.scores, key=lambda label: item.scores[label])
    rule = policy.rules.get(main)
    names = ", ".join(_label_name(label) for label in labels) or _("no label")
    facts = _("Reviewed by a moderator after it was flagged (%(labels)s).") % {"labels": names}
    common: dict[str, Any] = {"labels": labels, "visibility": [dsa.DecisionVisibility.CONTENT_REMOVED],
                              "facts": facts, "category": rule.category if rule else ""}
    if preset == "remove_illegal":
        return {**common, "ground": dsa.DecisionGround.ILLEGAL_CONTENT}
    clause = (rule.terms_clause if rule else "") or policy.terms_url
    return {**common, "ground": dsa.DecisionGround.INCOMPATIBLE_CONTENT, "incompatible_ground": clause,
            "incompatible_explanation": _("A moderator found this content to be: %(labels)s. The terms do not "
                                          "allow it.") % {"labels": names},
            "ground_reference_url": policy.terms_url}


def _label_name(label: str) -> str:
    try:
        return str(Label(label).label)
    except ValueError:
        return label
