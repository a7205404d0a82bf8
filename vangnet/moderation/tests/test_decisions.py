"""Decisions by moderators and by the policy: what they record, who may make them, what is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.common.testing import make_user

from .. import dsa
from ..choices import Action, ItemSource, ItemStatus, Label, ModerationEvent, NoticeStatus, TaskKind, WebhookEvent
from ..decisions import decide, decide_automatically
from ..choices import SanctionKind
from ..models import Decision, Item, ReviewTask, Sanction, Strike, UserNotice, WebhookDelivery, WebhookEndpoint
from ..sor import validate_statement
from .factories import decision_data, make_item, make_moderator, make_platform, make_policy, no_action_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform() -> Organisation:
    platform = make_platform("chatter")
    WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.chatter.example/vangnet", secret="s3cret")
    return platform


@pytest.fixture
def moderator(platform: Organisation) -> Any:
    return make_moderator("mona", platform)


@pytest.fixture
def item(platform: Organisation) -> Item:
    return make_item(platform, image_sealed=b"sealed bytes", has_image=True)


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(event_type=event_type).order_by("id"))


def webhooks(event_type: str) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event_type=event_type).order_by("id"))


def test_a_restricting_decision_records_statement_strike_webhook_and_event(item: Item, moderator: Any) -> None:
    task = ReviewTask.objects.create(organisation=item.organisation, item=item, kind=TaskKind.FLAGGED, severity=0.7)
    decision = decide(item=item, user=moderator, form_data=decision_data(), task=task)

    assert decision.decided_by == moderator and not decision.no_action
    assert decision.visibility == [dsa.DecisionVisibility.CONTENT_REMOVED]
    assert decision.source_type == dsa.SourceType.VOLUNTARY
    assert decision.automated_detection is True  # the classifiers flagged it
    assert decision.automated_decision == dsa.AutomatedDecision.NOT_AUTOMATED
    assert decision.content_types == [dsa.ContentType.TEXT, dsa.ContentType.IMAGE]
    item.refresh_from_db()
    assert item.status == ItemStatus.DECIDED and item.image_sealed is None
    statement = decision.statement
    assert validate_statement(statement.payload) == []
    assert statement.payload["category"] == dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN
    assert statement.payload["automated_decision"] == dsa.AutomatedDecision.NOT_AUTOMATED
    [strike] = Strike.objects.filter(decision=decision)
    assert (strike.author_id, strike.label, strike.weight) == ("author-1", Label.MISOGYNY, 1)
    task.refresh_from_db()
    assert task.done_at is not None

    [made] = events(ModerationEvent.DECISION_MADE)
    assert (made.subject_type, made.subject_id, made.actor_user_id) == ("moderation.decision", str(decision.pk),
                                                                        moderator.pk)
    assert made.organisation_id == item.organisation_id and made.data["no_action"] is False
    assert "You are worthless" not in str(made.data)
    assert len(events(ModerationEvent.STRIKE_RECORDED)) == 1
    [hook] = webhooks(WebhookEvent.DECISION_MADE)
    assert hook.payload["item_id"] == item.external_id and hook.payload["statement_puid"] == statement.puid
    assert hook.payload["redress"] == ["internal_complaint", "out_of_court_settlement", "judicial_redress"]


def test_no_action_gets_no_statement_and_no_strike(item: Item, moderator: Any) -> None:
    decision = decide(item=item, user=moderator, form_data=no_action_data())
    assert decision.no_action
    assert not hasattr(decision, "statement") or decision.statement is None
    assert not Strike.objects.exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.DECIDED
    assert len(events(ModerationEvent.DECISION_MADE)) == 1
    assert webhooks(WebhookEvent.DECISION_MADE)[0].payload["statement_puid"] is None


def test_the_decision_settles_the_items_notices_and_names_their_source(platform: Organisation, moderator: Any) -> None:
    item = make_item(platform, source=ItemSource.NOTICE, flagged=[])
    notice = UserNotice.objects.create(organisation=platform, external_id="n-1", item=item, explanation="hateful",
                                       notifier_name="Nina", notifier_email="nina@example.org", trusted_flagger=True)
    open_task = ReviewTask.objects.create(organisation=platform, item=item, kind=TaskKind.NOTICE)
    decision = decide(item=item, user=moderator, form_data=decision_data())
    assert decision.source_type == dsa.SourceType.TRUSTED_FLAGGER and decision.automated_detection is False
    payload = decision.statement.payload
    assert payload["source_type"] == dsa.SourceType.TRUSTED_FLAGGER and "source_identity" not in payload
    assert "Nina" not in str(payload) and "nina@" not in str(payload)
    notice.refresh_from_db()
    open_task.refresh_from_db()
    assert notice.status == NoticeStatus.DECIDED and open_task.done_at is not None


def test_an_illegal_content_decision_with_account_suspension(item: Item, moderator: Any) -> None:
    warn(item)  # Art. 23(1): a suspension follows a warning
    end = timezone.localdate() + timedelta(days=30)
    data = decision_data(visibility=[], account=dsa.DecisionAccount.SUSPENDED, restriction_end=end.isoformat(),
                         ground=dsa.DecisionGround.ILLEGAL_CONTENT, legal_ground="Art. 285 Wetboek van Strafrecht",
                         illegal_explanation="A threat to kill.", category=dsa.StatementCategory.VIOLENCE)
    payload = decide(item=item, user=moderator, form_data=data).statement.payload
    assert payload["decision_account"] == dsa.DecisionAccount.SUSPENDED
    assert payload["end_date_account_restriction"] == end.isoformat()
    assert "decision_visibility" not in payload and "incompatible_content_ground" not in payload
    assert payload["illegal_content_legal_ground"] == "Art. 285 Wetboek van Strafrecht"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"visibility": []}, "__all__"),
    ({"visibility": [dsa.DecisionVisibility.OTHER]}, "visibility_other"),
    ({"visibility": [], "monetary": dsa.DecisionMonetary.OTHER}, "monetary_other"),
    ({"visibility": ["DECISION_VISIBILITY_SHADOW_BANNED"]}, "visibility"),
    ({"ground": ""}, "ground"),
    ({"ground": dsa.DecisionGround.ILLEGAL_CONTENT}, "legal_ground"),
    ({"ground": dsa.DecisionGround.ILLEGAL_CONTENT, "legal_ground": "Art. 285 Sr"}, "illegal_explanation"),
    ({"incompatible_ground": ""}, "incompatible_ground"),
    ({"incompatible_explanation": ""}, "incompatible_explanation"),
    ({"facts": ""}, "facts"),
    ({"facts": "x" * 5001}, "facts"),
    ({"category": ""}, "category"),
    ({"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}, "category"),
    ({"keywords": ["KEYWORD_GENDER_BASED_VIOLENCE"]}, "keywords"),
    ({"keywords": [dsa.Keyword.OTHER]}, "keyword_other"),
    ({"no_action": True}, "no_action"),
    ({"restriction_end": "2001-01-01"}, "restriction_end"),
    ({"territorial_scope": ["US"]}, "territorial_scope"),
    ({"facts": "bad \ud800 text"}, "facts"),
])
def test_invalid_decisions_are_refused_and_change_nothing(item: Item, moderator: Any, overrides: dict[str, Any],
                                                          field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        decide(item=item, user=moderator, form_data=decision_data(**overrides))
    assert field in raised.value.message_dict
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_REVIEW and item.image_sealed is not None
    assert not Decision.objects.exists() and not Event.objects.filter(event_type__startswith="moderation.").exists()


@pytest.mark.parametrize("who", ["analyst", "other platform's moderator", "helpline handler", "no membership",
                                 "inactive"])
def test_only_the_platforms_moderators_may_decide(item: Item, who: str) -> None:
    other = make_platform("elsewhere")
    helpline = Organisation.objects.create(slug="a-helpline", name="A helpline")
    user = {
        "analyst": lambda: make_moderator("ana", item.organisation, role=Role.ANALYST),
        "other platform's moderator": lambda: make_moderator("otto", other),
        "helpline handler": lambda: make_user("hans", organisation=helpline, role=Role.HANDLER),
        "no membership": lambda: make_user("nobody"),
        "inactive": lambda: make_moderator("ina", item.organisation) if False else make_user(
            "ina", organisation=item.organisation, role=Role.MODERATOR, is_active=False),
    }[who]()
    with pytest.raises(PermissionDenied):
        decide(item=item, user=user, form_data=decision_data())
    with pytest.raises(PermissionDenied):
        decide(item=item, user=None, form_data=decision_data())
    assert not Decision.objects.exists()


def test_a_policy_manager_may_decide(item: Item) -> None:
    manager = make_moderator("pia", item.organisation, role=Role.POLICY_MANAGER)
    assert decide(item=item, user=manager, form_data=decision_data()).decided_by == manager


def test_an_item_is_decided_once_and_a_task_only_by_its_holder(platform: Organisation, item: Item,
                                                                moderator: Any) -> None:
    decide(item=item, user=moderator, form_data=decision_data())
    with translation.override("en"), pytest.raises(ValidationError, match="already decided"):
        decide(item=item, user=moderator, form_data=decision_data())
    other = make_item(platform)
    colleague = make_moderator("cor", platform)
    now = timezone.now()
    task = ReviewTask.objects.create(organisation=platform, item=other, kind=TaskKind.FLAGGED, assigned_to=colleague,
                                     assigned_at=now, lease_expires_at=now + timedelta(minutes=10))
    with translation.override("en"), pytest.raises(ValidationError, match="Another moderator"):
        decide(item=other, user=moderator, form_data=decision_data(), task=task)
    with translation.override("en"), pytest.raises(ValidationError, match="another item"):
        decide(item=item, user=colleague, form_data=decision_data(), task=task)
    decide(item=other, user=colleague, form_data=decision_data(), task=task)
    with translation.override("en"), pytest.raises(ValidationError, match="already decided"):
        decide(item=other, user=colleague, form_data=decision_data(), task=task)


def test_the_policy_decides_automatically_with_the_rules_clause_and_category(platform: Organisation) -> None:
    make_policy(platform, terms_url="https://chatter.example/terms", rules={
        Label.THREAT: {"action_threshold": 0.9, "action": Action.REMOVE, "strike_weight": 2,
                       "category": dsa.StatementCategory.VIOLENCE, "terms_clause": "Rules, 2.1: no threats"}})
    item = make_item(platform, scores={Label.THREAT: 0.97}, flagged=[Label.THREAT], status=ItemStatus.ALLOWED,
                     image_sealed=b"x")
    decision = decide_automatically(item=item, action=Action.DEMOTE, label=Label.THREAT,
                                    actor=_platform_actor())
    assert decision.decided_by is None and decision.automated_detection
    assert decision.automated_decision == dsa.AutomatedDecision.FULLY
    assert decision.visibility == [dsa.DecisionVisibility.CONTENT_DEMOTED]
    payload = decision.statement.payload
    assert validate_statement(payload) == []
    assert payload["incompatible_content_ground"] == "Rules, 2.1: no threats"
    assert payload["decision_ground_reference_url"] == "https://chatter.example/terms"
    assert payload["category"] == dsa.StatementCategory.VIOLENCE
    assert payload["source_type"] == dsa.SourceType.VOLUNTARY and payload["automated_detection"] == "Yes"
    item.refresh_from_db()
    assert item.status == ItemStatus.ACTIONED and item.image_sealed is None
    assert not Strike.objects.filter(decision=decision).exists(), "counted once a moderator confirms it"
    confirmed = decide(item=item, user=make_moderator("mona", platform), form_data=decision_data(labels=[Label.THREAT]))
    assert Strike.objects.get(decision=confirmed).weight == 2
    [actioned] = events(ModerationEvent.ITEM_ACTIONED)
    assert actioned.actor_label == "platform chatter key" and actioned.data["label"] == Label.THREAT
    [hook] = webhooks(WebhookEvent.ITEM_ACTIONED)
    assert hook.payload["action"] == Action.DEMOTE and hook.payload["decision_id"] == decision.pk


def test_without_a_policy_the_default_category_and_the_terms_in_general(platform: Organisation) -> None:
    item = make_item(platform)
    with translation.override("en"):  # the statement's texts are in the site's language (Dutch) all the same
        decision = decide_automatically(item=item, action=Action.REMOVE, label=Label.MISOGYNY,
                                        actor=_platform_actor())
    assert decision.category == dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN
    assert decision.incompatible_ground == "De algemene voorwaarden van het platform"
    assert "automatisch" in decision.facts
    assert validate_statement(decision.statement.payload) == []
    matched = decide_automatically(item=make_item(platform), action=Action.DISABLE, label="", actor=_platform_actor())
    assert matched.category == dsa.StatementCategory.OTHER_VIOLATION_TC and matched.labels == []
    assert validate_statement(matched.statement.payload) == []


def test_automatic_decisions_only_restrict(platform: Organisation) -> None:
    for action in (Action.ALLOW, Action.REVIEW):
        with pytest.raises(ValueError, match="not a restricting action"):
            decide_automatically(item=make_item(platform), action=action, label=Label.HATE, actor=_platform_actor())
    assert not Decision.objects.exists()


def _platform_actor() -> Any:
    from vangnet.audit.services import Actor

    return Actor.platform("platform chatter key")


def warn(item: Item) -> Sanction:
    """A warning for the item's author in the strike window, as the ladder gives one."""
    return Sanction.objects.create(organisation=item.organisation, author_id=item.author_id,
                                   kind=SanctionKind.WARNING, points=1, starts_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Art. 23: a suspension only after a warning, and only for a time


def _suspension(**overrides: Any) -> dict[str, Any]:
    end = (timezone.localdate() + timedelta(days=14)).isoformat()
    return decision_data(visibility=[], account=dsa.DecisionAccount.SUSPENDED, restriction_end=end, **overrides)


def test_an_account_suspension_without_a_warning_in_the_window_is_refused(item: Item, moderator: Any) -> None:
    with translation.override("en"), pytest.raises(ValidationError, match="no warning") as refused:
        decide(item=item, user=moderator, form_data=_suspension())
    assert "account" in refused.value.message_dict
    assert not Decision.objects.exists()
    old = warn(item)
    Sanction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))  # out of the window
    with pytest.raises(ValidationError):
        decide(item=item, user=moderator, form_data=_suspension())
    warn(item)
    decision = decide(item=item, user=moderator, form_data=_suspension())
    assert decision.account == dsa.DecisionAccount.SUSPENDED


