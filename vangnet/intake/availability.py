"""Availability checks: is reported content still online? ("staat het er nog?")

The worker re-fetches every reported URL of an open case on a schedule, only through the
SSRF guard (``common.safefetch.fetch``, with small limits), and records what it found as an
``AvailabilityCheck``; the URL's own state (``ReportedUrl.availability``, ``offline_since``)
follows from the checks. The case page shows it to staff (``availability_context``, the
partial ``intake/_availability_staff.html``) and the reporter's follow-up page tells her in
plain words (``availability_for_reporter``).

What a check's answer means, conservatively, because telling a victim that her content is
gone when it is not is worse than telling her a day late:

- **removed**: HTTP 404, 410 or 451, after any redirects. A redirect to another site's
  front page that answers 200 is *online* (content changed), never "removed".
- **online**: any 2xx. A body whose SHA-256 differs from the last online check's is still
  online; the check notes ``content_changed``.
- **restricted**: 401 or 403. The server answers but will not show the page to us (a login
  wall, a bot filter); others may still see it, so it counts as online.
- **unreachable**: no usable answer (DNS, connection, timeout, TLS, 5xx, 429, anything
  else). It says nothing about the content.
- **refused**: the guard would not fetch it (private address, bad scheme, too many redirects).

A URL is reported offline only when two "removed" checks come without an online (or
restricted) answer between them; ``offline_since`` is the first of the two. Unreachable
and refused checks neither confirm nor break that run (a flaky site that answers 404,
then 503, then 404 did remove the content). An online answer after that ends the offline
period. Going offline and coming back are events on the case.

Schedule (``schedule_checks``, enqueued every 30 minutes by ``tasks.schedule_availability_checks``):
a URL is first checked at the first run after it was reported, then every 6 hours during
the report's first week and daily after; a first "removed" answer is confirmed an hour
later. Checks stop while the case is closed (or merged away) and once the content has
been offline for a week. Due URLs are claimed in batches (``claimed_until`` + a random
``claim_token``, taken under ``select_for_update(skip_locked)`` on PostgreSQL and by a
conditional update everywhere), so two schedulers or workers never check one URL twice;
a claim whose worker died expires after ``CLAIM_LEASE`` and is taken again.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor, record_event
from vangnet.cases.choices import OPEN_STATUSES
from vangnet.common import safefetch
from vangnet.common.crypto import keyed_hash, url_hash_keys

from .choices import Availability, AvailabilityEvent, CheckOutcome
from .models import AvailabilityCheck, Report, ReportedUrl

logger = logging.getLogger(__name__)

LIMITS = safefetch.Limits(max_bytes=2 * 1024 * 1024, connect_timeout=10.0, total_timeout=15.0, max_redirects=5)
FIRST_WEEK = timedelta(days=7)
INTERVAL_FIRST_WEEK = timedelta(hours=6)
INTERVAL_LATER = timedelta(days=1)
CONFIRM_AFTER = timedelta(hours=1)  # a first "removed" answer is checked again this soon
STOP_AFTER_OFFLINE = timedelta(days=7)
# A batch of BATCH_SIZE URLs takes at most BATCH_SIZE x 2 x LIMITS.total_timeout (10 min); the lease is longer.
BATCH_SIZE = 20
CLAIM_LEASE = timedelta(hours=1)
MAX_PER_RUN = 2000

REMOVED_STATUSES = frozenset({404, 410, 451})
RESTRICTED_STATUSES = frozenset({401, 403})
ACTOR = "availability check"


def classify(status: int) -> str:
    """The outcome of a final HTTP status (see the module docstring)."""
    if status in REMOVED_STATUSES:
        return CheckOutcome.REMOVED
    if status in RESTRICTED_STATUSES:
        return CheckOutcome.RESTRICTED
    if 200 <= status < 300:
        return CheckOutcome.ONLINE
    return CheckOutcome.UNREACHABLE


@dataclass(frozen=True)
class Observation:
    """What one fetch of a URL found; nothing in it names the URL."""

    outcome: str
    http_status: int | None = None
    content_sha256: str = ""
    final_url_hash: str = ""
    redirected: bool = False
    error_code: str = ""


def _url_hash(url: str) -> str:
    return keyed_hash(url, url_hash_keys()[0])


def _observation(page: safefetch.FetchResult, *, hash_body: bool, error_code: str = "") -> Observation:
    outcome = classify(page.status)
    if not error_code and outcome == CheckOutcome.UNREACHABLE:
        error_code = "http_status"  # an answer, but not one that tells us anything (5xx, 429, ...)
    return Observation(outcome=outcome, http_status=page.status,
                       content_sha256=hashlib.sha256(page.body).hexdigest() if hash_body else "",
                       final_url_hash=_url_hash(page.final_url), redirected=len(page.hops) > 1,
                       error_code=error_code)


def observe(url: str) -> Observation:
    """Fetch ``url`` once through the guard and say what the answer means.

    A body over the size limit is not hashed: the status comes from a HEAD request instead.
    """
    try:
        page = safefetch.fetch(url, limits=LIMITS)
    except safefetch.TooLarge:
        try:
            head = safefetch.fetch(url, method="HEAD", limits=LIMITS)
        except safefetch.FetchError as exc:
            return _failed(exc)
        return _observation(head, hash_body=False, error_code="too_large")
    except safefetch.FetchError as exc:
        return _failed(exc)
    return _observation(page, hash_body=True)


def _failed(exc: safefetch.FetchError) -> Observation:
    outcome = CheckOutcome.REFUSED if isinstance(exc, safefetch.Refused) else CheckOutcome.UNREACHABLE
    return Observation(outcome=outcome, error_code=exc.code)


# ---------------------------------------------------------------------------------------------
# Scheduling and claiming


def checkable_urls(*, now: datetime) -> QuerySet[ReportedUrl]:
    """URLs whose checks go on: of an open, unmerged case, not withdrawn, not offline for a week."""
    return (ReportedUrl.objects.filter(report__case__status__in=OPEN_STATUSES,
                                       report__case__merged_into__isnull=True, report__withdrawn_at__isnull=True)
            .exclude(offline_since__lte=now - STOP_AFTER_OFFLINE))


def due_urls(*, now: datetime) -> QuerySet[ReportedUrl]:
    """Checkable URLs whose next check is due (never checked: at once) and that nobody holds a claim on."""
    return (checkable_urls(now=now)
            .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)))


def claim_due_urls(*, now: datetime | None = None, limit: int = MAX_PER_RUN) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due URLs for one run: returns the run's claim token and the URL ids it holds.

    Rows another transaction holds are skipped on PostgreSQL; the update repeats the
    conditions, so a run that read a row another run claimed meanwhile does not take it.
    """
    now = now or timezone.now()
    token = secrets.token_hex(16)
    features = connection.features
    with transaction.atomic():
        due = due_urls(now=now).order_by("next_check_at", "pk")
        if features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",) if features.has_select_for_update_of else ())
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            due_urls(now=now).filter(pk__in=ids).update(claimed_until=now + CLAIM_LEASE, claim_token=token)
    return token, list(ReportedUrl.objects.filter(claim_token=token).order_by("pk").values_list("pk", flat=True))


