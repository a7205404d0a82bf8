"""Threats to life or safety (DSA Art. 18, "melding van strafbare feiten"): alert the policy manager, prepare the
notification for the authority.

When the check finds a credible threat, ``raise_alert`` opens one ``ThreatAlert`` per item (the
database holds one open alert per item, so two checks at once raise it once), prepares the
notification for the authority configured in the platform's policy — a plain, factual text in
the authority's language (Dutch) with everything the authority needs to act — and, once the
transaction commits, e-mails every policy manager of the platform that there is an alert, with
a link to it but without the threat's text (e-mail is not the place for it). A policy manager
then reads the alert on the dashboard and either sends the notification (``mark_notified``) or
dismisses the alert as not credible (``dismiss``).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission, Role
from vangnet.accounts.selectors import user_has_permission
from vangnet.audit.services import Actor, record_event
from vangnet.common.email import send_templated

from .choices import AlertStatus, ModerationEvent
from .models import Item, Policy, ThreatAlert

logger = logging.getLogger(__name__)
# The language of the notification for the authority (the Dutch police and public prosecutor).
AUTHORITY_LANGUAGE = "nl"
STAFF_LANGUAGE = "nl"


def alert_url(alert: ThreatAlert) -> str:
    """The alert on the review dashboard (``/staff/moderation/alerts/<id>/``)."""
    return f"{settings.VANGNET_SITE_URL}/staff/moderation/alerts/{alert.pk}/"


def prepare_notification(*, item: Item, score: float) -> str:
    """The notification for the authority: platform, item, when and where, the text, the author's id, the score."""
    organisation = item.organisation
    posted = timezone.localtime(item.content_date or item.received_at)
    with translation.override(AUTHORITY_LANGUAGE):
        return render_to_string("moderation/email/threat_notification.txt", {
            "platform": organisation.name, "item": item, "score": f"{score:.2f}",
            "posted_at": formats.date_format(posted, "DATETIME_FORMAT"),
            "contact": organisation.notice_email,
        }).strip() + "\n"


def raise_alert(*, item: Item, score: float, actor: Actor) -> ThreatAlert | None:
    """Open an alert for ``item`` unless one is open already (then ``None``); the policy managers hear of it on commit.

    Runs in the caller's transaction (the check that scored the item) or its own.
    """
    with transaction.atomic():
        if _open_alert_exists(item):
            return None
        policy = Policy.objects.filter(organisation_id=item.organisation_id).first()
        try:
            with transaction.atomic():  # a savepoint: another check may open the alert at the same moment
                alert = ThreatAlert.objects.create(
                    organisation_id=item.organisation_id, item=item, score=score, status=AlertStatus.OPEN,
                    authority_name=policy.authority_name if policy else "",
                    authority_email=policy.authority_email if policy else "",
                    notification=prepare_notification(item=item, score=score))
        except IntegrityError:
            if _open_alert_exists(item):
                return None
            raise
        record_event(actor=actor, event_type=ModerationEvent.THREAT_ALERT_RAISED, subject=alert,
                     organisation_id=alert.organisation_id,
                     data={"item": item.external_id, "score": round(score, 4),
                           "authority": alert.authority_name, "authority_email": alert.authority_email})
        for address in _policy_manager_addresses(item.organisation_id):
            transaction.on_commit(functools.partial(_tell_policy_manager, address, alert.pk), robust=True)
        return alert


def _open_alert_exists(item: Item) -> bool:
    return ThreatAlert.objects.filter(item=item, status=AlertStatus.OPEN).exists()


def _policy_manager_addresses(organisation_id: int) -> list[str]:
    users = get_user_model().objects.filter(
        memberships__organisation_id=organisation_id, memberships__role=Role.POLICY_MANAGER,
        is_active=True).exclude(email="").order_by("pk")
    return list(dict.fromkeys(user.email for user in users))


def _tell_policy_manager(address: str, alert_id: int) -> None:
    alert = ThreatAlert.objects.select_related("organisation").get(pk=alert_id)
    send_templated(to=address, template="moderation/email/threat_alert", language=STAFF_LANGUAGE,
                   context={"alert": alert, "alert_url": alert_url(alert)})


def _send_to_authority(alert_id: int) -> None:
    alert = ThreatAlert.objects.select_related("organisation").get(pk=alert_id)
    send_templated(to=alert.authority_email, template="moderation/email/threat_authority",
                   language=AUTHORITY_LANGUAGE, context={"alert": alert})


def _handle(*, alert: ThreatAlert, user: Any, note: str, status: AlertStatus) -> ThreatAlert:
    if not user_has_permission(user=user, organisation_id=alert.organisation_id,
                               permission=Permission.MANAGE_MODERATION):
        raise PermissionDenied(_("Only a policy manager can handle threat alerts."))
    alert = ThreatAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != AlertStatus.OPEN:
        raise ValidationError(_("This alert has been handled already."), code="handled")
    note = note.strip()
    alert.status, alert.handled_by, alert.handled_at, alert.handling_note = status, user, timezone.now(), note
    alert.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
    return alert


@transaction.atomic
def mark_notified(*, alert: ThreatAlert, user: Any, note: str) -> None:
    """The authority is informed: by e-mail with the prepared notification (on commit) when the policy names an address,
    otherwise by the policy manager herself, by other means, which her ``note`` says (then required)."""
    if not alert.authority_email and not note.strip():
        raise ValidationError(_("No e-mail address of an authority is set: note how and when you informed it."),
                              code="note_required")
    alert = _handle(alert=alert, user=user, note=note, status=AlertStatus.NOTIFIED)
    sent_to = alert.authority_email
    if sent_to:
        transaction.on_commit(functools.partial(_send_to_authority, alert.pk))
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=alert,
                 organisation_id=alert.organisation_id,
                 data={"status": AlertStatus.NOTIFIED.value, "sent_to": sent_to, "authority": alert.authority_name,
                       "note": alert.handling_note})


@transaction.atomic
def dismiss(*, alert: ThreatAlert, user: Any, note: str) -> None:
    """The threat is not credible: the alert is closed with the reason in ``note`` (required); nothing is sent."""
    if not note.strip():
        raise ValidationError(_("Say why the threat is not credible."), code="note_required")
    alert = _handle(alert=alert, user=user, note=note, status=AlertStatus.DISMISSED)
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=alert,
                 organisation_id=alert.organisation_id,
                 data={"status": AlertStatus.DISMISSED.value, "note": alert.handling_note})
