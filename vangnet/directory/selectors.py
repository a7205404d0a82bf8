from __future__ import annotations

import copy
from dataclasses import dataclass

from django.db.models import QuerySet

from vangnet.common.i18n import BilingualMixin
from vangnet.common.refcache import cached

from .domains import candidate_domains, host_of, registrable_domain
from .models import Provider, ProviderDomain, ReferralOrganisation, UnknownHost

SHAREABLE_KEY = "directory:shareable"
PROVIDER_DOMAINS_KEY = "directory:provider-domains"


@dataclass(frozen=True)
class OrganisationEntry(BilingualMixin):
    id: int
    slug: str
    name_nl: str
    name_en: str


def active_organisations() -> QuerySet[ReferralOrganisation]:
    return ReferralOrganisation.objects.filter(is_active=True)


def youth_organisations() -> QuerySet[ReferralOrganisation]:
    """Organisations that help minors, in the order that helps young people first (police last)."""
    return active_organisations().filter(handles_minors=True).order_by("youth_sort_order", "sort_order", "slug")


def organisations_for_form(*, form_id: int) -> QuerySet[ReferralOrganisation]:
    return active_organisations().filter(forms__id=form_id)


def shareable_organisations() -> QuerySet[ReferralOrganisation]:
    """Organisations a reporter may consent to share her report with (not emergency lines)."""
    return active_organisations().filter(is_emergency=False)


def shareable_catalogue() -> dict[str, OrganisationEntry]:
    return cached(SHAREABLE_KEY, lambda: {
        o.slug: OrganisationEntry(o.pk, o.slug, o.name_nl, o.name_en) for o in shareable_organisations()})


# --- Providers -------------------------------------------------------------------------------


def _provider_domain_table() -> dict[str, Provider]:
    """Every domain of an active provider, with its provider (cached per process, see common.refcache).

    Saving a provider, a domain or a coordinator clears the table in this process at once
    (``DirectoryConfig.ready``); other processes read the change within the cache's lifetime.
    """
    return cached(PROVIDER_DOMAINS_KEY, lambda: {
        row.domain: row.provider for row in ProviderDomain.objects.filter(provider__is_active=True).select_related(
            "provider", "provider__coordinator", "provider__upstream")})


@dataclass(frozen=True)
class Resolution:
    """What a URL resolved to: its normalised host, registrable domain, and provider (any may be None)."""

    host: str | None
    domain: str | None
    provider: Provider | None


def resolve_url(url: str) -> Resolution:
    """Find the provider serving a URL: its host's most specific registered name wins.

    Reads only (no unknown host is recorded; ``services.resolve_provider`` does that).
    """
    host = host_of(url)
    if host is None:
        return Resolution(None, None, None)
    table = _provider_domain_table()
    for name in candidate_domains(host):
        provider = table.get(name)
        if provider is not None:
            # A copy, so that a caller changing it cannot change what every later lookup returns.
            return Resolution(host, registrable_domain(host), copy.copy(provider))
    return Resolution(host, registrable_domain(host), None)


def provider_for_url(url: str) -> Provider | None:
    """The active provider that serves ``url``, or None (unknown host, IP literal, no host)."""
    return resolve_url(url).provider


def active_providers() -> QuerySet[Provider]:
    return Provider.objects.filter(is_active=True)


def unassigned_unknown_hosts() -> QuerySet[UnknownHost]:
    """Unknown websites still waiting for a handler to name their provider, most recently seen first."""
    return UnknownHost.objects.filter(provider__isnull=True).order_by("-last_seen")
