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


@cron("*/15 * * * *")
@task()
def handle_notice_deadlines() -> dict[str, int]:
    """Notices past their deadline: an event, a reminder to the case owner, one automatic follow-up."""
    from .services import handle_deadlines

    return handle_deadlines()


@task()
def store_notice_pdf(*, notice_id: int) -> str:
    """The PDF copy of a notice whose text was just fixed (queued, or confirmed sent by hand)."""
    from .models import Notice
    from .pdf import store_pdf

    notice = Notice.objects.select_related("case", "provider").get(pk=notice_id)
    if notice.pdf_storage_name:
        return notice.pdf_storage_name
    name = store_pdf(notice)
    Notice.objects.filter(pk=notice_id, pdf_storage_name="").update(pdf_storage_name=name)
    return name


@task()
def check_reupload(*, item_id: int) -> int:
    """Does new evidence match content that was removed (the re-upload watch)? Returns the alerts made."""
    from .reupload import check_item

    return len(check_item(item_id))


@cron("*/2 * * * *")
@task()
def poll_reply_mailbox() -> dict[str, int]:
    """Providers' replies from the IMAP mailbox (when ``VANGNET_IMAP_HOST`` is set), matched to their notices."""
    from .mailbox import poll_mailbox

    return poll_mailbox()
