"""The retry pattern for tasks that reach the outside world, run by the real database worker."""

from __future__ import annotations

import pytest
from django.tasks import task
from django_tasks_db.models import DBTaskResult

from vangnet.common.retry import Backoff, TryAgainLater, enqueue_once, with_retries

pytestmark = pytest.mark.django_db
CALLS: list[int] = []
NOW = Backoff(first_delay=0, jitter=0, max_attempts=3)


@task()
@with_retries(NOW)
def flaky(*, fail_times: int) -> str:
    CALLS.append(1)
    if len(CALLS) <= fail_times:
        raise TryAgainLater("the server did not answer")
    return "sent"


@task()
def effect(*, idempotency_key: str, text: str) -> str:
    CALLS.append(1)
    return text


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def test_back_off_doubles_up_to_its_cap_with_jitter() -> None:
    backoff = Backoff(first_delay=30, factor=2, max_delay=600, jitter=0)
    assert [backoff.delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    spread = {round(Backoff(jitter=0.2).delay(1), 3) for _ in range(50)}
    assert len(spread) > 1 and all(24 <= d <= 36 for d in spread)


def test_a_temporary_failure_is_retried_until_it_succeeds(run_worker) -> None:
    flaky.enqueue(fail_times=2)
    run_worker()
    results = list(DBTaskResult.objects.order_by("enqueued_at", "id"))
    assert len(CALLS) == 3 and [r.status for r in results] == ["SUCCESSFUL"] * 3
    assert [r.args_kwargs["kwargs"].get("attempt", 1) for r in results] == [1, 2, 3]
    assert results[-1].return_value == "sent"


def test_after_the_last_attempt_the_task_fails_visibly(run_worker) -> None:
    flaky.enqueue(fail_times=10)
    run_worker()
    statuses = list(DBTaskResult.objects.order_by("enqueued_at", "id").values_list("status", flat=True))
    assert len(CALLS) == 3 and statuses == ["SUCCESSFUL", "SUCCESSFUL", "FAILED"]


def test_enqueue_once_sends_once_per_key(run_worker) -> None:
    assert enqueue_once(effect, key="notice-1", text="a") is True
    assert enqueue_once(effect, key="notice-1", text="a") is False, "waiting: not again"
    assert enqueue_once(effect, key="notice-2", text="b") is True
    run_worker()
    assert len(CALLS) == 2
    assert enqueue_once(effect, key="notice-1", text="a") is False, "done: not again"
    DBTaskResult.objects.filter(args_kwargs__kwargs__idempotency_key="notice-2").update(status="FAILED")
    assert enqueue_once(effect, key="notice-2", text="b") is True, "a failed one may be tried again"
