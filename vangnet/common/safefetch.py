"""Fetching a URL someone else chose, without letting it reach inside our own network.

Evidence capture (and later the notices' availability checks) fetch URLs that reporters
and handlers type, and pages that those URLs redirect to. Anyone who controls such a URL
could point it at the server's own neighbourhood: the cloud metadata service
(169.254.169.254), a database on 10.x, the admin port on 127.0.0.1. This module is the one
way vangnet fetches such a URL ("server-side request forgery" guard):

- only ``http`` and ``https``, no user name or password in the URL;
- the host name is resolved here (``socket.getaddrinfo``) and refused when *any* of its
  addresses is not a public unicast address: private, loopback, link-local, multicast,
  reserved, unspecified, shared (100.64/10), and IPv6 forms that carry such an IPv4
  address inside (IPv4-mapped, 6to4, Teredo, NAT64);
- the connection goes to the vetted address itself, never to the name again, so a second
  DNS answer cannot swap in another address ("DNS rebinding"); the ``Host`` header and TLS
  SNI and certificate check still use the name;
- redirects are followed here, a few at most, and every hop is vetted the same way;
- the body is streamed and cut off at a size limit; a watchdog closes the socket when the
  total time is up (a server dripping one byte at a time gets no more than that);
- no cookies, no credentials, no proxy from the environment, a plain User-Agent.

``post`` sends a body (platforms' webhooks) with the same guard, but follows no redirect at
all: the answer, 3xx included, is returned as it came.

HTTP itself is urllib3's (its connection class takes the address to connect to and the
name for SNI and the certificate separately). Tests may allow loopback addresses, and only
those, with ``VANGNET_FETCH_ALLOW_LOOPBACK``; it is off by default and in production.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import LocationParseError
from urllib3.util.ssl_match_hostname import CertificateError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "vangnet-capture/1.0"
# Certificate authorities to trust for https (a PEM file); None trusts the system's. Tests set their own.
CA_CERTS: str | None = None
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_CHUNK = 64 * 1024
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")  # after IDNA: nothing that could bend a header


@dataclass(frozen=True)
class Limits:
    """How far one fetch may go: bytes of body, seconds to connect, seconds in all, redirects."""

    max_bytes: int = 20 * 1024 * 1024
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_redirects: int = 5


class FetchError(Exception):
    """A fetch that brought no page. ``code`` is stable, ``message`` is for people.

    ``temporary``: trying again later may help (a server that did not answer); a refused
    address or scheme never becomes acceptable by waiting.
    """

    code = "failed"
    temporary = False

    def __init__(self, message: str | Promise, **params: Any) -> None:
        self.params = params
        self.message_template = message
        super().__init__(str(message) % params if params else str(message))

    @property
    def message(self) -> str:
        """The message in the active language."""
        return str(self.message_template) % self.params if self.params else str(self.message_template)

    @property
    def msgid(self) -> str:
        """The message's English text before its values are filled in: store it, translate it when shown."""
        with translation.override(None):
            return str(self.message_template)


class Refused(FetchError):
    """The URL or an address it leads to may not be fetched (scheme, credentials, private network)."""

    code = "refused"


class PrivateAddress(Refused):
    code = "private_address"


class TooManyRedirects(Refused):
    code = "too_many_redirects"


class TooLarge(FetchError):
    code = "too_large"


class TooSlow(FetchError):
    code = "too_slow"
    temporary = True


class Unreachable(FetchError):
    """DNS found no address, the connection failed or broke: maybe better later."""

    code = "unreachable"
    temporary = True


class BadCertificate(FetchError):
    code = "bad_certificate"


@dataclass(frozen=True)
class Hop:
    """One request of a fetch: the URL, the address connected to, the answer's status."""

    url: str
    address: str
    status: int


