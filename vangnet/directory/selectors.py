from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from vangnet.common.i18n import BilingualMixin
from vangnet.common.refcache import cached

from .models import ReferralOrganisation

SHAREABLE_KEY = "directory:shareable"


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
