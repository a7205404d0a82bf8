"""Reads of the review dashboard, each scoped to what the staff member may do (``restrict``).

A moderator reaches her platforms' tasks, items, notices and appeals through ``MODERATE``; a
policy manager the threat alerts through ``MANAGE_MODERATION``; an analyst only aggregates
(``moderation_metrics``) through ``VIEW_STATISTICS``. Anything outside that scope does not
exist for her (``Http404``). A notifier's name and e-mail are never read here: moderators
judge the content, not who reported it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.common.crypto import fernet
from vangnet.evidence.rendition import image_rendition

from . import dsa, queue
from .choices import Action, AlertStatus, AppealStatus, Label, TaskKind
from .models import (Appeal, Decision, Item, PlatformKey, Policy, ReviewTask, Sanction, Strike, ThreatAlert, UserNotice,
                     WebhookDelivery, WebhookEndpoint)

QUEUE_PAGE = 100  # tasks listed per queue on the dashboard; "Take next" reaches the rest
HISTORY_ITEMS = 50  # the author's other items shown on a review page
SMALL_CELL = 5  # aggregates under this many are shown as "fewer than 5", never as a number


# ---------------------------------------------------------------------------------------------
# The queues


@dataclass
class QueueSummary:
    """One review queue as the dashboard shows it: its kind, how many tasks wait, the first of them."""

    kind: str
    label: str
    count: int
    tasks: list[ReviewTask]


def is_held_by_other(task: ReviewTask, user: Any, now: datetime | None = None) -> bool:
    """Whether someone else holds ``task`` right now (a lapsed hold counts for nothing)."""
    now = now or timezone.now()
    return (task.assigned_to_id is not None and task.assigned_to_id != user.pk
            and task.lease_expires_at is not None and task.lease_expires_at >= now)


def holder(task: ReviewTask, now: datetime | None = None) -> Any:
    """Who holds ``task`` now, or None (nobody, or the hold lapsed)."""
    now = now or timezone.now()
    if task.assigned_to_id is None or task.lease_expires_at is None or task.lease_expires_at < now:
        return None
    return task.assigned_to


def queue_overview(*, user: Any) -> list[QueueSummary]:
    """The three queues of the platforms where ``user`` moderates, each most severe first, then oldest."""
    summaries = []
    now = timezone.now()
    for kind in TaskKind:
        tasks = queue.open_tasks(user=user, kind=kind.value).select_related("item", "assigned_to", "organisation")
        listed = list(tasks[:QUEUE_PAGE])
        for task in listed:
            task.holder = holder(task, now)  # type: ignore[attr-defined]
            task.top_label = top_label(task.item)  # type: ignore[attr-defined]
        summaries.append(QueueSummary(kind=kind.value, label=str(kind.label), count=tasks.count(), tasks=listed))
    return summaries


def top_label(item: Item) -> str:
    """The label the classifiers scored highest for ``item``, in words ("" without scores)."""
    scores = {label: value for label, value in (item.scores or {}).items() if isinstance(value, int | float)}
    if not scores:
        return ""
    best = max(scores, key=lambda label: scores[label])
    return label_name(best)


def label_name(label: str) -> str:
    try:
        return str(Label(label).label)
    except ValueError:
        return label


# ---------------------------------------------------------------------------------------------
# One task


def get_task_for_user(*, user: Any, task_id: int) -> ReviewTask:
    """The task, if it belongs to a platform where ``user`` moderates; else ``Http404``."""
    task = (ReviewTask.objects.restrict(user, Permission.MODERATE)
            .select_related("item", "organisation", "assigned_to", "appeal", "appeal__decision",
                            "appeal__decision__decided_by")
            .filter(pk=task_id).first())
    if task is None:
        raise Http404
    return task


@dataclass
class ScoreRow:
    label: str
    name: str
    score: float
    percent: int
    flagged: bool


@dataclass
class AuthorHistory:
    """What the platform's author did before: her other items, the strikes in the window, her sanctions."""

    author_id: str
    items: list[Item] = field(default_factory=list)
    strikes: list[Strike] = field(default_factory=list)
    strike_points: int = 0
    window_days: int = 0
    sanctions: list[Sanction] = field(default_factory=list)


@dataclass
class ReviewContext:
    """Everything a moderator sees on a review page."""

    item: Item
    scores: list[ScoreRow]
    matches: list[dict[str, Any]]
    notices: list[UserNotice]
    decisions: list[Decision]
    history: AuthorHistory
    appeal: Appeal | None
    appealed: Decision | None


