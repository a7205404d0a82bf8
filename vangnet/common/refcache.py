"""A per-process cache for small reference data (forms of violence, organisations, triage rules).

Every report needs these lists; reading them once a minute instead of on every request
keeps report submission fast. Saving a row through the ORM (admin, services) clears the
entry in that process at once; other processes see the change within ``TTL_SECONDS``.

Values live in a plain dictionary, not in Django's local-memory cache: that one pickles on
every read, and unpickling model instances cost a tenth of a report's CPU time. Callers
must treat what they get as read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
TTL_SECONDS = 60

_entries: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key: str, loader: Callable[[], T]) -> T:
    entry = _entries.get(key)
    if entry is not None and entry[0] > time.monotonic():
        return cast(T, entry[1])
    value = loader()
    with _lock:
        _entries[key] = (time.monotonic() + TTL_SECONDS, value)
    return value


def forget(key: str) -> None:
    with _lock:
        _entries.pop(key, None)


def clear() -> None:
    """Forget every entry (tests start from the database's current state)."""
    with _lock:
        _entries.clear()


def invalidate_on_change(key: str, *models: Any) -> None:
    """Drop ``key`` whenever a row of one of ``models`` (or its many-to-many links) changes."""

    def drop(**_kwargs: Any) -> None:
        forget(key)

    for model in models:
        uid = f"refcache:{key}:{model._meta.label}"
        post_save.connect(drop, sender=model, weak=False, dispatch_uid=uid + ":save")
        post_delete.connect(drop, sender=model, weak=False, dispatch_uid=uid + ":delete")
        for field in model._meta.many_to_many:
            m2m_changed.connect(drop, sender=field.remote_field.through, weak=False, dispatch_uid=uid + field.name)