@pytest.mark.parametrize("restriction", [
    {"account": dsa.DecisionAccount.SUSPENDED},
    {"provision": dsa.DecisionProvision.PARTIAL_SUSPENSION},
    {"provision": dsa.DecisionProvision.TOTAL_SUSPENSION},
])
def test_a_suspension_needs_its_end(item: Item, moderator: Any, restriction: dict[str, str]) -> None:
    warn(item)
    with translation.override("en"), pytest.raises(ValidationError, match="time-limited") as refused:
        decide(item=item, user=moderator, form_data=decision_data(visibility=[], **restriction))
    assert "restriction_end" in refused.value.message_dict
    assert not Decision.objects.exists()


# ---------------------------------------------------------------------------------------------
# Art. 24(5): no personal data in what the statement publishes


@pytest.mark.parametrize(("field", "text", "kind", "overrides"), [
    ("facts", "She posted his number 06-12345678 under the photo.", "a phone number", {}),
    ("illegal_explanation", "It names where she lives: Kerkstraat 12, 1234 AB Amsterdam.", "a street address",
     {"ground": dsa.DecisionGround.ILLEGAL_CONTENT, "legal_ground": "Art. 285 Sr"}),
    ("incompatible_explanation", "It shares her e-mail, nina.de.vries@example.org, to harass her.",
     "an e-mail address", {}),
    ("visibility_other", "Hidden from the thread of jan.jansen@example.org", "an e-mail address",
     {"visibility": [dsa.DecisionVisibility.OTHER]}),
    ("monetary_other", "Payouts to NL91ABNA0417164300 stopped", "a bank account number (IBAN)",
     {"monetary": dsa.DecisionMonetary.OTHER}),
    ("keyword_other", "Doxing of 06-12345678", "a phone number", {"keywords": [dsa.Keyword.OTHER]}),
])
def test_published_texts_with_personal_data_are_refused_without_repeating_it(
        item: Item, moderator: Any, field: str, text: str, kind: str, overrides: dict[str, Any]) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        decide(item=item, user=moderator, form_data=decision_data(**{field: text, **overrides}))
    [message] = refused.value.message_dict[field]
    assert kind in message and "personal data" in message
    for part in text.replace(",", " ").split():
        if any(ch.isdigit() for ch in part) or "@" in part:
            assert part.strip(".") not in message
    assert not Decision.objects.exists()


