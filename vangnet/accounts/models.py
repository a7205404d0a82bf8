"""Organisations that use vangnet, their staff memberships and partner API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Role


class Organisation(models.Model):
    """An organisation that works in vangnet: its staff sign in, or its systems call the API (a tenant).

    One model carries every kind of tenant, by what it does rather than by a table per kind:
    a helpline or trusted flagger handles reports and cases (``handles_reports``; one of them
    receives the reports from the public web form, ``receives_web_reports``); a trusted
    flagger's notices say so (``is_trusted_flagger``, DSA Art. 22); a platform sends content
    to the moderation API (``is_platform``). Organisations that do not work in vangnet are
    directory entries instead (``directory``): referral organisations, which link to their
    tenant when they also work here, and the providers that notices go to.

    Every case belongs to exactly one organisation; staff see only their own organisation's
    cases.
    """

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    handles_reports = models.BooleanField(_("handles reports and cases"), default=True)
    receives_web_reports = models.BooleanField(
        _("receives reports from the public web form"), default=False,
        help_text=_("Exactly one active organisation should; reports from partners' systems go to the partner."))
    is_trusted_flagger = models.BooleanField(_("trusted flagger (DSA Art. 22)"), default=False)
    notice_email = models.EmailField(
        _("e-mail for notices"), blank=True,
        help_text=_("The notifier's address in notices to providers (DSA Art. 16(2)(c)); replies come here."))
    is_platform = models.BooleanField(_("platform using the moderation API"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [models.UniqueConstraint(fields=["receives_web_reports"],
                                               condition=models.Q(receives_web_reports=True),
                                               name="one_web_intake_organisation")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff member's role in one organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="memberships")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.HANDLER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiToken(models.Model):
    """A partner organisation's token for ``POST /api/v1/reports``.

    Only the SHA-256 of the token is stored: tokens are long random strings, so a fast hash
    is as safe as a slow one and keeps every API call cheap.
    """

    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.name}"
