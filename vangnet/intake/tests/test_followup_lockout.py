"""The receipt-code lockout counts attempts atomically, before any secret is checked."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import report_payload
from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor
from vangnet.common.testing import at_the_same_moment
from vangnet.common.seed import seed_reference_data
from vangnet.intake import selectors
from vangnet.intake.choices import Channel
from vangnet.intake.forms import ReportForm
from vangnet.intake.models import FollowupAttempts
from vangnet.intake.receipts import secret_matches
from vangnet.intake.services import count_followup_attempt, submit_report

WRONG = "wrong-wrong-wrong-wrong"


@pytest.fixture
def checked(monkeypatch) -> list[str]:
    """Records every secret that was actually compared."""
    seen: list[str] = []

    def recording(report, secret: str) -> bool:
        seen.append(secret)
        return secret_matches(report, secret)

    monkeypatch.setattr(selectors, "secret_matches", recording)
    return seen


@pytest.mark.django_db
def test_guesses_arriving_while_a_secret_is_checked_do_not_get_extra_checks(submit, checked, monkeypatch) -> None:
    """Deterministic interleaving: ten more guesses arrive while the first secret is being
    compared. Reading the count before and writing it after the check let every one of them
    through; counting first lets exactly five secrets be checked."""
    submitted = submit()
    code = submitted.report.receipt_code
    results: list[selectors.FollowupAttempt] = []

    def slow_and_interrupted(report, secret: str) -> bool:
        checked.append(secret)
        if len(checked) == 1:
            for i in range(10):
                results.append(selectors.authenticate_followup(receipt_code=code, secret=f"{WRONG}-{i}"))
        return secret_matches(report, secret)

    monkeypatch.setattr(selectors, "secret_matches", slow_and_interrupted)
    first = selectors.authenticate_followup(receipt_code=code, secret=WRONG)
    assert len(checked) == 5
    assert first.report is None and not first.locked, "the first guess saw count 1"
    assert [r.locked for r in results] == [False, False, False, True] + [True] * 6


@pytest.mark.django_db
def test_a_locked_code_refuses_even_the_right_secret_until_the_window_ends(submit, checked, settings) -> None:
    settings.VANGNET_FOLLOWUP_CODE_FAILURES = 3
    submitted = submit()
    code = submitted.report.receipt_code
    outcomes = [selectors.authenticate_followup(receipt_code=code, secret=WRONG).locked for _ in range(3)]
    assert outcomes == [False, False, True]
    refused = selectors.authenticate_followup(receipt_code=code, secret=submitted.secret)
    assert refused.report is None and refused.locked
    assert len(checked) == 3, "the right secret was not even compared while locked"

    FollowupAttempts.objects.update(window_ends_at=timezone.now() - timedelta(seconds=1))
    opened = selectors.authenticate_followup(receipt_code=code, secret=submitted.secret)
    assert opened.report == submitted.report
    assert not FollowupAttempts.objects.filter(receipt_code=code).exists(), "the right secret clears the count"


@pytest.mark.django_db
def test_the_right_secret_resets_the_count(submit, settings) -> None:
    settings.VANGNET_FOLLOWUP_CODE_FAILURES = 3
    submitted = submit()
    code = submitted.report.receipt_code
    for _ in range(2):
        selectors.authenticate_followup(receipt_code=code, secret=WRONG)
    assert selectors.authenticate_followup(receipt_code=code, secret=submitted.secret).report == submitted.report
    assert [selectors.authenticate_followup(receipt_code=code, secret=WRONG).locked for _ in range(3)] == [
        False, False, True]


@pytest.mark.django_db
def test_counting_windows(settings) -> None:
    settings.VANGNET_FOLLOWUP_CODE_FAILURES = 2
    settings.VANGNET_FOLLOWUP_LOCKOUT_SECONDS = 60
    start = timezone.now()
    assert count_followup_attempt(receipt_code="VN-AAAA-BBBB", now=start) == 1
    assert count_followup_attempt(receipt_code="VN-AAAA-BBBB", now=start + timedelta(seconds=30)) == 2
    row = FollowupAttempts.objects.get(receipt_code="VN-AAAA-BBBB")
    assert row.window_ends_at == start + timedelta(seconds=90), "attempts up to the limit extend the window"
    assert count_followup_attempt(receipt_code="VN-AAAA-BBBB", now=start + timedelta(seconds=60)) == 3
    row.refresh_from_db()
    assert row.window_ends_at == start + timedelta(seconds=90), "attempts past the limit do not"
    assert count_followup_attempt(receipt_code="VN-AAAA-BBBB", now=start + timedelta(seconds=90)) == 1
    assert count_followup_attempt(receipt_code="VN-CCCC-DDDD", now=start) == 1, "each code counts on its own"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="the in-memory SQLite test database refuses concurrent writers; runs on PostgreSQL in CI")
def test_thirty_simultaneous_wrong_secrets_check_only_five(checked, monkeypatch) -> None:
    seed_reference_data()  # transactional tests run on a database emptied by the ones before
    form = ReportForm(data=report_payload())
    assert form.is_valid(), form.errors
    submitted = submit_report(data=form.cleaned_data, organisation=Organisation.objects.get(slug="vangnet-helpline"),
                              channel=Channel.WEB, actor=Actor.reporter())
    code = submitted.report.receipt_code

    def slow(report, secret: str) -> bool:
        checked.append(secret)
        time.sleep(0.05)  # widen the window in which a read-then-write count would race
        return secret_matches(report, secret)

    monkeypatch.setattr(selectors, "secret_matches", slow)
    locked = at_the_same_moment(30, lambda i: selectors.authenticate_followup(
        receipt_code=code, secret=f"{WRONG}-{i}").locked)
    assert len(checked) == 5
    assert locked.count(True) == 26 and FollowupAttempts.objects.get(receipt_code=code).attempts == 30
