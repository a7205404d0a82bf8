"""The moderation engine's tables: platforms' keys and policies, checked items, the review queue,
decisions with their statements of reasons, users' notices and appeals, strikes and sanctions,
threat alerts and the webhook outbox.

A platform is an ``accounts.Organisation`` with ``is_platform``; every row here belongs to one
(``organisation``) and is read for staff through ``restrict()``, so a moderator sees only her
own platform's items, and a platform's key reaches only its own rows.

What a platform sends is personal data of its users: texts, addresses and notifiers' names are
encrypted at rest (``EncryptedTextField``); image bytes are kept sealed only while an item waits
for review (``Item.image_sealed``) and are dropped when it is decided. Authors are known only by
the platform's pseudonymous id.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.common.crypto import EncryptedTextField

from . import dsa
from .choices import (Action, AlertStatus, AppealStatus, DeliveryState, ItemSource, ItemStatus, Label, NoticeStatus,
                      SanctionKind, TaskKind, WebhookEvent)


class PlatformKey(models.Model):
    """A platform's API key for the moderation API.

    Only the SHA-256 of the key is stored (keys are long random strings; a fast hash is as
    safe as a slow one). ``prefix`` is the key's first characters, shown so a policy manager
    can tell keys apart; it is never enough to use one. A key holds scopes (``KeyScope``) and
    stops working when revoked or when its platform is deactivated.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="platform_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600,
                                                  validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # The rate limit's counter: requests in the minute that began at window_start (``keys.take_request``).
    window_start = models.DateTimeField(_("rate window"), null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(_("requests in the rate window"), default=0, editable=False)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("platform API key")
        verbose_name_plural = _("platform API keys")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.name} ({self.prefix}…)"


