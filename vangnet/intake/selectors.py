"""Reads for the reporter: her own report and what is addressed to her, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from vangnet.accounts.models import ApiToken
from vangnet.accounts.selectors import active_tokens_matching
from vangnet.cases.models import Message

from .models import InfoPage, Report
from .receipts import normalize_code, secret_matches
from .services import clear_followup_attempts, count_followup_attempt


@dataclass(frozen=True)
class FollowupAttempt:
    report: Report | None
    locked: bool


def authenticate_followup(*, receipt_code: str, secret: str) -> FollowupAttempt:
    """Check code + secret; after too many failures the code is locked for a while, even to the right secret.

    The attempt is counted atomically before the secret is checked (it writes, as a
    throttle must), so simultaneous guesses check at most the allowed number of secrets.
    """
    code = normalize_code(receipt_code)
    if not code:
        return FollowupAttempt(report=None, locked=False)
    limit = settings.VANGNET_FOLLOWUP_CODE_FAILURES
    attempts = count_followup_attempt(receipt_code=code)
    if attempts > limit:
        return FollowupAttempt(report=None, locked=True)
    report = Report.objects.filter(receipt_code=code).first()
    if report is not None and secret_matches(report, secret):
        clear_followup_attempts(receipt_code=code)
        return FollowupAttempt(report=report, locked=False)
    return FollowupAttempt(report=None, locked=attempts >= limit)


def get_report_for_reporter(*, report_id: int | None) -> Report | None:
    if report_id is None:
        return None
    return (Report.objects.select_related("case", "consent_share_with")
            .prefetch_related("forms", "urls", "additions")
            .filter(pk=report_id, withdrawn_at__isnull=True).first())


def messages_for_reporter(*, report: Report) -> QuerySet[Message]:
    """Only messages addressed to this report, whoever else reported the same content."""
    return Message.objects.filter(report=report).order_by("created_at")


def published_pages() -> QuerySet[InfoPage]:
    return InfoPage.objects.filter(is_published=True)


def _last_minute(token: Any) -> QuerySet[Report]:
    return Report.objects.filter(submitted_via=token, submitted_at__gte=timezone.now() - timedelta(minutes=1))


def reports_by_token_in_last_minute(*, token: ApiToken) -> int:
    """How many reports this partner token sent in the last minute (one indexed count)."""
    return _last_minute(token).count()


def api_token_with_recent_reports(*, token: str) -> ApiToken | None:
    """The active partner token matching ``token``, with ``reports_last_minute`` counted in the same query.

    Every API call needs both (who is calling, and whether they are over their rate), so
    one round trip answers both.
    """
    recent = (_last_minute(OuterRef("pk")).order_by().values("submitted_via")
              .annotate(n=Count("pk")).values("n"))
    return (active_tokens_matching(token=token)
            .annotate(reports_last_minute=Coalesce(Subquery(recent), 0)).first())