def test_the_legal_provision_and_the_clause_may_hold_numbers(item: Item, moderator: Any) -> None:
    decision = decide(item=item, user=moderator, form_data=decision_data(
        ground=dsa.DecisionGround.ILLEGAL_CONTENT, legal_ground="Art. 285 Wetboek van Strafrecht",
        illegal_explanation="A threat to kill, posted on 3 March 2025 at 21:40.",
        facts="Posted in a public thread with 1200 members."))
    assert decision.legal_ground == "Art. 285 Wetboek van Strafrecht"


# ---------------------------------------------------------------------------------------------
# Whose initiative: notices (Art. 16) and trusted flaggers (Art. 22)


def test_an_automatic_restriction_of_a_noticed_item_names_the_notice_as_its_source(platform: Organisation) -> None:
    noticed = make_item(platform, source=ItemSource.NOTICE)
    decision = decide_automatically(item=noticed, action=Action.REMOVE, label=Label.HATE, actor=_platform_actor())
    assert decision.source_type == dsa.SourceType.ARTICLE_16
    assert decision.statement.payload["source_type"] == dsa.SourceType.ARTICLE_16
    assert validate_statement(decision.statement.payload) == []
    flagged = make_item(platform)
    UserNotice.objects.create(organisation=platform, external_id="tf-1", item=flagged, explanation="hate",
                              trusted_flagger=True)
    decision = decide_automatically(item=flagged, action=Action.REMOVE, label=Label.HATE, actor=_platform_actor())
    assert decision.source_type == dsa.SourceType.TRUSTED_FLAGGER
    plain = decide_automatically(item=make_item(platform), action=Action.REMOVE, label=Label.HATE,
                                 actor=_platform_actor())
    assert plain.source_type == dsa.SourceType.VOLUNTARY


