"""A per-process cache for small reference data (forms of violence, organisations, triage rules).

Every report needs these lists; reading them once a minute instead of on every request
keeps report submission fast. Saving a row through the ORM (admin, services) clears the
entry in that process at once; other processes see the change within ``TTL_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
TTL_SECONDS = 60
ALIAS = "reference"


def cached(key: str, loader: Callable[[], T]) -> T:
    cache = caches[ALIAS]
    value = cache.get(key)
    if value is None:
        value = loader()
        cache.set(key, value, TTL_SECONDS)
    return value


def invalidate_on_change(key: str, *models: Any) -> None:
    """Drop ``key`` whenever a row of one of ``models`` (or its many-to-many links) changes."""

    def drop(**_kwargs: Any) -> None:
        caches[ALIAS].delete(key)

    for model in models:
        uid = f"refcache:{key}:{model._meta.label}"
        post_save.connect(drop, sender=model, weak=False, dispatch_uid=uid + ":save")
        post_delete.connect(drop, sender=model, weak=False, dispatch_uid=uid + ":delete")
        for field in model._meta.many_to_many:
            m2m_changed.connect(drop, sender=field.remote_field.through, weak=False, dispatch_uid=uid + field.name)
