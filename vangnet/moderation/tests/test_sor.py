"""Statements of reasons: the exact Transparency Database format, validation against its code lists, export."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import models

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event

from .. import dsa
from ..choices import ItemStatus, Label, ModerationEvent
from ..models import Decision, Item, StatementOfReasons
from ..sor import FIELDS, build_statement, export_batches, record_statement, validate_statement
from .factories import make_item, make_moderator, make_platform

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def platform() -> Organisation:
    return make_platform("chatter")


def fixed_decision(platform: Organisation, **overrides: Any) -> Decision:
    item = make_item(platform, external_id="post-8812", author_id="u-55", text="Vrouwen horen in de keuken.",
                     url="https://chatter.example/p/8812", language="nl", has_image=True,
                     content_date=dt.datetime(2026, 2, 27, 23, 30, tzinfo=UTC))
    fields: dict[str, Any] = {
        "labels": [Label.MISOGYNY],
        "visibility": [dsa.DecisionVisibility.CONTENT_REMOVED, dsa.DecisionVisibility.OTHER],
        "visibility_other": "Hidden from search",
        "account": dsa.DecisionAccount.SUSPENDED, "restriction_end": dt.date(2026, 3, 31),
        "ground": dsa.DecisionGround.INCOMPATIBLE_CONTENT,
        "incompatible_ground": "Community rules 3.2", "incompatible_explanation": "Demeans women as a group.",
        "incompatible_illegal": False, "ground_reference_url": "https://chatter.example/rules#3.2",
        "facts": "A reply demeaning women as a group.",
        "category": dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN,
        "category_addition": [dsa.StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH],
        "keywords": [dsa.Keyword.INCITEMENT_AGAINST_WOMEN, dsa.Keyword.OTHER], "keyword_other": "Sexism",
        "territorial_scope": ["NL", "BE"], "account_type": dsa.AccountType.PRIVATE,
        "content_types": [dsa.ContentType.TEXT, dsa.ContentType.IMAGE],
        "source_type": dsa.SourceType.VOLUNTARY, "automated_detection": True,
        "automated_decision": dsa.AutomatedDecision.PARTIALLY,
    }
    fields.update(overrides)
    decision = Decision.objects.create(pk=4711, organisation=platform, item=item, **fields)
    Decision.objects.filter(pk=decision.pk).update(decided_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    return Decision.objects.select_related("item").get(pk=decision.pk)


def test_known_answer(platform: Organisation) -> None:
    """Pins the format: one fixed decision gives exactly this JSON (the application date is Amsterdam's)."""
    payload = build_statement(fixed_decision(platform))
    assert json.dumps(payload, indent=1) == json.dumps({
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": "Hidden from search",
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "end_date_visibility_restriction": "2026-03-31",
        "end_date_account_restriction": "2026-03-31",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Community rules 3.2",
        "incompatible_content_explanation": "Demeans women as a group.",
        "incompatible_content_illegal": "No",
        "decision_ground_reference_url": "https://chatter.example/rules#3.2",
        "decision_facts": "A reply demeaning women as a group.",
        "content_type": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
        "category_addition": ["STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"],
        "category_specification": ["KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_OTHER"],
        "category_specification_other": "Sexism",
        "territorial_scope": ["BE", "NL"],
        "content_language": "NL",
        "content_date": "2026-02-28",
        "application_date": "2026-03-02",
        "account_type": "ACCOUNT_TYPE_PRIVATE",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
        "puid": "vangnet-decision-4711",
    }, indent=1)
    assert validate_statement(payload) == []


def test_a_statement_holds_no_personal_data(platform: Organisation) -> None:
    text = json.dumps(build_statement(fixed_decision(platform)))
    for personal in ("u-55", "post-8812", "keuken", "chatter.example/p/"):
        assert personal not in text


def test_illegal_content_statement(platform: Organisation) -> None:
    decision = fixed_decision(platform, ground=dsa.DecisionGround.ILLEGAL_CONTENT, legal_ground="Art. 137d Sr",
                              illegal_explanation="Incitement to hatred.", visibility=[], account="",
                              restriction_end=None, monetary=dsa.DecisionMonetary.OTHER,
                              monetary_other="Tips paused")
    payload = build_statement(decision)
    assert payload["illegal_content_legal_ground"] == "Art. 137d Sr"
    assert payload["decision_monetary"] == dsa.DecisionMonetary.OTHER
    assert payload["decision_monetary_other"] == "Tips paused"
    assert not {"incompatible_content_ground", "incompatible_content_illegal", "decision_visibility",
                "end_date_monetary_restriction"} & set(payload)
    assert validate_statement(payload) == []


def valid() -> dict[str, Any]:
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Rules 1", "incompatible_content_explanation": "Breaks rule 1.",
        "decision_facts": "Facts.", "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "content_date": "2026-01-01",
        "application_date": "2026-01-02", "source_type": "SOURCE_VOLUNTARY", "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": "vangnet-decision-1",
    }


