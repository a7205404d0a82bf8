from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from vangnet.common.i18n import BilingualMixin
from vangnet.common.refcache import cached

from .models import FormOfViolence, LegalGround

CATALOGUE_KEY = "taxonomy:active-forms"


@dataclass(frozen=True)
class FormEntry(BilingualMixin):
    """What the report flow needs of a form of violence, cheap to keep in memory."""

    id: int
    slug: str
    name_nl: str
    name_en: str
    involves_sexual_imagery: bool


def active_forms() -> QuerySet[FormOfViolence]:
    return FormOfViolence.objects.filter(is_active=True)


def get_active_form(*, slug: str) -> FormOfViolence | None:
    return active_forms().filter(slug=slug).first()


def form_catalogue() -> dict[str, FormEntry]:
    """Active forms by slug, in display order (cached per process, see common.refcache)."""
    return cached(CATALOGUE_KEY, lambda: {
        f.slug: FormEntry(f.pk, f.slug, f.name_nl, f.name_en, f.involves_sexual_imagery) for f in active_forms()})


def legal_grounds_for_forms(forms: Iterable[FormOfViolence | int | str]) -> list[LegalGround]:
    """The active legal grounds that apply to any of these forms of violence (instances, ids or slugs).

    Each ground once, in display order; retired forms still count (a report keeps the forms it named).
    """
    ids: set[int] = set()
    slugs: set[str] = set()
    for form in forms:
        if isinstance(form, FormOfViolence):
            ids.add(form.pk)
        elif isinstance(form, str):
            slugs.add(form)
        else:
            ids.add(form)
    if not ids and not slugs:
        return []
    return list(LegalGround.objects.filter(is_active=True).filter(Q(forms__id__in=ids) | Q(forms__slug__in=slugs))
                .distinct().order_by("sort_order", "slug"))
