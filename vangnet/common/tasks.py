"""Housekeeping of the whole site, on the schedule that ``vangnet serve`` runs."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from crontask import cron
from django.conf import settings
from django.tasks import task
from django.utils import timezone

FINISHED_TASKS_KEPT = timedelta(days=1)


@cron("5 * * * *")
@task()
def clear_expired_sessions() -> bool:
    """Every hour: expired sessions hold half-finished reports (encrypted) and need not be kept."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return True


@cron("10 * * * *")
@task()
def prune_finished_tasks() -> int:
    """Every hour: finished tasks older than a day go (their arguments may name reports)."""
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.finished().filter(finished_at__lt=timezone.now() - FINISHED_TASKS_KEPT)
    deleted, _by_model = finished.delete()
    return deleted
