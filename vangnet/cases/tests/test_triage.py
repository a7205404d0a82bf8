import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

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
    for conditions in ({"colour": ["red"], "forms_any": ["doxing"]}, {"forms_any": ["doxing"], "colour": ["red"]},
                       {"immediate_danger": False, "colour": ["red"], "size": ["xl"]}):
        assert evaluate([rule(conditions)], FACTS) == [], "not even beside conditions that hold"


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


# --- What mutation testing showed no test pinned (scripts/mutation) ---------------------------

DANGER = ReportFacts(immediate_danger=True, forms=frozenset({"threats", "doxing"}), sexual_imagery=True,
                     age_band="16_17", reporter_role="parent", relationship="stranger", perpetrator_count="several",
                     duration="months")


def test_a_yes_no_condition_before_a_list_condition_does_not_skip_the_list() -> None:
    # The seeded "Minor and sexual imagery" rule once read {"sexual_imagery": true, "age_bands_any": [...]}:
    # an adult's report must not fire it just because the yes/no condition came first.
    adult = ReportFacts(immediate_danger=False, forms=frozenset({"deepfake-nudes"}), sexual_imagery=True,
                        age_band="18_plus", reporter_role="victim")
    minors = rule({"sexual_imagery": True, "age_bands_any": ["under_12", "12_15", "16_17"]})
    assert evaluate([minors], adult) == []
    assert evaluate([rule({"immediate_danger": False, "relationships_any": ["stranger"]})], FACTS) == []
    fired = evaluate([rule({"immediate_danger": False, "relationships_any": ["ex_partner"]})], FACTS)
    assert [f.reason for f in fired] == ["immediate_danger = no; relationship: ex_partner"]


def test_the_reasons_a_handler_reads_name_every_condition_and_every_hit() -> None:
    conditions = {
        "immediate_danger": True, "sexual_imagery": True, "forms_any": ["threats", "doxing", "sextortion"],
        "age_bands_any": ["16_17"], "reporter_roles_any": ["parent"], "relationships_any": ["stranger"],
        "perpetrator_counts_any": ["several"], "durations_any": ["months", "weeks"],
    }
    [fired] = evaluate([rule(conditions, name="All of it")], DANGER)
    assert fired.rule.name == "All of it"
    assert fired.reasons == [
        "immediate_danger = yes", "sexual_imagery = yes", "forms: doxing, threats", "age_band: 16_17",
        "reporter_role: parent", "relationship: stranger", "perpetrator_count: several", "duration: months",
    ]
    assert fired.reason == "; ".join(fired.reasons)


def test_a_rule_fires_only_when_every_condition_holds() -> None:
    for key, miss in [("immediate_danger", False), ("sexual_imagery", False), ("forms_any", ["sextortion"]),
                      ("age_bands_any", ["18_plus"]), ("reporter_roles_any", ["victim"]),
                      ("relationships_any", ["partner"]), ("perpetrator_counts_any", ["one"]),
                      ("durations_any", ["once"])]:
        holds = {"immediate_danger": True, "forms_any": ["threats"], "durations_any": ["months"]}
        assert evaluate([rule(holds)], DANGER)
        conditions = {**holds, key: miss}
        assert evaluate([rule(conditions)], DANGER) == [], key


def test_evaluate_keeps_the_order_of_the_rules_and_drops_those_that_do_not_fire() -> None:
    rules = [rule({"forms_any": ["doxing"]}, "a"), rule({"forms_any": ["sextortion"]}, "b"),
             rule({"immediate_danger": True}, "c")]
    assert [f.rule.name for f in evaluate(rules, DANGER)] == ["a", "c"]


KNOWN = ("['age_bands_any', 'durations_any', 'forms_any', 'immediate_danger', 'perpetrator_counts_any', "
         "'relationships_any', 'reporter_roles_any', 'sexual_imagery']")


