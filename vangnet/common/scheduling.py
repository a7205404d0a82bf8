"""The schedule: work that runs by the clock inside the scheduler that ``vangnet serve`` starts.

Two kinds, both declared by the app that owns the work, in its ``tasks.py``:

- ``@cron("30 3 * * *")`` from django-crontask on a ``django.tasks`` task: at that time the
  scheduler *enqueues* the task and the worker runs it (retries, results, one place to look).
- ``@every(seconds=2)`` for short, frequent housekeeping that must not fill the task queue
  (chaining the event log): the scheduler runs the function itself, in its own thread.

``vangnet scheduler`` runs the schedule (django-crontask's ``crontask`` command); only one
scheduler may run per database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from crontask import scheduler
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def every(*, seconds: int) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Run the decorated function every ``seconds`` in the scheduler process (one run at a time)."""

    def decorator(func: Callable[[], Any]) -> Callable[[], Any]:
        name = f"{func.__module__}.{func.__qualname__}"

        def run() -> None:
            close_old_connections()  # a database that restarted meanwhile gets a fresh connection
            try:
                func()
            except Exception:  # noqa: BLE001 - logged; the next run tries again
                logger.exception("Scheduled job %s failed; it runs again in %s s.", name, seconds)
            finally:
                close_old_connections()

        scheduler.add_job(run, IntervalTrigger(seconds=seconds, timezone=timezone.get_default_timezone()),
                          name=name, id=name, replace_existing=True, max_instances=1, coalesce=True)
        return func

    return decorator


def scheduled_jobs() -> dict[str, str]:
    """Every job on the schedule and its trigger, for the docs and the tests."""
    return {job.name: str(job.trigger) for job in scheduler.get_jobs()}
