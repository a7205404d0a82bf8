"""Reads for the reporter: her own report and what is addressed to her, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from vangnet.accounts.models import ApiToken, Organisation
from vangnet.accounts.services import hash_token
from vangnet.cases.models import Message
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem

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


def evidence_for_reporter(*, report: Report) -> QuerySet[EvidenceItem]:
    """The files added to this report by its reporter (or the partner who sent it for her), oldest first.

    Never another report's files, and not what staff added to the case (captures, their own files).
    """
    return EvidenceItem.objects.filter(report=report, source__in=[Source.REPORTER, Source.PARTNER]).order_by(
        "added_at", "pk")


def report_for_partner(*, token: ApiToken, receipt_code: str) -> Report | None:
    """A report the token's organisation sent through the API and the reporter has not withdrawn, or None.

    Any token of the organisation will do (tokens are replaced; the partner stays the same).
    """
    return (Report.objects.select_related("case")
            .filter(receipt_code=receipt_code, submitted_via__organisation_id=token.organisation_id,
                    withdrawn_at__isnull=True).first())


def published_pages() -> QuerySet[InfoPage]:
    return InfoPage.objects.filter(is_published=True)


def _last_minute(token: Any) -> QuerySet[Report]:
    return Report.objects.filter(submitted_via=token, submitted_at__gte=timezone.now() - timedelta(minutes=1))


def reports_by_token_in_last_minute(*, token: ApiToken) -> int:
    """How many reports this partner token sent in the last minute (one indexed count)."""
    return _last_minute(token).count()


def api_token_with_recent_reports(*, token: str) -> ApiToken | None:
    """The active partner token matching ``token``, with ``reports_last_minute`` counted in the same query.

    Every API call needs both (who is calling, and whether they are over their rate). It is
    written in SQL because building the same query with the ORM (a counted subquery) cost a
    quarter of a report's CPU time on the web side (py-spy, bench/report_submission.py); the
    rules are those of ``accounts.selectors.active_tokens_matching`` and ``_last_minute``,
    and ``test_selectors`` holds the two to the same answers.
    """
    if not token or len(token) > 200:
        return None
    quote = connection.ops.quote_name
    tokens, organisations, reports = ApiToken._meta.db_table, Organisation._meta.db_table, Report._meta.db_table
    sql = (f"SELECT t.id, t.organisation_id, t.name, o.slug, o.name, "
           f"(SELECT COUNT(*) FROM {quote(reports)} r WHERE r.submitted_via_id = t.id AND r.submitted_at >= %s) "
           f"FROM {quote(tokens)} t JOIN {quote(organisations)} o ON o.id = t.organisation_id "
           f"WHERE t.token_hash = %s AND t.revoked_at IS NULL AND o.is_active")
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now() - timedelta(minutes=1), hash_token(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    # Only columns whose database value needs no conversion; the others load on first use.
    found = ApiToken.from_db(connection.alias, ["id", "organisation_id", "name"], row[:3])
    found.organisation = Organisation.from_db(connection.alias, ["id", "slug", "name"], [row[1], row[3], row[4]])
    found.reports_last_minute = row[5]  # type: ignore[attr-defined]
    return found
