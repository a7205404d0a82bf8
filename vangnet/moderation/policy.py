"""A platform's moderation policy, and ``evaluate()``: from scores and hash-bank matches to an action.

A platform acts on what it chooses: per label a review threshold (the item goes to a human)
and an action threshold (the policy restricts the item at once, an automated decision with
its statement of reasons). A platform that set nothing gets ``DEFAULT_RULES``: review from the
classifiers' calibrated thresholds, never an automatic restriction; its ``flagged`` labels are
also what ``vangnet classify`` prints.

Safety rules that no policy turns off: an automatic restriction in a language the classifiers
are not validated for goes to review instead (unless the platform explicitly allows it), and
a hash-bank match always reaches at least review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor, record_event

from . import dsa
from .choices import RESTRICTING_ACTIONS, Action, Label, ModerationEvent
from .models import Policy, PolicyRule

# How much a label weighs in the queue's order: a threat to someone's safety first.
SEVERITY_WEIGHT: dict[str, float] = {
    Label.THREAT: 1.0, Label.DOXING: 0.95, Label.SEXUAL_HARASSMENT: 0.9, Label.MISOGYNY: 0.85, Label.HATE: 0.85,
    Label.TOXICITY: 0.6,
}
BANK_MATCH_SEVERITY = 1.0
# A threat scoring at least this (and at least its review threshold) raises a DSA Art. 18 alert.
THREAT_ALERT_SCORE = 0.8

DEFAULT_CATEGORY: dict[str, str] = {
    Label.MISOGYNY: dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN,
    Label.HATE: dsa.StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH,
    Label.THREAT: dsa.StatementCategory.VIOLENCE,
    Label.SEXUAL_HARASSMENT: dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN,
    Label.DOXING: dsa.StatementCategory.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS,
    Label.TOXICITY: dsa.StatementCategory.CYBER_VIOLENCE,
}


@dataclass(frozen=True)
class RuleSpec:
    """One label's rule as evaluation reads it (a ``PolicyRule`` row, or a default)."""

    label: str
    review_threshold: float | None
    action_threshold: float | None = None
    action: str = Action.REMOVE
    strike_weight: int = 1
    category: str = dsa.StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH
    terms_clause: str = ""


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy a check is judged by: the platform's own, or the default (``organisation_id`` None)."""

    organisation_id: int | None
    version: int
    rules: dict[str, RuleSpec]
    bank_ids: tuple[int, ...] = ()
    bank_match_action: str = Action.REVIEW
    act_on_unvalidated_languages: bool = False
    strike_window_days: int = 90
    warning_points: int = 1
    suspension_points: int = 3
    suspension_days: int = 7
    terms_url: str = ""
    dispute_body: str = ""
    authority_name: str = ""
    authority_email: str = ""


@dataclass(frozen=True)
class Verdict:
    """What the policy says about one item."""

    action: str
    flagged: tuple[str, ...]
    review: bool
    severity: float
    rule_label: str = ""  # the label whose rule restricted it (automatic actions only)
    threat_alert: bool = False
    reasons: tuple[str, ...] = field(default=())


# A missed threat costs more than a moderator's look at a harmless sentence: threats are reviewed from
# this score even where the classifier's calibrated threshold (tuned for few false flags) is higher. On
# the functional sets the calibrated 0.675 finds 6 of 10 Dutch and 6 of 10 English threats, 0.5 finds 8
# and 7, with one more false flag in each language (docs/model-cards/encoder-heads.md).
THREAT_REVIEW_SCORE = 0.5


@lru_cache(maxsize=1)
def default_rules() -> dict[str, RuleSpec]:
    """Review from the classifiers' calibrated thresholds (threats from at most 0.5); no automatic restriction."""
    from .classifier import default_thresholds

    thresholds = {label: float(value) for label, value in default_thresholds().items()}
    thresholds[Label.THREAT] = min(thresholds[Label.THREAT], THREAT_REVIEW_SCORE)
    return {label: RuleSpec(label=label, review_threshold=thresholds[label],
                            category=DEFAULT_CATEGORY[label]) for label in Label.values}


def default_policy() -> EffectivePolicy:
    return EffectivePolicy(organisation_id=None, version=0, rules=default_rules())


