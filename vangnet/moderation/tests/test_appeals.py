"""Appeals (DSA Art. 20): received and queued, decided by another moderator, overturning withdraws strikes; the file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.audit.services import Actor

from .. import dsa
from ..appeals import appeal_file, decide_appeal, receive_appeal
from ..choices import Action, AppealStatus, Label, ModerationEvent, SanctionKind, TaskKind, WebhookEvent
from ..decisions import decide, decide_automatically
from ..models import (Appeal, Decision, Item, ReviewTask, Sanction, Strike, UserNotice, WebhookDelivery,
                      WebhookEndpoint)
from .factories import decision_data, make_item, make_moderator, make_platform, make_policy, no_action_data

pytestmark = pytest.mark.django_db
PLATFORM = Actor.platform("chatter appeals key")


@pytest.fixture
def platform() -> Organisation:
    platform = make_platform("chatter")
    make_policy(platform, dispute_body="Stichting Geschillen Online", terms_url="https://chatter.example/terms")
    WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.chatter.example/", secret="s")
    return platform


@pytest.fixture
def first(platform: Organisation) -> Any:
    return make_moderator("mona", platform)


@pytest.fixture
def second(platform: Organisation) -> Any:
    return make_moderator("marit", platform)


@pytest.fixture
def item(platform: Organisation) -> Item:
    item = make_item(platform)
    UserNotice.objects.create(organisation=platform, external_id="n-1", item=item, explanation="She hates women.",
                              notifier_name="Nina Notifier", notifier_email="nina@example.org")
    return item


@pytest.fixture
def decision(item: Item, first: Any) -> Decision:
    return decide(item=item, user=first, form_data=decision_data())


@pytest.fixture
def appeal(platform: Organisation, decision: Decision) -> Appeal:
    return receive_appeal(organisation=platform, decision=decision, external_id="appeal-1",
                          reason="It was a joke between friends.", actor=PLATFORM)


def test_an_appeal_is_received_once_and_queued(platform: Organisation, decision: Decision, appeal: Appeal) -> None:
    assert appeal.status == AppealStatus.OPEN and appeal.decision == decision
    [task] = ReviewTask.objects.filter(kind=TaskKind.APPEAL)
    assert task.appeal == appeal and task.item == decision.item and task.done_at is None
    [received] = Event.objects.filter(event_type=ModerationEvent.APPEAL_RECEIVED)
    assert received.subject_id == str(appeal.pk) and received.actor_label == "chatter appeals key"
    assert "joke" not in str(received.data)
    again = receive_appeal(organisation=platform, decision=decision, external_id="appeal-1", reason="again",
                           actor=PLATFORM)
    assert again == appeal and Appeal.objects.count() == 1
    assert Event.objects.filter(event_type=ModerationEvent.APPEAL_RECEIVED).count() == 1


def test_an_appeal_against_another_platforms_decision_or_without_reason_is_refused(decision: Decision,
                                                                                   appeal: Appeal) -> None:
    other = make_platform("elsewhere")
    with pytest.raises(ValidationError):
        receive_appeal(organisation=other, decision=decision, external_id="x", reason="why", actor=PLATFORM)
    with pytest.raises(ValidationError):
        receive_appeal(organisation=decision.organisation, decision=decision, external_id="appeal-2", reason="  ",
                       actor=PLATFORM)
    other_decision = decide(item=make_item(decision.organisation), user=appeal.decision.decided_by,
                            form_data=decision_data())
    with pytest.raises(ValidationError):  # the id belongs to an appeal against another decision
        receive_appeal(organisation=decision.organisation, decision=other_decision, external_id="appeal-1",
                       reason="why", actor=PLATFORM)
    assert Appeal.objects.count() == 1


def test_the_first_decider_never_decides_the_appeal(appeal: Appeal, first: Any) -> None:
    with pytest.raises(PermissionDenied):
        decide_appeal(appeal=appeal, user=first, uphold=False, explanation="I was wrong.")
    with pytest.raises(PermissionDenied):  # nor records a new decision resolving it
        decide(item=appeal.decision.item, user=first, form_data=decision_data(), appeal=appeal)
    task = ReviewTask.objects.get(appeal=appeal)
    with pytest.raises(PermissionDenied):  # nor through the appeal's task
        decide(item=appeal.decision.item, user=first, form_data=decision_data(), task=task)
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OPEN
    assert not Event.objects.filter(event_type=ModerationEvent.APPEAL_DECIDED).exists()


@pytest.mark.parametrize("role", [Role.ANALYST, "other platform"])
def test_only_the_platforms_moderators_decide_appeals(platform: Organisation, appeal: Appeal, role: str) -> None:
    user = (make_moderator("otto", make_platform("elsewhere")) if role == "other platform"
            else make_moderator("ana", platform, role=role))
    with pytest.raises(PermissionDenied):
        decide_appeal(appeal=appeal, user=user, uphold=True, explanation="Fine.")
    with pytest.raises(PermissionDenied):
        appeal_file(appeal=appeal, user=user)


def test_upholding_keeps_the_decision_and_its_strikes(appeal: Appeal, second: Any) -> None:
    decided = decide_appeal(appeal=appeal, user=second, uphold=True, explanation="Demeaning, not a joke.")
    assert decided.status == AppealStatus.UPHELD and decided.decided_by == second and decided.decided_at
    assert Strike.objects.get().withdrawn_at is None
    assert not Decision.objects.filter(appeal=appeal).exists()
    assert ReviewTask.objects.get(appeal=appeal).done_at is not None
    [event] = Event.objects.filter(event_type=ModerationEvent.APPEAL_DECIDED)
    assert event.data["outcome"] == AppealStatus.UPHELD and event.actor_user_id == second.pk
    [hook] = WebhookDelivery.objects.filter(event_type=WebhookEvent.APPEAL_DECIDED)
    assert hook.payload["outcome"] == "upheld" and hook.payload["appeal_id"] == "appeal-1"
    assert hook.payload["explanation"] == "Demeaning, not a joke."
    with translation.override("en"), pytest.raises(ValidationError, match="already decided"):
        decide_appeal(appeal=appeal, user=second, uphold=False, explanation="Changed my mind.")


def test_overturning_withdraws_strikes_ends_suspensions_and_records_a_decision_without_restriction(
        platform: Organisation, first: Any, second: Any) -> None:
    make_policy_points(platform)
    decisions = [decide(item=make_item(platform), user=second, form_data=decision_data(labels=[Label.HATE]))
                 for _ in range(2)]
    suspension = Sanction.objects.get(kind=SanctionKind.SUSPENSION)
    assert suspension.decision == decisions[1]
    appeal = receive_appeal(organisation=platform, decision=decisions[1], external_id="a-2", reason="Not me.",
                            actor=PLATFORM)
    decide_appeal(appeal=appeal, user=first, uphold=False, explanation="Satire of a known account.")

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OVERTURNED
    assert Strike.objects.get(decision=decisions[1]).withdrawn_at is not None
    assert Strike.objects.get(decision=decisions[0]).withdrawn_at is None
    suspension.refresh_from_db()
    assert suspension.ends_at is not None and appeal.decided_at is not None
    assert suspension.ends_at <= appeal.decided_at
    [resolution] = Decision.objects.filter(appeal=appeal)
    assert resolution.no_action and resolution.decided_by == first and resolution.item == decisions[1].item
    assert not hasattr(resolution, "statement") or resolution.statement is None
    [event] = Event.objects.filter(event_type=ModerationEvent.APPEAL_DECIDED)
    assert event.data["strikes_withdrawn"] == 1 and event.data["suspensions_ended"] == [suspension.pk]
    assert Event.objects.filter(event_type=ModerationEvent.DECISION_MADE, subject_id=str(resolution.pk)).exists()
    [hook] = WebhookDelivery.objects.filter(event_type=WebhookEvent.APPEAL_DECIDED)
    assert hook.payload["outcome"] == "overturned" and hook.payload["suspensions_ended"] == [suspension.pk]
    assert hook.payload["new_decision_id"] == resolution.pk


def test_overturning_a_confirmation_of_the_automatic_removal_withdraws_the_items_strike(
        platform: Organisation, first: Any, second: Any) -> None:
    """The policy removes (D1), a moderator confirms (D2), D2 is appealed and overturned: no strike stays."""
    make_policy_points(platform)
    decide(item=make_item(platform), user=second, form_data=decision_data())  # an earlier violation: warned
    item = make_item(platform)
    automatic = decide_automatically(item=item, action=Action.REMOVE, label=Label.HATE, actor=PLATFORM)
    confirmed = decide(item=item, user=second, form_data=decision_data(labels=[Label.HATE]))
    suspension = Sanction.objects.get(kind=SanctionKind.SUSPENSION)
    assert suspension.decision in (automatic, confirmed)
    appeal = receive_appeal(organisation=platform, decision=confirmed, external_id="a-d2", reason="Not me.",
                            actor=PLATFORM)
    decide_appeal(appeal=appeal, user=first, uphold=False, explanation="Satire of a known account.")
    appeal.refresh_from_db()
    assert not Strike.objects.filter(decision__item=item, withdrawn_at__isnull=True).exists()
    suspension.refresh_from_db()
    assert suspension.ends_at is not None and appeal.decided_at is not None
    assert suspension.ends_at <= appeal.decided_at
    [event] = Event.objects.filter(event_type=ModerationEvent.APPEAL_DECIDED)
    assert event.data["strikes_withdrawn"] == 1 and event.data["suspensions_ended"] == [suspension.pk]


def test_overturning_any_decision_of_the_item_withdraws_the_strike_another_decision_recorded(
        platform: Organisation, first: Any, second: Any) -> None:
    """A moderator removes (D1, the strike), another confirms it from a notice (D2); overturning D2 withdraws it."""
    make_policy_points(platform)
    decide(item=make_item(platform), user=second, form_data=decision_data())  # an earlier violation: warned
    item = make_item(platform)
    removal = decide(item=item, user=second, form_data=decision_data(labels=[Label.HATE]))
    suspension = Sanction.objects.get(kind=SanctionKind.SUSPENSION)
    assert suspension.decision == removal and Strike.objects.filter(decision=removal).exists()
    third = make_moderator("mirte", platform)
    task = ReviewTask.objects.create(organisation=platform, item=item, kind=TaskKind.NOTICE)
    confirmed = decide(item=item, user=third, form_data=decision_data(labels=[Label.HATE]), task=task)
    assert not Strike.objects.filter(decision=confirmed).exists(), "one strike per item"
    appeal = receive_appeal(organisation=platform, decision=confirmed, external_id="a-d2", reason="Not me.",
                            actor=PLATFORM)
    decide_appeal(appeal=appeal, user=first, uphold=False, explanation="Satire of a known account.")
    assert Strike.objects.get(decision=removal).withdrawn_at is not None
    suspension.refresh_from_db()
    appeal.refresh_from_db()
    assert suspension.ends_at is not None and appeal.decided_at is not None
    assert suspension.ends_at <= appeal.decided_at


def test_upholding_an_automatic_removal_confirms_it_and_its_strike_counts(platform: Organisation,
                                                                           first: Any) -> None:
    automatic = decide_automatically(item=make_item(platform), action=Action.REMOVE, label=Label.HATE,
                                     actor=PLATFORM)
    assert not Strike.objects.exists(), "the policy alone counts no strike"
    appeal = receive_appeal(organisation=platform, decision=automatic, external_id="a-auto", reason="Not hate.",
                            actor=PLATFORM)
    decide_appeal(appeal=appeal, user=first, uphold=True, explanation="It attacks a group for its religion.")
    [strike] = Strike.objects.all()
    assert strike.decision == automatic and strike.withdrawn_at is None
    assert Sanction.objects.get().kind == SanctionKind.WARNING


def test_overturning_a_decision_to_leave_it_takes_a_restricting_decision(platform: Organisation, item: Item,
                                                                          first: Any, second: Any) -> None:
    """A notifier appeals "no action": a plain overturn is refused; the full decision resolves the appeal."""
    left = decide(item=item, user=second, form_data=no_action_data())
    appeal = receive_appeal(organisation=platform, decision=left, external_id="appeal-by-notifier",
                            reason="It is hateful, please remove it.", actor=PLATFORM)
    with translation.override("en"), pytest.raises(ValidationError, match="full decision form") as refused:
        decide_appeal(appeal=appeal, user=first, uphold=False, explanation="You are right.")
    assert "outcome" in refused.value.message_dict
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OPEN and not Decision.objects.filter(appeal=appeal).exists()

    task = ReviewTask.objects.get(appeal=appeal)
    removal = decide(item=item, user=first, form_data=decision_data(), task=task)
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.OVERTURNED and appeal.decided_by == first and appeal.decided_at
    assert appeal.explanation == removal.facts
    assert removal.appeal == appeal and not removal.no_action and removal.statement.payload
    assert Strike.objects.get().decision == removal
    task.refresh_from_db()
    assert task.done_at is not None
    [event] = Event.objects.filter(event_type=ModerationEvent.APPEAL_DECIDED)
    assert event.data["outcome"] == AppealStatus.OVERTURNED and event.data["resolution"] == removal.pk
    [hook] = WebhookDelivery.objects.filter(event_type=WebhookEvent.APPEAL_DECIDED)
    assert hook.payload["outcome"] == "overturned" and hook.payload["new_decision_id"] == removal.pk
    with translation.override("en"), pytest.raises(ValidationError, match="already decided"):
        decide(item=item, user=first, form_data=decision_data(), appeal=appeal)


def make_policy_points(platform: Organisation) -> None:
    policy = platform.moderation_policy
    policy.warning_points, policy.suspension_points = 1, 2
    policy.save(update_fields=["warning_points", "suspension_points"])


def test_a_second_appeal_about_the_item_waits_for_the_first(platform: Organisation, decision: Decision,
                                                            appeal: Appeal, second: Any) -> None:
    later = receive_appeal(organisation=platform, decision=decision, external_id="appeal-by-notifier",
                           reason="Too mild.", actor=PLATFORM)
    assert ReviewTask.objects.filter(kind=TaskKind.APPEAL, done_at__isnull=True).count() == 1
    decide_appeal(appeal=appeal, user=second, uphold=True, explanation="Right decision.")
    [task] = ReviewTask.objects.filter(kind=TaskKind.APPEAL, done_at__isnull=True)
    assert task.appeal == later


def test_the_appeal_file_for_a_dispute_settlement_body(appeal: Appeal, second: Any, first: Any) -> None:
    decide_appeal(appeal=appeal, user=second, uphold=False, explanation="A joke between friends, as she says.")
    file = appeal_file(appeal=appeal, user=second)
    text = json.dumps(file)  # JSON as it is
    assert file["format"] == "vangnet-appeal-file/1"
    assert file["dispute_settlement_body"] == "Stichting Geschillen Online"
    assert file["decision"]["decided_by"] == "moderator 1" and file["outcome"]["decided_by"] == "moderator 2"
    assert file["statement_of_reasons"]["decision_visibility"] == [dsa.DecisionVisibility.CONTENT_REMOVED]
    assert file["appeal"] == {"id": "appeal-1", "received_at": appeal.received_at.isoformat(),
                              "reason": "It was a joke between friends."}
    assert file["outcome"]["status"] == "overturned" and file["outcome"]["strikes_withdrawn"] == 1
    assert [r["no_action"] for r in file["outcome"]["resolutions"]] == [True]
    assert file["content"]["author"] == "author-1"
    assert file["notices"] == [{"received_at": file["notices"][0]["received_at"], "label": "",
                                "trusted_flagger": False}]
    for secret in ("Nina", "nina@example.org", "She hates women", "mona", "marit"):
        assert secret not in text
    events = [entry["event"] for entry in file["timeline"]]
    assert events[:3] == ["content_received", "notice_received", "decision_made"]
    assert {"appeal_received", "appeal_overturned", "strike_withdrawn", "decision_replaced"} <= set(events)
    assert [entry["at"] for entry in file["timeline"]] == sorted(entry["at"] for entry in file["timeline"])
    [exported] = Event.objects.filter(event_type=ModerationEvent.APPEAL_FILE_EXPORTED)
    assert exported.subject_id == str(appeal.pk) and exported.actor_user_id == second.pk
