"""The review queues: flagged items, users' notices and appeals, ordered by severity and age.

A task is held by at most one moderator at a time. Taking one is a single conditional
``UPDATE … WHERE assigned_to IS NULL OR lease_expires_at < now``: on PostgreSQL a second
moderator's update waits for the first's row lock and then finds the condition false (it
re-reads the row), on SQLite writes are serialised; either way exactly one update counts.
A hold lapses after ``LEASE`` so a task left open returns to the queue. An item is held by one
moderator at a time across its queues too (a flagged item with a notice about it): claims lock
the item's row first. An appeal is never offered to the moderator who made the decision appealed
(DSA Art. 20(6)).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor, record_event

from .choices import ModerationEvent, TaskKind
from .models import Appeal, Item, ReviewTask

LEASE = timedelta(minutes=15)
CANDIDATES = 25  # tasks tried per claim before looking again: others may be taking the same ones
ROUNDS = 20


def enqueue(*, item: Item, kind: str, severity: float, actor: Actor, appeal: Appeal | None = None) -> ReviewTask:
    """The item's open task in this queue, made if there is none; a higher severity raises it."""
    with transaction.atomic():
        task = ReviewTask.objects.filter(item=item, kind=kind, done_at__isnull=True).first()
        if task is None:
            try:
                with transaction.atomic():
                    task = ReviewTask.objects.create(organisation_id=item.organisation_id, item=item, kind=kind,
                                                     severity=severity, appeal=appeal)
            except IntegrityError:  # made by a concurrent request a moment ago
                task = ReviewTask.objects.get(item=item, kind=kind, done_at__isnull=True)
            else:
                record_event(actor=actor, event_type=ModerationEvent.ITEM_QUEUED, subject=item,
                             data={"queue": kind, "severity": severity, "task": task.pk})
                return task
        if severity > task.severity:
            ReviewTask.objects.filter(pk=task.pk).update(severity=severity)
            task.severity = severity
        return task


def _free(now: Any) -> Q:
    return Q(assigned_to__isnull=True) | Q(lease_expires_at__lt=now)


def open_tasks(*, user: Any, organisation: Any = None, kind: str | None = None) -> QuerySet[ReviewTask]:
    """Open tasks this moderator may work on, in queue order (most severe, then oldest)."""
    tasks = ReviewTask.objects.restrict(user, Permission.MODERATE).filter(done_at__isnull=True)
    if organisation is not None:
        tasks = tasks.filter(organisation=organisation)
    if kind:
        tasks = tasks.filter(kind=kind)
    # Not the appeal of one's own decision.
    tasks = tasks.exclude(kind=TaskKind.APPEAL, appeal__decision__decided_by=user)
    return tasks.order_by("-severity", "created_at", "id")


def claim(*, user: Any, task: ReviewTask) -> bool:
    """Take ``task`` if nobody holds it (or the hold lapsed, or she holds it already); True if she has it now."""
    now = timezone.now()
    if not open_tasks(user=user).filter(pk=task.pk).exists():
        return False
    with transaction.atomic():
        # Already hers: the hold is only extended (opening the page again is no new claim).
        if (ReviewTask.objects.filter(pk=task.pk, done_at__isnull=True, assigned_to=user, lease_expires_at__gte=now)
                .update(lease_expires_at=now + LEASE)):
            task.refresh_from_db()
            return True
        # One moderator per item, whatever the queue: the item's row lock makes claims of its tasks take turns,
        # and a task is free only while no other task of the item is held by someone else.
        Item.objects.select_for_update().filter(pk=task.item_id).first()
        held_elsewhere = (ReviewTask.objects.filter(item_id=task.item_id, done_at__isnull=True,
                                                    lease_expires_at__gte=now)
                          .exclude(pk=task.pk).exclude(assigned_to=user).exclude(assigned_to__isnull=True))
        if held_elsewhere.exists():
            return False
        taken = (ReviewTask.objects.filter(pk=task.pk, done_at__isnull=True)
                 .filter(_free(now) | Q(assigned_to=user))
                 .update(assigned_to=user, assigned_at=now, lease_expires_at=now + LEASE))
        if taken:
            record_event(actor=Actor.staff(user), event_type=ModerationEvent.TASK_CLAIMED, subject=task,
                         data={"queue": task.kind})
    if taken:
        task.refresh_from_db()
    return bool(taken)


def claim_next(*, user: Any, organisation: Any = None, kind: str | None = None) -> ReviewTask | None:
    """The task she already holds in this queue, else the first free one, taken; None when the queue is empty."""
    now = timezone.now()
    tasks = open_tasks(user=user, organisation=organisation, kind=kind)
    held = tasks.filter(assigned_to=user, lease_expires_at__gte=now).first()
    if held is not None:
        return held
    for _round in range(ROUNDS):
        held_by_others = ReviewTask.objects.filter(
            item_id=OuterRef("item_id"), done_at__isnull=True, assigned_to__isnull=False,
            lease_expires_at__gte=now).exclude(assigned_to=user)
        candidates = list(tasks.filter(_free(now)).exclude(Exists(held_by_others))[:CANDIDATES])
        if not candidates:
            return None
        for candidate in candidates:
            if claim(user=user, task=candidate):
                return candidate
        now = timezone.now()
    return None  # every candidate was taken by others meanwhile, round after round: the queue is busy


def release(*, user: Any, task: ReviewTask) -> None:
    """Give the task back to the queue (only the one who holds it can)."""
    with transaction.atomic():
        released = (ReviewTask.objects.filter(pk=task.pk, assigned_to=user, done_at__isnull=True)
                    .update(assigned_to=None, assigned_at=None, lease_expires_at=None))
        if released:
            record_event(actor=Actor.staff(user), event_type=ModerationEvent.TASK_RELEASED, subject=task,
                         data={"queue": task.kind})


def complete(*, task: ReviewTask) -> None:
    """Mark the task done; call inside the transaction that records the decision."""
    ReviewTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=timezone.now())


def complete_all(*, item: Item, kind: str | None = None) -> int:
    """Close the item's open tasks (of one queue, or all): a decision settles them together."""
    tasks = ReviewTask.objects.filter(item=item, done_at__isnull=True)
    if kind:
        tasks = tasks.filter(kind=kind)
    return tasks.update(done_at=timezone.now())
