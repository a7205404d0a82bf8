"""Forms of online violence ("vormen van online geweld") and the legal grounds they map to, kept as data
so they can grow and be corrected without a release."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.common.models import ReferenceData
from vangnet.common.text import render_plain

from .choices import SorCategory


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


class LegalGround(ReferenceData):
    """A provision of law that makes content illegal, cited in notices ("wettelijke grondslag").

    Kept as data with its source, because article numbers change (the Wet seksuele misdrijven
    renumbered several on 1 July 2024) and an administrator must be able to correct one without
    a release. ``provision`` is the citation (``art. 285b Wetboek van Strafrecht``); it stays
    empty until someone has checked the number, and ``verified_on`` records when that was done
    against ``source_url``. ``explanation_*`` is the plain sentence a notice uses to say why
    the content is illegal; ``sor_category`` is the matching DSA statement-of-reasons category.
    """

    provision = models.CharField(
        _("provision"), max_length=200, blank=True,
        help_text=_("The citation as notices give it, such as \"art. 285b Wetboek van Strafrecht\". Leave empty "
                    "until the article number has been checked."))
    law = models.CharField(_("law"), max_length=200, help_text=_("Such as Wetboek van Strafrecht."))
    explanation_nl = models.TextField(_("explanation (Dutch)"),
                                      help_text=_("One or two plain sentences a notice uses: why this is illegal."))
    explanation_en = models.TextField(_("explanation (English)"), blank=True)
    sor_category = models.CharField(_("DSA statement-of-reasons category"), max_length=80,
                                    choices=SorCategory.choices)
    in_force_from = models.DateField(_("in force from"), null=True, blank=True)
    source_url = models.URLField(_("source"), blank=True,
                                 help_text=_("Where the provision was checked, such as its page on "
                                             "wetten.overheid.nl."))
    source_note = models.TextField(_("source note"), blank=True,
                                   help_text=_("What was checked, by whom, and what still needs checking."))
    verified_on = models.DateField(_("checked on"), null=True, blank=True,
                                   help_text=_("The day someone checked the provision against its source."))
    forms = models.ManyToManyField(FormOfViolence, verbose_name=_("forms of violence"), blank=True,
                                   related_name="legal_grounds")

    class Meta(ReferenceData.Meta):
        verbose_name = _("legal ground")
        verbose_name_plural = _("legal grounds")

    def clean(self) -> None:
        if self.verified_on is not None and not (self.provision and self.source_url):
            raise ValidationError({"verified_on": _("A provision is checked against a source: give both first.")})

    @property
    def needs_checking(self) -> bool:
        """True while the article number is missing or nobody has checked it against its source."""
        return not self.provision or self.verified_on is None

    @property
    def citation(self) -> str:
        """What a notice cites: the provision, or the law alone while the article is unknown."""
        return self.provision or self.law

    @property
    def explanation(self) -> str:
        return self.tr("explanation")