def schedule_checks(*, now: datetime | None = None) -> int:
    """Claim the due URLs and enqueue one check task per batch of ``BATCH_SIZE``; returns how many URLs."""
    token, ids = claim_due_urls(now=now)
    for start in range(0, len(ids), BATCH_SIZE):
        _enqueue_batch(ids[start:start + BATCH_SIZE], token)
    return len(ids)


def _enqueue_batch(url_ids: list[int], claim_token: str) -> None:
    from .tasks import check_availability

    check_availability.enqueue(url_ids=url_ids, claim_token=claim_token)


# ---------------------------------------------------------------------------------------------
# Checking (the worker)


def perform_checks(*, url_ids: list[int], claim_token: str) -> dict[str, int]:
    """Check each URL of a batch this run claimed; counts per outcome, plus ``skipped`` and ``failed``."""
    counts: dict[str, int] = {}
    for url_id in url_ids:
        try:
            check = check_url(url_id=url_id, claim_token=claim_token)
        except Exception:  # noqa: BLE001 - one broken URL must not hold up the batch; its claim expires
            logger.exception("Availability check of reported URL %s failed.", url_id)
            key = "failed"
        else:
            key = check.outcome if check is not None else "skipped"
        counts[key] = counts.get(key, 0) + 1
    return counts