@pytest.mark.parametrize(("conditions", "errors"), [
    ({}, ["Conditions must be a non-empty JSON object."]),
    ([{"forms_any": ["doxing"]}], ["Conditions must be a non-empty JSON object."]),
    ({"immediate_danger": "yes"}, ["immediate_danger must be true or false."]),
    ({"sexual_imagery": 1}, ["sexual_imagery must be true or false."]),
    ({"forms_any": "doxing"}, ["forms_any must be a non-empty list of texts."]),
    ({"durations_any": []}, ["durations_any must be a non-empty list of texts."]),
    ({"age_bands_any": ["16_17", 17]}, ["age_bands_any must be a non-empty list of texts."]),
    ({"colour": ["red"]}, [f"Unknown condition 'colour'; known: {KNOWN}."]),
    ({"colour": ["red"], "immediate_danger": None, "forms_any": ["doxing"], "relationships_any": "ex"},
     [f"Unknown condition 'colour'; known: {KNOWN}.", "immediate_danger must be true or false.",
      "relationships_any must be a non-empty list of texts."]),
    ({"immediate_danger": False, "forms_any": ["doxing"]}, []),
])
def test_an_administrator_reads_exactly_what_is_wrong_with_a_rule(conditions, errors) -> None:
    assert validate_conditions(conditions) == errors
    if errors:
        with pytest.raises(ValidationError) as caught:
            rule(conditions).clean()
        assert caught.value.message_dict["conditions"] == errors


_FACT_VALUES = {"age_band": ["under_12", "16_17", "18_plus"], "reporter_role": ["victim", "parent"],
                "relationship": ["", "partner", "stranger"], "perpetrator_count": ["", "one", "several"],
                "duration": ["", "once", "months"]}
_FORMS = ["doxing", "threats", "sextortion", "deepfake-nudes"]
_LIST_KEYS = {"forms_any": _FORMS, "age_bands_any": _FACT_VALUES["age_band"],
              "reporter_roles_any": _FACT_VALUES["reporter_role"], "relationships_any": ["partner", "stranger"],
              "perpetrator_counts_any": ["one", "several"], "durations_any": ["once", "months"]}

facts_strategy = st.builds(
    ReportFacts, immediate_danger=st.booleans(), forms=st.frozensets(st.sampled_from(_FORMS)),
    sexual_imagery=st.booleans(), **{k: st.sampled_from(v) for k, v in _FACT_VALUES.items()})
condition_strategy = st.one_of(
    st.tuples(st.sampled_from(["immediate_danger", "sexual_imagery"]), st.booleans()),
    *[st.tuples(st.just(k), st.lists(st.sampled_from(v), min_size=1, unique=True)) for k, v in _LIST_KEYS.items()])


@given(facts=facts_strategy, items=st.lists(condition_strategy, min_size=1, max_size=8, unique_by=lambda kv: kv[0]),
       data=st.data())
def test_the_order_of_conditions_never_changes_whether_or_why_a_rule_fires(facts, items, data) -> None:
    shuffled = data.draw(st.permutations(items))
    first = evaluate([rule(dict(items))], facts)
    second = evaluate([rule(dict(shuffled))], facts)
    assert len(first) == len(second)
    if first:
        assert sorted(first[0].reasons) == sorted(second[0].reasons)
        assert len(first[0].reasons) == len(items), "one reason per condition"


def test_reasons_come_in_one_order_whatever_order_the_database_kept() -> None:
    """PostgreSQL's jsonb reorders keys; staff must read the same reason on every database."""
    conditions = {"durations_any": ["months"], "immediate_danger": True, "relationships_any": ["ex_partner"],
                  "forms_any": ["doxing"]}
    facts = ReportFacts(immediate_danger=True, forms=frozenset({"doxing"}), sexual_imagery=False, age_band="18_plus",
                        reporter_role="victim", relationship="ex_partner", duration="months")
    reasons = {evaluate([rule(dict(order))], facts)[0].reason
               for order in (conditions.items(), reversed(list(conditions.items())))}
    assert reasons == {"immediate_danger = yes; forms: doxing; relationship: ex_partner; duration: months"}
