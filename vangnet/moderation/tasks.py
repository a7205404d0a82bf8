"""Background work of the moderation engine, run by the ``django.tasks`` worker and the scheduler."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from vangnet.common.retry import Backoff, with_retries


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


# 1, 2, 4 … minutes between attempts (±20 %); the notification gives up after its last attempt.
THREAT_NOTIFICATION_BACKOFF = Backoff(first_delay=60.0, factor=2.0, max_delay=3600.0, max_attempts=6)


@task()
@with_retries(THREAT_NOTIFICATION_BACKOFF)
def send_threat_notification(*, alert_id: int, requested: str, idempotency_key: str = "") -> str:
    """Send an Art. 18 notification to the authority's address (``threats.send_notification``), retried."""
    from . import threats

    return threats.send_notification(alert_id=alert_id, requested=requested)
