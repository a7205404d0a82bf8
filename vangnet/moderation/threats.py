"""Threats to life or safety (DSA Art. 18, "melding van strafbare feiten"): alert the policy manager, prepare the
notification for the authority.

When the check finds a credible threat, ``raise_alert`` opens one ``ThreatAlert`` per item (the
database holds one open alert per item, so two checks at once raise it once), prepares the
notification for the authority configured in the platform's policy — a plain, factual text in
the authority's language (Dutch) with everything the authority needs to act — and, once the
transaction commits, e-mails everyone who manages the platform's moderation (a role granting
``MANAGE_MODERATION``: policy managers and admins) that there is an alert, with a link to it but
without the threat's text (e-mail is not the place for it). A policy manager then reads the
alert on the dashboard and either sends the notification (``mark_notified``) or dismisses the
alert as not credible (``dismiss``).

Sending to the authority's address is a task (``tasks.send_threat_notification``), retried with
back-off while the mail server does not accept it: the request only asks for it (the alert stays
open, ``handled_at`` holding when she asked), and the alert is ``notified`` only once the mail
server accepted the e-mail (``notification_sent_at``). The last failure is on the alert
(``notification_error``) and each failed attempt an event on it; the alert page shows them
(``notification_state``). After the last attempt the request lapses and she can send it again.
The event log keeps whether a note was written and its length, never the note: the log is never
erased.
"""

from __future__ import annotations

import functools
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from vangnet.accounts.access import roles_granting
from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import user_has_permission
from vangnet.audit.models import Event
from vangnet.audit.services import Actor, record_event
from vangnet.common.email import send_templated
from vangnet.common.retry import TryAgainLater, enqueue_once

from .choices import AlertStatus, ModerationEvent
from .models import Item, Policy, ThreatAlert

logger = logging.getLogger(__name__)
# The language of the notification for the authority (the Dutch police and public prosecutor).
AUTHORITY_LANGUAGE = "nl"
STAFF_LANGUAGE = "nl"
SENDER = Actor.system("threat notification")
# Attempts to hand the notification to the mail server before the request lapses (about half an hour;
# ``tasks.THREAT_NOTIFICATION_BACKOFF`` spaces them and allows as many).
MAX_SEND_ATTEMPTS = 6


class NotificationNotSent(Exception):
    """The mail server did not accept the notification in ``MAX_SEND_ATTEMPTS`` attempts: the request lapsed."""


@dataclass(frozen=True)
class SendState:
    """Where sending an alert's notification to the authority's address stands, for the alert page.

    ``state``: ``""`` (never asked), ``sending`` (asked, not tried yet), ``retrying`` (an
    attempt failed; tried again automatically), ``failed`` (the last attempt failed: nothing
    reached the authority) or ``sent`` (the mail server accepted it at ``at``).
    """

    state: str
    attempts: int = 0
    error: str = ""
    at: datetime | None = None


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
    """The addresses of the active users whose role in the (active) platform grants ``MANAGE_MODERATION``."""
    users = get_user_model().objects.filter(
        memberships__organisation_id=organisation_id, memberships__organisation__is_active=True,
        memberships__role__in=roles_granting(Permission.MANAGE_MODERATION),
        is_active=True).exclude(email="").order_by("pk")
    return list(dict.fromkeys(user.email for user in users))


def _tell_policy_manager(address: str, alert_id: int) -> None:
    alert = ThreatAlert.objects.select_related("organisation").get(pk=alert_id)
    send_templated(to=address, template="moderation/email/threat_alert", language=STAFF_LANGUAGE,
                   context={"alert": alert, "alert_url": alert_url(alert)})


def _require_manager(alert: ThreatAlert, user: Any) -> None:
    if not user_has_permission(user=user, organisation_id=alert.organisation_id,
                               permission=Permission.MANAGE_MODERATION):
        raise PermissionDenied(_("Only a policy manager can handle threat alerts."))


def _locked_open(alert: ThreatAlert, user: Any) -> ThreatAlert:
    _require_manager(alert, user)
    alert = ThreatAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != AlertStatus.OPEN:
        raise ValidationError(_("This alert has been handled already."), code="handled")
    return alert


