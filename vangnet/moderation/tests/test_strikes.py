"""Strikes and sanctions (DSA Art. 23): weights, the window, warning before suspension, each sanction once, locks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.common.testing import at_the_same_moment

from ..choices import Action, ItemStatus, Label, ModerationEvent, SanctionKind, WebhookEvent
from ..decisions import decide, decide_automatically
from ..models import Decision, Sanction, Strike, WebhookDelivery, WebhookEndpoint
from ..strikes import points_for, record_strikes
from .factories import decision_data, make_item, make_moderator, make_platform, make_policy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(60))
ACTOR = Actor.platform("chatter key")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Set the time to T0 + the given delta (for everything that calls ``timezone.now``)."""
    now = [T0]
    monkeypatch.setattr(timezone, "now", lambda: now[0])

    def set_to(delta: timedelta) -> None:
        now[0] = T0 + delta

    return set_to


@pytest.fixture
def platform(db: Any) -> Organisation:
    platform = make_platform("chatter")
    make_policy(platform, strike_window_days=30, warning_points=1, suspension_points=3, suspension_days=7,
                rules={Label.THREAT: {"strike_weight": 3}, Label.TOXICITY: {"strike_weight": 0},
                       Label.HATE: {"strike_weight": 2}})
    WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.chatter.example/", secret="s")
    return platform


def moderator_of(platform: Organisation) -> Any:
    from django.contrib.auth import get_user_model

    return (get_user_model().objects.filter(username=f"mod-{platform.slug}").first()
            or make_moderator(f"mod-{platform.slug}", platform))


def violation(platform: Organisation, label: str = Label.MISOGYNY, author: str = "author-1") -> list[Sanction]:
    """A moderator's removal of a new item by ``author``; the sanctions it led to."""
    decide(item=make_item(platform, author_id=author), user=moderator_of(platform),
           form_data=decision_data(labels=[label]))
    return list(Sanction.objects.filter(decision__item__external_id=Decision.objects.latest("id").item.external_id))


def kinds(author: str = "author-1") -> list[str]:
    return list(Sanction.objects.filter(author_id=author).order_by("id").values_list("kind", flat=True))


def test_a_warning_first_then_nothing_until_the_suspension_points(platform: Organisation, clock: Any) -> None:
    [warning] = violation(platform)
    assert (warning.kind, warning.points, warning.ends_at) == (SanctionKind.WARNING, 1, None)
    clock(timedelta(days=1))
    assert violation(platform) == []  # two points: warned already, no second warning for the same window
    clock(timedelta(days=2))
    [suspension] = violation(platform)
    assert (suspension.kind, suspension.points) == (SanctionKind.SUSPENSION, 3)
    assert suspension.starts_at == T0 + timedelta(days=2)
    assert suspension.ends_at == T0 + timedelta(days=9)
    assert kinds() == [SanctionKind.WARNING, SanctionKind.SUSPENSION]
    assert kinds("author-2") == []

    applied = Event.objects.filter(event_type=ModerationEvent.SANCTION_APPLIED).order_by("id")
    assert [e.data["kind"] for e in applied] == [SanctionKind.WARNING, SanctionKind.SUSPENSION]
    assert "author-1" not in str([e.data for e in applied])
    assert Event.objects.filter(event_type=ModerationEvent.STRIKE_RECORDED).count() == 3
    hooks = WebhookDelivery.objects.filter(event_type=WebhookEvent.SANCTION_APPLIED).order_by("id")
    assert [(h.payload["kind"], h.payload["author_id"]) for h in hooks] == [
        (SanctionKind.WARNING, "author-1"), (SanctionKind.SUSPENSION, "author-1")]
    assert hooks[1].payload["ends_at"] == "2026-03-11T08:00:00+00:00"


def test_another_violation_while_over_the_threshold_suspends_again_after_the_running_one(
        platform: Organisation, clock: Any) -> None:
    violation(platform)
    violation(platform, Label.HATE)  # 3 points: suspended until T0 + 7 days
    clock(timedelta(days=1))
    [again] = violation(platform)
    assert again.kind == SanctionKind.SUSPENSION and again.points == 4
    assert again.starts_at == T0 + timedelta(days=7) and again.ends_at == T0 + timedelta(days=14)


def test_strikes_leave_the_window_and_the_ladder_starts_again(platform: Organisation, clock: Any) -> None:
    violation(platform)
    clock(timedelta(days=10))
    violation(platform)
    assert points_for(organisation_id=platform.pk, author_id="author-1", window_days=30) == 2
    clock(timedelta(days=35))  # the first strike and the warning (day 0) left the window; day 10 is in it
    assert points_for(organisation_id=platform.pk, author_id="author-1", window_days=30) == 1
    [warning] = violation(platform)  # two points again, but nobody warned her in this window
    assert warning.kind == SanctionKind.WARNING and warning.points == 2
    clock(timedelta(days=36))
    [suspension] = violation(platform)
    assert suspension.kind == SanctionKind.SUSPENSION and suspension.points == 3


def test_a_suspension_in_the_window_counts_as_the_prior_warning(platform: Organisation, clock: Any) -> None:
    violation(platform)  # day 0: warning
    clock(timedelta(days=20))
    violation(platform, Label.HATE)  # day 20: 3 points, suspension
    clock(timedelta(days=40))  # the warning left the window, the suspension did not
    [sanction] = violation(platform, Label.HATE)  # day 20 + day 40: 4 points
    assert sanction.kind == SanctionKind.SUSPENSION


