"""The client address behind trusted proxies, and the limits that key on it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from conftest import PASSWORD
from vangnet.common.clientip import client_ip
from vangnet.config.env import env_trusted_proxies

PROXY = "10.0.0.1"


def _request(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_a_client_supplied_header_is_ignored(settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 0
    assert client_ip(_request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_with_one_proxy_the_right_most_address_is_the_client(settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 1
    assert client_ip(_request(PROXY, "203.0.113.5")) == "203.0.113.5"
    assert client_ip(_request(PROXY, "6.6.6.6, 203.0.113.5")) == "203.0.113.5", "a spoofed entry on the left is ignored"
    assert client_ip(_request(PROXY)) == PROXY, "no header: the connection's address"
    assert client_ip(_request(PROXY, "not-an-address")) == PROXY, "garbage is never used"


def test_with_two_proxies_the_second_address_from_the_right_is_the_client(settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 2
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"


def test_with_trusted_networks_the_right_most_untrusted_address_is_the_client(settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 203.0.113.5, 192.0.2.1, 10.0.0.1")) == "203.0.113.5"
    assert client_ip(_request("198.51.100.7", "203.0.113.5")) == "198.51.100.7", "not from a trusted proxy"
    assert client_ip(_request("10.0.0.2", "10.0.0.3")) == "10.0.0.3", "all trusted: the left-most"


def test_ports_and_brackets_are_stripped(settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 1
    assert client_ip(_request(PROXY, "203.0.113.5:4711")) == "203.0.113.5"
    assert client_ip(_request(PROXY, "[2001:DB8::1]:443")) == "2001:db8::1"


@pytest.mark.parametrize(("value", "expected"), [
    ("", 0), ("0", 0), ("2", 2), ("10.0.0.0/8, 192.0.2.1", ["10.0.0.0/8", "192.0.2.1"]),
])
def test_the_setting_is_read_from_the_environment(monkeypatch, value, expected) -> None:
    monkeypatch.setenv("VANGNET_TRUSTED_PROXIES", value)
    assert env_trusted_proxies("VANGNET_TRUSTED_PROXIES") == expected


def test_a_bad_setting_fails_at_start(monkeypatch) -> None:
    monkeypatch.setenv("VANGNET_TRUSTED_PROXIES", "the load balancer")
    with pytest.raises(ImproperlyConfigured, match="VANGNET_TRUSTED_PROXIES"):
        env_trusted_proxies("VANGNET_TRUSTED_PROXIES")


def _followup(client, forwarded: str):
    return client.post("/nl/followup/", {"receipt_code": "VN-AAAA-AAAA", "secret": "guess"},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded).status_code


@pytest.mark.django_db
def test_the_follow_up_rate_limit_keys_on_the_client_behind_the_proxy(client, settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 1
    settings.VANGNET_FOLLOWUP_IP_RATE = "2/h"
    assert [_followup(client, "203.0.113.5") for _ in range(2)] == [400, 400]
    assert _followup(client, "203.0.113.5") == 429
    assert _followup(client, "9.9.9.9, 203.0.113.5") == 429, "spoofing the header's left part changes nothing"
    assert _followup(client, "203.0.113.6") == 400, "another reporter behind the same proxy is not limited"


@pytest.mark.django_db
def test_without_a_proxy_a_spoofed_header_does_not_escape_the_rate_limit(client, settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 0
    settings.VANGNET_FOLLOWUP_IP_RATE = "2/h"
    assert [_followup(client, f"203.0.113.{i}") for i in range(3)] == [400, 400, 429]


@pytest.mark.django_db
def test_the_staff_log_in_throttle_keys_on_the_client_behind_the_proxy(client, handler, settings) -> None:
    settings.VANGNET_TRUSTED_PROXIES = 1
    for _ in range(5):
        client.post("/staff/login/", {"username": "hans", "password": "wrong"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    locked = client.post("/staff/login/", {"username": "hans", "password": PASSWORD},
                         REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    elsewhere = client.post("/staff/login/", {"username": "hans", "password": PASSWORD},
                            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert elsewhere.status_code == 302, "an attacker behind the proxy does not lock staff out everywhere"
