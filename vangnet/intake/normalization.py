"""Checking and normalising the URLs a reporter gives.

Two reports about the same content must meet in one case even when one reporter pasted a
link with tracking parameters from a phone app and another typed it by hand; so URLs are
compared in a normal form: https, lower-case IDNA host without ``www.``/``m.``, no default
port, no fragment, no tracking parameters, sorted query, no trailing slash.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from vangnet.common.crypto import keyed_hash, url_hash_keys

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "igshid", "igsh", "si", "mc_cid", "mc_eid", "ref_src", "ref_url", "t",
    "_ga", "yclid", "msclkid", "twclid", "ttclid", "feature", "share_id",
})
MOBILE_PREFIXES = ("www.", "m.", "mobile.")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class UrlError(ValueError):
    """A URL that cannot be accepted; the message is for the reporter."""


def url_digests(normalized: str) -> list[str]:
    """The keyed hash of a normal form under every URL hash key, the current key's first."""
    return [keyed_hash(normalized, key) for key in url_hash_keys()]


@dataclass(frozen=True)
class CheckedUrl:
    original: str
    normalized: str

    @property
    def digest(self) -> str:
        """What is stored (``ReportedUrl.normalized_hash``): HMAC-SHA256 with the current key,
        so someone who reads the database cannot test whether a URL was reported."""
        return url_digests(self.normalized)[0]

    @property
    def digests(self) -> list[str]:
        """What lookups match: the digest under every key, so URLs stored before a key
        rotation still meet until ``vangnet rehash_urls`` re-keys them."""
        return url_digests(self.normalized)


def check_url(raw: str, *, max_length: int = 2000) -> CheckedUrl:
    """Validate one URL and return it with its normal form, or raise ``UrlError``."""
    text = raw.strip()
    if not text:
        raise UrlError(_("The address is empty."))
    if len(text) > max_length:
        raise UrlError(_("This address is too long."))
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise UrlError(_("An address cannot contain spaces."))
    if "://" not in text:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", text) and not re.match(r"^[^:/]+:\d+", text):
            raise UrlError(_("Only web addresses (http or https) can be reported."))
        text = "https://" + text
    try:
        parts = urlsplit(text)
        parts.hostname  # noqa: B018 - raises on malformed brackets
    except ValueError as exc:
        raise UrlError(_("This is not a valid web address.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise UrlError(_("Only web addresses (http or https) can be reported."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UrlError(_("Remove the user name or password from the address."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlError(_("The address has no website name."))
    try:
        port = parts.port
    except ValueError as exc:
        raise UrlError(_("The address has an invalid port number.")) from exc
    host = _normalize_host(host, bracketed=parts.netloc.startswith("["))
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    normalized = urlunsplit(("https", netloc, path, urlencode(sorted(query)), ""))
    return CheckedUrl(original=text, normalized=normalized)


def _normalize_host(host: str, *, bracketed: bool) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if bracketed:  # only an IPv6 address goes between [ and ]
            raise UrlError(_("The website name in the address is not valid.")) from None
    else:
        # One spelling per address ([::1] is [0:0:0:0:0:0:0:1]); IPv6 keeps its brackets, so
        # that a port stays apart from the address.
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UrlError(_("The website name in the address is not valid.")) from exc
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise UrlError(_("The website name in the address is not valid."))
    for prefix in MOBILE_PREFIXES:
        if ascii_host.startswith(prefix) and ascii_host.count(".") >= 2:
            ascii_host = ascii_host[len(prefix):]
            break
    return ascii_host