def score_rows(item: Item) -> list[ScoreRow]:
    """The item's scores per label, highest first, with whether the label passed its review threshold."""
    flagged = set(item.flagged or [])
    rows = []
    for label, value in (item.scores or {}).items():
        if not isinstance(value, int | float):
            continue
        score = max(0.0, min(1.0, float(value)))
        rows.append(ScoreRow(label=label, name=label_name(label), score=score, percent=round(score * 100),
                             flagged=label in flagged))
    return sorted(rows, key=lambda row: (-row.score, row.label))


def item_notices(*, user: Any, item: Item) -> list[UserNotice]:
    """Users' notices about ``item`` (the explanation, the label, whether from a trusted flagger).

    The notifier's name and e-mail are deferred: they are never decrypted for the dashboard.
    """
    return list(UserNotice.objects.restrict(user, Permission.MODERATE).filter(item=item)
                .defer("notifier_name", "notifier_email").order_by("received_at", "id"))


def author_history(*, user: Any, item: Item) -> AuthorHistory:
    """The author's other items on this platform (newest first), strikes in the policy's window and sanctions."""
    from .policy import policy_for

    history = AuthorHistory(author_id=item.author_id)
    if not item.author_id:
        return history
    window = policy_for(item.organisation).strike_window_days
    since = timezone.now() - timedelta(days=window)
    history.window_days = window
    items = list(Item.objects.restrict(user, Permission.MODERATE)
                 .filter(organisation_id=item.organisation_id, author_id=item.author_id).exclude(pk=item.pk)
                 .defer("text", "url", "image_sealed").order_by("-received_at", "-id")[:HISTORY_ITEMS])
    decisions: dict[int, list[Decision]] = {}
    for decision in (Decision.objects.restrict(user, Permission.MODERATE).filter(item__in=[i.pk for i in items])
                     .order_by("decided_at", "id")):
        decisions.setdefault(decision.item_id, []).append(decision)
    for other in items:
        other.top_label = top_label(other)  # type: ignore[attr-defined]
        other.decision_texts = [describe_decision(d) for d in decisions.get(other.pk, [])]  # type: ignore[attr-defined]
    history.items = items
    history.strikes = list(Strike.objects.restrict(user, Permission.MODERATE)
                           .filter(organisation_id=item.organisation_id, author_id=item.author_id,
                                   created_at__gte=since, withdrawn_at__isnull=True))
    history.strike_points = sum(strike.weight for strike in history.strikes)
    history.sanctions = list(Sanction.objects.restrict(user, Permission.MODERATE)
                             .filter(organisation_id=item.organisation_id, author_id=item.author_id)[:HISTORY_ITEMS])
    return history


def review_context(*, user: Any, task: ReviewTask) -> ReviewContext:
    item = task.item
    appeal = task.appeal
    return ReviewContext(
        item=item, scores=score_rows(item), matches=[m for m in (item.matches or []) if isinstance(m, dict)],
        notices=item_notices(user=user, item=item),
        decisions=list(Decision.objects.restrict(user, Permission.MODERATE).filter(item=item)
                       .select_related("decided_by").order_by("decided_at", "id")),
        history=author_history(user=user, item=item), appeal=appeal,
        appealed=appeal.decision if appeal is not None else None)


def describe_decision(decision: Decision) -> str:
    """A decision in a few words: "No restriction", or its restrictions joined ("Removal of content; …")."""
    if decision.no_action:
        return _("No restriction")
    parts = []
    for value in decision.visibility or []:
        parts.append(_choice_label(dsa.DecisionVisibility, value))
    for choices, value in ((dsa.DecisionMonetary, decision.monetary), (dsa.DecisionProvision, decision.provision),
                           (dsa.DecisionAccount, decision.account)):
        if value:
            parts.append(_choice_label(choices, value))
    return "; ".join(parts) or _("Restriction")


def _choice_label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def task_image(*, user: Any, task_id: int) -> bytes:
    """A PNG re-made from the pixels of the task's image (no metadata); ``Http404`` out of scope.

    Raises ``ValidationError`` when the image is no longer kept (it is dropped once the item is
    decided) or cannot be read.
    """
    task = get_task_for_user(user=user, task_id=task_id)
    sealed = (Item.objects.restrict(user, Permission.MODERATE).filter(pk=task.item_id)
              .values_list("image_sealed", flat=True).first())
    if not sealed:
        raise ValidationError(_("The image is no longer kept."), code="gone")
    rendition = image_rendition(fernet().decrypt(bytes(sealed)))
    if rendition is None:
        raise ValidationError(_("The image cannot be shown."), code="unreadable")
    return rendition