def policy_for(organisation: Any) -> EffectivePolicy:
    """The platform's policy as evaluation reads it; labels it has no rule for keep the default rule."""
    policy = Policy.objects.filter(organisation=organisation).first()
    if policy is None:
        return default_policy()
    rules = dict(default_rules())
    for rule in policy.rules.all():
        rules[rule.label] = RuleSpec(label=rule.label, review_threshold=rule.review_threshold,
                                     action_threshold=rule.action_threshold, action=rule.action,
                                     strike_weight=rule.strike_weight, category=rule.category,
                                     terms_clause=rule.terms_clause)
    return EffectivePolicy(
        organisation_id=policy.organisation_id, version=policy.version, rules=rules,
        bank_ids=tuple(policy.banks.values_list("pk", flat=True)), bank_match_action=policy.bank_match_action,
        act_on_unvalidated_languages=policy.act_on_unvalidated_languages,
        strike_window_days=policy.strike_window_days, warning_points=policy.warning_points,
        suspension_points=policy.suspension_points, suspension_days=policy.suspension_days,
        terms_url=policy.terms_url, dispute_body=policy.dispute_body, authority_name=policy.authority_name,
        authority_email=policy.authority_email)


def flagged_labels(policy: EffectivePolicy, scores: dict[str, float]) -> tuple[str, ...]:
    """The labels at or over their review threshold, most severe score first."""
    over = [label for label, rule in policy.rules.items()
            if rule.review_threshold is not None and scores.get(label, 0.0) >= rule.review_threshold]
    return tuple(sorted(over, key=lambda label: (-scores[label] * SEVERITY_WEIGHT.get(label, 0.5), label)))


def evaluate(*, policy: EffectivePolicy, scores: dict[str, float], matches: list[dict[str, Any]],
             language_validated: bool) -> Verdict:
    """The action for an item with these scores and matches (see the module docstring)."""
    flagged = flagged_labels(policy, scores)
    severity = max((scores[label] * SEVERITY_WEIGHT.get(label, 0.5) for label in flagged), default=0.0)
    if matches:
        severity = max(severity, BANK_MATCH_SEVERITY)
    threat_rule = policy.rules.get(Label.THREAT)
    threat_alert = (threat_rule is not None and threat_rule.review_threshold is not None
                    and scores.get(Label.THREAT, 0.0) >= max(THREAT_ALERT_SCORE, threat_rule.review_threshold))
    acting = sorted(
        (label for label, rule in policy.rules.items()
         if rule.action_threshold is not None and rule.action in RESTRICTING_ACTIONS
         and scores.get(label, 0.0) >= rule.action_threshold),
        key=lambda label: (-scores[label] * SEVERITY_WEIGHT.get(label, 0.5), label))
    reasons: list[str] = []
    may_act = language_validated or policy.act_on_unvalidated_languages
    if acting and not may_act:
        reasons.append("language_not_validated")
    if matches and policy.bank_match_action in RESTRICTING_ACTIONS:  # an image match needs no language
        return Verdict(action=policy.bank_match_action, flagged=flagged, review=False, severity=round(severity, 4),
                       rule_label="", threat_alert=threat_alert, reasons=("hash_bank_match", *reasons))
    if acting and may_act:
        label = acting[0]
        return Verdict(action=policy.rules[label].action, flagged=flagged, review=False,
                       severity=round(severity, 4), rule_label=label, threat_alert=threat_alert, reasons=tuple(reasons))
    if flagged or matches or acting:
        if matches:
            reasons.append("hash_bank_match")
        return Verdict(action=Action.REVIEW, flagged=flagged, review=True, severity=round(severity, 4),
                       threat_alert=threat_alert, reasons=tuple(reasons))
    return Verdict(action=Action.ALLOW, flagged=(), review=False, severity=0.0, threat_alert=False)


@transaction.atomic
def save_policy(*, policy: Policy, rules: list[dict[str, Any]], actor: Actor,
                banks: Iterable[Any] | None = None) -> Policy:
    """Store a platform's policy and its rules (one row per label given) as one new version.

    ``banks``: the hash banks it matches, when given (the platform's own and shared banks only);
    ``None`` leaves them as they are.
    """
    if policy.suspension_points < policy.warning_points:
        raise ValueError(_("A suspension needs at least as many strike points as a warning."))
    bank_list = list(banks) if banks is not None else None
    if bank_list is not None and any(bank.organisation_id not in (None, policy.organisation_id)
                                     for bank in bank_list):
        raise ValueError(_("A platform matches only its own hash banks and shared ones."))
    policy.version = (policy.version or 0) + 1 if policy.pk else 1
    policy.save()
    if bank_list is not None:
        policy.banks.set(bank_list)
    for spec in rules:
        PolicyRule.objects.update_or_create(policy=policy, label=spec["label"], defaults={
            key: value for key, value in spec.items() if key != "label"})
    data: dict[str, Any] = {"version": policy.version, "labels": sorted(spec["label"] for spec in rules)}
    if bank_list is not None:
        data["banks"] = sorted(bank.pk for bank in bank_list)
    record_event(actor=actor, event_type=ModerationEvent.POLICY_CHANGED, subject=policy, data=data)
    return policy
