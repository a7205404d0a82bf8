"""Vocabularies of notice-and-action ("melding en actie", DSA Art. 16), and its events."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vangnet.audit.registry import register_event_types


class NoticeStatus(models.TextChoices):
    """Where a notice stands. A draft can still be edited; from ``queued`` on its text is fixed."""

    DRAFT = "draft", pgettext_lazy("notice status", "Draft")
    QUEUED = "queued", pgettext_lazy("notice status", "Waiting to be sent")
    SENT = "sent", pgettext_lazy("notice status", "Sent")
    UNCERTAIN = "uncertain", pgettext_lazy("notice status", "Check whether it was sent")
    ANSWERED = "answered", pgettext_lazy("notice status", "Answered")
    CLOSED = "closed", pgettext_lazy("notice status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("notice status", "Cancelled")


class ChannelName(models.TextChoices):
    """How a notice reaches the provider; API channels add their own stable names (``notices.channels``)."""

    EMAIL = "email", _("E-mail")
    WEBFORM = "webform", _("The provider's web form (sent by hand)")


class DeliveryState(models.TextChoices):
    """One attempt to hand a notice to its channel, as the outbox sees it."""

    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    UNCERTAIN = "uncertain", _("Unknown: the sender stopped while sending")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    """What the provider did (as the handler records it from the reply or the availability checks)."""

    REMOVED = "removed", _("Removed")
    DISABLED = "disabled", _("Access disabled")
    GEO_BLOCKED = "geo_blocked", _("Blocked in some countries only")
    PARTLY = "partly", _("Partly removed")
    REFUSED = "refused", _("Refused")
    NO_ANSWER = "no_answer", _("No answer")


class EscalationStep(models.TextChoices):
    """The ladder a handler climbs when a provider does not act, in order."""

    UPSTREAM = "upstream", _("The host's upstream provider")
    COORDINATOR = "coordinator", _("A complaint to the Digital Services Coordinator (DSA Art. 53)")
    DPA = "dpa", _("A complaint to the data-protection authority")
    POLICE = "police", _("The police")


ACTED = frozenset({Outcome.REMOVED, Outcome.DISABLED, Outcome.GEO_BLOCKED, Outcome.PARTLY})


@register_event_types
class NoticeEvent(models.TextChoices):
    """Every step of a notice, on the case's timeline."""

    DRAFTED = "notice.drafted", _("Notice drafted")
    EDITED = "notice.edited", _("Notice text edited")
    QUEUED = "notice.queued", _("Notice queued for sending")
    SENT = "notice.sent", _("Notice sent")
    SEND_FAILED = "notice.send_failed", _("Sending a notice failed; it will be tried again")
    UNCERTAIN = "notice.uncertain", _("Unknown whether a notice was sent")
    SENT_BY_HAND = "notice.sent_by_hand", _("Notice sent by hand (web form)")
    CANCELLED = "notice.cancelled", _("Notice cancelled")
    REPLY_RECEIVED = "notice.reply_received", _("Reply to a notice received")
    OUTCOME_RECORDED = "notice.outcome_recorded", _("Outcome of a notice recorded")
    OVERDUE = "notice.overdue", _("A notice passed its deadline without an outcome")
    ESCALATED = "notice.escalated", _("Escalation prepared")
    WATCHED = "notice.reupload_watched", _("Removed content added to the case's re-upload watch")
    REUPLOADED = "notice.reupload_detected", _("Removed content appeared again")


class MailboxMessageState(models.TextChoices):
    """What became of one message in the reply mailbox (``notices.mailbox``); each is taken in once."""

    STORED = "stored", pgettext_lazy("mailbox message", "Stored as a reply")
    TOO_LARGE = "too_large", pgettext_lazy("mailbox message", "Too large: not fetched")
    REFUSED = "refused", pgettext_lazy("mailbox message", "Refused: not a readable message")
    DUPLICATE = "duplicate", pgettext_lazy("mailbox message", "The same message was taken in before")
    FAILED = "failed", pgettext_lazy("mailbox message", "Could not be read")
