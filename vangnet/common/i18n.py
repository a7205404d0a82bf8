"""Helpers for content kept as data in both Dutch and English (``name_nl``/``name_en``)."""

from __future__ import annotations

from django.utils import translation


class BilingualMixin:
    """Gives models with ``<field>_nl`` and ``<field>_en`` columns a ``tr(field)`` accessor.

    Dutch is the source language; English falls back to Dutch where a text is missing, so a
    new form of violence added by an administrator in Dutch only still shows everywhere.
    """

    def tr(self, field: str) -> str:
        language = (translation.get_language() or "nl")[:2]
        value = getattr(self, f"{field}_{language}", "") if language in {"nl", "en"} else ""
        return value or getattr(self, f"{field}_nl", "")

    @property
    def name(self) -> str:
        return self.tr("name")
