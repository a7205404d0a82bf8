"""Platform keys: shown once, stored hashed, scoped, revocable, the same refusal for every bad key, atomic rate."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.moderation import keys
from vangnet.moderation.choices import ModerationEvent
from vangnet.moderation.models import PlatformKey

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_a_key_is_returned_once_and_only_its_hash_is_stored(platform) -> None:
    row, key = keys.create_key(organisation=platform, name="Main", scopes=["check", "notices"], actor=ACTOR)
    assert key.startswith(f"vnm_{row.prefix}_") and len(key) > 40
    stored = PlatformKey.objects.get(pk=row.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(PlatformKey.objects.filter(pk=row.pk).values().first())
    assert stored.scopes == ["check", "notices"]
    assert keys.authenticate(key) == row
    event = Event.objects.get(event_type=ModerationEvent.KEY_CREATED)
    assert event.data == {"name": "Main", "prefix": row.prefix, "scopes": ["check", "notices"]}
    assert key not in str(event.data)


def test_keys_only_for_platforms_with_known_scopes(platform, helpline) -> None:
    with pytest.raises(ValidationError):
        keys.create_key(organisation=helpline, name="x", scopes=["check"], actor=ACTOR)
    with pytest.raises(ValidationError):
        keys.create_key(organisation=platform, name="x", scopes=["everything"], actor=ACTOR)
    with pytest.raises(ValidationError):
        keys.create_key(organisation=platform, name="x", scopes=[], actor=ACTOR)
    assert not PlatformKey.objects.exists()


def test_every_refusal_is_the_same_none(platform) -> None:
    row, key = keys.create_key(organisation=platform, name="Main", scopes=["check"], actor=ACTOR)
    assert keys.authenticate("") is None
    assert keys.authenticate("vnm_" + "x" * 300) is None
    assert keys.authenticate(key + "x") is None
    assert keys.authenticate(key.replace("vnm_", "vnx_")) is None
    Organisation.objects.filter(pk=platform.pk).update(is_platform=False)
    assert keys.authenticate(key) is None
    Organisation.objects.filter(pk=platform.pk).update(is_platform=True, is_active=False)
    assert keys.authenticate(key) is None
    Organisation.objects.filter(pk=platform.pk).update(is_active=True)
    assert keys.authenticate(key) == row
    keys.revoke_key(key=row, actor=ACTOR)
    assert keys.authenticate(key) is None
    keys.revoke_key(key=row, actor=ACTOR)  # twice: one event
    assert Event.objects.filter(event_type=ModerationEvent.KEY_REVOKED).count() == 1


def test_the_rate_counts_per_minute_and_refuses_past_the_limit(platform, monkeypatch) -> None:
    row, _key = keys.create_key(organisation=platform, name="Main", scopes=["check"], actor=ACTOR, rate_per_minute=3)
    moment = timezone.now().replace(second=30)
    monkeypatch.setattr(keys.timezone, "now", lambda: moment)
    assert [keys.take_request(row) for _ in range(5)] == [True, True, True, False, False]
    PlatformKey.objects.filter(pk=row.pk).update(window_start=row.created_at.replace(year=2020))
    assert keys.take_request(row) is True  # a new minute
    assert PlatformKey.objects.get(pk=row.pk).window_count == 1
