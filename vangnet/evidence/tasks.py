"""Background work of the evidence vault, run by the ``django.tasks`` worker."""

from __future__ import annotations

from typing import Any

from crontask import cron
from django.tasks import task

from vangnet.common.retry import Backoff, with_retries

# A page that did not answer is tried again after about 1, 2 and 4 minutes; then the capture fails.
CAPTURE_BACKOFF = Backoff(first_delay=60.0, factor=2.0, max_delay=900.0, max_attempts=4)


@task()
@with_retries(CAPTURE_BACKOFF)
def capture_url(*, capture_id: int) -> dict[str, Any]:
    """Capture a URL a handler asked for (``services.perform_capture``), with back-off when it did not answer."""
    from .services import perform_capture

    return perform_capture(capture_id=capture_id, max_attempts=CAPTURE_BACKOFF.max_attempts)


@cron("*/10 * * * *")
@task()
def recover_stalled_captures() -> int:
    """Captures a dead worker left "running" go back in the queue, or fail after their last attempt."""
    from .services import recover_stalled_captures as recover

    return recover(max_attempts=CAPTURE_BACKOFF.max_attempts)