def _handle(*, alert: ThreatAlert, user: Any, note: str, status: AlertStatus) -> ThreatAlert:
    alert = _locked_open(alert, user)
    note = note.strip()
    alert.status, alert.handled_by, alert.handled_at, alert.handling_note = status, user, timezone.now(), note
    alert.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
    return alert


def _note_data(note: str) -> dict[str, Any]:
    """What the event log keeps of a note: whether there is one and its length (the log is never erased)."""
    return {"note_given": bool(note), "note_length": len(note)}


@transaction.atomic
def mark_notified(*, alert: ThreatAlert, user: Any, note: str) -> ThreatAlert:
    """Inform the authority: by e-mail with the prepared notification when the policy names an address, otherwise
    by the policy manager herself, by other means, which her ``note`` says (then required).

    With an address the e-mail is only asked for here: it is sent by a task after commit, and
    the alert is ``notified`` once the mail server accepted it. Asking again while an attempt
    failed sends it again at once; while it waits for its first attempt it is refused.
    """
    if not alert.authority_email and not note.strip():
        raise ValidationError(_("No e-mail address of an authority is set: note how and when you informed it."),
                              code="note_required")
    if not alert.authority_email:
        alert = _handle(alert=alert, user=user, note=note, status=AlertStatus.NOTIFIED)
        record_event(actor=Actor.staff(user), event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=alert,
                     organisation_id=alert.organisation_id,
                     data={"status": AlertStatus.NOTIFIED.value, "sent_to": "", "authority": alert.authority_name,
                           **_note_data(alert.handling_note)})
        return alert
    alert = _locked_open(alert, user)
    if notification_state(alert).state == "sending":
        raise ValidationError(_("The notification is on its way to the authority already."), code="sending")
    requested = timezone.now()
    alert.handled_by, alert.handled_at, alert.handling_note = user, requested, note.strip()
    alert.notification_error = ""
    alert.save(update_fields=["handled_by", "handled_at", "handling_note", "notification_error"])
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=alert,
                 organisation_id=alert.organisation_id,
                 data={"status": "sending", "sent_to": alert.authority_email, "authority": alert.authority_name,
                       "request": requested.isoformat(), **_note_data(alert.handling_note)})
    transaction.on_commit(functools.partial(_enqueue_sending, alert.pk, requested.isoformat()), robust=True)
    return alert


def _enqueue_sending(alert_id: int, requested: str) -> None:
    from .tasks import send_threat_notification

    enqueue_once(send_threat_notification, key=f"moderation.threat-notification:{alert_id}:{requested}",
                 alert_id=alert_id, requested=requested)


def _current_request(alert: ThreatAlert) -> str:
    """The open request to send (when she asked, as ISO 8601), or "" when none is open."""
    if alert.status != AlertStatus.OPEN or alert.handled_at is None or not alert.authority_email:
        return ""
    return alert.handled_at.isoformat()


def _failures(alert: ThreatAlert) -> list[dict[str, Any]]:
    """The failed attempts to send the alert's notification, oldest first (the alert's ``send_failed`` events)."""
    rows = (Event.objects.filter(subject_type=ThreatAlert._meta.label_lower, subject_id=str(alert.pk),
                                 event_type=ModerationEvent.THREAT_ALERT_HANDLED)
            .order_by("occurred_at", "id").values_list("data", "occurred_at"))
    return [{**data, "at": at} for data, at in rows if data.get("status") == "send_failed"]


def notification_state(alert: ThreatAlert) -> SendState:
    """Where sending the alert's notification to the authority's address stands (see ``SendState``)."""
    if alert.notification_sent_at is not None:
        return SendState("sent", at=alert.notification_sent_at)
    if not alert.authority_email or alert.status != AlertStatus.OPEN:
        return SendState("")
    request = _current_request(alert)
    if request and not alert.notification_error:
        return SendState("sending", at=alert.handled_at)
    if not alert.notification_error:
        return SendState("")
    failures = _failures(alert)
    last = failures[-1] if failures else {}
    attempts = (sum(1 for failure in failures if failure.get("request") == request) if request
                else int(last.get("attempt", 0)))
    return SendState("retrying" if request else "failed", attempts=attempts, error=alert.notification_error,
                     at=last.get("at"))


