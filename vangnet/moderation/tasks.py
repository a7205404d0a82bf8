"""Background work of the moderation engine, run by the ``django.tasks`` worker and the scheduler."""

from __future__ import annotations

from crontask import cron
from django.tasks import task


@task()
def deliver_webhooks() -> dict[str, int]:
    """Send the webhook deliveries that are due (queued right after a transaction that made some)."""
    from . import webhooks

    return webhooks.deliver_due()


@cron("* * * * *")
@task()
def deliver_webhooks_every_minute() -> dict[str, int]:
    """Retries after back-off, and whatever a crash left pending, go out within a minute."""
    from . import webhooks

    return webhooks.deliver_due()
