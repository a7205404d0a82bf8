"""Abstract bases shared by the apps' models (no tables of their own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .i18n import BilingualMixin


class ReferenceData(BilingualMixin, models.Model):
    """A row of a bilingual catalogue that administrators keep without a release.

    Forms of violence, referral organisations and (with the notices and moderation apps)
    legal grounds and statement-of-reasons categories share these fields: a stable slug that
    data and the API refer to, a Dutch name with an optional English one (Dutch is the
    fallback), whether it is still offered, and where it stands in lists. Retiring a row
    (``is_active`` off) keeps what refers to it intact.
    """

    slug = models.SlugField(_("slug"), unique=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)

    class Meta:
        abstract = True
        ordering = ["sort_order", "slug"]

    def __str__(self) -> str:
        return self.name_nl


def lock_only_self() -> tuple[str, ...]:
    """``select_for_update(of=...)`` that locks only the queried table's rows.

    PostgreSQL refuses ``FOR UPDATE`` on the nullable side of an outer join, which a
    ``select_related`` of a nullable foreign key makes; SQLite takes no row locks at all.
    """
    from django.db import connection

    return ("self",) if connection.features.has_select_for_update_of else ()