@dataclass(frozen=True)
class FetchResult:
    """The last answer of a fetch, with every hop that led to it (the last hop is this answer)."""

    url: str
    final_url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    hops: list[Hop]
    started_at: datetime
    finished_at: datetime
    elapsed_seconds: float

    def header(self, name: str, default: str = "") -> str:
        """The first value of header ``name`` (any letter case)."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), default)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                      or address.is_multicast or address.is_reserved or address.is_unspecified)


def is_forbidden_address(address: str | IPAddress, *, allow_loopback: bool = False) -> bool:
    """Whether a fetch may never connect to ``address``; strict: any doubt refuses.

    An IPv6 address that carries an IPv4 address is judged by both, so ``::ffff:10.0.0.1``
    and ``64:ff9b::a9fe:a9fe`` are refused like ``10.0.0.1`` and ``169.254.169.254``. With
    ``allow_loopback`` (tests only), plain loopback addresses (127.0.0.0/8, ``::1``) pass;
    nothing else does.
    """
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return True
    if allow_loopback and address.is_loopback:
        return False
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            candidates.append(inner)
    return not all(_is_public(candidate) for candidate in candidates)


def _allow_loopback() -> bool:
    return bool(getattr(settings, "VANGNET_FETCH_ALLOW_LOOPBACK", False))


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (addresses in order) and what to ask for."""

    url: str
    scheme: str
    host: str  # the name as sent in Host and SNI (IDNA-encoded; an IPv6 literal without brackets)
    port: int
    request_target: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str) -> tuple[str, str, int, str]:
    """Parse ``url`` and check what can be checked without DNS: scheme, host, credentials, port.

    Returns ``(scheme, host, port, request_target)``; raises ``Refused`` with a message for people.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(_("This is not a valid web address.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise Refused(_("Only web addresses starting with http:// or https:// can be captured."))
    if parts.username is not None or parts.password is not None:
        raise Refused(_("The address holds a user name or password; these are never sent."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(_("This is not a valid web address."))
    try:
        host = host.encode("idna").decode("ascii") if not is_ip_literal(host) else host
        parsed = urllib3.util.parse_url(url.strip())
    except (UnicodeError, LocationParseError) as exc:
        raise Refused(_("This is not a valid web address.")) from exc
    if port == 0 or not (is_ip_literal(host) or _HOST_NAME.fullmatch(host)):
        raise Refused(_("This is not a valid web address."))
    target = parsed.request_uri or "/"
    return scheme, host, port or (443 if scheme == "https" else 80), target


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def resolve(url: str) -> Target:
    """Check ``url`` and resolve its host; refuse it if any address it resolves to is not public."""
    scheme, host, port, request_target = check_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise Unreachable(_("The address's name could not be found.")) from exc
    addresses: list[str] = []
    allow_loopback = _allow_loopback()
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if is_forbidden_address(address, allow_loopback=allow_loopback):
            raise PrivateAddress(_("The address points to a private network."))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unreachable(_("The address's name could not be found."))
    return Target(url=url, scheme=scheme, host=host, port=port, request_target=request_target,
                  addresses=tuple(addresses))


class _Watchdog:
    """Shut the connection down when the total time is up, so no read can outlast the deadline.

    It holds a duplicate of the socket's descriptor: TLS wrapping detaches the original
    socket object, but a shutdown acts on the connection behind any of its descriptors.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
            if self.fired:
                self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


class _WatchedHTTPConnection(HTTPConnection):
    watchdog: _Watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.watchdog.watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    watchdog: _Watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.watchdog.watch(sock)
        return sock


def _connection(target: Target, address: str, *, timeout: float, watchdog: _Watchdog) -> HTTPConnection:
    conn: _WatchedHTTPConnection | _WatchedHTTPSConnection
    if target.scheme == "https":
        # Connect to the vetted address; SNI and the certificate check use the name.
        conn = _WatchedHTTPSConnection(address, target.port, timeout=timeout, server_hostname=target.host,
                                       assert_hostname=target.host, cert_reqs="CERT_REQUIRED", ca_certs=CA_CERTS)
    else:
        conn = _WatchedHTTPConnection(address, target.port, timeout=timeout)
    conn.watchdog = watchdog
    return conn


