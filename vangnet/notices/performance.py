"""How providers respond to notices: per provider, notices sent, time to action, removal rate, overdue.

Reads only; every figure is over the notices of the organisations where the staff member
holds ``VIEW_CASES`` or ``VIEW_STATISTICS``. The figures are about providers, never about a
case: the page shows no reference, no URL and nothing a reporter wrote, which is why analysts
(whose role is for aggregates) may see them too.

Definitions (the page says them in words too):

- a notice counts as **sent** when it has a ``sent_at``; the period filter is on ``sent_at``,
  and every figure is over the notices sent in the period. A follow-up or an upstream notice
  is a notice like any other and counts on its own;
- **acted on**: its outcome is one of ``choices.ACTED`` (removed, access disabled, blocked in
  some countries, partly removed); the **removal rate** is acted on / sent;
- **time to action**: ``outcome_at - sent_at`` of the notices acted on; the median and the
  90th percentile interpolate linearly between the two nearest ranks (as PostgreSQL's
  ``percentile_cont``, ``numpy.percentile`` and ``statistics.quantiles(method="inclusive")``);
- **open past deadline**: still waiting for an outcome (sent or answered, no outcome) and its
  deadline has passed, as ``Notice.is_overdue`` says.

Two queries, whatever the number of notices: one aggregate over providers for the counts, and
one ranked query (window functions) that returns only the rows the percentiles need, at most
four per provider.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission

from .choices import ACTED, NoticeStatus
from .models import Notice

# Who may see provider performance: case staff, and analysts (aggregates are their work).
PERMISSIONS = (Permission.VIEW_CASES, Permission.VIEW_STATISTICS)

# The period filter: its value in the query string and its length in days (None: all time).
PERIODS: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "90"

# The percentiles of time to action, in percent (integers keep the rank arithmetic exact).
MEDIAN, P90 = 50, 90

# Waiting for an outcome, as ``Notice.is_overdue`` says.
_OPEN = Q(status__in=[NoticeStatus.SENT, NoticeStatus.ANSWERED], outcome="")


@dataclass(frozen=True)
class ProviderPerformance:
    """The figures of one provider over the notices in scope and in the period."""

    provider_id: int
    name: str
    sent: int
    acted: int
    open_past_deadline: int
    median: timedelta | None  # None: no notice acted on
    p90: timedelta | None

    @property
    def removal_rate(self) -> float | None:
        """Acted on / sent, between 0 and 1 (None when nothing was sent)."""
        return self.acted / self.sent if self.sent else None


def may_view(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may see provider performance somewhere (else the page answers 403)."""
    return any(holds_permission_anywhere(user, permission) for permission in PERMISSIONS)


def notices_in_scope(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Notice]:
    """The notices of every organisation where ``user`` holds one of ``PERMISSIONS``."""
    first, *others = PERMISSIONS
    scoped = Notice.objects.restrict(user, first)
    for permission in others:
        scoped = scoped | Notice.objects.restrict(user, permission)
    return scoped


def period_start(period: str, now: datetime) -> datetime | None:
    """When the period begins (None: all time); an unknown period is a programming error."""
    days = PERIODS[period]
    return None if days is None else now - timedelta(days=days)


def sent_notices(user: AbstractBaseUser | AnonymousUser, *, since: datetime | None) -> QuerySet[Notice]:
    """The notices in scope that were sent, since ``since`` where given."""
    notices = notices_in_scope(user).filter(sent_at__isnull=False)
    return notices if since is None else notices.filter(sent_at__gte=since)


def counts_per_provider(notices: QuerySet[Notice], *, now: datetime) -> list[dict[str, Any]]:
    """One aggregate query: per provider its name, notices sent, acted on and open past their deadline."""
    return [dict(row) for row in notices.order_by().values("provider_id", "provider__name").annotate(
        sent=Count("pk"),
        acted=Count("pk", filter=Q(outcome__in=sorted(ACTED))),
        open_past_deadline=Count("pk", filter=_OPEN & Q(deadline_at__lt=now)),
    )]


def _near_rank(percent: int) -> Q:
    """Rows whose rank is one of the two nearest to the percentile's position ``1 + p(n - 1)``.

    With ``h = 1 + p(n - 1)`` the rows wanted are ``floor(h)`` and ``ceil(h)``, exactly those
    with ``h - 1 < rank < h + 1``; times 100 to stay in integers.
    """
    position = F("n") * percent - percent  # 100 * p * (n - 1)
    return Q(rank_100__gt=position) & Q(rank_100__lt=position + 200)


def time_to_action_percentiles(notices: QuerySet[Notice], percents: Sequence[int] = (MEDIAN, P90)
                               ) -> dict[int, dict[int, timedelta]]:
    """Per provider id, each percentile of ``outcome_at - sent_at`` over the notices acted on.

    One query: the acted-on notices ranked by their time to action within their provider, and
    only the rows next to each percentile's position come back (at most two per percentile).
    """
    duration = F("outcome_at") - F("sent_at")
    ranked = (notices.order_by().filter(outcome__in=sorted(ACTED), outcome_at__isnull=False)
              .annotate(duration=duration,
                        rank_100=Window(RowNumber(), partition_by=[F("provider_id")],
                                        order_by=[duration.asc(), F("pk").asc()]) * 100,
                        n=Window(Count("pk"), partition_by=[F("provider_id")])))
    near = Q()
    for percent in percents:
        near |= _near_rank(percent)
    rows = ranked.filter(near).values_list("provider_id", "rank_100", "n", "duration")
    by_provider: dict[int, dict[int, timedelta]] = defaultdict(dict)
    count: dict[int, int] = {}
    for provider_id, rank_100, n, value in rows:
        by_provider[provider_id][rank_100 // 100] = value
        count[provider_id] = n
    return {provider_id: {percent: _interpolate(ranks, count[provider_id], percent) for percent in percents}
            for provider_id, ranks in by_provider.items()}


def _interpolate(ranks: dict[int, timedelta], n: int, percent: int) -> timedelta:
    """The percentile from the values at the ranks around it (1-based), linear between them."""
    position_100 = 100 + percent * (n - 1)  # 100 * (1 + p(n - 1))
    lower, remainder = divmod(position_100, 100)
    low = ranks[lower]
    if remainder == 0:
        return low
    return low + (ranks[lower + 1] - low) * remainder / 100


def provider_performance(user: AbstractBaseUser | AnonymousUser, *, period: str = DEFAULT_PERIOD,
                         now: datetime | None = None) -> list[ProviderPerformance]:
    """Every provider that was sent a notice in scope in the period, most notices first."""
    now = now or timezone.now()
    notices = sent_notices(user, since=period_start(period, now))
    percentiles = time_to_action_percentiles(notices)
    rows = [ProviderPerformance(provider_id=row["provider_id"], name=row["provider__name"], sent=row["sent"],
                                acted=row["acted"], open_past_deadline=row["open_past_deadline"],
                                median=percentiles.get(row["provider_id"], {}).get(MEDIAN),
                                p90=percentiles.get(row["provider_id"], {}).get(P90))
            for row in counts_per_provider(notices, now=now)]
    return sorted(rows, key=lambda row: (-row.sent, row.name.casefold(), row.provider_id))


def totals(rows: Iterable[ProviderPerformance]) -> dict[str, int]:
    """Notices sent, acted on and open past deadline over all providers shown."""
    rows = list(rows)
    return {"sent": sum(r.sent for r in rows), "acted": sum(r.acted for r in rows),
            "open_past_deadline": sum(r.open_past_deadline for r in rows)}
