"""Background work for cases, run by the ``django.tasks`` worker after the change committed."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import translation

from vangnet.audit.services import Actor, record_event
from vangnet.common.email import send_templated

from .choices import CaseEvent


@task()
def notify_reporter_of_message(*, report_id: int) -> bool:
    """Tell the reporter a message waits; the message itself never travels by e-mail."""
    from vangnet.intake.models import Report

    report = Report.objects.filter(pk=report_id, withdrawn_at__isnull=True).first()
    if report is None or not report.contact_email:
        return False
    with translation.override(report.language):
        followup_url = settings.VANGNET_SITE_URL + reverse("intake:followup_login")
    send_templated(to=report.contact_email, template="cases/email/message_waiting",
                   context={"followup_url": followup_url}, language=report.language)
    return True


@task()
def send_handover(*, referral_id: int) -> bool:
    """Send the hand-over summary to the organisation the reporter consented to."""
    from .models import Referral

    referral = Referral.objects.select_related("organisation", "case", "report").filter(pk=referral_id).first()
    if referral is None or not referral.organisation.handover_email:
        return False
    send_templated(to=referral.organisation.handover_email, template="cases/email/handover",
                   context={"referral": referral}, language="nl")
    with transaction.atomic():  # the case's timeline shows that the hand-over really went out
        record_event(actor=Actor.system("hand-over e-mail"), event_type=CaseEvent.HANDOVER_SENT, subject=referral,
                     organisation_id=referral.case.organisation_id, data={"organisation": referral.organisation.slug})
    return True
