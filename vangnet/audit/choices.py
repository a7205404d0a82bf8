"""Vocabulary of the event log: every kind of change is named here, never a bare string."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    REPORT_SUBMITTED = "report.submitted", _("Report submitted")
    REPORT_INFO_ADDED = "report.info_added", _("Reporter added information")
    REPORT_WITHDRAWN = "report.withdrawn", _("Report withdrawn by the reporter")
    REPORT_SHARING_REVOKED = "report.sharing_revoked", _("Reporter withdrew consent to share her report")
    REPORT_ERASED = "report.erased", _("Personal data erased after the retention period")
    CASE_CREATED = "case.created", _("Case opened")
    CASE_REPORT_JOINED = "case.report_joined", _("Report joined the case")
    CASE_TRIAGED = "case.triaged", _("Triage rules applied")
    CASE_OWNER_ASSIGNED = "case.owner_assigned", _("Case owner assigned")
    CASE_STATUS_CHANGED = "case.status_changed", _("Status changed")
    CASE_NOTE_ADDED = "case.note_added", _("Internal note added")
    CASE_MESSAGE_SENT = "case.message_sent", _("Message sent to the reporter")
    CASE_REFERRED = "case.referred", _("Referred to an organisation")
    CASE_MERGED = "case.merged", _("Cases merged")
    CASE_SPLIT = "case.split", _("Report split into a new case")
    CASE_ERASED = "case.erased", _("Case texts erased after the retention period")
    API_TOKEN_CREATED = "api_token.created", _("API token created")


class ActorType(models.TextChoices):
    STAFF = "staff", _("Staff member")
    REPORTER = "reporter", _("Reporter")
    PARTNER = "partner", _("Partner organisation (API)")
    SYSTEM = "system", _("System")
