"""Platforms' API keys: made once and shown once, stored as a hash, revocable, scoped.

A key looks like ``vnm_<prefix>_<secret>``; only its SHA-256 is stored, with the prefix for a
policy manager to tell keys apart. ``authenticate`` answers the same ``None`` for an unknown
key, a revoked one, one of a deactivated platform and one of an organisation that is no
platform, so a caller learns nothing about which platforms exist.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor, record_event

from .choices import KeyScope, ModerationEvent
from .models import PlatformKey

KEY_PREFIX = "vnm_"
MAX_KEY_CHARS = 200


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_key(*, organisation: Organisation, name: str, scopes: Iterable[str], actor: Actor,
               rate_per_minute: int = 600) -> tuple[PlatformKey, str]:
    """A new key for a platform; the key itself is returned once and never stored."""
    scopes = sorted(set(scopes))
    if not organisation.is_platform:
        raise ValidationError(_("Only a platform gets moderation keys."))
    if not scopes or any(scope not in KeyScope.values for scope in scopes):
        raise ValidationError(_("Choose at least one scope: %(scopes)s.") % {"scopes": ", ".join(KeyScope.values)})
    if rate_per_minute < 1:
        raise ValidationError(_("Allow at least one request per minute."))
    if rate_per_minute > settings.VANGNET_MODERATION_MAX_KEY_RATE:
        raise ValidationError(_("Allow at most %(limit)d requests per minute.")
                              % {"limit": settings.VANGNET_MODERATION_MAX_KEY_RATE})
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = PlatformKey.objects.create(organisation=organisation, name=name[:100], prefix=prefix,
                                     key_hash=hash_key(key), scopes=scopes, rate_per_minute=rate_per_minute,
                                     created_by=actor.label[:150])
    record_event(actor=actor, event_type=ModerationEvent.KEY_CREATED, subject=row,
                 data={"name": row.name, "prefix": prefix, "scopes": scopes})
    return row, key


@transaction.atomic
def revoke_key(*, key: PlatformKey, actor: Actor) -> None:
    updated = PlatformKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        record_event(actor=actor, event_type=ModerationEvent.KEY_REVOKED, subject=key, data={"prefix": key.prefix})


def authenticate(key: str) -> PlatformKey | None:
    """The active key matching ``key`` with its platform, or None (the same None for every refusal)."""
    if not key or len(key) > MAX_KEY_CHARS or not key.startswith(KEY_PREFIX):
        return None
    return (PlatformKey.objects.select_related("organisation")
            .filter(key_hash=hash_key(key), revoked_at__isnull=True, organisation__is_active=True,
                    organisation__is_platform=True).first())


def take_request(key: PlatformKey, cost: int = 1) -> bool:
    """Count ``cost`` requests against the key's rate per minute; False when the minute's allowance is spent.

    The counter lives on the key's row and every step is one conditional UPDATE, so concurrent
    requests in several server processes never both take the last places. A check with images
    costs one more per image (decoding is what a request costs).
    """
    minute = timezone.now().replace(second=0, microsecond=0)
    rows = PlatformKey.objects.filter(pk=key.pk)
    room = key.rate_per_minute - cost
    if room < 0:
        return False
    if rows.filter(window_start=minute, window_count__lte=room).update(window_count=F("window_count") + cost):
        return True
    if rows.filter(Q(window_start__isnull=True) | Q(window_start__lt=minute)).update(
            window_start=minute, window_count=cost):
        return True
    # Another request opened this minute's window between the two updates: count against it.
    return bool(rows.filter(window_start=minute, window_count__lte=room).update(
        window_count=F("window_count") + cost))