def _describe(exc: Exception) -> str:
    """A failure for the alert page and the log, without the server's text (it may repeat addresses)."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def send_notification(*, alert_id: int, requested: str) -> str:
    """Send the alert's notification to the authority's address once, for the request made at ``requested``.

    Run by the task ``send_threat_notification``. The alert becomes ``notified`` only when the
    mail server accepted the e-mail. A failure is an event on the alert and raises
    ``TryAgainLater`` (the task tries again after a while), or after ``MAX_SEND_ATTEMPTS``
    attempts lets the request lapse and raises ``NotificationNotSent``. A request that was
    replaced (asked again) or an alert handled otherwise meanwhile sends nothing.
    """
    alert = ThreatAlert.objects.select_related("organisation").filter(pk=alert_id).first()
    if alert is None or _current_request(alert) != requested:
        return "superseded"
    attempt = 1 + sum(1 for failure in _failures(alert) if failure.get("request") == requested)
    try:
        send_templated(to=alert.authority_email, template="moderation/email/threat_authority",
                       language=AUTHORITY_LANGUAGE, context={"alert": alert})
    except (smtplib.SMTPException, OSError) as exc:
        error = _describe(exc)
        gave_up = attempt >= MAX_SEND_ATTEMPTS
        with transaction.atomic():
            locked = ThreatAlert.objects.select_for_update().get(pk=alert_id)
            if _current_request(locked) != requested:
                return "superseded"
            locked.notification_error = error
            if gave_up:  # the request lapses: she sees the failure and may ask again
                locked.handled_at = None
            locked.save(update_fields=["notification_error", "handled_at"])
            record_event(actor=SENDER, event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=locked,
                         organisation_id=locked.organisation_id,
                         data={"status": "send_failed", "request": requested, "attempt": attempt, "error": error,
                               "gave_up": gave_up})
        logger.warning("Threat alert %s: the notification to the authority was not sent (attempt %d): %s",
                       alert_id, attempt, error)
        if gave_up:
            raise NotificationNotSent(error) from exc
        raise TryAgainLater(error) from exc
    with transaction.atomic():
        locked = ThreatAlert.objects.select_for_update().get(pk=alert_id)
        sent_at = timezone.now()
        locked.notification_sent_at, locked.notification_error = sent_at, ""
        if locked.status == AlertStatus.OPEN:  # the e-mail went out: notified, even if asked again meanwhile
            locked.status, locked.handled_at = AlertStatus.NOTIFIED, sent_at
        locked.save(update_fields=["status", "handled_at", "notification_sent_at", "notification_error"])
        record_event(actor=Actor.staff(locked.handled_by) if locked.handled_by else SENDER,
                     event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=locked,
                     organisation_id=locked.organisation_id,
                     data={"status": AlertStatus.NOTIFIED.value if locked.status == AlertStatus.NOTIFIED
                           else "sent_after_handling",
                           "sent_to": locked.authority_email, "authority": locked.authority_name,
                           "request": requested, "attempts": attempt, **_note_data(locked.handling_note)})
    return "sent"


@transaction.atomic
def dismiss(*, alert: ThreatAlert, user: Any, note: str) -> ThreatAlert:
    """The threat is not credible: the alert is closed with the reason in ``note`` (required); nothing is sent.

    Refused while the notification waits for its first attempt to be sent.
    """
    if not note.strip():
        raise ValidationError(_("Say why the threat is not credible."), code="note_required")
    alert = _locked_open(alert, user)
    if notification_state(alert).state == "sending":
        raise ValidationError(_("The notification is on its way to the authority already."), code="sending")
    alert = _handle(alert=alert, user=user, note=note, status=AlertStatus.DISMISSED)
    record_event(actor=Actor.staff(user), event_type=ModerationEvent.THREAT_ALERT_HANDLED, subject=alert,
                 organisation_id=alert.organisation_id,
                 data={"status": AlertStatus.DISMISSED.value, **_note_data(alert.handling_note)})
    return alert
