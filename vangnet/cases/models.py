"""Cases ("dossiers"), their triage, notes, messages and referrals."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.common.crypto import EncryptedTextField

from .choices import CaseStatus, Priority, ReferralStatus


class Case(models.Model):
    """The file one organisation keeps on one matter of online violence.

    Reports about the same content join one case so the victim tells her story once. The
    case owner ("regiehouder") is the fixed contact person. A legal hold ("bewaarplicht", e.g.
    while police investigate) stops every retention period: its reason, who set it and since
    when are kept together, all or none (``cases.services.set_legal_hold``).

    For a case about intimate imagery of an adult, the victim may consent to the hashes of
    images a provider removed joining the shared NCII bank that platforms match against (as
    StopNCII asks her first): when and by which staff member her consent was recorded, all or
    none; without it nothing of the case joins that bank (``cases.services.set_ncii_consent``).
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.NEW,
                              db_index=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.P3)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("case owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="owned_cases")
    required_steps = models.JSONField(_("required steps"), default=list, blank=True)
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_cases")
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True,
                                     help_text=_("The retention period of personal data runs from here."))
    texts_erased_at = models.DateTimeField(_("texts erased at"), null=True, blank=True)
    legal_hold_reason = EncryptedTextField(_("legal hold: reason"), blank=True)
    legal_hold_set_at = models.DateTimeField(
        _("legal hold since"), null=True, blank=True,
        help_text=_("While a case is on legal hold, no retention period deletes anything of it."))
    legal_hold_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("legal hold set by"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    ncii_consent_at = models.DateTimeField(
        _("NCII bank: consent recorded at"), null=True, blank=True,
        help_text=_("She agreed that hashes of intimate images a provider removed join the shared NCII bank."))
    ncii_consent_by = models.CharField(_("NCII bank: consent recorded by"), max_length=150, blank=True,
                                       help_text=_("The username of the staff member who recorded it."))

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["priority", "created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["organisation", "status", "priority", "created_at"])]
        constraints = [models.CheckConstraint(
            condition=(models.Q(legal_hold_set_at__isnull=True, legal_hold_reason="")
                       | (models.Q(legal_hold_set_at__isnull=False) & ~models.Q(legal_hold_reason=""))),
            name="case_legal_hold_has_reason"),
            models.CheckConstraint(
                condition=(models.Q(ncii_consent_at__isnull=True, ncii_consent_by="")
                           | (models.Q(ncii_consent_at__isnull=False) & ~models.Q(ncii_consent_by=""))),
                name="case_ncii_consent_has_who")]

    def __str__(self) -> str:
        return self.reference

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_set_at is not None

    @property
    def has_ncii_consent(self) -> bool:
        return self.ncii_consent_at is not None


class TriageRule(models.Model):
    """A declarative triage rule, edited in the admin.

    ``conditions`` is a JSON object; every key must hold for the rule to fire:
    ``immediate_danger`` (bool), ``forms_any`` (list of form slugs), ``age_bands_any``
    (list of age bands), ``reporter_roles_any``, ``relationships_any``,
    ``perpetrator_counts_any``, ``durations_any``, ``sexual_imagery`` (bool: some form
    named involves sexual imagery). See ``cases.triage``.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    explanation = models.TextField(_("why this rule exists"))
    conditions = models.JSONField(_("conditions"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    suggest_referrals = models.ManyToManyField("directory.ReferralOrganisation", verbose_name=_("suggested referrals"),
                                               blank=True, related_name="+")
    required_steps = models.JSONField(_("required steps"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("triage rule")
        verbose_name_plural = _("triage rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .triage import validate_conditions

        errors = validate_conditions(self.conditions)
        if errors:
            raise ValidationError({"conditions": errors})
        if not isinstance(self.required_steps, list) or not all(isinstance(s, str) for s in self.required_steps):
            raise ValidationError({"required_steps": _("Give a list of texts.")})


class TriageOutcome(models.Model):
    """That a rule fired for a report, and why, as shown on the case page."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="triage_outcomes")
    report = models.ForeignKey("intake.Report", verbose_name=_("report"), on_delete=models.CASCADE, related_name="+")
    rule_name = models.CharField(_("rule"), max_length=120)
    reason = models.TextField(_("reason"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    suggested_referrals = models.ManyToManyField("directory.ReferralOrganisation",
                                                 verbose_name=_("suggested referrals"),
                                                 blank=True, related_name="+")
    required_steps = models.JSONField(_("required steps"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("triage outcome")
        verbose_name_plural = _("triage outcomes")


class InternalNote(models.Model):
    """A note for colleagues; never shown to the reporter."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    text = EncryptedTextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")


class Message(models.Model):
    """A message from staff to one reporter, addressed to her report only."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="messages")
    report = models.ForeignKey("intake.Report", verbose_name=_("report"), on_delete=models.CASCADE,
                               related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    text = EncryptedTextField(_("text"))
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")


class Referral(models.Model):
    """A hand-over of a case to a referral organisation, with the reporter's consent."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="referrals")
    report = models.ForeignKey("intake.Report", verbose_name=_("report"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("directory.ReferralOrganisation", verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="referrals")
    summary = EncryptedTextField(_("hand-over summary"))
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("referred by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("referred at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
