"""Background work of notices, run by the ``django.tasks`` worker and the scheduler in ``vangnet serve``."""

from __future__ import annotations

from crontask import cron
from django.tasks import task


@task()
def process_outbox() -> dict[str, int]:
    """Send the queued notices that are due (queued right after a handler sends one)."""
    from . import outbox

    return outbox.process_outbox()


@cron("* * * * *")
@task()
def process_outbox_every_minute() -> dict[str, int]:
    """Retries after back-off, and whatever a crash left pending, go out within a minute."""
    from . import outbox

    return outbox.process_outbox()


@cron("*/5 * * * *")
@task()
def recover_stalled_deliveries() -> int:
    """Deliveries a dead worker left "sending" become "uncertain" for the handler to check."""
    from . import outbox

    return outbox.recover_stalled()
