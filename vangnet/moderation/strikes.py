"""Strikes and sanctions against repeat offenders (DSA Art. 23): a warning first, then a time-limited suspension.

A restricting decision on an item with a known author records one strike against her (one per
item, however many decisions confirm it), weighing the highest ``strike_weight`` of the labels
the decision confirmed (the platform's policy rules, or the default weight 1; a weight of 0
records nothing). Her points are the weights of the strikes in the policy's window
(``strike_window_days``) that were not withdrawn on appeal.

A fully automated decision (the policy restricting at once) counts no strike by itself: the
classifier alone must never push an author towards a suspension (Art. 23 asks for a diligent
assessment). The strike follows once a moderator confirms the restriction: her own restricting
decision on the item, or an appeal against the automated decision upheld. (A policy may one day
opt in to counting automated strikes at once; there is no such setting yet.)

The ladder, after each new strike:

1. points below ``warning_points``: nothing;
2. no warning or suspension in the window yet: a **warning** — also when the points already
   reach ``suspension_points``, since Art. 23(1) asks for a prior warning;
3. warned in the window and points at ``suspension_points`` or more: a **suspension** for
   ``suspension_days``, starting when a running one ends; every further strike while she stays
   over the threshold suspends her again.

So a warning is given once per window state: further strikes under the suspension threshold
give nothing, and only when the window has emptied of sanctions does a new strike warn again.
A sanction whose decision was overturned no longer counts as a prior one.

Two decisions about one author at the same moment must not both warn: the strikes of one
author are written under a lock for that author (a PostgreSQL transaction-level advisory lock
keyed on platform and author; elsewhere the platform's row, and SQLite serialises writers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor, record_event

from . import dsa
from .choices import ModerationEvent, SanctionKind, WebhookEvent
from .models import Decision, Policy, Sanction, Strike


@dataclass(frozen=True)
class StrikeRules:
    """The part of a platform's policy that strikes follow (its ``Policy`` row, or that model's defaults)."""

    window_days: int
    warning_points: int
    suspension_points: int
    suspension_days: int
    weights: dict[str, int]


def strike_rules(organisation_id: int) -> StrikeRules:
    """The platform's strike settings and weights per label; a label without a rule weighs 1.

    Read from the tables rather than through ``policy.policy_for``, whose default policy loads
    the classifiers for their thresholds, which counting strikes does not need.
    """
    policy = Policy.objects.filter(organisation_id=organisation_id).first() or Policy()
    weights = ({rule.label: rule.strike_weight for rule in policy.rules.all()} if policy.pk else {})
    return StrikeRules(window_days=policy.strike_window_days, warning_points=policy.warning_points,
                       suspension_points=policy.suspension_points, suspension_days=policy.suspension_days,
                       weights=weights)


def _lock_author(organisation_id: int, author_id: str) -> None:
    """Hold a lock for this author's strikes until the transaction ends."""
    if connection.vendor == "postgresql":
        digest = hashlib.sha256(f"moderation.strikes:{organisation_id}:{author_id}".encode()).digest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])
    else:
        list(Organisation.objects.select_for_update().filter(pk=organisation_id).values_list("pk", flat=True))


def strike_weight(rules: StrikeRules, labels: list[str]) -> tuple[int, str]:
    """The weight of a violation with these labels and the label it counts under (the heaviest, first on a tie)."""
    if not labels:
        return 1, ""
    weighted = [(rules.weights.get(label, 1), -index, label) for index, label in enumerate(labels)]
    weight, _index, label = max(weighted)
    return weight, label


def points_for(*, organisation_id: int, author_id: str, window_days: int, now: Any = None) -> int:
    """An author's strike points in the window ending now (withdrawn strikes do not count)."""
    since = (now or timezone.now()) - timedelta(days=window_days)
    total = (Strike.objects.filter(organisation_id=organisation_id, author_id=author_id, withdrawn_at__isnull=True,
                                   created_at__gte=since)
             .aggregate(total=Sum("weight"))["total"])
    return int(total or 0)


def _counting_sanctions(organisation_id: int, author_id: str, since: Any) -> Any:
    return (Sanction.objects.filter(organisation_id=organisation_id, author_id=author_id, created_at__gte=since)
            .exclude(decision__strikes__withdrawn_at__isnull=False))


def counts_as_confirmed(decision: Decision) -> bool:
    """Whether a decision may count a strike by itself: any decision but a fully automated one."""
    return decision.automated_decision != dsa.AutomatedDecision.FULLY