def managed_platforms(*, user: Any) -> list[Any]:
    """The platforms where ``user`` is policy manager (``MANAGE_MODERATION``): whose statements she may export."""
    from vangnet.accounts.access import organisation_ids_where
    from vangnet.accounts.models import Organisation

    ids = organisation_ids_where(user, Permission.MANAGE_MODERATION)
    if ids is None:
        return []
    return list(Organisation.objects.filter(pk__in=ids, is_platform=True).order_by("name"))


def get_appeal_for_user(*, user: Any, appeal_id: int) -> Appeal:
    appeal = Appeal.objects.restrict(user, Permission.MODERATE).filter(pk=appeal_id).first()
    if appeal is None:
        raise Http404
    return appeal


# ---------------------------------------------------------------------------------------------
# Threat alerts (DSA Art. 18)


def alerts_for_user(*, user: Any) -> QuerySet[ThreatAlert]:
    """Threat alerts of the platforms where ``user`` is policy manager: open first, then newest."""
    return (ThreatAlert.objects.restrict(user, Permission.MANAGE_MODERATION)
            .select_related("item", "organisation", "handled_by").defer("notification", "item__text", "item__url")
            .order_by("-status", "-created_at", "-id"))


def open_alert_count(*, user: Any) -> int:
    return ThreatAlert.objects.restrict(user, Permission.MANAGE_MODERATION).filter(status=AlertStatus.OPEN).count()


def get_alert_for_user(*, user: Any, alert_id: int) -> ThreatAlert:
    alert = (ThreatAlert.objects.restrict(user, Permission.MANAGE_MODERATION)
             .select_related("item", "organisation", "handled_by").filter(pk=alert_id).first())
    if alert is None:
        raise Http404
    return alert


# ---------------------------------------------------------------------------------------------
# Metrics: aggregates only


@dataclass
class Cell:
    """A count as shown: the number, or "fewer than 5" when 1 to 4 (``shown`` is None then)."""

    count: int

    @property
    def shown(self) -> int | None:
        return None if 0 < self.count < SMALL_CELL else self.count


@dataclass
class Metrics:
    since: datetime
    until: datetime
    labels: list[tuple[str, Cell, Cell]]  # label name, items flagged, confirmed by moderators
    actions: list[tuple[str, Cell]]  # what moderators decided, per restriction
    reviewed: Cell
    automated: Cell
    median_hours: float | None
    median_count: int
    appeals_upheld: Cell
    appeals_overturned: Cell
    appeals_open: Cell


def moderation_metrics(*, user: Any, days: int) -> Metrics:
    """Counts over the last ``days`` days, across the platforms where ``user`` may view statistics.

    No text, no author and no moderator is read: only labels, restrictions and times. The median
    time to decision is over review tasks done in the period (from queued to decided); it is
    withheld when fewer than ``SMALL_CELL`` tasks make it up.
    """
    until = timezone.now()
    since = until - timedelta(days=days)
    items = (Item.objects.restrict(user, Permission.VIEW_STATISTICS)
             .filter(organisation__is_platform=True, received_at__gte=since))
    flagged: Counter[str] = Counter()
    for labels in items.values_list("flagged", flat=True):
        flagged.update(label for label in (labels or []) if isinstance(label, str))
    decisions = (Decision.objects.restrict(user, Permission.VIEW_STATISTICS)
                 .filter(organisation__is_platform=True, decided_at__gte=since))
    confirmed: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    reviewed = automated = 0
    for labels, no_action, visibility, monetary, provision, account, by in decisions.values_list(
            "labels", "no_action", "visibility", "monetary", "provision", "account", "decided_by_id"):
        if by is None:
            automated += 1
        else:
            reviewed += 1
        confirmed.update(label for label in (labels or []) if isinstance(label, str))
        if no_action:
            actions[str(Action.ALLOW.label)] += 1
            continue
        for value in visibility or []:
            actions[_choice_label(dsa.DecisionVisibility, value)] += 1
        for choices, value in ((dsa.DecisionMonetary, monetary), (dsa.DecisionProvision, provision),
                               (dsa.DecisionAccount, account)):
            if value:
                actions[_choice_label(choices, value)] += 1
    durations = [(done - created).total_seconds() / 3600 for created, done in
                 ReviewTask.objects.restrict(user, Permission.VIEW_STATISTICS)
                 .filter(organisation__is_platform=True, done_at__gte=since).values_list("created_at", "done_at")
                 if done is not None]
    appeals = Counter(Appeal.objects.restrict(user, Permission.VIEW_STATISTICS)
                      .filter(organisation__is_platform=True, received_at__gte=since)
                      .values_list("status", flat=True))
    return Metrics(
        since=since, until=until,
        labels=[(str(label.label), Cell(flagged[label.value]), Cell(confirmed[label.value])) for label in Label],
        actions=sorted(((name, Cell(count)) for name, count in actions.items()), key=lambda row: row[0]),
        reviewed=Cell(reviewed), automated=Cell(automated),
        median_hours=statistics.median(durations) if len(durations) >= SMALL_CELL else None,
        median_count=len(durations),
        appeals_upheld=Cell(appeals[AppealStatus.UPHELD]), appeals_overturned=Cell(appeals[AppealStatus.OVERTURNED]),
        appeals_open=Cell(appeals[AppealStatus.OPEN]))


