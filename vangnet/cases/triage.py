"""Evaluating the declarative triage rules against a new report.

Rules are data (``TriageRule`` rows, seeded from ``cases/triage_rules.json`` and edited in
the admin); this module is the small, closed interpreter for their ``conditions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


class TriageRule(Protocol):
    """What the interpreter needs of a rule (``cases.models.TriageRule`` is one)."""

    name: str
    conditions: Any
    priority: int | None
    required_steps: Any

LIST_CONDITIONS = {
    "forms_any": "forms",
    "age_bands_any": "age_band",
    "reporter_roles_any": "reporter_role",
    "relationships_any": "relationship",
    "perpetrator_counts_any": "perpetrator_count",
    "durations_any": "duration",
}
BOOL_CONDITIONS = {"immediate_danger", "sexual_imagery"}
# The order conditions are checked and their reasons shown, whatever order the stored JSON has
# (PostgreSQL's jsonb keeps its own key order, SQLite keeps the written one).
CONDITION_ORDER = {key: n for n, key in enumerate(["immediate_danger", "sexual_imagery", *LIST_CONDITIONS])}


@dataclass(frozen=True)
class ReportFacts:
    """What triage may look at: the reporter's category answers, never her free text."""

    immediate_danger: bool
    forms: frozenset[str]
    sexual_imagery: bool
    age_band: str
    reporter_role: str
    relationship: str = ""
    perpetrator_count: str = ""
    duration: str = ""


@dataclass
class FiredRule:
    rule: TriageRule
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def validate_conditions(conditions: object) -> list[str]:
    """Return problems with a rule's conditions, so a broken rule is refused when saved."""
    if not isinstance(conditions, dict) or not conditions:
        return ["Conditions must be a non-empty JSON object."]
    errors = []
    for key, value in conditions.items():
        if key in BOOL_CONDITIONS:
            if not isinstance(value, bool):
                errors.append(f"{key} must be true or false.")
        elif key in LIST_CONDITIONS:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                errors.append(f"{key} must be a non-empty list of texts.")
        else:
            errors.append(f"Unknown condition {key!r}; known: {sorted(BOOL_CONDITIONS | set(LIST_CONDITIONS))}.")
    return errors


def match_rule(rule: TriageRule, facts: ReportFacts) -> FiredRule | None:
    """The rule with the reasons it fired, or None when any condition fails."""
    fired = FiredRule(rule=rule)
    for key in sorted(rule.conditions, key=lambda k: CONDITION_ORDER.get(k, len(CONDITION_ORDER))):
        expected = rule.conditions[key]
        if key in BOOL_CONDITIONS:
            actual = getattr(facts, key)
            if actual != expected:
                return None
            fired.reasons.append(f"{key} = {'yes' if actual else 'no'}")
            continue
        attribute = LIST_CONDITIONS.get(key)
        if attribute is None:
            return None  # an unknown condition never fires silently
        actual_values = getattr(facts, attribute)
        actual_set = set(actual_values) if isinstance(actual_values, frozenset) else {actual_values}
        hits = sorted(actual_set & set(expected))
        if not hits:
            return None
        fired.reasons.append(f"{attribute}: {', '.join(hits)}")
    return fired


def evaluate(rules: Iterable[TriageRule], facts: ReportFacts) -> list[FiredRule]:
    return [fired for rule in rules if (fired := match_rule(rule, facts)) is not None]

