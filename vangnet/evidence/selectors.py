"""Reads of the evidence vault, scoped to what a staff member may see."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from vangnet.accounts.choices import Permission
from vangnet.audit.models import Event

from .models import EvidenceItem, UrlCapture

SUBJECT_TYPE = EvidenceItem._meta.label_lower


def case_evidence(*, user: User | AnonymousUser, case: Any) -> QuerySet[EvidenceItem]:
    """The evidence of ``case`` that ``user`` may view (merging moves evidence, like reports)."""
    return EvidenceItem.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)


def custody_events(items: list[EvidenceItem]) -> dict[int, list[Event]]:
    """Per item, its chain of custody: every event about it, oldest first (one query)."""
    events: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.filter(subject_type=SUBJECT_TYPE, subject_id__in=[str(i.pk) for i in items]).order_by(
            "occurred_at", "pk"):
        events[int(event.subject_id)].append(event)
    return events


def case_captures(*, user: User | AnonymousUser, case: Any) -> QuerySet[UrlCapture]:
    """The URL captures of ``case`` that ``user`` may view, newest first."""
    return (UrlCapture.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)
            .select_related("body", "record", "screenshot"))


def may_request_capture(*, user: User | AnonymousUser, case: Any) -> bool:
    """Whether ``user`` may ask for captures for ``case``: she works on the cases of its organisation."""
    from vangnet.accounts.selectors import user_has_permission

    return bool(user.is_authenticated and user_has_permission(user=user, organisation_id=case.organisation_id,
                                                              permission=Permission.WORK_CASES))
