"""evaluate(): from scores and matches to the action a platform's policy recommends."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.moderation.choices import Action, Label, ModerationEvent
from vangnet.moderation.classifier import default_thresholds
from vangnet.moderation.models import Policy, PolicyRule
from vangnet.moderation.policy import (BANK_MATCH_SEVERITY, EffectivePolicy, RuleSpec, Verdict, evaluate,
                                       flagged_labels, policy_for,
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


# Pinning the evaluation in full (mutation testing: scripts/mutation moderation/policy).

def test_an_automatic_restriction_verdict_in_full() -> None:
    policy = make_policy(
        misogyny=RuleSpec(label="misogyny", review_threshold=0.4, action_threshold=0.9, action=Action.DEMOTE),
        hate=RuleSpec(label="hate", review_threshold=0.4, action_threshold=0.8, action=Action.LABEL))
    verdict = evaluate(policy=policy, scores=scores(misogyny=0.95, hate=0.99, threat=0.123456), matches=[],
                       language_validated=True)
    # hate 0.99*0.85=0.8415 outranks misogyny 0.95*0.85=0.8075: the most severe acting rule acts
    assert verdict.action == Action.LABEL and verdict.rule_label == "hate" and verdict.review is False
    assert verdict.flagged == ("hate", "misogyny") and verdict.severity == 0.8415
    assert verdict.threat_alert is False and verdict.reasons == ()


def test_a_review_verdict_in_full_rounds_its_severity() -> None:
    verdict = evaluate(policy=make_policy(), scores=scores(hate=0.612345), matches=[], language_validated=True)
    assert verdict == Verdict(action=Action.REVIEW, flagged=("hate",), review=True,
                              severity=round(0.612345 * 0.85, 4), threat_alert=False, reasons=())
    assert verdict.severity == 0.5205


def test_an_allow_verdict_in_full() -> None:
    assert evaluate(policy=make_policy(), scores=scores(), matches=[], language_validated=True) == Verdict(
        action=Action.ALLOW, flagged=(), review=False, severity=0.0, threat_alert=False)


def test_a_bank_match_verdict_in_full() -> None:
    match = [{"bank": "ncii", "kind": "pdq", "distance": 3}]
    review = evaluate(policy=make_policy(), scores=scores(hate=0.6), matches=match, language_validated=True)
    assert review == Verdict(action=Action.REVIEW, flagged=("hate",), review=True, severity=1.0,
                             threat_alert=False, reasons=("hash_bank_match",))
    acting = EffectivePolicy(organisation_id=1, version=1, rules=make_policy().rules, bank_match_action=Action.DISABLE)
    assert evaluate(policy=acting, scores=scores(threat=0.9), matches=match, language_validated=False) == Verdict(
        action=Action.DISABLE, flagged=("threat",), review=False, severity=1.0, rule_label="", threat_alert=True,
        reasons=("hash_bank_match",))


def test_unvalidated_language_review_in_full() -> None:
    rule = RuleSpec(label="hate", review_threshold=0.3, action_threshold=0.8)
    verdict = evaluate(policy=make_policy(hate=rule), scores=scores(hate=0.9), matches=[], language_validated=False)
    assert verdict == Verdict(action=Action.REVIEW, flagged=("hate",), review=True, severity=0.765,
                              threat_alert=False, reasons=("language_not_validated",))


def test_an_action_threshold_alone_reviews_in_an_unvalidated_language_even_below_review() -> None:
    rule = RuleSpec(label="hate", review_threshold=None, action_threshold=0.8)
    verdict = evaluate(policy=make_policy(hate=rule), scores=scores(hate=0.85), matches=[], language_validated=False)
    assert verdict.action == Action.REVIEW and verdict.flagged == () and verdict.severity == 0.0


def test_a_non_restricting_action_never_acts() -> None:
    rule = RuleSpec(label="hate", review_threshold=0.5, action_threshold=0.6, action=Action.REVIEW)
    verdict = evaluate(policy=make_policy(hate=rule), scores=scores(hate=0.9), matches=[], language_validated=True)
    assert verdict.action == Action.REVIEW and verdict.review and verdict.rule_label == ""


def test_a_label_without_weight_counts_half_and_missing_scores_count_zero() -> None:
    custom = EffectivePolicy(organisation_id=1, version=1, rules={
        "spam": RuleSpec(label="spam", review_threshold=0.5), "hate": RuleSpec(label="hate", review_threshold=0.5)})
    verdict = evaluate(policy=custom, scores={"spam": 0.8}, matches=[], language_validated=True)
    assert verdict.flagged == ("spam",) and verdict.severity == 0.4
    tie = evaluate(policy=custom, scores={"spam": 0.85, "hate": 0.5}, matches=[], language_validated=True)
    assert tie.flagged == ("hate", "spam")  # 0.425 and 0.425: a tie goes by label name
    assert flagged_labels(custom, {"hate": 0.6, "spam": 0.85}) == ("hate", "spam")  # 0.51 before 0.425
    assert flagged_labels(custom, {}) == ()


def test_the_threat_alert_needs_both_the_fixed_score_and_the_review_threshold() -> None:
    assert not evaluate(policy=make_policy(threat=RuleSpec(label="threat", review_threshold=None)),
                        scores=scores(threat=0.99), matches=[], language_validated=True).threat_alert
    assert evaluate(policy=make_policy(), scores=scores(threat=0.8), matches=[], language_validated=True).threat_alert
    without = EffectivePolicy(organisation_id=1, version=1,
                              rules={"hate": RuleSpec(label="hate", review_threshold=0.5)})
    assert not evaluate(policy=without, scores={"threat": 0.99}, matches=[], language_validated=True).threat_alert


@pytest.mark.django_db
def test_policy_for_reads_every_field(platform, other_platform) -> None:
    from vangnet.hashing import services as bank_services

    own = bank_services.create_bank(slug="own", name="Own", organisation=platform, actor=Actor.system("t"))
    shared = bank_services.create_bank(slug="shared", name="Shared", actor=Actor.system("t"))
    policy = Policy.objects.create(
        organisation=platform, version=7, bank_match_action=Action.REMOVE, act_on_unvalidated_languages=True,
        strike_window_days=30, warning_points=2, suspension_points=5, suspension_days=3,
        terms_url="https://p.example/terms", dispute_body="ODS", authority_name="Politie",
        authority_email="p@politie.example")
    policy.banks.set([own, shared])
    PolicyRule.objects.create(policy=policy, label="hate", review_threshold=0.2, action_threshold=0.7,
                              action=Action.AGE_RESTRICT, strike_weight=3, category="STATEMENT_CATEGORY_VIOLENCE",
                              terms_clause="Art. 9")
    effective = policy_for(platform)
    assert effective == EffectivePolicy(
        organisation_id=platform.pk, version=7, rules={**effective.rules, "hate": RuleSpec(
            label="hate", review_threshold=0.2, action_threshold=0.7, action=Action.AGE_RESTRICT, strike_weight=3,
            category="STATEMENT_CATEGORY_VIOLENCE", terms_clause="Art. 9")},
        bank_ids=effective.bank_ids, bank_match_action=Action.REMOVE, act_on_unvalidated_languages=True,
        strike_window_days=30, warning_points=2, suspension_points=5, suspension_days=3,
        terms_url="https://p.example/terms", dispute_body="ODS", authority_name="Politie",
        authority_email="p@politie.example")
    assert sorted(effective.bank_ids) == sorted([own.pk, shared.pk])
    assert set(effective.rules) == set(Label.values) and effective.rules["misogyny"].review_threshold is not None
    assert policy_for(other_platform).organisation_id is None


@pytest.mark.django_db
def test_save_policy_versions_updates_rules_checks_points_and_banks(platform, other_platform) -> None:
    from vangnet.hashing import services as bank_services

    actor = Actor.system("t")
    policy = Policy(organisation=platform, warning_points=2, suspension_points=2)
    save_policy(policy=policy, rules=[{"label": "hate", "review_threshold": 0.4}], actor=actor)
    assert policy.version == 1  # equal points are allowed
    save_policy(policy=policy, rules=[{"label": "hate", "review_threshold": 0.6, "strike_weight": 2},
                                      {"label": "doxing", "review_threshold": 0.3}], actor=actor)
    assert Policy.objects.get(pk=policy.pk).version == 2
    assert PolicyRule.objects.filter(policy=policy).count() == 2
    hate = PolicyRule.objects.get(policy=policy, label="hate")
    assert (hate.review_threshold, hate.strike_weight) == (0.6, 2)
    event = Event.objects.filter(event_type=ModerationEvent.POLICY_CHANGED).order_by("id").last()
    assert event.data == {"version": 2, "labels": ["doxing", "hate"]} and event.actor_label == "system: t"
    policy.suspension_points = 1
    with translation.override("en"), pytest.raises(ValueError, match="at least as many strike points"):
        save_policy(policy=policy, rules=[], actor=actor)
    policy.suspension_points = 2
    foreign = bank_services.create_bank(slug="foreign", name="F", organisation=other_platform, actor=actor)
    with translation.override("en"), pytest.raises(ValueError, match="only its own hash banks and shared ones"):
        save_policy(policy=policy, rules=[], actor=actor, banks=[foreign])
    assert Policy.objects.get(pk=policy.pk).version == 2  # refused: nothing saved
    shared = bank_services.create_bank(slug="shared2", name="S", actor=actor)
    save_policy(policy=policy, rules=[], actor=actor, banks=[shared])
    assert list(policy.banks.all()) == [shared] and Policy.objects.get(pk=policy.pk).version == 3
    last = Event.objects.filter(event_type=ModerationEvent.POLICY_CHANGED).order_by("id").last()
    assert last.data == {"version": 3, "labels": [], "banks": [shared.pk]}
    save_policy(policy=policy, rules=[], actor=actor)  # banks=None leaves them
    assert list(policy.banks.all()) == [shared]
