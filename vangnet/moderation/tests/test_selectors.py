"""The dashboard's reads: scoped to the platforms where the user moderates, history, scores, metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone, translation

from vangnet.accounts.choices import Role
from vangnet.common.testing import make_user
from vangnet.moderation import selectors
from vangnet.moderation.choices import TaskKind
from vangnet.moderation.models import Appeal, ReviewTask, Sanction, Strike

from .dashboard import decided, fixed_default_rules, flagged_item, flagged_task, notice_for, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.moderation import policy

    monkeypatch.setattr(policy, "default_rules", fixed_default_rules)


def test_queue_overview_orders_by_severity_then_age_and_sees_only_her_platforms(
        moderator: Any, second_moderator: Any, platform: Any, other_platform: Any) -> None:
    low = flagged_task(platform, external_id="low", severity=0.4)
    high = flagged_task(platform, external_id="high", severity=0.9)
    flagged_task(other_platform, external_id="elsewhere")
    ReviewTask.objects.filter(pk=low.pk).update(assigned_to=second_moderator,
                                                lease_expires_at=timezone.now() + timedelta(minutes=5))
    with translation.override("en"):  # the labels are named in the active language
        queues = {q.kind: q for q in selectors.queue_overview(user=moderator)}
    assert [t.pk for t in queues[TaskKind.FLAGGED].tasks] == [high.pk, low.pk]
    assert queues[TaskKind.FLAGGED].count == 2 and queues[TaskKind.NOTICE].count == 0
    listed = queues[TaskKind.FLAGGED].tasks
    assert listed[1].holder == second_moderator and listed[0].holder is None  # type: ignore[attr-defined]
    assert listed[0].top_label == "Threat of violence"  # type: ignore[attr-defined]


def test_a_lapsed_hold_has_no_holder(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    ReviewTask.objects.filter(pk=task.pk).update(assigned_to=moderator,
                                                 lease_expires_at=timezone.now() - timedelta(seconds=1))
    task.refresh_from_db()
    assert selectors.holder(task) is None


def test_tasks_images_and_appeals_of_another_platform_do_not_exist(moderator: Any, other_platform: Any) -> None:
    task = flagged_task(other_platform, image=png())
    with pytest.raises(Http404):
        selectors.get_task_for_user(user=moderator, task_id=task.pk)
    with pytest.raises(Http404):
        selectors.task_image(user=moderator, task_id=task.pk)
    decision = decided(task.item, None)
    appeal = Appeal.objects.create(organisation=other_platform, external_id="a", decision=decision, reason="r")
    with pytest.raises(Http404):
        selectors.get_appeal_for_user(user=moderator, appeal_id=appeal.pk)


def test_scores_are_sorted_clamped_and_marked_flagged(platform: Any) -> None:
    item = flagged_item(platform, scores={"toxicity": 0.3, "threat": 1.7, "hate": "n/a"}, flagged=["threat"])
    rows = selectors.score_rows(item)
    assert [(r.label, r.score, r.percent, r.flagged) for r in rows] == [("threat", 1.0, 100, True),
                                                                        ("toxicity", 0.3, 30, False)]


def test_notices_never_carry_the_notifier(moderator: Any, platform: Any) -> None:
    item = flagged_item(platform)
    notice_for(item)
    notices = selectors.item_notices(user=moderator, item=item)
    assert len(notices) == 1 and {"notifier_name", "notifier_email"} <= notices[0].get_deferred_fields()


def test_author_history_counts_strikes_in_the_window_only(moderator: Any, platform: Any, other_platform: Any) -> None:
    item = flagged_item(platform, external_id="now")
    earlier = flagged_item(platform, external_id="earlier")
    decision = decided(earlier, moderator)
    flagged_item(platform, external_id="not-hers", author_id="someone-else")
    flagged_item(other_platform, external_id="same-id-elsewhere")
    Strike.objects.create(organisation=platform, author_id="author-9", decision=decision, weight=2)
    old = Strike.objects.create(organisation=platform, author_id="author-9", decision=decision, weight=5)
    Strike.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=200))
    Strike.objects.create(organisation=platform, author_id="author-9", decision=decision, weight=7,
                          withdrawn_at=timezone.now())
    Sanction.objects.create(organisation=platform, author_id="author-9", kind="warning", points=2,
                            starts_at=timezone.now())
    history = selectors.author_history(user=moderator, item=item)
    assert [i.external_id for i in history.items] == ["earlier"]
    assert history.items[0].decision_texts == ["Removal of content"]  # type: ignore[attr-defined]
    assert history.strike_points == 2 and history.window_days == 90 and len(history.sanctions) == 1


def test_no_author_no_history(moderator: Any, platform: Any) -> None:
    item = flagged_item(platform, author_id="")
    flagged_item(platform, external_id="other-anonymous", author_id="")
    assert selectors.author_history(user=moderator, item=item).items == []


def test_describe_decision(platform: Any, moderator: Any) -> None:
    item = flagged_item(platform)
    none = decided(item, moderator, no_action=True, visibility=[])
    both = decided(item, moderator, account="ACCOUNT_SUSPENDED")
    with translation.override("en"):
        assert selectors.describe_decision(none) == "No restriction"
        assert selectors.describe_decision(both).startswith("Removal of content; ")


def test_metrics_suppress_small_cells_and_the_median_of_few(platform: Any, moderator: Any) -> None:
    analyst = make_user("ana", organisation=platform, role=Role.ANALYST)
    for n in range(5):
        task = flagged_task(platform, external_id=f"t-{n}")
        ReviewTask.objects.filter(pk=task.pk).update(done_at=task.created_at + timedelta(hours=n + 1))
        decided(task.item, moderator)
    flagged_item(platform, external_id="hate-1", flagged=["hate"])
    with translation.override("en"):  # the labels are named in the active language
        metrics = selectors.moderation_metrics(user=analyst, days=30)
    labels = {name: (flagged, confirmed) for name, flagged, confirmed in metrics.labels}
    assert labels["Threat of violence"][0].shown == 5 and labels["Threat of violence"][1].shown == 5
    assert labels["Hate against a protected group"][0].shown is None  # one: fewer than 5
    assert labels["Misogyny"][0].shown == 0
    assert metrics.reviewed.shown == 5 and metrics.median_hours == pytest.approx(3.0, abs=0.01)
    assert selectors.moderation_metrics(user=moderator, days=30).reviewed.shown == 0  # a moderator holds no statistics


def test_metrics_withhold_the_median_of_fewer_than_five(platform: Any, moderator: Any) -> None:
    analyst = make_user("ana", organisation=platform, role=Role.ANALYST)
    task = flagged_task(platform)
    ReviewTask.objects.filter(pk=task.pk).update(done_at=timezone.now())
    assert selectors.moderation_metrics(user=analyst, days=7).median_hours is None


def test_managed_platforms_are_where_she_is_policy_manager(policy_manager: Any, moderator: Any, platform: Any,
                                                           helpline: Any) -> None:
    assert selectors.managed_platforms(user=policy_manager) == [platform]
    assert selectors.managed_platforms(user=moderator) == []
    admin = make_user("adm", organisation=helpline, role=Role.ADMIN)
    assert selectors.managed_platforms(user=admin) == [], "a helpline is no platform"