@transaction.atomic
def record_strikes(*, decision: Decision, actor: Actor, confirmed: bool = False) -> list[Sanction]:
    """Count a restricting decision against its item's author; return the sanction it led to, if any.

    A fully automated decision counts only with ``confirmed`` (a moderator upheld it on appeal);
    otherwise its strike waits for a moderator's restricting decision on the item.
    """
    item = decision.item
    author_id = item.author_id
    if decision.no_action or not author_id:
        return []
    if not confirmed and not counts_as_confirmed(decision):
        return []
    rules = strike_rules(decision.organisation_id)
    labels = [str(label) for label in decision.labels]
    weight, label = strike_weight(rules, labels)
    if weight <= 0:
        return []
    _lock_author(decision.organisation_id, author_id)
    if Strike.objects.filter(decision__item_id=decision.item_id, withdrawn_at__isnull=True).exists():
        return []  # counted already: one violation per item, however many decisions confirm it
    strike = Strike.objects.create(organisation_id=decision.organisation_id, author_id=author_id,
                                   decision=decision, label=label, weight=weight)
    record_event(actor=actor, event_type=ModerationEvent.STRIKE_RECORDED, subject=strike,
                 data={"decision": decision.pk, "weight": weight, "label": label})
    sanction = _sanction_due(decision=decision, author_id=author_id, rules=rules)
    if sanction is None:
        return []
    record_event(actor=actor, event_type=ModerationEvent.SANCTION_APPLIED, subject=sanction,
                 data={"kind": sanction.kind, "points": sanction.points, "decision": decision.pk,
                       "ends_at": sanction.ends_at.astimezone(UTC).isoformat() if sanction.ends_at else None})
    from . import webhooks

    webhooks.notify(organisation=decision.organisation, event_type=WebhookEvent.SANCTION_APPLIED,
                    payload=sanction_payload(sanction, decision=decision))
    return [sanction]


def _sanction_due(*, decision: Decision, author_id: str, rules: StrikeRules) -> Sanction | None:
    """The next step of the ladder (see the module docstring), made; None if none is due."""
    now = timezone.now()
    organisation_id = decision.organisation_id
    points = points_for(organisation_id=organisation_id, author_id=author_id,
                        window_days=rules.window_days, now=now)
    if points < rules.warning_points:
        return None
    since = now - timedelta(days=rules.window_days)
    prior = _counting_sanctions(organisation_id, author_id, since)
    if not prior.exists():
        return Sanction.objects.create(organisation_id=organisation_id, author_id=author_id,
                                       kind=SanctionKind.WARNING, points=points, decision=decision, starts_at=now)
    if points < rules.suspension_points:
        return None
    running = (Sanction.objects.filter(organisation_id=organisation_id, author_id=author_id,
                                       kind=SanctionKind.SUSPENSION, ends_at__gt=now)
               .order_by("-ends_at").values_list("ends_at", flat=True).first())
    starts_at = max(now, running) if running else now
    return Sanction.objects.create(organisation_id=organisation_id, author_id=author_id,
                                   kind=SanctionKind.SUSPENSION, points=points, decision=decision,
                                   starts_at=starts_at, ends_at=starts_at + timedelta(days=rules.suspension_days))


def sanction_payload(sanction: Sanction, *, decision: Decision) -> dict[str, Any]:
    """What the platform's webhook hears about a sanction: enough to apply it to the author's account."""
    return {
        "sanction_id": sanction.pk,
        "kind": sanction.kind,
        "author_id": sanction.author_id,
        "points": sanction.points,
        "starts_at": sanction.starts_at.astimezone(UTC).isoformat(),
        "ends_at": sanction.ends_at.astimezone(UTC).isoformat() if sanction.ends_at else None,
        "decision_id": decision.pk,
        "item_id": decision.item.external_id,
    }


def was_warned(*, organisation_id: int, author_id: str, now: Any = None) -> bool:
    """Whether the author had a warning within the platform's strike window (Art. 23(1): warn before suspending).

    As on the ladder, a suspension in the window counts as the prior warning too; a sanction
    whose decision was overturned does not count.
    """
    if not author_id:
        return False
    rules = strike_rules(organisation_id)
    since = (now or timezone.now()) - timedelta(days=rules.window_days)
    return _counting_sanctions(organisation_id, author_id, since).exists()


def withdraw_strikes(*, decision: Decision, now: Any = None) -> tuple[int, list[int]]:
    """Withdraw the strikes counted for the item of an overturned decision and end the suspensions they led to.

    The item's one strike may have been recorded by another of its decisions than the one
    overturned (the policy's removal, then a moderator confirming it, whose decision was
    appealed), so every strike of the item's decisions is withdrawn. Runs inside the appeal's
    transaction, whose event records both. Returns the number of strikes withdrawn and the
    ids of the suspensions ended early.
    """
    now = now or timezone.now()
    of_item = {"decision__item_id": decision.item_id}
    withdrawn = Strike.objects.filter(**of_item, withdrawn_at__isnull=True).update(withdrawn_at=now)
    ended = []
    for sanction in Sanction.objects.filter(**of_item, kind=SanctionKind.SUSPENSION, ends_at__gt=now):
        sanction.ends_at = max(now, sanction.starts_at)  # one waiting to start never starts
        sanction.save(update_fields=["ends_at"])
        ended.append(sanction.pk)
    return withdrawn, ended