def check_url(*, url_id: int, claim_token: str, now: datetime | None = None) -> AvailabilityCheck | None:
    """Fetch one claimed URL and record the check; ``None`` when the claim is gone or checks have stopped.

    The worker first swaps the run's token for one of its own in a single conditional update,
    so of two workers handed the same claim only one fetches. No transaction is held while
    fetching; the result is written only if the claim is still this worker's (a run that
    took over an expired claim makes its own check instead).
    """
    now = now or timezone.now()
    mine = secrets.token_hex(16)
    if not ReportedUrl.objects.filter(pk=url_id, claim_token=claim_token).update(
            claim_token=mine, claimed_until=now + CLAIM_LEASE):
        return None
    url = ReportedUrl.objects.get(pk=url_id)
    if not checkable_urls(now=now).filter(pk=url_id).exists():
        ReportedUrl.objects.filter(pk=url_id, claim_token=mine).update(claimed_until=None, claim_token="")
        return None
    observation = observe(url.url)
    return record_check(url_id=url_id, claim_token=mine, observation=observation, now=now)


@transaction.atomic
def record_check(*, url_id: int, claim_token: str, observation: Observation,
                 now: datetime | None = None) -> AvailabilityCheck | None:
    """Store one check, move the URL's state on, release the claim and set the next check; log state changes."""
    now = now or timezone.now()
    url = (ReportedUrl.objects.select_for_update(of=("self",) if connection.features.has_select_for_update_of else ())
           .select_related("report").filter(pk=url_id, claim_token=claim_token).first())
    if url is None:
        return None
    previous = (AvailabilityCheck.objects.filter(reported_url=url, outcome=CheckOutcome.ONLINE)
                .exclude(content_sha256="").order_by("-checked_at", "-pk").first())
    changed = bool(observation.outcome == CheckOutcome.ONLINE and observation.content_sha256 and previous
                   and previous.content_sha256 != observation.content_sha256)
    check = AvailabilityCheck.objects.create(
        reported_url=url, checked_at=now, outcome=observation.outcome, http_status=observation.http_status,
        content_sha256=observation.content_sha256, content_changed=changed,
        final_url_hash=observation.final_url_hash, redirected=observation.redirected,
        error_code=observation.error_code)
    event = _advance(url, check)
    url.last_checked_at = now
    url.next_check_at = now + _interval(url, now=now)
    url.claimed_until, url.claim_token = None, ""
    url.save(update_fields=["availability", "removed_since", "offline_since", "last_checked_at", "next_check_at",
                            "claimed_until", "claim_token"])
    if event is not None:
        event_type, data = event
        record_event(actor=Actor.system(ACTOR), event_type=event_type, subject=url, case_id=url.report.case_id,
                     organisation_id=url.report.organisation_id,
                     data={"reported_url": url.pk, "receipt_code": url.report.receipt_code, "check": check.pk,
                           "http_status": check.http_status, "outcome": check.outcome, **data})
    return check