@pytest.mark.parametrize(("change", "field"), [
    ({"decision_visibility": ["DECISION_VISIBILITY_SHADOWBAN"]}, "decision_visibility"),
    ({"decision_visibility": []}, "at least one restriction"),
    ({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other"),
    ({"decision_monetary": "DECISION_MONETARY_FINE"}, "decision_monetary"),
    ({"decision_monetary": "DECISION_MONETARY_OTHER"}, "decision_monetary_other"),
    ({"decision_provision": "DECISION_PROVISION_SOME"}, "decision_provision"),
    ({"decision_account": "DECISION_ACCOUNT_BANNED"}, "decision_account"),
    ({"decision_ground": "DECISION_GROUND_RUDE"}, "decision_ground"),
    ({"decision_ground": None}, "decision_ground"),
    ({"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"}, "illegal_content_legal_ground"),
    ({"incompatible_content_explanation": ""}, "incompatible_content_explanation"),
    ({"incompatible_content_illegal": True}, "incompatible_content_illegal"),
    ({"decision_facts": "x" * 5001}, "decision_facts"),
    ({"decision_facts": None}, "decision_facts"),
    ({"content_type": ["CONTENT_TYPE_HOLOGRAM"]}, "content_type"),
    ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other"),
    ({"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}, "category"),
    ({"category_addition": ["STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"]}, "category_addition"),
    ({"category_specification": ["KEYWORD_GENDER_BASED_VIOLENCE"]}, "category_specification"),
    ({"category_specification": ["KEYWORD_OTHER"]}, "category_specification_other"),
    ({"territorial_scope": ["US"]}, "territorial_scope"),
    ({"content_language": "nl"}, "content_language"),
    ({"content_language": "NLD"}, "content_language"),
    ({"content_date": "01-01-2026"}, "content_date"),
    ({"content_date": "2026-02-30"}, "content_date"),
    ({"content_date": "2026-01-03"}, "content_date"),
    ({"application_date": None}, "application_date"),
    ({"end_date_account_restriction": "2026-02-01"}, "end_date_account_restriction"),
    ({"account_type": "ACCOUNT_TYPE_BOT"}, "account_type"),
    ({"source_type": "SOURCE_GUT_FEELING"}, "source_type"),
    ({"source_identity": "Nina"}, "source_identity"),
    ({"automated_detection": "yes"}, "automated_detection"),
    ({"automated_decision": "AUTOMATED_DECISION_MOSTLY"}, "automated_decision"),
    ({"puid": "post 8812"}, "puid"),
    ({"puid": "p" * 501}, "puid"),
    ({"puid": "vangnet/1"}, "puid"),
    ({"author_id": "u-55"}, "author_id"),
    ({"content_url": "https://chatter.example/p/1"}, "content_url"),
    ({"text": "Vrouwen horen in de keuken."}, "text"),
])
def test_validation_rejects_bad_codes_and_missing_fields(change: dict[str, Any], field: str) -> None:
    payload = valid()
    for key, value in change.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = value
    errors = validate_statement(payload)
    assert errors and any(field in error for error in errors), errors


def test_the_valid_example_is_valid() -> None:
    assert validate_statement(valid()) == []
    assert set(valid()) <= set(FIELDS)


def _md_code_lists() -> dict[str, list[str]] | None:
    # shared/ lies next to the repository: /work/shared here, ../shared in CI.
    for path in (Path(__file__).resolve().parents[4] / "shared" / "design" / "dsa-sor-code-lists.md",):
        if path.is_file():
            lists: dict[str, list[str]] = {}
            current = ""
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
                elif current and (match := re.match(r"\| `([A-Z0-9_]+)` \|", line)):
                    lists.setdefault(current, []).append(match.group(1))
            return lists
    return None


CODE_LISTS: dict[str, type[models.TextChoices]] = {
    "METHODS": dsa.Method, "ACCOUNT_TYPES": dsa.AccountType, "SOURCE_TYPES": dsa.SourceType,
    "CONTENT_TYPES": dsa.ContentType, "AUTOMATED_DECISIONS": dsa.AutomatedDecision,
    "DECISION_GROUNDS": dsa.DecisionGround, "DECISION_VISIBILITIES": dsa.DecisionVisibility,
    "DECISION_MONETARIES": dsa.DecisionMonetary, "DECISION_PROVISIONS": dsa.DecisionProvision,
    "DECISION_ACCOUNTS": dsa.DecisionAccount, "STATEMENT_CATEGORIES": dsa.StatementCategory,
    "KEYWORDS": dsa.Keyword,
}


def test_every_code_list_matches_the_design_document() -> None:
    lists = _md_code_lists()
    if lists is None:
        pytest.skip("shared/design/dsa-sor-code-lists.md is not checked out next to the repository")
    assert set(lists) == set(CODE_LISTS)
    for name, choices in CODE_LISTS.items():
        assert list(choices.values) == lists[name], name
    assert "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN" in lists["STATEMENT_CATEGORIES"]


def _statements(platform: Organisation, count: int) -> list[StatementOfReasons]:
    item = make_item(platform, status=ItemStatus.DECIDED)
    made = []
    for _ in range(count):
        decision = Decision.objects.create(
            organisation=platform, item=item, visibility=[dsa.DecisionVisibility.CONTENT_REMOVED],
            ground=dsa.DecisionGround.INCOMPATIBLE_CONTENT, incompatible_ground="Rules 1",
            incompatible_explanation="Breaks rule 1.", facts="Facts.",
            category=dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN)
        made.append(record_statement(Decision.objects.select_related("item").get(pk=decision.pk)))
    return made


def test_export_in_batches_of_at_most_100_once(platform: Organisation) -> None:
    made = _statements(platform, 205)
    _statements(make_platform("elsewhere"), 2)
    manager = make_moderator("pia", platform, role=Role.POLICY_MANAGER)
    batches = export_batches(organisation=platform, user=manager)
    assert [len(batch) for batch in batches] == [100, 100, 5]
    assert [s["puid"] for batch in batches for s in batch] == [s.puid for s in made]
    assert all(validate_statement(s) == [] for batch in batches for s in batch)
    assert not StatementOfReasons.objects.filter(organisation=platform, exported_at__isnull=True).exists()
    assert StatementOfReasons.objects.exclude(organisation=platform).filter(exported_at__isnull=True).count() == 2
    [event] = Event.objects.filter(event_type=ModerationEvent.STATEMENT_EXPORTED)
    assert event.data["statements"] == 205 and event.data["batches"] == 3
    assert event.organisation_id == platform.pk and event.actor_user_id == manager.pk
    assert export_batches(organisation=platform, user=manager) == []
    _statements(platform, 3)
    assert [len(b) for b in export_batches(organisation=platform, user=manager, batch_size=2)] == [2, 1]
    with pytest.raises(ValueError):
        export_batches(organisation=platform, user=manager, batch_size=101)


def test_statements_exported_before_can_be_exported_again(platform: Organisation) -> None:
    """A download that never arrived is not lost: every statement again, the first export time kept."""
    made = _statements(platform, 3)
    manager = make_moderator("pia", platform, role=Role.POLICY_MANAGER)
    [first] = export_batches(organisation=platform, user=manager, only_new=True)
    assert [s["puid"] for s in first] == [s.puid for s in made]
    exported_at = dict(StatementOfReasons.objects.values_list("pk", "exported_at"))
    assert export_batches(organisation=platform, user=manager) == []
    newer = _statements(platform, 1)
    [again] = export_batches(organisation=platform, user=manager, only_new=False)
    assert [s["puid"] for s in again] == [s.puid for s in made + newer]
    for pk, at in exported_at.items():
        assert StatementOfReasons.objects.get(pk=pk).exported_at == at
    assert StatementOfReasons.objects.get(pk=newer[0].pk).exported_at is not None
    last = Event.objects.filter(event_type=ModerationEvent.STATEMENT_EXPORTED).latest("id")
    assert last.data["statements"] == 4 and last.data["only_new"] is False


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MODERATOR, "other platform"])
def test_export_refused_to_whoever_does_not_manage_the_platforms_moderation(platform: Organisation, role: str) -> None:
    _statements(platform, 1)
    user = (make_moderator("otto", make_platform("elsewhere")) if role == "other platform"
            else make_moderator("ana", platform, role=role))
    with pytest.raises(PermissionDenied):
        export_batches(organisation=platform, user=user)
    assert StatementOfReasons.objects.get().exported_at is None


def test_no_statement_for_a_decision_without_restriction(platform: Organisation) -> None:
    decision = Decision.objects.create(organisation=platform, item=make_item(platform), no_action=True)
    with pytest.raises(ValueError):
        record_statement(decision)


def test_export_statements_command(platform: Organisation, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _statements(platform, 101)
    out = tmp_path / "statements.jsonl"
    call_command("export_statements", "chatter", "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [len(json.loads(line)["statements"]) for line in lines] == [100, 1]
    assert all(validate_statement(s) == [] for line in lines for s in json.loads(line)["statements"])
    call_command("export_statements", "chatter")
    assert capsys.readouterr().out == ""
    _statements(platform, 1)
    call_command("export_statements", "chatter")
    assert len(json.loads(capsys.readouterr().out)["statements"]) == 1
    [first, *_rest] = Event.objects.filter(event_type=ModerationEvent.STATEMENT_EXPORTED).order_by("id")
    assert first.actor_label == "system: export_statements"


def test_items_hold_what_statements_must_not(platform: Organisation) -> None:
    """Guard for the known answer: the fixture's item really holds the personal data the statement leaves out."""
    decision = fixed_decision(platform)
    item = Item.objects.get(pk=decision.item_id)
    assert item.author_id == "u-55" and item.url and item.text