def _request_headers(target: Target, extra: dict[str, str] | None = None) -> dict[str, str]:
    # Only what a plain client sends: no cookies, no credentials, no forwarded headers (``post``
    # adds its caller's checked headers).
    headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": "*/*",
               "Accept-Encoding": "identity", "Connection": "close"}
    if extra:
        headers.update(extra)
    return headers


def _too_slow(limits: Limits) -> TooSlow:
    return TooSlow(_("The page took longer than %(seconds)d seconds."), seconds=round(limits.total_timeout))


def _one_request(target: Target, *, method: str, limits: Limits, deadline: float, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[Hop, Any, bytes]:
    """One request, to the vetted addresses in turn until one connects: the hop, the headers, the body."""
    last_error: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _too_slow(limits)
        watchdog = _Watchdog(remaining)
        conn = _connection(target, address, timeout=min(limits.connect_timeout, remaining), watchdog=watchdog)
        try:
            try:
                conn.connect()
            except (ssl.SSLError, CertificateError) as exc:
                if watchdog.fired:
                    raise _too_slow(limits) from exc
                raise BadCertificate(_("The site's security certificate could not be verified.")) from exc
            except (OSError, Urllib3Error) as exc:
                if watchdog.fired:
                    raise _too_slow(limits) from exc
                last_error = exc
                continue
            response: Any = None
            try:
                if conn.sock is not None:  # every read waits at most until the deadline
                    conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                conn.request(method, target.request_target, body=body, headers=_request_headers(target, headers),
                             preload_content=False, decode_content=True)
                response = conn.getresponse()
                hop = Hop(url=target.url, address=address, status=response.status)
                answer = _read_body(response, method=method, limits=limits)
            except FetchError:
                raise
            except (OSError, Urllib3Error, http.client.HTTPException, ValueError) as exc:
                if watchdog.fired or time.monotonic() >= deadline:
                    raise _too_slow(limits) from exc
                raise Unreachable(_("The site broke off the connection.")) from exc
            finally:
                if response is not None:
                    response.close()
            if watchdog.fired:
                raise _too_slow(limits)
            return hop, response.headers, answer
        finally:
            conn.close()
            watchdog.close()
    raise Unreachable(_("The site could not be reached.")) from last_error


def _too_large(limits: Limits) -> TooLarge:
    mb = limits.max_bytes / 2**20
    return TooLarge(_("The page is larger than %(mb)s MB."), mb=f"{mb:g}" if mb >= 1 else f"{mb:.2g}")


def _read_body(response: Any, *, method: str, limits: Limits) -> bytes:
    """The body, read a piece at a time and refused as soon as it passes the size limit."""
    if method == "HEAD" or response.status in REDIRECT_STATUSES:
        return b""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(limits)
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > limits.max_bytes:
            raise _too_large(limits)
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(url: str, *, method: str = "GET", limits: Limits = Limits()) -> FetchResult:
    """Fetch ``url`` with every check in the module docstring; follow redirects, vetting each hop.

    Raises a ``FetchError`` subclass when no answer came or one was refused. Any HTTP status
    is an answer (a 404 or 410 is evidence too); only redirects are followed.
    """
    if method not in {"GET", "HEAD"}:
        raise Refused(_("Only pages can be fetched, nothing can be sent."))
    started_at = timezone.now()
    start = time.monotonic()
    deadline = start + limits.total_timeout
    hops: list[Hop] = []
    current = url.strip()
    while True:
        target = resolve(current)
        hop, headers, body = _one_request(target, method=method, limits=limits, deadline=deadline)
        hops.append(hop)
        location = headers.get("Location", "")
        if hop.status in REDIRECT_STATUSES and location:
            if len(hops) > limits.max_redirects:
                raise TooManyRedirects(_("The page redirected more than %(count)d times."),
                                       count=limits.max_redirects)
            current = urljoin(current, location.strip())
            continue
        return FetchResult(url=url, final_url=current, status=hop.status,
                           headers=[(str(k), str(v)) for k, v in headers.items()], body=body, hops=hops,
                           started_at=started_at, finished_at=timezone.now(),
                           elapsed_seconds=round(time.monotonic() - start, 3))


# Headers ``post`` sets itself: its caller may not bend the request's framing or its target.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "user-agent",
                               "accept-encoding", "cookie", "proxy-authorization", "expect", "upgrade", "te"})
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


def post(url: str, *, body: bytes, headers: dict[str, str], limits: Limits = Limits()) -> FetchResult:
    """POST ``body`` to ``url`` with the same guard as ``fetch``: one vetted address, never a redirect.

    For messages vangnet sends to addresses others configured (platforms' webhooks). The name
    is resolved once and refused if any address is not public; the request goes to the vetted
    address; a redirect is returned as the answer it is (status 3xx) and never followed, so a
    receiver cannot bounce the body to an address inside. ``headers`` are the caller's own
    (``Content-Type``, a signature); the framing headers (``Host``, ``Content-Length``,
    ``Connection``, …) are set here and may not be given. Any HTTP status is an answer; a
    ``FetchError`` means none came (or the address was refused).
    """
    for name, value in headers.items():
        if (not _HEADER_NAME.fullmatch(name) or name.lower() in _RESERVED_HEADERS
                or any(c in str(value) for c in "\r\n\0")):
            raise Refused(_("The request has a header that cannot be sent."))
    started_at = timezone.now()
    start = time.monotonic()
    target = resolve(url.strip())
    hop, answer_headers, answer = _one_request(target, method="POST", limits=limits,
                                               deadline=start + limits.total_timeout, body=body,
                                               headers={**headers, "Content-Length": str(len(body))})
    return FetchResult(url=url, final_url=target.url, status=hop.status,
                       headers=[(str(k), str(v)) for k, v in answer_headers.items()], body=answer, hops=[hop],
                       started_at=started_at, finished_at=timezone.now(),
                       elapsed_seconds=round(time.monotonic() - start, 3))
