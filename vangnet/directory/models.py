"""The referral directory ("sociale kaart"): organisations a reporter can be referred to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.common.models import ReferenceData


class ReferralOrganisation(ReferenceData):
    """An organisation that helps victims, with what it handles and how to reach it.

    ``accepts_warm_handover`` means the organisation takes a case over from a case owner
    directly, with the reporter's consent, so the victim need not tell her story again.
    A directory entry describes an organisation to the public; when that organisation also
    works in vangnet, ``organisation`` links the entry to its tenant (``accounts.Organisation``).
    """

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
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("works in vangnet as"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="directory_entries")
    youth_sort_order = models.PositiveSmallIntegerField(
        _("sort order for young people"), default=100,
        help_text=_("Where this organisation stands in the list shown to children and young people: what helps "
                    "them first comes first."))

    class Meta(ReferenceData.Meta):
        verbose_name = _("referral organisation")
        verbose_name_plural = _("referral organisations")

    @property
    def tr_handles(self) -> str:
        return self.tr("handles")

    @property
    def opening_hours(self) -> str:
        return self.tr("opening_hours")
