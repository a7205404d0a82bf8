"""The address of the client, also behind TLS-terminating reverse proxies.

Behind a proxy every connection comes from the proxy, so a per-address limit would fall on
all reporters at once and one attacker could lock every member of staff out. Proxies add
the address they received from to ``X-Forwarded-For``; a client can send that header too,
with anything in it, so only the entries appended by proxies we trust are believed.
``VANGNET_TRUSTED_PROXIES`` (``vangnet.config.env.env_trusted_proxies``) says which:

- ``0`` (the default): no proxy; the header is ignored and the connection's address is used;
- a number N: N proxies in front; the client is the N-th address from the right of the chain
  ``X-Forwarded-For + [REMOTE_ADDR]`` (what the outermost proxy saw);
- proxy networks: starting at the connection's address, walk the chain from the right past
  trusted proxies; the first address that is not one is the client.

One function serves the report and follow-up rate limits (``RATELIMIT_IP_META_KEY``) and
the staff log-in throttle (``AXES_CLIENT_IP_CALLABLE``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(entry: str) -> str | None:
    """A normalised IP address from one header entry (ports and brackets allowed), or None."""
    text = entry.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:4711
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as far as the configured trusted proxies vouch for it."""
    remote = _parse(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 - an unknown peer, not a bind
    proxies = settings.VANGNET_TRUSTED_PROXIES
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not header:
        return remote
    chain = [entry for entry in header.split(",") if entry.strip()]
    if isinstance(proxies, int):
        # chain + [remote]: the last `proxies` hops are our proxies; the one before them is the client.
        hops = chain[-proxies:] if proxies <= len(chain) else chain
        # walk leftwards through what our own proxies wrote; stop at anything unparsable
        address = remote
        for entry in reversed(hops):
            parsed = _parse(entry)
            if parsed is None:
                break
            address = parsed
        return address
    networks = _networks(tuple(proxies))
    address = remote
    for entry in reversed(chain):
        if not _trusted(address, networks):
            return address
        parsed = _parse(entry)
        if parsed is None:
            return address
        address = parsed
    return address
