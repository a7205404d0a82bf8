"""Forms of online violence ("vormen van online geweld"), kept as data so they can grow."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.common.models import ReferenceData
from vangnet.common.text import render_plain


class FormOfViolence(ReferenceData):
    """One form of online violence with reporter-facing help in Dutch and English.

    Administrators add or retire forms in the admin; a retired form stays linked to the
    reports that named it but is no longer offered in the report flow.
    """

    description_nl = models.TextField(_("description (Dutch)"))
    description_en = models.TextField(_("description (English)"), blank=True)
    examples_nl = models.TextField(_("examples (Dutch)"), blank=True)
    examples_en = models.TextField(_("examples (English)"), blank=True)
    help_now_nl = models.TextField(_("what you can do now (Dutch)"), blank=True)
    help_now_en = models.TextField(_("what you can do now (English)"), blank=True)
    rights_nl = models.TextField(_("your rights (Dutch)"), blank=True)
    rights_en = models.TextField(_("your rights (English)"), blank=True)
    involves_sexual_imagery = models.BooleanField(
        _("involves sexual imagery"), default=False,
        help_text=_("Reports of this form concerning a minor follow the child-abuse route."),
    )
    is_active = models.BooleanField(_("offered in the report flow"), default=True)

    class Meta(ReferenceData.Meta):
        verbose_name = _("form of violence")
        verbose_name_plural = _("forms of violence")

    @property
    def description_html(self) -> str:
        return render_plain(self.tr("description"))

    @property
    def examples_html(self) -> str:
        return render_plain(self.tr("examples"))

    @property
    def help_now_html(self) -> str:
        return render_plain(self.tr("help_now"))

    @property
    def rights_html(self) -> str:
        return render_plain(self.tr("rights"))