# ---------------------------------------------------------------------------------------------
# The platform's own settings (policy managers: ``MANAGE_MODERATION``)


def managed_platform(*, user: Any, platform_id: Any = None) -> Any:
    """The platform whose settings ``user`` opens: the one named by ``platform_id`` (``Http404`` when she does
    not manage it), else the first she manages; None when she manages no platform."""
    platforms = managed_platforms(user=user)
    if platform_id in (None, ""):
        return platforms[0] if platforms else None
    for platform in platforms:
        if str(platform.pk) == str(platform_id):
            return platform
    raise Http404


def usable_banks(*, platform: Any) -> QuerySet[Any]:
    """The hash banks ``platform`` may match: its own and the shared ones (inactive ones too, shown as such)."""
    from django.db.models import Q

    from vangnet.hashing.models import Bank

    return Bank.objects.filter(Q(organisation=platform) | Q(organisation__isnull=True)).order_by("name", "pk")


def platform_policy(*, user: Any, platform: Any) -> Any:
    """The platform's stored policy (``Policy``), or None while it uses the default."""
    return Policy.objects.restrict(user, Permission.MANAGE_MODERATION).filter(organisation=platform).first()


def platform_keys(*, user: Any, platform: Any) -> QuerySet[Any]:
    """The platform's API keys, working ones first, then newest."""
    return (PlatformKey.objects.restrict(user, Permission.MANAGE_MODERATION).filter(organisation=platform)
            .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id"))


def get_key_for_user(*, user: Any, key_id: int) -> Any:
    key = (PlatformKey.objects.restrict(user, Permission.MANAGE_MODERATION).select_related("organisation")
           .filter(pk=key_id).first())
    if key is None:
        raise Http404
    return key


RECENT_DELIVERIES = 5  # per webhook on the list; its own page shows more
WEBHOOK_PAGE_DELIVERIES = 50


def recent_deliveries(*, user: Any, endpoint: Any, limit: int = RECENT_DELIVERIES) -> list[Any]:
    """The webhook's latest deliveries (state, attempts, last error), newest first; never their payload."""
    return list(WebhookDelivery.objects.restrict(user, Permission.MANAGE_MODERATION).filter(endpoint=endpoint)
                .defer("payload").order_by("-created_at", "-id")[:limit])


def platform_webhooks(*, user: Any, platform: Any) -> list[Any]:
    """The platform's webhooks, active ones first, each with its ``recent`` deliveries; the secret is never read."""
    endpoints = list(WebhookEndpoint.objects.restrict(user, Permission.MANAGE_MODERATION)
                     .filter(organisation=platform).defer("secret").order_by("-is_active", "-created_at", "-id"))
    for endpoint in endpoints:
        endpoint.recent = recent_deliveries(user=user, endpoint=endpoint)  # type: ignore[attr-defined]
    return endpoints


def get_webhook_for_user(*, user: Any, endpoint_id: int) -> Any:
    endpoint = (WebhookEndpoint.objects.restrict(user, Permission.MANAGE_MODERATION).select_related("organisation")
                .defer("secret").filter(pk=endpoint_id).first())
    if endpoint is None:
        raise Http404
    return endpoint