def test_a_heavy_violation_warns_first_even_over_the_suspension_points(platform: Organisation, clock: Any) -> None:
    [warning] = violation(platform, Label.THREAT)
    assert (warning.kind, warning.points) == (SanctionKind.WARNING, 3)
    clock(timedelta(hours=1))
    [suspension] = violation(platform)
    assert (suspension.kind, suspension.points) == (SanctionKind.SUSPENSION, 4)


def test_weights_come_from_the_rules(platform: Organisation, clock: Any) -> None:
    violation(platform, Label.TOXICITY)  # weight 0: no strike at all
    assert not Strike.objects.exists() and kinds() == []
    violation(platform, Label.HATE)
    violation(platform, Label.SEXUAL_HARASSMENT)  # no rule: weight 1
    assert sorted(Strike.objects.values_list("label", "weight")) == [(Label.HATE, 2), (Label.SEXUAL_HARASSMENT, 1)]


def test_the_default_policy_warns_at_one_and_suspends_at_three(clock: Any, db: Any) -> None:
    platform = make_platform("no-policy")
    for _ in range(3):
        violation(platform)
    assert kinds() == [SanctionKind.WARNING, SanctionKind.SUSPENSION]
    suspension = Sanction.objects.get(kind=SanctionKind.SUSPENSION)
    assert suspension.ends_at is not None and suspension.ends_at - suspension.starts_at == timedelta(days=7)


def test_withdrawn_strikes_and_overturned_sanctions_do_not_count(platform: Organisation, clock: Any) -> None:
    violation(platform)
    Strike.objects.update(withdrawn_at=T0)  # overturned on appeal
    clock(timedelta(hours=1))
    [warning] = violation(platform)
    assert warning.kind == SanctionKind.WARNING and warning.points == 1


def test_no_strike_without_an_author_without_restriction_or_twice(platform: Organisation, clock: Any) -> None:
    moderator = moderator_of(platform)
    decision = decide(item=make_item(platform, author_id=""), user=moderator,
                      form_data=decision_data(labels=[Label.HATE]))
    assert not Strike.objects.exists()
    decision = decide(item=make_item(platform), user=moderator, form_data=decision_data(labels=[Label.HATE]))
    assert Strike.objects.count() == 1
    assert record_strikes(decision=decision, actor=ACTOR) == []
    assert Strike.objects.count() == 1
    confirmed = Decision.objects.create(organisation=platform, item=decision.item, labels=[Label.HATE],
                                        visibility=decision.visibility)
    assert record_strikes(decision=confirmed, actor=ACTOR) == []  # the same item again: one violation
    assert Strike.objects.count() == 1
    no_action = Decision.objects.create(organisation=platform, item=make_item(platform), no_action=True)
    assert record_strikes(decision=no_action, actor=ACTOR) == []
    assert Strike.objects.count() == 1


def test_an_automatic_restriction_counts_only_once_a_moderator_confirms_it(platform: Organisation,
                                                                            clock: Any) -> None:
    """Art. 23: the classifier alone never strikes; a moderator's restricting decision on the item does."""
    automatic = [decide_automatically(item=make_item(platform), action=Action.REMOVE, label=Label.THREAT,
                                      actor=ACTOR) for _ in range(3)]
    assert not Strike.objects.exists() and kinds() == []  # 9 points' worth of automatic removals: nothing
    assert not Event.objects.filter(event_type=ModerationEvent.STRIKE_RECORDED).exists()
    assert points_for(organisation_id=platform.pk, author_id="author-1", window_days=30) == 0
    item = automatic[0].item
    assert item.status == ItemStatus.ACTIONED
    confirmed = decide(item=item, user=moderator_of(platform), form_data=decision_data(labels=[Label.THREAT]))
    [strike] = Strike.objects.all()
    assert strike.decision == confirmed and strike.weight == 3
    assert kinds() == [SanctionKind.WARNING]
    assert record_strikes(decision=automatic[1], actor=ACTOR) == [] and Strike.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Concurrency: decisions about one author at the same moment (PostgreSQL; SQLite serialises writers)

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL (CI)")


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_simultaneous_decisions_about_one_author_warn_once_then_suspend_once() -> None:
    platform = make_platform("busy")
    make_policy(platform, warning_points=1, suspension_points=3)
    items = [make_item(platform, author_id="crowd-favourite") for _ in range(6)]
    moderators = [make_moderator(f"mod-{i}", platform) for i in range(6)]
    at_the_same_moment(6, lambda i: decide(item=items[i], user=moderators[i],
                                           form_data=decision_data(labels=[Label.HATE])))
    assert Strike.objects.filter(author_id="crowd-favourite").count() == 6
    sanctions = list(Sanction.objects.filter(author_id="crowd-favourite").order_by("id"))
    # Serialised per author: 1 point warns, 2 nothing, 3 to 6 suspend each time (one after another).
    assert [s.kind for s in sanctions] == [SanctionKind.WARNING] + [SanctionKind.SUSPENSION] * 4
    assert [s.points for s in sanctions] == [1, 3, 4, 5, 6]
