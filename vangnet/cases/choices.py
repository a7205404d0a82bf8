"""Case vocabularies and the one table of allowed status changes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = frozenset(set(CaseStatus.values) - {CaseStatus.CLOSED})

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.TRIAGED, CaseStatus.IN_PROGRESS, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.TRIAGED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.WAITING, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.WAITING, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.WAITING: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.REFERRED, CaseStatus.CLOSED}),
    CaseStatus.REFERRED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_PROGRESS}),
}

# What a reporter reads on her follow-up page: plainer than the staff vocabulary.
REPORTER_STATUS_TEXT = {
    CaseStatus.NEW: _("We have received your report. Someone will look at it soon."),
    CaseStatus.TRIAGED: _("We have looked at your report and decided what to do first."),
    CaseStatus.IN_PROGRESS: _("Someone is working on your report."),
    CaseStatus.WAITING: _("We are waiting for an answer, for example from a platform or from you."),
    CaseStatus.REFERRED: _("We have passed your report on to an organisation that can help further."),
    CaseStatus.CLOSED: _("Your report has been closed."),
}


class Priority(models.IntegerChoices):
    """Lower number, more urgent; the queue sorts on it first."""

    P0 = 0, _("P0 – immediate danger")
    P1 = 1, _("P1 – urgent")
    P2 = 2, _("P2 – high")
    P3 = 3, _("P3 – normal")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


@register_event_types
class CaseEvent(models.TextChoices):
    """What happens to a case, as written to the event log."""

    CREATED = "case.created", _("Case opened")
    REPORT_JOINED = "case.report_joined", _("Report joined the case")
    TRIAGED = "case.triaged", _("Triage rules applied")
    OWNER_ASSIGNED = "case.owner_assigned", _("Case owner assigned")
    STATUS_CHANGED = "case.status_changed", _("Status changed")
    NOTE_ADDED = "case.note_added", _("Internal note added")
    MESSAGE_SENT = "case.message_sent", _("Message sent to the reporter")
    REFERRED = "case.referred", _("Referred to an organisation")
    HANDOVER_SENT = "case.handover_sent", _("Hand-over e-mail sent")
    MERGED = "case.merged", _("Cases merged")
    SPLIT = "case.split", _("Report split into a new case")
    ERASED = "case.erased", _("Case texts erased after the retention period")
    LEGAL_HOLD_SET = "case.legal_hold_set", _("Legal hold set")
    LEGAL_HOLD_LIFTED = "case.legal_hold_lifted", _("Legal hold lifted")
    NCII_CONSENT_GIVEN = "case.ncii_consent_given", _("Consent recorded: removed images may join the NCII bank")
    NCII_CONSENT_WITHDRAWN = "case.ncii_consent_withdrawn", _("Consent withdrawn: images taken out of the NCII bank")


@register_event_types
class TriageRuleEvent(models.TextChoices):
    """Changes to the triage rules, which administrators edit as data."""

    CREATED = "triage_rule.created", _("Triage rule created")
    CHANGED = "triage_rule.changed", _("Triage rule changed")
