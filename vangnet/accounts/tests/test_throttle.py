"""Staff log-in throttling: per username+address, and per address across usernames (password spraying)."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

SPRAYER = "192.0.2.7"
OTHER = "198.51.100.9"


def _login(client, username: str, password: str, address: str):
    return client.post("/staff/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_one_address_guessing_at_many_usernames_is_locked_for_every_username(client, handler, settings) -> None:
    settings.VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for i in range(7):  # one guess each at many usernames: the per-account limit (5) is never reached
        assert _login(client, f"user{i}", "Winter2026!", SPRAYER).status_code == 200
    assert _login(client, "user7", "Winter2026!", SPRAYER).status_code == 429, "the eighth failure locks"
    locked = _login(client, "hans", PASSWORD, SPRAYER)
    assert locked.status_code == 429 and not _logged_in(client)
    assert _login(client, "hans", PASSWORD, OTHER).status_code == 302, "other addresses are not locked"
    assert _logged_in(client)


def test_below_the_address_limit_other_usernames_still_log_in(client, handler, settings) -> None:
    settings.VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for i in range(7):
        _login(client, f"user{i}", "wrong", SPRAYER)
    assert _login(client, "hans", PASSWORD, SPRAYER).status_code == 302


def test_a_successful_log_in_does_not_reset_the_address_count(client, handler, settings) -> None:
    settings.VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for i in range(7):
        _login(client, f"user{i}", "wrong", SPRAYER)
    assert _login(client, "hans", PASSWORD, SPRAYER).status_code == 302  # e.g. the attacker's own account
    client.logout()
    _login(client, "user-x", "wrong", SPRAYER)
    assert _login(client, "hans", PASSWORD, SPRAYER).status_code == 429


def test_a_successful_log_in_resets_its_own_account_count(client, handler) -> None:
    for _ in range(4):
        _login(client, "hans", "wrong", OTHER)
    assert _login(client, "hans", PASSWORD, OTHER).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "hans", "wrong", OTHER)
    assert _login(client, "hans", PASSWORD, OTHER).status_code == 302, "four failures since the success: not locked"


def test_the_account_limit_still_holds_per_address(client, handler) -> None:
    for _ in range(5):
        _login(client, "hans", "wrong", SPRAYER)
    assert _login(client, "hans", PASSWORD, SPRAYER).status_code == 429
    assert _login(client, "hans", PASSWORD, OTHER).status_code == 302
