"""The referral directory ("sociale kaart"): organisations a reporter can be referred to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.common.i18n import BilingualMixin


class ReferralOrganisation(BilingualMixin, models.Model):
    """An organisation that helps victims, with what it handles and how to reach it.

    ``accepts_warm_handover`` means the organisation takes a case over from a case owner
    directly, with the reporter's consent, so the victim need not tell her story again.
    """

    slug = models.SlugField(_("slug"), unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    handles_nl = models.TextField(_("what it handles (Dutch)"))
    handles_en = models.TextField(_("what it handles (English)"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    chat_url = models.URLField(_("chat"), blank=True)
    handover_email = models.EmailField(_("e-mail for hand-overs"), blank=True)
    opening_hours_nl = models.CharField(_("opening hours (Dutch)"), max_length=200, blank=True)
    opening_hours_en = models.CharField(_("opening hours (English)"), max_length=200, blank=True)
    accepts_warm_handover = models.BooleanField(_("warm hand-over possible"), default=False)
    is_emergency = models.BooleanField(_("emergency service"), default=False)
    forms = models.ManyToManyField("taxonomy.FormOfViolence", verbose_name=_("forms of violence handled"),
                                   blank=True, related_name="referral_organisations")
    handles_minors = models.BooleanField(_("helps minors"), default=False)
    youth_sort_order = models.PositiveSmallIntegerField(
        _("sort order for young people"), default=100,
        help_text=_("Where this organisation stands in the list shown to children and young people: what helps "
                    "them first comes first."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name = _("referral organisation")
        verbose_name_plural = _("referral organisations")

    def __str__(self) -> str:
        return self.name_nl

    @property
    def tr_handles(self) -> str:
        return self.tr("handles")

    @property
    def opening_hours(self) -> str:
        return self.tr("opening_hours")
