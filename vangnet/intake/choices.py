"""Fixed answers of the report flow. Labels are what the reporter reads."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class ReporterRole(models.TextChoices):
    VICTIM = "victim", _("It happened to me")
    BYSTANDER = "bystander", _("I saw it happen to someone else")
    PARENT = "parent", _("I am a parent or guardian")
    PROFESSIONAL = "professional", _("I report as a professional")


class AgeBand(models.TextChoices):
    UNDER_12 = "under_12", _("Younger than 12")
    AGE_12_15 = "12_15", _("12 to 15")
    AGE_16_17 = "16_17", _("16 or 17")
    ADULT = "18_plus", _("18 or older")
    UNKNOWN = "unknown", _("I don't know")


MINOR_AGE_BANDS = frozenset({AgeBand.UNDER_12, AgeBand.AGE_12_15, AgeBand.AGE_16_17})


class Relationship(models.TextChoices):
    PARTNER = "partner", _("Partner")
    EX_PARTNER = "ex_partner", _("Ex-partner")
    FAMILY = "family", _("Family member")
    ACQUAINTANCE = "acquaintance", _("Someone I know")
    STRANGER = "stranger", _("A stranger")
    UNKNOWN = "unknown", _("I don't know")


class PerpetratorCount(models.TextChoices):
    ONE = "one", _("One person")
    SEVERAL = "several", _("More than one person")
    UNKNOWN = "unknown", _("I don't know")


class Duration(models.TextChoices):
    ONCE = "once", _("It happened once")
    DAYS = "days", _("For some days")
    WEEKS = "weeks", _("For some weeks")
    MONTHS = "months", _("For some months")
    YEAR_PLUS = "year_plus", _("For more than a year")
    UNKNOWN = "unknown", _("I don't know")


class ContactPreference(models.TextChoices):
    NONE = "none", _("No contact; I will use my receipt code")
    EMAIL = "email", _("By e-mail")
    PHONE = "phone", _("By phone")


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    API = "api", _("Partner organisation")


@register_event_types
class ReportEvent(models.TextChoices):
    """What happens to a report, as written to the event log."""

    SUBMITTED = "report.submitted", _("Report submitted")
    INFO_ADDED = "report.info_added", _("Reporter added information")
    WITHDRAWN = "report.withdrawn", _("Report withdrawn by the reporter")
    SHARING_REVOKED = "report.sharing_revoked", _("Reporter withdrew consent to share her report")
    ERASED = "report.erased", _("Personal data erased after the retention period")


class CheckOutcome(models.TextChoices):
    """What one availability check of a reported URL found (``intake.availability``)."""

    ONLINE = "online", _("Online")
    RESTRICTED = "restricted", _("Online, access restricted")
    REMOVED = "removed", _("Removed")
    UNREACHABLE = "unreachable", _("No usable answer")
    REFUSED = "refused", _("Not checked: refused by the fetch guard")


class Availability(models.TextChoices):
    """What we last knew of a reported URL: online until two checks in a row found it removed."""

    UNCHECKED = "unchecked", _("Not checked yet")
    UNKNOWN = "unknown", _("Unknown")
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


@register_event_types
class AvailabilityEvent(models.TextChoices):
    """Changes in the availability of a reported URL, as written to the event log (no URL in the data)."""

    WENT_OFFLINE = "reported_url.went_offline", _("Reported content went offline")
    BACK_ONLINE = "reported_url.back_online", _("Reported content is online again")
