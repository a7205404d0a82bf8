"""The review queue: order, one holder at a time (also under real concurrency on PostgreSQL), leases, appeals."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.common.testing import make_user
from vangnet.moderation import queue
from vangnet.moderation.choices import ModerationEvent, TaskKind
from vangnet.moderation.models import Appeal, Decision, Item, ReviewTask

ACTOR = Actor.system("test")


def make_item(platform: Any, external_id: str, severity: float = 0.5) -> Item:
    return Item.objects.create(organisation=platform, external_id=external_id, text="x", text_chars=1,
                               severity=severity, status="in_review")


@pytest.mark.django_db
def test_enqueue_makes_one_open_task_and_raises_its_severity(platform) -> None:
    item = make_item(platform, "a")
    first = queue.enqueue(item=item, kind=TaskKind.FLAGGED, severity=0.4, actor=ACTOR)
    again = queue.enqueue(item=item, kind=TaskKind.FLAGGED, severity=0.7, actor=ACTOR)
    lower = queue.enqueue(item=item, kind=TaskKind.FLAGGED, severity=0.1, actor=ACTOR)
    assert first.pk == again.pk == lower.pk and ReviewTask.objects.get().severity == 0.7
    notice = queue.enqueue(item=item, kind=TaskKind.NOTICE, severity=0.5, actor=ACTOR)
    assert notice.pk != first.pk
    assert Event.objects.filter(event_type=ModerationEvent.ITEM_QUEUED).count() == 2


@pytest.mark.django_db
def test_claim_next_takes_the_most_severe_then_the_oldest(platform, moderator) -> None:
    low = queue.enqueue(item=make_item(platform, "low"), kind=TaskKind.FLAGGED, severity=0.3, actor=ACTOR)
    old = queue.enqueue(item=make_item(platform, "old"), kind=TaskKind.FLAGGED, severity=0.8, actor=ACTOR)
    new = queue.enqueue(item=make_item(platform, "new"), kind=TaskKind.FLAGGED, severity=0.8, actor=ACTOR)
    ReviewTask.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    taken = queue.claim_next(user=moderator, organisation=platform, kind=TaskKind.FLAGGED)
    assert taken is not None and taken.pk == old.pk and taken.assigned_to == moderator
    assert queue.claim_next(user=moderator, organisation=platform, kind=TaskKind.FLAGGED).pk == old.pk  # resumes
    queue.complete(task=taken)
    assert queue.claim_next(user=moderator, organisation=platform, kind=TaskKind.FLAGGED).pk == new.pk
    assert low.pk in [t.pk for t in queue.open_tasks(user=moderator)]
    assert Event.objects.filter(event_type=ModerationEvent.TASK_CLAIMED, actor_user_id=moderator.pk).count() == 2


@pytest.mark.django_db
def test_a_held_task_is_not_offered_to_another_until_released_or_lapsed(platform, moderator,
                                                                       second_moderator) -> None:
    task = queue.enqueue(item=make_item(platform, "a"), kind=TaskKind.FLAGGED, severity=0.5, actor=ACTOR)
    assert queue.claim(user=moderator, task=task)
    assert queue.claim(user=moderator, task=task)  # opening it again: still hers, no second claim
    assert Event.objects.filter(event_type=ModerationEvent.TASK_CLAIMED).count() == 1
    assert not queue.claim(user=second_moderator, task=task)
    assert queue.claim_next(user=second_moderator, organisation=platform) is None
    queue.release(user=second_moderator, task=task)  # not hers: nothing happens
    assert ReviewTask.objects.get().assigned_to == moderator
    queue.release(user=moderator, task=task)
    assert queue.claim(user=second_moderator, task=task)
    ReviewTask.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert queue.claim_next(user=moderator, organisation=platform).pk == task.pk  # the hold lapsed


@pytest.mark.django_db
def test_no_task_of_another_platform_and_none_for_other_roles(platform, other_platform, moderator) -> None:
    foreign = queue.enqueue(item=make_item(other_platform, "x"), kind=TaskKind.FLAGGED, severity=1, actor=ACTOR)
    assert queue.claim_next(user=moderator) is None
    assert not queue.claim(user=moderator, task=foreign)
    analyst = make_user("ana", organisation=platform, role=Role.ANALYST)
    own = queue.enqueue(item=make_item(platform, "y"), kind=TaskKind.FLAGGED, severity=1, actor=ACTOR)
    assert not queue.claim(user=analyst, task=own)
    assert ReviewTask.objects.filter(assigned_to__isnull=False).count() == 0


@pytest.mark.django_db
def test_an_appeal_is_never_offered_to_the_first_decider(platform, moderator, second_moderator) -> None:
    item = make_item(platform, "a")
    decision = Decision.objects.create(organisation=platform, item=item, decided_by=moderator,
                                       visibility=["DECISION_VISIBILITY_CONTENT_REMOVED"])
    appeal = Appeal.objects.create(organisation=platform, external_id="ap1", decision=decision, reason="Not fair")
    task = queue.enqueue(item=item, kind=TaskKind.APPEAL, severity=0.5, actor=ACTOR, appeal=appeal)
    assert queue.claim_next(user=moderator, kind=TaskKind.APPEAL) is None
    assert not queue.claim(user=moderator, task=task)
    assert queue.claim_next(user=second_moderator, kind=TaskKind.APPEAL).pk == task.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
def test_under_concurrency_no_task_has_two_moderators(platform) -> None:
    moderators = [make_user(f"m{i}", organisation=platform, role=Role.MODERATOR) for i in range(8)]
    for i in range(20):
        queue.enqueue(item=make_item(platform, f"i{i}"), kind=TaskKind.FLAGGED, severity=0.5, actor=ACTOR)
    taken: list[tuple[int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(moderators))

    def work(user: Any) -> None:
        try:
            barrier.wait()
            while True:
                task = queue.claim_next(user=user, organisation=platform)
                if task is None:
                    return
                with lock:
                    taken.append((task.pk, user.pk))
                queue.complete(task=task)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(user,)) for user in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    task_ids = [task_id for task_id, _user in taken]
    assert len(task_ids) == 20 and len(set(task_ids)) == 20  # every task once, none twice
    assert Event.objects.filter(event_type=ModerationEvent.TASK_CLAIMED).count() == 20
    assert ReviewTask.objects.filter(done_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_an_item_is_held_by_one_moderator_across_its_queues(platform, moderator, second_moderator) -> None:
    item = make_item(platform, "both")
    flagged = queue.enqueue(item=item, kind=TaskKind.FLAGGED, severity=0.9, actor=ACTOR)
    notice = queue.enqueue(item=item, kind=TaskKind.NOTICE, severity=0.5, actor=ACTOR)
    other = queue.enqueue(item=make_item(platform, "other"), kind=TaskKind.NOTICE, severity=0.1, actor=ACTOR)
    assert queue.claim(user=moderator, task=flagged)
    assert not queue.claim(user=second_moderator, task=notice)  # the same item, in the other queue
    assert queue.claim_next(user=second_moderator, kind=TaskKind.NOTICE).pk == other.pk  # skips it, no endless loop
    assert queue.claim(user=moderator, task=notice)  # she may hold both
    queue.complete(task=flagged)
    queue.release(user=moderator, task=notice)
    assert queue.claim(user=second_moderator, task=notice)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
def test_under_concurrency_no_item_has_two_moderators_across_queues(platform) -> None:
    moderators = [make_user(f"q{i}", organisation=platform, role=Role.MODERATOR) for i in range(6)]
    for i in range(8):
        item = make_item(platform, f"both{i}")
        for kind in (TaskKind.FLAGGED, TaskKind.NOTICE, TaskKind.APPEAL):
            ReviewTask.objects.create(organisation=platform, item=item, kind=kind, severity=0.5)
    holding: dict[int, int] = {}
    violations: list[tuple[int, int, int]] = []
    done: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(moderators))

    def work(user: Any) -> None:
        try:
            barrier.wait()
            while True:
                task = queue.claim_next(user=user, organisation=platform)
                if task is None:
                    return
                with lock:
                    if holding.get(task.item_id, user.pk) != user.pk:
                        violations.append((task.item_id, holding[task.item_id], user.pk))
                    holding[task.item_id] = user.pk
                with lock:  # let go in the bookkeeping before the database, so no false alarm
                    del holding[task.item_id]
                    done.append(task.pk)
                queue.complete(task=task)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(user,)) for user in moderators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert violations == []
    assert len(done) == 24 and len(set(done)) == 24


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
def test_the_same_new_id_sent_twice_at_once_is_stored_once_and_both_answered(platform) -> None:
    from vangnet.common.testing import at_the_same_moment
    from vangnet.moderation import checking

    text = "I will find you and hurt you tonight"

    def send(_n: int) -> str:
        [result] = checking.check_items(organisation=platform, actor=ACTOR,
                                        items=[checking.ItemIn(external_id="dup", text=text)])
        return result.assessment.verdict.action

    actions = at_the_same_moment(4, send)
    assert len(set(actions)) == 1  # every answer the same, the replays included
    assert Item.objects.filter(external_id="dup").count() == 1
    assert ReviewTask.objects.filter(item__external_id="dup").count() == 1
