"""One pattern for background work that touches the outside world: retries with back-off and
idempotency keys (notices to providers and webhooks to platforms build on it).

A task that sends something raises ``TryAgainLater`` when the other side did not answer; the
``with_retries`` decorator (under ``@task()``) then enqueues the same task again after an
exponentially growing, jittered delay, until ``max_attempts``, after which the task fails and
its result says why. Work that must happen once is enqueued with ``enqueue_once(task, key=...)``:
a second enqueue with the same key while the first is waiting, running or done is a no-op,
so a double click or a retried request never sends twice. The effect itself should still
record its key where the domain keeps its state (an outbox row), because a process can die
between sending and recording.
"""

from __future__ import annotations

import functools
import logging
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.tasks import Task
from django.utils import timezone

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class TryAgainLater(Exception):
    """The work may succeed later (a server that did not answer, a timeout): retry it."""


@dataclass(frozen=True)
class Backoff:
    first_delay: float = 30.0
    factor: float = 2.0
    max_delay: float = 3600.0
    max_attempts: int = 8
    jitter: float = 0.2  # +/- 20 %, so retries of many tasks do not arrive together

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.first_delay * self.factor ** (attempt - 1))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


def with_retries(backoff: Backoff = Backoff()) -> Callable[[F], F]:
    """Decorate a task function (below ``@task()``) so ``TryAgainLater`` re-enqueues it with back-off."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except TryAgainLater as exc:
                if attempt >= backoff.max_attempts:
                    logger.error("%s failed %d times; giving up: %s", func.__qualname__, attempt, exc)
                    raise
                delay = backoff.delay(attempt)
                task = getattr(sys.modules[func.__module__], func.__name__)
                task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
                    *args, attempt=attempt + 1, **kwargs)
                logger.warning("%s: attempt %d failed (%s); trying again in %.0f s.", func.__qualname__, attempt,
                               exc, delay)
                return {"retry_in_seconds": round(delay, 1), "attempt": attempt, "reason": str(exc)}

        return wrapper  # type: ignore[return-value]

    return decorator


def enqueue_once(task: Task[Any, Any], *, key: str, **kwargs: Any) -> bool:
    """Enqueue ``task`` with ``idempotency_key=key`` unless a task with that key waits, runs or succeeded.

    Returns whether it was enqueued. With the database task backend the check reads the
    task table; other backends enqueue every time (their deployments dedupe in the effect).
    """
    import hashlib

    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    task_path = f"{task.func.__module__}.{task.func.__qualname__}"
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two enqueues of one key at the same moment: one waits
            lock = int(hashlib.sha256(f"{task_path}:{key}".encode()).hexdigest()[:15], 16)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
        taken = (DBTaskResult.objects.select_for_update()
                 .filter(task_path=task_path, args_kwargs__kwargs__idempotency_key=key)
                 .exclude(status="FAILED").exists())
        if taken:
            return False
        task.enqueue(idempotency_key=key, **kwargs)
    return True
