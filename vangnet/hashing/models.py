"""Hash banks ("hashbanken"): named lists of SHA-256 and PDQ hashes to recognise content by.

A bank holds hashes only, never images: those of removed items of a case (its re-upload
bank), an organisation's own lists, or lists imported from a partner (CSV, ``bank_csv``).
``matching.match`` finds a query's hash in the active banks. Banks change only through
``services``, which log every change and bump ``version`` so that every process's match index
(``matching``) notices it with one small query.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet

PDQ_MAX_DISTANCE_LIMIT = 64  # beyond a quarter of the bits, PDQ no longer says "the same picture"


class Bank(models.Model):
    """A named bank of hashes, with its own match thresholds.

    ``organisation`` is the organisation that keeps it; empty for a bank shared by every
    organisation (e.g. imported from a partner), which only a superuser changes. ``case`` is set
    for a case's own bank of removed items, watched for re-uploads. Thresholds follow Meta's
    hasher-matcher-actioner: a PDQ match within 31 bits, for a query of quality 50 or more.
    """

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="hash_banks",
                                     help_text=_("Empty for a bank shared with every organisation."))
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="hash_banks",
                             help_text=_("For a case's own bank: the hashes of its removed items, watched for "
                                         "re-uploads."))
    pdq_max_distance = models.PositiveSmallIntegerField(
        _("PDQ: largest distance that matches"), default=31, validators=[MaxValueValidator(PDQ_MAX_DISTANCE_LIMIT)],
        help_text=_("Bits in which two PDQ hashes may differ and still match (of 256; 31 is usual)."))
    pdq_min_quality = models.PositiveSmallIntegerField(
        _("PDQ: lowest quality of a query"), default=50, validators=[MaxValueValidator(100)],
        help_text=_("Images with less detail than this (0-100) are not matched by PDQ (50 is usual)."))
    is_active = models.BooleanField(_("active"), default=True, help_text=_("An inactive bank matches nothing."))
    version = models.PositiveBigIntegerField(_("version"), default=0, editable=False,
                                             help_text=_("Counts the changes; match caches reload on a new one."))
    removals = models.PositiveBigIntegerField(_("hashes removed"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "organisation"

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("hash bank")
        verbose_name_plural = _("hash banks")
        constraints = [
            models.CheckConstraint(condition=models.Q(pdq_max_distance__lte=PDQ_MAX_DISTANCE_LIMIT),
                                   name="hash_bank_pdq_distance_range"),
            models.CheckConstraint(condition=models.Q(pdq_min_quality__lte=100), name="hash_bank_pdq_quality_range"),
            models.CheckConstraint(condition=models.Q(case__isnull=True) | models.Q(organisation__isnull=False),
                                   name="hash_bank_case_has_organisation"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.case is not None and self.case.organisation_id != self.organisation_id:
            raise ValidationError({"case": _("The case belongs to another organisation than the bank.")})


class BankEntry(models.Model):
    """One hash in a bank: a SHA-256, a PDQ hash with its quality, or both (of one item), with a label.

    A hash is in a bank at most once. Entries are added and removed, never changed, so a
    process's match index only has to load the new ones (``matching``).
    """

    bank = models.ForeignKey(Bank, verbose_name=_("bank"), on_delete=models.CASCADE, related_name="entries")
    sha256 = models.CharField(_("SHA-256"), max_length=64, null=True, blank=True)
    pdq = models.CharField(_("PDQ hash"), max_length=64, null=True, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(_("PDQ quality"), null=True, blank=True,
                                                   validators=[MaxValueValidator(100)])
    label = models.CharField(_("label"), max_length=200, blank=True)
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.CharField(_("added by"), max_length=150, blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "bank__organisation"

    class Meta:
        ordering = ["id"]
        verbose_name = _("hash bank entry")
        verbose_name_plural = _("hash bank entries")
        constraints = [
            models.UniqueConstraint(fields=["bank", "sha256"], condition=models.Q(sha256__isnull=False),
                                    name="hash_bank_sha256_once"),
            models.UniqueConstraint(fields=["bank", "pdq"], condition=models.Q(pdq__isnull=False),
                                    name="hash_bank_pdq_once"),
            models.CheckConstraint(condition=models.Q(sha256__isnull=False) | models.Q(pdq__isnull=False),
                                   name="hash_bank_entry_has_a_hash"),
            models.CheckConstraint(condition=models.Q(pdq_quality__isnull=True) | models.Q(pdq_quality__lte=100),
                                   name="hash_bank_entry_quality_range"),
        ]
        indexes = [models.Index(fields=["sha256"], name="hash_bank_entry_sha256")]

    def __str__(self) -> str:
        return (self.sha256 or self.pdq or "")[:16]