def test_a_later_decision_on_a_noticed_item_still_answers_the_notice(platform: Organisation, moderator: Any) -> None:
    item = make_item(platform)
    UserNotice.objects.create(organisation=platform, external_id="n-1", item=item, explanation="hateful")
    first = decide(item=item, user=moderator, form_data=no_action_data())
    assert first.source_type == dsa.SourceType.ARTICLE_16
    task = ReviewTask.objects.create(organisation=platform, item=item, kind=TaskKind.FLAGGED)
    again = decide(item=item, user=make_moderator("cor", platform), form_data=decision_data(), task=task)
    assert again.source_type == dsa.SourceType.ARTICLE_16, "the notice was decided before, still its initiative"


# ---------------------------------------------------------------------------------------------
# The webhook names the notices decided (Art. 16(5))


def test_the_decision_webhook_names_the_notices_it_decided(platform: Organisation, moderator: Any) -> None:
    item = make_item(platform, source=ItemSource.NOTICE)
    for external_id in ("n-1", "n-2"):
        UserNotice.objects.create(organisation=platform, external_id=external_id, item=item, explanation="x")
    other = make_item(platform)
    UserNotice.objects.create(organisation=platform, external_id="n-other", item=other, explanation="x")
    decision = decide(item=item, user=moderator, form_data=decision_data())
    [hook] = webhooks(WebhookEvent.DECISION_MADE)
    assert hook.payload["decision_id"] == decision.pk and hook.payload["notices"] == ["n-1", "n-2"]
    UserNotice.objects.create(organisation=platform, external_id="n-3", item=item, explanation="x")
    task = ReviewTask.objects.create(organisation=platform, item=item, kind=TaskKind.NOTICE)
    decide(item=item, user=moderator, form_data=no_action_data(), task=task)
    assert webhooks(WebhookEvent.DECISION_MADE)[-1].payload["notices"] == ["n-3"], "only those it decided"
    automatic = decide_automatically(item=make_item(platform), action=Action.REMOVE, label=Label.HATE,
                                     actor=_platform_actor())
    assert webhooks(WebhookEvent.ITEM_ACTIONED)[-1].payload["notices"] == [] and automatic.pk


