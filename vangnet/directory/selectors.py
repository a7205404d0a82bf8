from __future__ import annotations

from django.db.models import QuerySet

from .models import ReferralOrganisation


def active_organisations() -> QuerySet[ReferralOrganisation]:
    return ReferralOrganisation.objects.filter(is_active=True)


def organisations_for_form(*, form_id: int) -> QuerySet[ReferralOrganisation]:
    return active_organisations().filter(forms__id=form_id)


def shareable_organisations() -> QuerySet[ReferralOrganisation]:
    """Organisations a reporter may consent to share her report with (not emergency lines)."""
    return active_organisations().filter(is_emergency=False)
