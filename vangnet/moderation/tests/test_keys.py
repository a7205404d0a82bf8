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


# Pinning boundaries and messages (mutation testing: scripts/mutation moderation/keys).

def test_key_limits_and_their_messages(platform, settings) -> None:
    from django.utils import translation

    settings.VANGNET_MODERATION_MAX_KEY_RATE = 50
    with translation.override("en"):
        for kwargs, message in [
            ({"scopes": []}, "Choose at least one scope: check, notices, appeals."),
            ({"scopes": ["check"], "rate_per_minute": 0}, "Allow at least one request per minute."),
            ({"scopes": ["check"], "rate_per_minute": 51}, "Allow at most 50 requests per minute."),
        ]:
            with pytest.raises(ValidationError) as refused:
                keys.create_key(organisation=platform, name="x", actor=ACTOR, **kwargs)
            assert refused.value.messages == [message]
    one, _key = keys.create_key(organisation=platform, name="one", scopes=["check"], actor=ACTOR, rate_per_minute=1)
    top, _key = keys.create_key(organisation=platform, name="top", scopes=["check"], actor=ACTOR, rate_per_minute=50)
    settings.VANGNET_MODERATION_MAX_KEY_RATE = 6000
    default, _key = keys.create_key(organisation=platform, name="d", scopes=["appeals", "check", "check"], actor=ACTOR)
    assert (one.rate_per_minute, top.rate_per_minute, default.rate_per_minute) == (1, 50, 600)
    assert default.scopes == ["appeals", "check"] and default.created_by == "system: test"
    assert len(default.prefix) == 8 and default.name == "d"


def test_a_key_is_refused_by_its_form_before_any_lookup(platform) -> None:
    _row, key = keys.create_key(organisation=platform, name="Main", scopes=["check"], actor=ACTOR)
    assert keys.authenticate("x" * 10 + key) is None  # not starting with the prefix
    assert keys.authenticate(key).organisation.slug == "praatplein"
    assert keys.authenticate("vnm_" + "x" * 196) is None and keys.MAX_KEY_CHARS == 200


def test_costs_count_against_the_minute(platform, monkeypatch) -> None:
    row, _key = keys.create_key(organisation=platform, name="Main", scopes=["check"], actor=ACTOR, rate_per_minute=5)
    moment = timezone.now().replace(second=30)
    monkeypatch.setattr(keys.timezone, "now", lambda: moment)
    assert keys.take_request(row, cost=6) is False  # more than the whole minute: never
    assert keys.take_request(row, cost=3) is True and PlatformKey.objects.get(pk=row.pk).window_count == 3
    assert keys.take_request(row, cost=2) is True and PlatformKey.objects.get(pk=row.pk).window_count == 5
    assert keys.take_request(row, cost=1) is False
    assert PlatformKey.objects.get(pk=row.pk).window_start == moment.replace(second=0, microsecond=0)


def test_revoking_records_its_prefix(platform) -> None:
    row, _key = keys.create_key(organisation=platform, name="Main", scopes=["check"], actor=ACTOR)
    keys.revoke_key(key=row, actor=ACTOR)
    event = Event.objects.get(event_type=ModerationEvent.KEY_REVOKED)
    assert event.data == {"prefix": row.prefix} and event.subject_id == str(row.pk)
    assert PlatformKey.objects.get(pk=row.pk).revoked_at is not None
