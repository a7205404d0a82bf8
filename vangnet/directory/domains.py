"""From a URL to the domain names a provider may be registered under, with the public suffix list.

A provider is found by the *registrable domain* of a URL's host (eTLD+1: ``social.example.co.uk``
for ``www.social.example.co.uk``), computed with the public suffix list bundled in the
``publicsuffixlist`` package (read from the installed package, never downloaded at run time;
a newer list comes with a package upgrade).

Two readings of the list serve two purposes:

- The *full* list (ICANN and private sections) gives the registrable domain recorded for an
  unknown host: ``alice.github.io`` is one site among many on ``github.io``, so it is flagged on
  its own.
- The *ICANN* section alone bounds the names a provider may be registered under: a provider can
  own ``github.io`` (a private suffix its own company runs) but never ``co.uk`` or ``com``.

A host is matched from its most specific name down to its ICANN registrable domain, so
``www.alice.github.io`` matches a provider registered for ``alice.github.io`` before one registered
for ``github.io``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_SCHEME_ONLY = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HOST_PORT = re.compile(r"^[^:/?#]+:\d+")


class DomainError(ValueError):
    """A text that is not a domain name a provider can be registered under."""


@cache
def _full_list() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=True)


@cache
def _icann_list() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=True, only_icann=True)


def _ascii_host(host: str) -> str | None:
    """Lower-case ASCII (punycode) form of a host name, or None for an IP literal or a malformed name."""
    host = unquote(host).strip().rstrip(".").lower()
    if not host:
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 10.1, 0x7f.1 and other spellings of an address are no names
        return None
    return ascii_host


def host_of(url: str) -> str | None:
    """The normalised host of a URL (IDN as punycode, lower case, no trailing dot, no port or user info).

    ``None`` for an IP literal, a URL without a host, or a scheme that has none (``mailto:``).
    A URL without a scheme (``social.example/post/1``) is read as a web address.
    """
    text = url.strip()
    if not text:
        return None
    if text.startswith("//"):
        text = "http:" + text
    elif "://" not in text:
        if _SCHEME_ONLY.match(text) and not _HOST_PORT.match(text):
            return None
        text = "http://" + text
    try:
        hostname = urlsplit(text).hostname
    except ValueError:
        return None
    return _ascii_host(hostname or "")


def registrable_domain(host: str) -> str | None:
    """The registrable domain (eTLD+1, private suffixes included) of a normalised host, or None."""
    return _full_list().privatesuffix(host)


def candidate_domains(host: str) -> list[str]:
    """The names a host can match a provider under, most specific first, down to its ICANN eTLD+1."""
    floor = _icann_list().privatesuffix(host)
    if floor is None:
        return []
    labels = host.split(".")
    depth = floor.count(".") + 1
    return [".".join(labels[i:]) for i in range(0, len(labels) - depth + 1)]


def normalize_domain(text: str) -> str:
    """The stored form of a domain a provider serves; raises ``DomainError`` for anything else.

    Accepts a bare domain name in any case or script (``Bücher.example`` becomes
    ``xn--bcher-kva.example``), never a URL, an address, or a public suffix such as ``co.uk``.
    """
    raw = text.strip()
    if not raw or any(ch in raw for ch in "/:@?#[] \t\r\n"):
        raise DomainError(_("Enter a domain name only, such as example.org (no https://, path or port)."))
    domain = _ascii_host(raw)
    if domain is None:
        raise DomainError(_("This is not a valid domain name (an IP address cannot be registered)."))
    if "." not in domain or _icann_list().is_public(domain):
        raise DomainError(_("This is a public suffix shared by many owners; enter the owner's own domain."))
    return domain
