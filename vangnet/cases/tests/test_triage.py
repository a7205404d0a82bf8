import pytest
from django.core.exceptions import ValidationError

from vangnet.cases.models import TriageRule
from vangnet.cases.triage import ReportFacts, evaluate, validate_conditions

FACTS = ReportFacts(immediate_danger=False, forms=frozenset({"doxing"}), sexual_imagery=False, age_band="18_plus",
                    reporter_role="victim", relationship="ex_partner")


def rule(conditions: dict, name: str = "r") -> TriageRule:
    return TriageRule(name=name, explanation="", conditions=conditions)


def test_every_condition_must_hold() -> None:
    fired = evaluate([rule({"forms_any": ["doxing"], "relationships_any": ["ex_partner", "partner"]})], FACTS)
    assert len(fired) == 1
    assert fired[0].reason == "forms: doxing; relationship: ex_partner"
    assert evaluate([rule({"forms_any": ["doxing"], "relationships_any": ["stranger"]})], FACTS) == []


def test_boolean_conditions() -> None:
    assert evaluate([rule({"immediate_danger": True})], FACTS) == []
    assert len(evaluate([rule({"immediate_danger": False})], FACTS)) == 1


def test_unknown_conditions_never_fire() -> None:
    assert evaluate([rule({"colour": ["red"]})], FACTS) == []


@pytest.mark.parametrize("conditions", [{}, [], {"colour": ["red"]}, {"forms_any": "doxing"}, {"forms_any": []},
                                        {"immediate_danger": "yes"}])
def test_broken_rules_are_refused_when_saved(conditions) -> None:
    assert validate_conditions(conditions)
    with pytest.raises(ValidationError):
        rule(conditions).clean()


@pytest.mark.django_db
def test_the_seeded_rules_are_valid_and_route_minors_with_sexual_imagery() -> None:
    rules = list(TriageRule.objects.filter(is_active=True))
    assert len(rules) >= 6
    for item in rules:
        item.clean()
    facts = ReportFacts(immediate_danger=False, forms=frozenset({"non-consensual-intimate-images"}),
                        sexual_imagery=True, age_band="12_15", reporter_role="parent")
    names = {f.rule.name for f in evaluate(rules, facts)}
    assert "Minor and sexual imagery" in names


@pytest.mark.django_db
def test_an_administrator_changes_triage_without_a_code_change(submit) -> None:
    TriageRule.objects.create(name="Hate is urgent this week", explanation="Campaign after a TV show.",
                              conditions={"forms_any": ["misogynist-hate-speech"]}, priority=0)
    case = submit(forms=["misogynist-hate-speech"], relationship="").report.case
    case.refresh_from_db()
    assert case.priority == 0
    outcome = case.triage_outcomes.get(rule_name="Hate is urgent this week")
    assert "misogynist-hate-speech" in outcome.reason