# ---------------------------------------------------------------------------------------------
# The review page's quick decisions (built here, not in the view)


def test_preset_form_data_builds_the_quick_decisions_from_the_item_and_the_policy(
        platform: Organisation, moderator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from .. import policy as policies
    from ..decisions import preset_form_data
    from ..policy import policy_for
    from .dashboard import fixed_default_rules

    monkeypatch.setattr(policies, "default_rules", fixed_default_rules)  # no classifier weights needed

    make_policy(platform, terms_url="https://chatter.example/terms", rules={
        Label.MISOGYNY: {"category": dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN,
                         "terms_clause": "Rules, 3: no demeaning content about women"}})
    item = make_item(platform)
    policy = policy_for(platform)
    assert preset_form_data(item=item, preset="no_action", policy=policy) == {"no_action": "on", "labels": []}
    with translation.override("en"):
        terms = preset_form_data(item=item, preset="remove_terms", policy=policy)
        illegal = preset_form_data(item=item, preset="remove_illegal", policy=policy)
    assert terms["labels"] == [Label.MISOGYNY] and terms["visibility"] == [dsa.DecisionVisibility.CONTENT_REMOVED]
    assert terms["incompatible_ground"] == "Rules, 3: no demeaning content about women"
    assert terms["category"] == dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN
    assert terms["ground_reference_url"] == "https://chatter.example/terms" and "Misogyny" in terms["facts"]
    assert illegal["ground"] == dsa.DecisionGround.ILLEGAL_CONTENT and "legal_ground" not in illegal
    with pytest.raises(ValueError):
        preset_form_data(item=item, preset="ban_forever", policy=policy)
    decision = decide(item=item, user=moderator, form_data=terms)
    assert decision.statement.payload["incompatible_content_ground"].startswith("Rules, 3")
