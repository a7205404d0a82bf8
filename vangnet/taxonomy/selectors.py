from __future__ import annotations

from django.db.models import QuerySet

from .models import FormOfViolence


def active_forms() -> QuerySet[FormOfViolence]:
    return FormOfViolence.objects.filter(is_active=True)


def get_active_form(*, slug: str) -> FormOfViolence | None:
    return active_forms().filter(slug=slug).first()
