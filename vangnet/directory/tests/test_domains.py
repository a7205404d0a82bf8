"""From URL to host and registrable domain with the bundled public suffix list (no database, no network)."""

import pytest

from vangnet.directory.domains import DomainError, candidate_domains, host_of, normalize_domain, registrable_domain


@pytest.mark.parametrize(("url", "host"), [
    ("https://www.Social.Invalid/post/1", "www.social.invalid"),
    ("https://user:secret@social.invalid:8443/x", "social.invalid"),
    ("social.invalid/post/1", "social.invalid"),
    ("//cdn.social.invalid/a.jpg", "cdn.social.invalid"),
    ("https://social.invalid./trailing-dot", "social.invalid"),
    ("https://bücher.example/", "xn--bcher-kva.example"),
    ("https://xn--bcher-kva.example/", "xn--bcher-kva.example"),
    ("https://ПРИМЕР.рф/", "xn--e1afmkfd.xn--p1ai"),
    ("http://s%6Fcial.invalid/", "social.invalid"),
    ("social.invalid:8080/path", "social.invalid"),
])
def test_host_of_normalises(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://[::1]:8080/", "https://[2001:db8::1]/", "http://10.1/", "http://0x7f.1/",
    "http://2130706433/", "mailto:someone@social.invalid", "", "https:///nohost", "http://[bad/",
    "http://exa mple.invalid/", "http://-bad-.invalid/", "http://" + "a" * 64 + ".invalid/",
])
def test_no_host_name_for_addresses_and_nonsense(url: str) -> None:
    assert host_of(url) is None


@pytest.mark.parametrize(("host", "domain"), [
    ("www.social.invalid", "social.invalid"),
    ("a.b.c.example.co.uk", "example.co.uk"),
    ("example.co.uk", "example.co.uk"),
    ("alice.github.io", "alice.github.io"),  # a private suffix: each user's site is its own
    ("www.alice.github.io", "alice.github.io"),
    ("co.uk", None),
    ("com", None),
])
def test_registrable_domain(host: str, domain: str | None) -> None:
    assert registrable_domain(host) == domain


def test_candidates_run_from_the_host_down_to_its_icann_registrable_domain() -> None:
    assert candidate_domains("www.alice.github.io") == ["www.alice.github.io", "alice.github.io", "github.io"]
    assert candidate_domains("x.example.co.uk") == ["x.example.co.uk", "example.co.uk"]
    assert candidate_domains("co.uk") == []


@pytest.mark.parametrize(("text", "stored"), [
    ("Example.ORG", "example.org"), ("  example.org. ", "example.org"), ("Bücher.example", "xn--bcher-kva.example"),
    ("github.io", "github.io"), ("sites.example.co.uk", "sites.example.co.uk"),
])
def test_normalize_domain(text: str, stored: str) -> None:
    assert normalize_domain(text) == stored


@pytest.mark.parametrize("text", [
    "https://example.org", "example.org/path", "example.org:80", "co.uk", "com", "192.0.2.1", "", "user@example.org",
    "exa mple.org",
])
def test_normalize_domain_refuses(text: str) -> None:
    with pytest.raises(DomainError):
        normalize_domain(text)
