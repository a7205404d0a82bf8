"""Background work of the reporting facility."""

from __future__ import annotations

from crontask import cron
from django.conf import settings
from django.tasks import task
from django.urls import reverse
from django.utils import translation

from vangnet.common.crypto import unseal
from vangnet.common.email import send_templated


@task()
def send_receipt(*, report_id: int, sealed_secret: str = "") -> bool:
    """E-mail the receipt code, and the secret only when she asked for it (it travels through the queue encrypted).

    Someone who reads her mail could open her report with both, so by default the e-mail
    carries the code alone.
    """
    from .models import Report

    report = Report.objects.filter(pk=report_id, withdrawn_at__isnull=True).first()
    if report is None or not report.contact_email:
        return False
    with translation.override(report.language):
        followup_url = settings.VANGNET_SITE_URL + reverse("intake:followup_login")
    send_templated(to=report.contact_email, template="intake/email/receipt", language=report.language,
                   context={"receipt_code": report.receipt_code,
                            "secret": unseal(sealed_secret) if sealed_secret else "",
                            "followup_url": followup_url})
    return True


@cron("30 3 * * *")
@task()
def apply_retention_daily() -> dict[str, int]:
    """Every night: erase personal data of long-closed cases, purge evidence files whose period ended
    (both skip cases on legal hold), drop expired Idempotency-Key answers, and apply the moderation
    engine's retention (``moderation.retention``)."""
    from vangnet.audit.services import Actor
    from vangnet.evidence.services import purge_expired_evidence

    from .idempotency import prune_expired_keys
    from .services import apply_retention

    from vangnet.moderation.retention import apply_moderation_retention

    actor = Actor.system("retention")
    return {"cases": apply_retention(actor=actor), "evidence": purge_expired_evidence(actor=actor),
            "idempotency_keys": prune_expired_keys(),
            **{f"moderation_{kind}": n for kind, n in apply_moderation_retention(actor=actor).items()}}


@cron("15 * * * *")
@task()
def forget_ended_followup_lockouts() -> int:
    """Every hour: forget sign-in attempt counts whose lockout window has ended (they name receipt codes)."""
    from django.utils import timezone

    from .models import FollowupAttempts

    deleted, _by_model = FollowupAttempts.objects.filter(window_ends_at__lte=timezone.now()).delete()
    return deleted


@cron("*/30 * * * *")
@task()
def schedule_availability_checks() -> int:
    """Every half hour: claim the reported URLs whose availability check is due and enqueue them in batches."""
    from .availability import schedule_checks

    return schedule_checks()


@task()
def check_availability(*, url_ids: list[int], claim_token: str) -> dict[str, int]:
    """Check one batch of claimed URLs through the fetch guard (``availability.perform_checks``)."""
    from .availability import perform_checks

    return perform_checks(url_ids=url_ids, claim_token=claim_token)
