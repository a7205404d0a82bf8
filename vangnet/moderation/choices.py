"""Vocabularies of the moderation engine for platforms ("moderatie"), and its events.

The DSA's own code lists (restriction types, grounds, categories, keywords) live in
``moderation.dsa``; this module holds vangnet's vocabulary around them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vangnet.audit.registry import register_event_types

from .dsa import DecisionVisibility


class Label(models.TextChoices):
    """What a classifier scores. The values are stable codes that platforms' policies and programs use."""

    MISOGYNY = "misogyny", _("Misogyny")
    HATE = "hate", _("Hate against a protected group")
    THREAT = "threat", _("Threat of violence")
    SEXUAL_HARASSMENT = "sexual_harassment", _("Sexual harassment")
    DOXING = "doxing", _("Exposure of personal data (doxing)")
    TOXICITY = "toxicity", _("Abuse (toxicity)")


class KeyScope(models.TextChoices):
    """What a platform's API key may do; a key holds one or more."""

    CHECK = "check", _("Check content")
    NOTICES = "notices", _("Pass on users' notices (DSA Art. 16)")
    APPEALS = "appeals", _("Pass on users' appeals (DSA Art. 20)")


class Action(models.TextChoices):
    """What the platform's policy recommends for an item; the restrictions are the DSA's visibility types."""

    ALLOW = "allow", _("No action")
    REVIEW = "review", _("Send to review")
    REMOVE = "remove", _("Remove")
    DISABLE = "disable", _("Disable access")
    DEMOTE = "demote", _("Demote")
    AGE_RESTRICT = "age_restrict", _("Age-restrict")
    RESTRICT_INTERACTION = "restrict_interaction", _("Restrict interaction")
    LABEL = "label", _("Label")


# The DSA visibility restriction each restricting action is, for the statement of reasons.
ACTION_VISIBILITY: dict[str, str] = {
    Action.REMOVE: DecisionVisibility.CONTENT_REMOVED,
    Action.DISABLE: DecisionVisibility.CONTENT_DISABLED,
    Action.DEMOTE: DecisionVisibility.CONTENT_DEMOTED,
    Action.AGE_RESTRICT: DecisionVisibility.CONTENT_AGE_RESTRICTED,
    Action.RESTRICT_INTERACTION: DecisionVisibility.CONTENT_INTERACTION_RESTRICTED,
    Action.LABEL: DecisionVisibility.CONTENT_LABELLED,
}
RESTRICTING_ACTIONS = frozenset(ACTION_VISIBILITY)


class ItemStatus(models.TextChoices):
    """Where a checked item stands."""

    ALLOWED = "allowed", pgettext_lazy("moderation item status", "No action")
    IN_REVIEW = "in_review", pgettext_lazy("moderation item status", "In review")
    ACTIONED = "actioned", pgettext_lazy("moderation item status", "Restricted by the policy")
    DECIDED = "decided", pgettext_lazy("moderation item status", "Decided by a moderator")


class ItemSource(models.TextChoices):
    """How an item reached vangnet."""

    CHECK = "check", _("Checked through the API")
    NOTICE = "notice", _("A user's notice")


class TaskKind(models.TextChoices):
    """The three review queues."""

    FLAGGED = "flagged", _("Flagged by the classifiers or a hash bank")
    NOTICE = "notice", _("Users' notices")
    APPEAL = "appeal", _("Appeals")


class AppealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("appeal status", "Open")
    UPHELD = "upheld", pgettext_lazy("appeal status", "Decision upheld")
    OVERTURNED = "overturned", pgettext_lazy("appeal status", "Decision overturned")


class NoticeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("user notice status", "Open")
    DECIDED = "decided", pgettext_lazy("user notice status", "Decided")


class SanctionKind(models.TextChoices):
    """What repeated violations lead to (DSA Art. 23), as the platform's policy sets it."""

    WARNING = "warning", _("Warning")
    SUSPENSION = "suspension", _("Time-limited suspension")


class AlertStatus(models.TextChoices):
    """A threat to life or safety (DSA Art. 18) from raised to handled."""

    OPEN = "open", pgettext_lazy("threat alert status", "Open")
    NOTIFIED = "notified", pgettext_lazy("threat alert status", "Authority notified")
    DISMISSED = "dismissed", pgettext_lazy("threat alert status", "Not credible")


class WebhookEvent(models.TextChoices):
    """What a platform's webhook is told about. Stable names: platforms' programs switch on them."""

    DECISION_MADE = "decision.made", _("A decision on an item")
    APPEAL_DECIDED = "appeal.decided", _("An appeal decided")
    SANCTION_APPLIED = "sanction.applied", _("A warning or suspension for an author")
    ITEM_ACTIONED = "item.actioned", _("An item restricted by the policy without review")


class DeliveryState(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook delivery", "Waiting")
    DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery", "Given up")


@register_event_types
class ModerationEvent(models.TextChoices):
    """Every change in the moderation engine, as written to the event log."""

    KEY_CREATED = "moderation.key_created", _("Platform API key created")
    KEY_REVOKED = "moderation.key_revoked", _("Platform API key revoked")
    POLICY_CHANGED = "moderation.policy_changed", _("Moderation policy changed")
    ITEMS_CHECKED = "moderation.items_checked", _("Content checked")
    ITEM_ACTIONED = "moderation.item_actioned", _("Content restricted by the policy")
    ITEM_QUEUED = "moderation.item_queued", _("Content sent to review")
    TASK_CLAIMED = "moderation.task_claimed", _("Review task taken")
    TASK_RELEASED = "moderation.task_released", _("Review task released")
    NOTICE_RECEIVED = "moderation.notice_received", _("User's notice received")
    DECISION_MADE = "moderation.decision_made", _("Moderation decision made")
    STATEMENT_EXPORTED = "moderation.statement_exported", _("Statements of reasons exported")
    APPEAL_RECEIVED = "moderation.appeal_received", _("Appeal received")
    APPEAL_DECIDED = "moderation.appeal_decided", _("Appeal decided")
    APPEAL_FILE_EXPORTED = "moderation.appeal_file_exported", _("Appeal file exported for dispute settlement")
    STRIKE_RECORDED = "moderation.strike_recorded", _("Strike recorded against an author")
    SANCTION_APPLIED = "moderation.sanction_applied", _("Warning or suspension applied")
    THREAT_ALERT_RAISED = "moderation.threat_alert_raised", _("Threat to life or safety flagged (DSA Art. 18)")
    THREAT_ALERT_HANDLED = "moderation.threat_alert_handled", _("Threat alert handled")
    WEBHOOK_CHANGED = "moderation.webhook_changed", _("Webhook changed")
    WEBHOOK_GAVE_UP = "moderation.webhook_gave_up", _("Webhook delivery given up")
    RETENTION_APPLIED = "moderation.retention_applied", _("Moderation data past its retention period erased")
