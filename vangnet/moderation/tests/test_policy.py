"""evaluate(): from scores and matches to the action a platform's policy recommends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.moderation.choices import Action, Label, ModerationEvent
from vangnet.moderation.classifier import default_thresholds
from vangnet.moderation.models import Policy, PolicyRule
from vangnet.moderation.policy import (BANK_MATCH_SEVERITY, EffectivePolicy, RuleSpec, evaluate, policy_for,
                                       save_policy)

LABELS = list(Label.values)


def make_policy(**rules: RuleSpec) -> EffectivePolicy:
    base = {label: RuleSpec(label=label, review_threshold=0.5) for label in LABELS}
    base.update(rules)
    return EffectivePolicy(organisation_id=1, version=3, rules=base)


def scores(**given_scores: float) -> dict[str, float]:
    return {label: given_scores.get(label, 0.0) for label in LABELS}


def test_below_every_threshold_is_allowed() -> None:
    verdict = evaluate(policy=make_policy(), scores=scores(hate=0.49), matches=[], language_validated=True)
    assert verdict.action == Action.ALLOW and not verdict.review and verdict.flagged == () and verdict.severity == 0


def test_at_the_review_threshold_goes_to_review_with_its_label() -> None:
    verdict = evaluate(policy=make_policy(), scores=scores(hate=0.5), matches=[], language_validated=True)
    assert verdict.action == Action.REVIEW and verdict.review and verdict.flagged == ("hate",)
    assert verdict.severity == pytest.approx(0.5 * 0.85)


def test_flagged_labels_are_ordered_by_weighted_score() -> None:
    verdict = evaluate(policy=make_policy(), scores=scores(toxicity=0.9, threat=0.6, misogyny=0.7), matches=[],
                       language_validated=True)
    # threat 0.6*1.0 = 0.6, misogyny 0.7*0.85 = 0.595, toxicity 0.9*0.6 = 0.54
    assert verdict.flagged == ("threat", "misogyny", "toxicity")
    assert verdict.severity == pytest.approx(0.6)


def test_the_action_threshold_restricts_at_once_with_the_rule_action() -> None:
    policy = make_policy(misogyny=RuleSpec(label="misogyny", review_threshold=0.5, action_threshold=0.9,
                                           action=Action.DEMOTE))
    verdict = evaluate(policy=policy, scores=scores(misogyny=0.95), matches=[], language_validated=True)
    assert verdict.action == Action.DEMOTE and not verdict.review and verdict.rule_label == "misogyny"
    below = evaluate(policy=policy, scores=scores(misogyny=0.89), matches=[], language_validated=True)
    assert below.action == Action.REVIEW


def test_an_unvalidated_language_never_restricts_automatically_unless_allowed() -> None:
    rule = RuleSpec(label="hate", review_threshold=None, action_threshold=0.8)
    verdict = evaluate(policy=make_policy(hate=rule), scores=scores(hate=0.99), matches=[], language_validated=False)
    assert verdict.action == Action.REVIEW and verdict.review and "language_not_validated" in verdict.reasons
    allowed = EffectivePolicy(organisation_id=1, version=1, rules=make_policy(hate=rule).rules,
                              act_on_unvalidated_languages=True)
    assert evaluate(policy=allowed, scores=scores(hate=0.99), matches=[], language_validated=False).action == \
        Action.REMOVE


def test_a_bank_match_always_reaches_review_and_tops_the_queue() -> None:
    match = [{"bank": "ncii", "kind": "pdq", "distance": 12}]
    verdict = evaluate(policy=make_policy(), scores=scores(), matches=match, language_validated=False)
    assert verdict.action == Action.REVIEW and verdict.review and verdict.severity == BANK_MATCH_SEVERITY
    assert "hash_bank_match" in verdict.reasons


def test_a_bank_match_with_a_restricting_action_acts_in_any_language() -> None:
    policy = EffectivePolicy(organisation_id=1, version=1, rules=make_policy().rules, bank_match_action=Action.REMOVE)
    verdict = evaluate(policy=policy, scores=scores(), matches=[{"bank": "b", "kind": "sha256", "distance": 0}],
                       language_validated=False)
    assert verdict.action == Action.REMOVE and not verdict.review


def test_a_strong_threat_raises_an_art_18_alert() -> None:
    assert evaluate(policy=make_policy(), scores=scores(threat=0.85), matches=[],
                    language_validated=True).threat_alert
    assert not evaluate(policy=make_policy(), scores=scores(threat=0.79), matches=[],
                        language_validated=True).threat_alert
    high = make_policy(threat=RuleSpec(label="threat", review_threshold=0.9))
    assert not evaluate(policy=high, scores=scores(threat=0.85), matches=[], language_validated=True).threat_alert


def test_a_rule_without_review_threshold_never_flags() -> None:
    policy = make_policy(toxicity=RuleSpec(label="toxicity", review_threshold=None))
    assert evaluate(policy=policy, scores=scores(toxicity=1.0), matches=[], language_validated=True).action == \
        Action.ALLOW


@given(st.dictionaries(st.sampled_from(LABELS), st.floats(0, 1), min_size=6, max_size=6), st.booleans())
def test_the_verdict_is_consistent(given_scores: dict[str, float], validated: bool) -> None:
    verdict = evaluate(policy=make_policy(), scores=given_scores, matches=[], language_validated=validated)
    assert verdict.review == (verdict.action == Action.REVIEW)
    assert set(verdict.flagged) == {label for label, score in given_scores.items() if score >= 0.5}
    assert 0.0 <= verdict.severity <= 1.0


@pytest.mark.django_db
def test_policy_for_reads_the_platforms_rules_over_the_default(platform) -> None:
    policy = Policy.objects.create(organisation=platform, version=1)
    save_policy(policy=policy, rules=[{"label": "hate", "review_threshold": 0.3, "action_threshold": 0.95,
                                       "action": Action.LABEL, "strike_weight": 2}],
                actor=Actor.system("test"))
    effective = policy_for(platform)
    assert effective.version == 2 and effective.rules["hate"].review_threshold == 0.3
    assert effective.rules["hate"].action == Action.LABEL and effective.rules["hate"].strike_weight == 2
    assert effective.rules["misogyny"].review_threshold is not None  # the default rule stays for other labels
    assert PolicyRule.objects.get(policy=policy, label="hate").action_threshold == 0.95
    event = Event.objects.get(event_type=ModerationEvent.POLICY_CHANGED)
    assert event.subject_id == str(policy.pk) and event.data["version"] == 2 and event.organisation_id == platform.pk


@pytest.mark.django_db
def test_a_platform_without_policy_gets_the_default(platform) -> None:
    effective = policy_for(platform)
    assert effective.organisation_id is None and effective.version == 0
    assert all(rule.action_threshold is None for rule in effective.rules.values())
    assert effective.rules["threat"].review_threshold == min(default_thresholds()["threat"], 0.5)
    verdict = evaluate(policy=effective, scores=scores(threat=0.5), matches=[], language_validated=True)
    assert verdict.flagged == ("threat",)
