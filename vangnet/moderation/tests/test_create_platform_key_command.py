"""``vangnet create_platform_key``: prints a working key once; only its hash is stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from vangnet.audit.models import Event
from vangnet.moderation import keys
from vangnet.moderation.models import PlatformKey

pytestmark = pytest.mark.django_db


def test_the_key_is_printed_once_and_works(platform: Any) -> None:
    out = io.StringIO()
    call_command("create_platform_key", "praatplein", "Forum back end", "--scopes", "check, notices", "--rate", "90",
                 stdout=out)
    key = out.getvalue().strip()
    row = PlatformKey.objects.get()
    assert keys.authenticate(key) == row and row.key_hash == keys.hash_key(key)
    assert (row.name, row.scopes, row.rate_per_minute) == ("Forum back end", ["check", "notices"], 90)
    assert Event.objects.get(event_type="moderation.key_created").data["prefix"] == row.prefix


def test_the_defaults_are_the_check_scope_and_600_a_minute(platform: Any) -> None:
    call_command("create_platform_key", "praatplein", "Checker", stdout=io.StringIO())
    row = PlatformKey.objects.get()
    assert (row.scopes, row.rate_per_minute) == (["check"], 600)


@pytest.mark.parametrize("args", [["nobody", "x"], ["praatplein", "x", "--scopes", "admin"],
                                  ["praatplein", "x", "--rate", "0"], ["hulplijn", "x"]])
def test_refusals_make_no_key(platform: Any, args: list[str]) -> None:
    from vangnet.accounts.models import Organisation

    Organisation.objects.create(slug="hulplijn", name="Hulplijn")
    with pytest.raises(CommandError):
        call_command("create_platform_key", *args, stdout=io.StringIO())
    assert not PlatformKey.objects.exists()
