"""Test helpers that keep tests of outbound fetching on this machine, even when the code under test is broken.

Tests of ``vangnet.common.safefetch`` and of evidence capture fetch URLs whose names point
at private and public addresses. They must never send a packet anywhere but loopback, even
if the guard they test lets a bad address through. So:

- ``forbid_outside_connections`` wraps ``socket.socket.connect``/``connect_ex`` and
  ``socket.create_connection``: connecting to anything but a loopback address (or a Unix
  socket) raises before the system call and is remembered, and the fixture that installed
  it fails the test at its end even if the code under test swallowed the error;
- ``StubResolver`` replaces ``socket.getaddrinfo``: test names (``evil.test``) map to fixed
  addresses, addresses resolve numerically (no DNS), anything else is "not found". It
  counts lookups, so a test can show that a name was resolved once (no DNS rebinding).

Only this Python process is covered; the browser is a child process and is kept off the
network by other means (see ``vangnet.evidence.capture``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest


class OutsideConnection(AssertionError):
    """A test tried to connect beyond loopback (raised before any packet leaves)."""


@dataclass
class ConnectionGuard:
    """What the wrapped connect calls refused; ``assert_clean`` fails the test if anything."""

    refused: list[Any] = field(default_factory=list)

    def check(self, address: Any) -> None:
        if isinstance(address, (str, bytes)):  # a Unix socket (e.g. PostgreSQL's)
            return
        host = str(address[0]).strip("[]").split("%", 1)[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = False  # a name: whoever connects by name skipped the guard's resolution
        if not allowed:
            self.refused.append(address)
            raise OutsideConnection(f"A test tried to connect to {address!r}, outside loopback.")

    def assert_clean(self) -> None:
        assert not self.refused, f"Connections outside loopback were attempted: {self.refused!r}"


def forbid_outside_connections(monkeypatch: pytest.MonkeyPatch) -> ConnectionGuard:
    """Install the connect guard for this test (undone by ``monkeypatch`` at its end)."""
    guard = ConnectionGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        guard.check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check(address)
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return guard


class StubResolver:
    """``socket.getaddrinfo`` for tests: fixed answers for test names, no DNS ever."""

    def __init__(self, names: Mapping[str, Iterable[str]]) -> None:
        self.names = {name: list(addresses) for name, addresses in names.items()}
        self.lookups: Counter[str] = Counter()
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,  # noqa: A002
                 flags: int = 0) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups[name] += 1
        if name in self.names:
            answers = []
            for address in self.names[name]:
                answers += self._real(address, port, family, type, proto, socket.AI_NUMERICHOST)
            return answers
        try:  # an address in any form the system accepts (``2130706433``, ``0x7f.1``), never DNS
            return self._real(name, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, f"{name} is not a test name") from None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> StubResolver:
        monkeypatch.setattr(socket, "getaddrinfo", self)
        return self


# ---------------------------------------------------------------------------------------------
# A real HTTP server on loopback


@dataclass
class Answer:
    """What the local site sends for one path: status, headers, the body in pieces.

    ``pause`` waits between pieces of the body; ``drip_headers`` sends the status line and
    headers one byte at a time with that pause (a server too slow to even answer).
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "text/html; charset=utf-8")])
    body: list[bytes] = field(default_factory=list)
    pause: float = 0.0
    drip_headers: bool = False


@dataclass(frozen=True)
class SeenRequest:
    """One request the local site received."""

    method: str
    path: str
    headers: dict[str, str]


class LocalSite:
    """An HTTP/1.0 server on 127.0.0.1 in a thread, answering from ``routes`` (path without query -> Answer).

    A route may be a callable taking the ``SeenRequest`` and returning an ``Answer`` (to
    redirect somewhere the test chooses, or to act when a request arrives). Every request is
    kept in ``requests``.
    """

    def __init__(self, tls: Any = None) -> None:
        import http.server
        import threading

        site = self
        self.routes: dict[str, Any] = {}
        self.requests: list[SeenRequest] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's API
                site._answer(self)

            def do_HEAD(self) -> None:  # noqa: N802
                site._answer(self)

            def do_POST(self) -> None:  # noqa: N802
                site._answer(self)

            def do_CONNECT(self) -> None:  # noqa: N802 - a browser using this server as its proxy, for https
                site._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up on a slow answer is expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:  # an ssl.SSLContext (see TestTLS): the site speaks https
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def start(self) -> LocalSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, handler: Any) -> None:
        import time

        seen = SeenRequest(method=handler.command, path=handler.path, headers=dict(handler.headers.items()))
        self.requests.append(seen)
        route = self.routes.get(handler.path.split("?", 1)[0])
        answer = route(seen) if callable(route) else route
        if answer is None:
            answer = Answer(status=404, body=[b"not here"])
        head = [f"HTTP/1.0 {answer.status} X\r\n".encode()]
        head += [f"{name}: {value}\r\n".encode("latin-1") for name, value in answer.headers]
        head.append(b"\r\n")
        raw = b"".join(head)
        if answer.drip_headers:
            for i in range(len(raw)):
                handler.wfile.write(raw[i:i + 1])
                handler.wfile.flush()
                time.sleep(answer.pause)
        else:
            handler.wfile.write(raw)
        if handler.command == "HEAD":
            return
        for piece in answer.body:
            handler.wfile.write(piece)
            handler.wfile.flush()
            if answer.pause:
                time.sleep(answer.pause)


class TestTLS:
    """A certificate authority made for one test, and a server certificate it signed for ``names``.

    ``ca_file`` is the authority's certificate (what a client trusts); ``server_context()`` is
    an ``ssl.SSLContext`` for ``LocalSite(tls=...)`` that records the name each client asked
    for (SNI) in ``server_names``.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Any, names: Iterable[str]) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vangnet test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, encipher_only=False, decipher_only=False),
                             critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        names = list(names)
        leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        self.ca_file = str(folder / "ca.pem")
        self._cert_file = str(folder / "server.pem")
        self._key_file = str(folder / "server.key")
        with open(self.ca_file, "wb") as handle:
            handle.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(self._cert_file, "wb") as handle:
            handle.write(leaf.public_bytes(serialization.Encoding.PEM))
        with open(self._key_file, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self.server_names: list[str | None] = []

    def server_context(self) -> Any:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._cert_file, self._key_file)
        context.sni_callback = lambda _sock, name, _context: self.server_names.append(name)  # type: ignore[assignment]
        return context