class Policy(models.Model):
    """A platform's moderation policy: what it acts on, when, and how it treats repeat offenders.

    The rules per label are ``PolicyRule`` rows; a platform without a policy uses the default
    (``moderation.policy.DEFAULT_RULES``). ``version`` grows with every change, and every checked
    item records the version it was judged by.
    """

    organisation = models.OneToOneField("accounts.Organisation", verbose_name=_("platform"),
                                        on_delete=models.CASCADE, related_name="moderation_policy")
    version = models.PositiveIntegerField(_("version"), default=1)
    banks = models.ManyToManyField("hashing.Bank", verbose_name=_("hash banks matched"), blank=True,
                                   related_name="+",
                                   help_text=_("Images are matched against these banks (inactive banks match "
                                               "nothing)."))
    bank_match_action = models.CharField(_("action on a hash-bank match"), max_length=24, choices=Action.choices,
                                         default=Action.REVIEW)
    act_on_unvalidated_languages = models.BooleanField(
        _("act automatically in languages the classifiers are not validated for"), default=False,
        help_text=_("Off: such items go to review instead of being restricted automatically."))
    strike_window_days = models.PositiveIntegerField(_("strike window (days)"), default=90,
                                                     validators=[MinValueValidator(1)])
    warning_points = models.PositiveIntegerField(_("strike points for a warning"), default=1,
                                                 validators=[MinValueValidator(1)])
    suspension_points = models.PositiveIntegerField(_("strike points for a suspension"), default=3,
                                                    validators=[MinValueValidator(1)])
    suspension_days = models.PositiveIntegerField(_("suspension (days)"), default=7,
                                                  validators=[MinValueValidator(1)])
    terms_url = models.URLField(_("terms and conditions"), max_length=500, blank=True)
    dispute_body = models.CharField(_("out-of-court dispute settlement body (DSA Art. 21)"), max_length=200,
                                    blank=True)
    authority_name = models.CharField(_("authority for threats to life or safety (DSA Art. 18)"), max_length=200,
                                      blank=True)
    authority_email = models.EmailField(_("authority's e-mail"), blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        verbose_name = _("moderation policy")
        verbose_name_plural = _("moderation policies")
        constraints = [models.CheckConstraint(condition=models.Q(suspension_points__gte=models.F("warning_points")),
                                              name="moderation_policy_suspension_after_warning")]

    def __str__(self) -> str:
        return str(self.organisation)


class PolicyRule(models.Model):
    """What a policy does with one label's score.

    At ``review_threshold`` or above an item goes to review; at ``action_threshold`` or above
    the policy restricts it at once with ``action`` (an automated decision, with its statement
    of reasons). Either threshold may be empty: never. A confirmed violation weighs
    ``strike_weight`` against its author.
    """

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="rules")
    label = models.CharField(_("label"), max_length=32, choices=Label.choices)
    review_threshold = models.FloatField(_("review from score"), null=True, blank=True,
                                         validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    action_threshold = models.FloatField(_("restrict automatically from score"), null=True, blank=True,
                                         validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    action = models.CharField(_("automatic action"), max_length=24, choices=Action.choices, default=Action.REMOVE)
    strike_weight = models.PositiveSmallIntegerField(_("strike weight"), default=1)
    category = models.CharField(_("statement category"), max_length=80, choices=dsa.StatementCategory.choices,
                                default=dsa.StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH)
    terms_clause = models.CharField(_("clause of the terms"), max_length=300, blank=True,
                                    help_text=_("The clause of the platform's terms this label breaks, for "
                                                "statements of reasons."))

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "policy__organisation"

    class Meta:
        ordering = ["policy", "label"]
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        constraints = [
            models.UniqueConstraint(fields=["policy", "label"], name="moderation_rule_once_per_label"),
            models.CheckConstraint(condition=models.Q(review_threshold__isnull=True)
                                   | models.Q(review_threshold__gte=0, review_threshold__lte=1),
                                   name="moderation_rule_review_range"),
            models.CheckConstraint(condition=models.Q(action_threshold__isnull=True)
                                   | models.Q(action_threshold__gte=0, action_threshold__lte=1),
                                   name="moderation_rule_action_range"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.label}"


class Item(models.Model):
    """One piece of a platform's content that was checked or noticed: a text, an image, or both.

    ``external_id`` is the platform's own id for it (unique per platform). Scores, hash-bank
    matches and the recommended action are kept as the check gave them, with the model and
    policy versions, so a decision can later show what the machine saw.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_items")
    external_id = models.CharField(_("platform's id"), max_length=200)
    source = models.CharField(_("source"), max_length=16, choices=ItemSource.choices, default=ItemSource.CHECK)
    author_id = models.CharField(_("author (pseudonymous id)"), max_length=200, blank=True, db_index=True)
    parent_id = models.CharField(_("parent item"), max_length=200, blank=True)
    url = EncryptedTextField(_("address"), blank=True)
    text = EncryptedTextField(_("text"), blank=True)
    text_chars = models.PositiveIntegerField(_("characters of text"), default=0)
    content_hash = models.CharField(
        _("content fingerprint"), max_length=64, blank=True, editable=False,
        help_text=_("A keyed hash (HMAC-SHA256) of the text and the image's SHA-256: tells a retry with the same "
                    "content from new content under the same id, without keeping the text."))
    has_image = models.BooleanField(_("has an image"), default=False)
    image_sha256 = models.CharField(_("image SHA-256"), max_length=64, blank=True)
    image_pdq = models.CharField(_("image PDQ"), max_length=64, blank=True)
    image_pdq_quality = models.PositiveSmallIntegerField(_("image PDQ quality"), null=True, blank=True)
    image_media_type = models.CharField(_("image type"), max_length=50, blank=True)
    image_sealed = models.BinaryField(_("image (encrypted)"), null=True, blank=True, editable=False)
    content_date = models.DateTimeField(_("posted at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    language_validated = models.BooleanField(_("classifiers validated for the language"), default=False)
    scores = models.JSONField(_("scores"), default=dict)
    flagged = models.JSONField(_("labels over the review threshold"), default=list)
    matches = models.JSONField(_("hash-bank matches"), default=list)
    recommended_action = models.CharField(_("recommended action"), max_length=24, choices=Action.choices,
                                          default=Action.ALLOW)
    severity = models.FloatField(_("severity"), default=0.0)
    model_version = models.CharField(_("model version"), max_length=40, blank=True)
    policy_version = models.PositiveIntegerField(_("policy version"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.ALLOWED)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        constraints = [models.UniqueConstraint(fields=["organisation", "external_id"],
                                               name="moderation_item_once_per_platform")]
        indexes = [models.Index(fields=["organisation", "author_id", "received_at"], name="moderation_item_author")]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.external_id}"


class UserNotice(models.Model):
    """A platform user's notice about an item (DSA Art. 16), passed on through the API.

    The notifier's name and e-mail are optional (and never asked for child sexual abuse
    material); they are kept encrypted and only to confirm receipt and decision to her.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_notices")
    external_id = models.CharField(_("platform's id"), max_length=200)
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="notices")
    label = models.CharField(_("what it is about"), max_length=32, choices=Label.choices, blank=True)
    explanation = EncryptedTextField(_("explanation"))
    notifier_name = EncryptedTextField(_("notifier's name"), blank=True)
    notifier_email = EncryptedTextField(_("notifier's e-mail"), blank=True)
    trusted_flagger = models.BooleanField(_("from a trusted flagger (DSA Art. 22)"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.OPEN)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("user's notice")
        verbose_name_plural = _("users' notices")
        constraints = [models.UniqueConstraint(fields=["organisation", "external_id"],
                                               name="moderation_notice_once_per_platform")]

    def __str__(self) -> str:
        return f"{self.organisation}: notice {self.external_id}"


class Decision(models.Model):
    """A decision on an item, in the terms of the DSA's statement of reasons (Art. 17).

    A restriction is one or more of: visibility (``visibility``, the DSA's list), monetary,
    provision of the service, the account; ``no_action`` records a decision to leave the item
    as it is (no statement of reasons is owed then). The ground is illegal content (with the
    legal provision) or incompatibility with the terms (with the clause). ``decided_by`` is
    empty for a decision the policy made automatically.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_decisions")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)
    no_action = models.BooleanField(_("no restriction"), default=False)
    labels = models.JSONField(_("labels confirmed"), default=list)
    visibility = models.JSONField(_("visibility restrictions"), default=list)
    visibility_other = models.CharField(_("other visibility restriction"), max_length=500, blank=True)
    monetary = models.CharField(_("monetary restriction"), max_length=40, choices=dsa.DecisionMonetary.choices,
                                blank=True)
    monetary_other = models.CharField(_("other monetary restriction"), max_length=500, blank=True)
    provision = models.CharField(_("restriction of the service"), max_length=50,
                                 choices=dsa.DecisionProvision.choices, blank=True)
    account = models.CharField(_("account restriction"), max_length=40, choices=dsa.DecisionAccount.choices,
                               blank=True)
    restriction_end = models.DateField(_("restriction ends"), null=True, blank=True)
    ground = models.CharField(_("ground"), max_length=50, choices=dsa.DecisionGround.choices, blank=True)
    legal_ground = models.CharField(_("legal provision"), max_length=500, blank=True)
    illegal_explanation = models.TextField(_("why it is illegal"), max_length=2000, blank=True)
    incompatible_ground = models.CharField(_("clause of the terms"), max_length=500, blank=True)
    incompatible_explanation = models.TextField(_("why it breaks the terms"), max_length=2000, blank=True)
    incompatible_illegal = models.BooleanField(_("also considered illegal"), default=False)
    ground_reference_url = models.URLField(_("reference to the ground"), max_length=500, blank=True)
    facts = models.TextField(_("facts and circumstances"), max_length=5000, blank=True)
    category = models.CharField(_("category"), max_length=80, choices=dsa.StatementCategory.choices, blank=True)
    category_addition = models.JSONField(_("further categories"), default=list, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    keyword_other = models.CharField(_("other keyword"), max_length=500, blank=True)
    territorial_scope = models.JSONField(_("territorial scope"), default=list, blank=True)
    content_types = models.JSONField(_("content types"), default=list)
    account_type = models.CharField(_("account type"), max_length=30, choices=dsa.AccountType.choices, blank=True)
    source_type = models.CharField(_("source"), max_length=40, choices=dsa.SourceType.choices,
                                   default=dsa.SourceType.VOLUNTARY)
    automated_detection = models.BooleanField(_("detected automatically"), default=False)
    automated_decision = models.CharField(_("decided automatically"), max_length=40,
                                          choices=dsa.AutomatedDecision.choices,
                                          default=dsa.AutomatedDecision.NOT_AUTOMATED)
    appeal = models.ForeignKey("Appeal", verbose_name=_("appeal it resolves"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="resolutions")

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("moderation decision")
        verbose_name_plural = _("moderation decisions")

    def __str__(self) -> str:
        return f"{self.item}: decision {self.pk}"


class StatementOfReasons(models.Model):
    """The statement of reasons for a restricting decision (DSA Art. 17), in the Transparency Database's fields.

    ``payload`` is the exact JSON object the database's API takes (``moderation.sor``): it holds
    no personal data (Art. 24(5)). ``puid`` is unique per platform.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="statements_of_reasons")
    decision = models.OneToOneField(Decision, verbose_name=_("decision"), on_delete=models.CASCADE,
                                    related_name="statement")
    puid = models.CharField(_("platform unique identifier"), max_length=500)
    payload = models.JSONField(_("statement"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["id"]
        verbose_name = _("statement of reasons")
        verbose_name_plural = _("statements of reasons")
        constraints = [models.UniqueConstraint(fields=["organisation", "puid"], name="moderation_sor_puid_once")]

    def __str__(self) -> str:
        return self.puid


class Appeal(models.Model):
    """A user's complaint against a decision (DSA Art. 20), decided by another moderator than the first."""

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_appeals")
    external_id = models.CharField(_("platform's id"), max_length=200)
    decision = models.ForeignKey(Decision, verbose_name=_("decision appealed"), on_delete=models.CASCADE,
                                 related_name="appeals")
    reason = EncryptedTextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    explanation = models.TextField(_("explanation of the outcome"), max_length=5000, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [models.UniqueConstraint(fields=["organisation", "external_id"],
                                               name="moderation_appeal_once_per_platform")]

    def __str__(self) -> str:
        return f"{self.organisation}: appeal {self.external_id}"


class ReviewTask(models.Model):
    """An entry in a review queue: a flagged item, a user's notice or an appeal, waiting for a moderator.

    A task is held by at most one moderator at a time: ``moderation.queue.claim_next`` takes it
    with one conditional update, and the hold lapses at ``lease_expires_at`` so a task left by
    someone who went home returns to the queue.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_tasks")
    kind = models.CharField(_("queue"), max_length=16, choices=TaskKind.choices)
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="tasks")
    appeal = models.ForeignKey(Appeal, verbose_name=_("appeal"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="tasks")
    severity = models.FloatField(_("severity"), default=0.0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("taken by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("held until"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-severity", "created_at", "id"]
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")
        constraints = [models.UniqueConstraint(fields=["item", "kind"], condition=models.Q(done_at__isnull=True),
                                               name="moderation_one_open_task_per_item_and_queue")]
        indexes = [models.Index(fields=["organisation", "kind", "done_at", "-severity", "created_at"],
                                name="moderation_task_queue")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.item}"


class Strike(models.Model):
    """A confirmed violation counted against an author (DSA Art. 23), with the policy's weight."""

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_strikes")
    author_id = models.CharField(_("author (pseudonymous id)"), max_length=200)
    decision = models.ForeignKey(Decision, verbose_name=_("decision"), on_delete=models.CASCADE,
                                 related_name="strikes")
    label = models.CharField(_("label"), max_length=32, choices=Label.choices, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True,
                                        help_text=_("Set when the decision was overturned on appeal."))

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("strike")
        verbose_name_plural = _("strikes")
        indexes = [models.Index(fields=["organisation", "author_id", "created_at"], name="moderation_strike_author")]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.weight}"


class Sanction(models.Model):
    """A warning or a time-limited suspension of an author, from the strikes in the policy's window."""

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="moderation_sanctions")
    author_id = models.CharField(_("author (pseudonymous id)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=SanctionKind.choices)
    points = models.PositiveIntegerField(_("strike points"), default=0)
    decision = models.ForeignKey(Decision, verbose_name=_("decision that led to it"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="sanctions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")

    def __str__(self) -> str:
        return f"{self.author_id}: {self.kind}"


class ThreatAlert(models.Model):
    """A credible threat to life or safety (DSA Art. 18): an alert to the policy manager, a prepared notification.

    ``notification`` is the text for the authority, prepared when the alert is raised; a policy
    manager checks it and sends it (or dismisses the alert with a reason).
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="threat_alerts")
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="threat_alerts")
    score = models.FloatField(_("threat score"), default=0.0)
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    authority_name = models.CharField(_("authority"), max_length=200, blank=True)
    authority_email = models.EmailField(_("authority's e-mail"), blank=True)
    notification = EncryptedTextField(_("notification for the authority"), blank=True)
    notification_sent_at = models.DateTimeField(_("notification accepted by the mail server at"), null=True,
                                                blank=True)
    notification_error = models.CharField(_("last error sending the notification"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handling_note = models.TextField(_("note"), max_length=2000, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("threat alert (DSA Art. 18)")
        verbose_name_plural = _("threat alerts (DSA Art. 18)")
        constraints = [models.UniqueConstraint(fields=["item"], condition=models.Q(status="open"),
                                               name="moderation_one_open_alert_per_item")]

    def __str__(self) -> str:
        return f"{self.item}: {self.status}"


class WebhookEndpoint(models.Model):
    """Where a platform wants to hear about decisions: an https address and the secret its signatures use."""

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="webhook_endpoints")
    url = models.URLField(_("address"), max_length=2000)
    secret = EncryptedTextField(_("signing secret"))
    events = models.JSONField(_("events"), default=list, blank=True,
                              help_text=_("Empty: every event."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["organisation", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.url[:60]}"


class WebhookDelivery(models.Model):
    """One event for one webhook, in the outbox until the platform answered 2xx or we gave up.

    ``event_id`` is sent with every attempt, so the platform can drop a repeat.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("platform"), on_delete=models.CASCADE,
                                     related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("webhook"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_id = models.UUIDField(_("event id"), unique=True)
    event_type = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"))
    state = models.CharField(_("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, db_index=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

