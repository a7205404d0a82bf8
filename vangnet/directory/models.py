"""The directory: organisations a reporter can be referred to ("sociale kaart"), and the providers
(intermediary services under the DSA) that notices are sent to, with the domains they serve."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vangnet.common.models import ReferenceData

from .choices import NoticeLanguage
from .domains import DomainError, normalize_domain


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


class DigitalServicesCoordinator(ReferenceData):
    """A member state's Digital Services Coordinator (DSA Art. 49), to which a complaint about a provider goes.

    Art. 53 DSA lets anyone complain to the coordinator of the member state where they live or
    are established; the ACM is the Dutch one. Only what can be vouched for is shipped: an
    administrator fills in complaint addresses and other member states' coordinators.
    """

    country = models.CharField(_("country"), max_length=2, unique=True,
                               validators=[RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 code."))],
                               help_text=_("Two-letter ISO 3166 code of the member state, such as NL."))
    website = models.URLField(_("website"), blank=True)
    complaint_url = models.URLField(_("complaint form"), blank=True)
    complaint_email = models.EmailField(_("complaint e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True,
                             help_text=_("Where the addresses were checked, and when."))

    class Meta(ReferenceData.Meta):
        verbose_name = _("Digital Services Coordinator")
        verbose_name_plural = _("Digital Services Coordinators")


class Provider(models.Model):
    """An intermediary service ("tussenpersoon", DSA Art. 3(g)) that notices are sent to.

    A provider takes notices at its DSA point of contact (Art. 11/12): an e-mail address, a web
    form (some take notices only there), or an API named by ``api_channel``, the stable name of a
    notice channel. ``upstream`` is the provider that hosts this one (its hosting company or
    network), the next step when a provider does not act. ``coordinator`` is the Digital Services
    Coordinator of the member state where the provider is established or has its legal
    representative; complaints about the provider go there.
    """

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    contact_email = models.EmailField(_("DSA point of contact (e-mail)"), blank=True)
    webform_url = models.URLField(_("notice web form"), blank=True,
                                  help_text=_("For providers that take notices only through a form on their site."))
    api_channel = models.CharField(
        _("API channel"), max_length=50, blank=True,
        validators=[RegexValidator(r"^[a-z0-9_]+$", _("Use lower-case letters, digits and underscores."))],
        help_text=_("The stable name of the notice channel that sends to this provider's API; empty if none."))
    api_endpoint = models.URLField(_("API endpoint"), blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True,
                               validators=[RegexValidator(r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 code."))],
                               help_text=_("Two-letter ISO 3166 code of where the provider is established."))
    legal_representative = models.TextField(
        _("legal representative in the EU"), blank=True,
        help_text=_("Name and address (DSA Art. 13), for providers established outside the EU."))
    is_vlop = models.BooleanField(_("very large online platform"), default=False,
                                  help_text=_("Designated by the European Commission under DSA Art. 33."))
    language = models.CharField(_("language for notices"), max_length=2, choices=NoticeLanguage.choices,
                                default=NoticeLanguage.ENGLISH)
    coordinator = models.ForeignKey(DigitalServicesCoordinator, verbose_name=_("Digital Services Coordinator"),
                                    null=True, blank=True, on_delete=models.PROTECT, related_name="providers")
    upstream = models.ForeignKey("self", verbose_name=_("upstream provider"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="downstream",
                                 help_text=_("The provider that hosts this one: the next address when it does "
                                             "not act."))
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Retired providers are no longer found for URLs."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name", "slug"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(upstream=models.F("pk")), name="provider_not_own_upstream"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.api_endpoint and not self.api_channel:
            errors["api_channel"] = _("Name the channel that uses this endpoint.")
        if not (self.contact_email or self.webform_url or self.api_channel or self.upstream_id):
            errors["contact_email"] = _("Give at least one way to send notices (e-mail, web form or API), "
                                        "or an upstream provider.")
        if self.upstream_id is not None:
            seen = {self.pk} if self.pk else set()
            current: Provider | None = self.upstream
            while current is not None:
                if current.pk in seen:
                    errors["upstream"] = _("A provider cannot be its own upstream, not even through others.")
                    break
                seen.add(current.pk)
                current = current.upstream
        if errors:
            raise ValidationError(errors)

    @property
    def channels(self) -> list[str]:
        """How this provider takes notices: ``"api"``, ``"email"``, ``"webform"``, in that order of preference."""
        return [name for name, present in (("api", self.api_channel), ("email", self.contact_email),
                                           ("webform", self.webform_url)) if present]


class ProviderDomain(models.Model):
    """A domain name a provider serves; URLs on it and its subdomains resolve to the provider.

    Stored as lower-case ASCII (IDN as punycode) without a trailing dot; usually a registrable
    domain (``example.co.uk``), or a more specific name where one provider's site lives under
    another's domain. A name belongs to one provider only.
    """

    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.CASCADE,
                                 related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True,
                              help_text=_("Such as example.org; its subdomains are included."))
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider domain")
        verbose_name_plural = _("provider domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        try:
            self.domain = normalize_domain(self.domain or "")
        except DomainError as exc:
            raise ValidationError({"domain": str(exc)}) from exc


class UnknownHost(models.Model):
    """A registrable domain a URL was found on that no provider serves, flagged for a handler to assign.

    Only the domain is kept (never the URL, which may say whom it is about). ``seen_count``
    counts the lookups that failed. Assigning a provider adds the domain to it, so the next URL
    on this domain resolves; the row stays as the record of the assignment.
    """

    domain = models.CharField(_("domain"), max_length=253, unique=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    seen_count = models.PositiveIntegerField(_("times seen"), default=1)
    provider = models.ForeignKey(Provider, verbose_name=_("assigned provider"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_unknown_hosts")
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    class Meta:
        verbose_name = _("unknown website")
        verbose_name_plural = _("unknown websites")
        ordering = ["provider", "-last_seen"]

    def __str__(self) -> str:
        return self.domain