def _advance(url: ReportedUrl, check: AvailabilityCheck) -> tuple[str, dict[str, Any]] | None:
    """Move ``url``'s state by one check (not saved); the event to log, if its state changed."""
    if check.outcome == CheckOutcome.REMOVED:
        if url.removed_since is None:
            url.removed_since = check.checked_at
            if url.availability == Availability.UNCHECKED:
                url.availability = Availability.UNKNOWN
        elif url.offline_since is None:
            url.offline_since = url.removed_since
            url.availability = Availability.OFFLINE
            return AvailabilityEvent.WENT_OFFLINE, {"offline_since": url.offline_since.isoformat()}
        return None
    if check.outcome in (CheckOutcome.ONLINE, CheckOutcome.RESTRICTED):
        was_offline = url.offline_since
        url.removed_since = url.offline_since = None
        url.availability = Availability.ONLINE
        if was_offline is not None:
            return AvailabilityEvent.BACK_ONLINE, {"offline_since": was_offline.isoformat()}
        return None
    if url.availability == Availability.UNCHECKED:  # unreachable or refused: we still do not know
        url.availability = Availability.UNKNOWN
    return None


def _interval(url: ReportedUrl, *, now: datetime) -> timedelta:
    if url.removed_since is not None and url.offline_since is None:
        return CONFIRM_AFTER
    return INTERVAL_FIRST_WEEK if now - url.report.submitted_at < FIRST_WEEK else INTERVAL_LATER


# ---------------------------------------------------------------------------------------------
# Reading: the case page (staff) and the follow-up page (the reporter)


@dataclass(frozen=True)
class UrlAvailability:
    """One reported URL as the case page shows it."""

    url: ReportedUrl
    receipt_code: str
    availability: str
    availability_label: str
    offline_since: datetime | None
    confirming_removal: bool  # one check found it removed; the next confirms
    last_checked_at: datetime | None
    last_check: AvailabilityCheck | None
    next_check_at: datetime | None
    checking: bool  # whether checks go on (open case, not offline for a week)


def _with_last_check(urls: QuerySet[ReportedUrl]) -> list[tuple[ReportedUrl, AvailabilityCheck | None]]:
    latest = AvailabilityCheck.objects.filter(reported_url=OuterRef("pk")).order_by("-checked_at", "-pk")
    rows = list(urls.annotate(last_check_id=Subquery(latest.values("pk")[:1])))
    checks = AvailabilityCheck.objects.in_bulk([row.last_check_id for row in rows if row.last_check_id])  # type: ignore[attr-defined]
    return [(row, checks.get(row.last_check_id)) for row in rows]  # type: ignore[attr-defined]


def availability_for_case(*, user: User | AnonymousUser, case: Any) -> list[UrlAvailability]:
    """The reported URLs of ``case`` with their availability, for staff who may see its reports (else empty)."""
    now = timezone.now()
    reports = Report.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)
    urls = ReportedUrl.objects.filter(report__in=reports).select_related("report").order_by("report__submitted_at",
                                                                                             "pk")
    checking = set(checkable_urls(now=now).filter(report__case=case).values_list("pk", flat=True))
    return [UrlAvailability(
        url=url, receipt_code=url.report.receipt_code, availability=url.availability,
        availability_label=str(Availability(url.availability).label), offline_since=url.offline_since,
        confirming_removal=url.removed_since is not None and url.offline_since is None,
        last_checked_at=url.last_checked_at, last_check=last, next_check_at=url.next_check_at,
        checking=url.pk in checking) for url, last in _with_last_check(urls)]


def availability_context(*, user: User | AnonymousUser, case: Any) -> dict[str, Any]:
    """Context for ``{% include "intake/_availability_staff.html" %}`` on the case page: ``availability_urls``."""
    return {"availability_urls": availability_for_case(user=user, case=case)}


@dataclass(frozen=True)
class ReporterAvailability:
    """One URL of her own report, as the reporter's follow-up page tells it."""

    url: str
    availability: str
    checked_on: datetime | None
    checking: bool


def availability_for_reporter(*, report: Report) -> list[ReporterAvailability]:
    """Her own report's URLs only (never another report's, even in the same case), in the order she gave them."""
    now = timezone.now()
    checking = set(checkable_urls(now=now).filter(report=report).values_list("pk", flat=True))
    return [ReporterAvailability(url=url.url, availability=url.availability, checked_on=url.last_checked_at,
                                 checking=url.pk in checking)
            for url in ReportedUrl.objects.filter(report=report).order_by("pk")]
