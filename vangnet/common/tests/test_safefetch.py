"""The guarded fetcher: only public addresses, after DNS and after every redirect, within limits.

Every test here runs with the connect guard and the stub resolver of
``vangnet.common.testing_network``: no name reaches DNS, and a connection to anything but
loopback fails the test before a packet is sent, even if the guard under test let it through.
The web server is a real one on 127.0.0.1; tests that fetch from it allow loopback, and
those about loopback switch it off again in the middle of a redirect, as production has it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from vangnet.common import safefetch
from vangnet.common.safefetch import Limits, is_forbidden_address
from vangnet.common.testing_network import (Answer, LocalSite, SeenRequest, StubResolver, TestTLS,
                                            forbid_outside_connections)

NAMES = {
    "good.test": ["127.0.0.1"],
    "evil.test": ["10.0.0.1"],
    "meta.test": ["169.254.169.254"],
    "six.test": ["::1"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "mixed.test": ["93.184.216.34", "10.0.0.1"],
    "mixed-loopback.test": ["127.0.0.1", "192.168.1.10"],
}


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubResolver]:
    guard = forbid_outside_connections(monkeypatch)
    stub = StubResolver(NAMES).install(monkeypatch)
    yield stub
    guard.assert_clean()


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are read in English here (the site's default language is Dutch)."""
    with translation.override("en"):
        yield


@pytest.fixture
def site() -> Iterator[LocalSite]:
    server = LocalSite().start()
    yield server
    server.stop()


@pytest.fixture
def loopback(settings: Any) -> Any:
    settings.VANGNET_FETCH_ALLOW_LOOPBACK = True
    return settings


def _teredo(client: str) -> str:
    """A Teredo address whose client is ``client`` (the client address is stored inverted)."""
    server = int(ipaddress.IPv4Address("65.54.227.120"))
    inverted = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | inverted))


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.8.8", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:8.8.8.8", "::10.0.0.1",
    "2002:0a00:0001::1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::a00:1",
    _teredo("10.0.0.1"), "2001:db8::1", "not an address", "",
])
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946",
                                     "2a00:1450:400e:80f::200e"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(address)


def test_allowing_loopback_allows_loopback_and_nothing_else() -> None:
    assert not is_forbidden_address("127.0.0.1", allow_loopback=True)
    assert not is_forbidden_address("::1", allow_loopback=True)
    for address in ["10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "0.0.0.0", "::", "fe80::1"]:
        assert is_forbidden_address(address, allow_loopback=True), address


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://good.test/x", "gopher://good.test:70/_GET%20/", "data:text/html,<b>hi</b>",
    "javascript:alert(1)", "ws://good.test/", "//good.test/x", "good.test/x", "http:///no-host", "http://",
    "http://user:secret@good.test/", "https://user@good.test/", "http://good.test:99999/", "http://good.test:0/",
    "http://good.test\r\nX-Injected: 1/", "http://good test/", "http://evil.test\\@good.test/", "http://a..b/",
])
def test_other_schemes_credentials_and_broken_urls_are_refused_before_any_lookup(
        url: str, resolver: StubResolver, loopback: Any) -> None:
    with pytest.raises(safefetch.Refused) as refused:
        safefetch.fetch(url)
    assert not refused.value.temporary
    assert not resolver.lookups, "refused before DNS"


@pytest.mark.parametrize("host", ["evil.test", "meta.test", "mapped.test", "six.test", "127.0.0.1", "[::1]",
                                  "[::ffff:127.0.0.1]", "2130706433", "0x7f.1", "[fe80::1]", "0.0.0.0"])
def test_a_name_or_address_pointing_inside_is_refused(host: str, site: LocalSite) -> None:
    with pytest.raises(safefetch.PrivateAddress) as refused:
        safefetch.fetch(f"http://{host}:{site.port}/")
    assert refused.value.message == "The address points to a private network."
    assert not refused.value.temporary
    assert site.requests == []


@pytest.mark.parametrize("host", ["mixed.test", "mixed-loopback.test"])
def test_a_name_with_one_public_and_one_private_address_is_refused(host: str, site: LocalSite,
                                                                   loopback: Any) -> None:
    with pytest.raises(safefetch.PrivateAddress):
        safefetch.fetch(f"http://{host}:{site.port}/")
    assert site.requests == [], "no address of the name was tried"


def test_a_page_is_fetched_by_name_with_plain_headers(site: LocalSite, loopback: Any) -> None:
    site.routes["/page"] = Answer(headers=[("Content-Type", "text/html"), ("X-Served-By", "test")],
                                  body=[b"<h1>Hello</h1>"])
    result = safefetch.fetch(f"http://good.test:{site.port}/page?q=1#frag")
    assert (result.status, result.body, result.final_url) == (200, b"<h1>Hello</h1>",
                                                               f"http://good.test:{site.port}/page?q=1#frag")
    assert result.content_type == "text/html" and result.header("x-served-by") == "test"
    assert [(hop.address, hop.status) for hop in result.hops] == [("127.0.0.1", 200)]
    [seen] = site.requests
    assert seen.path == "/page?q=1", "the fragment stays here"
    assert seen.headers["Host"] == f"good.test:{site.port}"
    assert seen.headers["User-Agent"] == safefetch.USER_AGENT
    assert "Cookie" not in seen.headers and "Authorization" not in seen.headers
    assert result.finished_at >= result.started_at


def test_the_vetted_address_is_the_one_connected_to_so_a_second_dns_answer_changes_nothing(
        site: LocalSite, loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])

    class Rebinding(StubResolver):
        def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
            if host == "rebind.test":
                self.names["rebind.test"] = next(answers)
            return super().__call__(host, port, *args, **kwargs)

    stub = Rebinding({}).install(monkeypatch)
    site.routes["/"] = Answer(body=[b"ok"])
    result = safefetch.fetch(f"http://rebind.test:{site.port}/")
    assert result.body == b"ok" and result.hops[0].address == "127.0.0.1"
    assert stub.lookups["rebind.test"] == 1


def _redirect_then_forbid_loopback(settings: Any, location: str) -> Any:
    """A redirect served from loopback; from this moment loopback is forbidden again, as in production."""

    def answer(_request: SeenRequest) -> Answer:
        settings.VANGNET_FETCH_ALLOW_LOOPBACK = False
        return Answer(status=302, headers=[("Location", location)])

    return answer


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{port}/inside", "http://[::1]:{port}/inside", "http://localhost.:{port}/",
    "http://evil.test/admin", "http://meta.test/latest/meta-data/", "http://mapped.test/",
    "http://[::ffff:127.0.0.1]:{port}/", "http://[::ffff:a9fe:a9fe]/", "http://mixed.test/",
])
def test_every_redirect_hop_is_vetted(location: str, site: LocalSite, loopback: Any,
                                      resolver: StubResolver) -> None:
    resolver.names["localhost."] = ["127.0.0.1"]
    resolver.names["localhost"] = ["127.0.0.1"]
    site.routes["/start"] = _redirect_then_forbid_loopback(loopback, location.format(port=site.port))
    site.routes["/inside"] = Answer(body=[b"secret"])
    with pytest.raises(safefetch.PrivateAddress):
        safefetch.fetch(f"http://good.test:{site.port}/start")
    assert [r.path for r in site.requests] == ["/start"], "the forbidden hop was never requested"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://good.test/", "ftp://good.test/",
                                      "http://user:pw@good.test/"])
def test_a_redirect_to_another_scheme_or_with_credentials_is_refused(location: str, site: LocalSite,
                                                                      loopback: Any) -> None:
    site.routes["/start"] = Answer(status=301, headers=[("Location", location)])
    with pytest.raises(safefetch.Refused):
        safefetch.fetch(f"http://good.test:{site.port}/start")
    assert len(site.requests) == 1


def test_redirects_are_followed_and_recorded_up_to_the_limit(site: LocalSite, loopback: Any) -> None:
    site.routes["/a"] = Answer(status=301, headers=[("Location", "/b")])
    site.routes["/b"] = Answer(status=302, headers=[("Location", f"http://good.test:{site.port}/c")])
    site.routes["/c"] = Answer(body=[b"here"])
    result = safefetch.fetch(f"http://good.test:{site.port}/a", limits=Limits(max_redirects=2))
    assert result.final_url == f"http://good.test:{site.port}/c" and result.body == b"here"
    assert [(h.url.rsplit("/", 1)[1], h.status) for h in result.hops] == [("a", 301), ("b", 302), ("c", 200)]
    site.routes["/loop"] = Answer(status=302, headers=[("Location", "/loop")])
    with pytest.raises(safefetch.TooManyRedirects) as too_many:
        safefetch.fetch(f"http://good.test:{site.port}/loop", limits=Limits(max_redirects=3))
    assert too_many.value.message == "The page redirected more than 3 times."
    assert [r.path for r in site.requests].count("/loop") == 4


def test_cookies_a_site_sets_are_never_sent_back(site: LocalSite, loopback: Any) -> None:
    site.routes["/login"] = Answer(status=302, headers=[("Set-Cookie", "session=abc; Path=/"), ("Location", "/in")])
    site.routes["/in"] = Answer(body=[b"ok"])
    safefetch.fetch(f"http://good.test:{site.port}/login")
    assert [r.path for r in site.requests] == ["/login", "/in"]
    assert all("Cookie" not in r.headers for r in site.requests)


def test_a_body_over_the_limit_is_refused_declared_or_streamed(site: LocalSite, loopback: Any) -> None:
    limits = Limits(max_bytes=1024 * 1024)
    site.routes["/declared"] = Answer(headers=[("Content-Length", str(2 * 1024 * 1024))], body=[b"x" * 10])
    site.routes["/streamed"] = Answer(body=[b"x" * 65536] * 40)
    site.routes["/exact"] = Answer(body=[b"x" * 1024 * 1024])
    for path in ["/declared", "/streamed"]:
        with pytest.raises(safefetch.TooLarge) as too_large:
            safefetch.fetch(f"http://good.test:{site.port}{path}", limits=limits)
        assert too_large.value.message == "The page is larger than 1 MB."
        assert not too_large.value.temporary
    assert len(safefetch.fetch(f"http://good.test:{site.port}/exact", limits=limits).body) == 1024 * 1024


@pytest.mark.parametrize("answer", [Answer(body=[b"x"] * 100, pause=0.1),
                                    Answer(body=[b"late"], pause=0.1, drip_headers=True)],
                         ids=["slow body", "slow headers"])
def test_a_slow_page_is_cut_off_at_the_total_time(answer: Answer, site: LocalSite, loopback: Any) -> None:
    site.routes["/slow"] = answer
    start = time.monotonic()
    with pytest.raises(safefetch.TooSlow) as too_slow:
        safefetch.fetch(f"http://good.test:{site.port}/slow", limits=Limits(total_timeout=1.0))
    assert time.monotonic() - start < 2.0, "each byte came in time, but the whole did not"
    assert too_slow.value.message == "The page took longer than 1 seconds." and too_slow.value.temporary


def test_a_name_that_is_not_found_or_a_closed_port_may_work_later(loopback: Any) -> None:
    with pytest.raises(safefetch.Unreachable) as not_found:
        safefetch.fetch("http://nowhere.test/")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(safefetch.Unreachable) as closed:
        safefetch.fetch(f"http://good.test:{port}/")
    assert not_found.value.temporary and closed.value.temporary


def test_only_get_and_head_are_sent(site: LocalSite, loopback: Any) -> None:
    site.routes["/"] = Answer(body=[b"body"])
    assert safefetch.fetch(f"http://good.test:{site.port}/", method="HEAD").body == b""
    with pytest.raises(safefetch.Refused):
        safefetch.fetch(f"http://good.test:{site.port}/", method="POST")
    assert [r.method for r in site.requests] == ["HEAD"]


def test_the_connect_guard_stops_a_connection_outside_loopback_before_it_is_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.common.testing_network import OutsideConnection

    guard = forbid_outside_connections(monkeypatch)
    with pytest.raises(OutsideConnection):
        socket.create_connection(("10.0.0.1", 80), timeout=0.01)
    with socket.socket() as sock, pytest.raises(OutsideConnection):
        sock.connect(("169.254.169.254", 80))
    with socket.socket(socket.AF_INET6) as sock6, pytest.raises(OutsideConnection):
        sock6.connect_ex(("::ffff:10.0.0.1", 80))
    assert len(guard.refused) == 3
    with pytest.raises(AssertionError):
        guard.assert_clean()
    guard.refused.clear()


def test_messages_keep_their_english_id_and_show_in_the_reader_s_language(site: LocalSite, loopback: Any) -> None:
    site.routes["/big"] = Answer(headers=[("Content-Length", str(4 * 1024 * 1024))], body=[b"x"])
    with pytest.raises(safefetch.TooLarge) as too_large:
        safefetch.fetch(f"http://good.test:{site.port}/big", limits=Limits(max_bytes=3 * 1024 * 1024))
    assert too_large.value.msgid == "The page is larger than %(mb)s MB." and too_large.value.params == {"mb": "3"}
    with translation.override("nl"):
        assert too_large.value.message == "De pagina is groter dan 3 MB."


@pytest.fixture
def tls_site(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalSite, TestTLS]]:
    """An https site on 127.0.0.1 whose certificate names good.test, signed by a CA the fetcher is told to trust."""
    tls = TestTLS(tmp_path, ["good.test"])
    server = LocalSite(tls=tls.server_context()).start()
    monkeypatch.setattr(safefetch, "CA_CERTS", tls.ca_file)
    yield server, tls
    server.stop()


def test_https_goes_to_the_vetted_address_with_the_name_in_sni_host_and_certificate_check(
        tls_site: tuple[LocalSite, TestTLS], loopback: Any) -> None:
    server, tls = tls_site
    server.routes["/"] = Answer(body=[b"secure"])
    result = safefetch.fetch(server.url("/", host="good.test", scheme="https"))
    assert result.body == b"secure" and result.hops[0].address == "127.0.0.1"
    assert tls.server_names == ["good.test"], "SNI names the site, though the connection went to its address"
    assert server.requests[0].headers["Host"] == f"good.test:{server.port}"


def test_https_refuses_a_certificate_for_another_name_or_from_an_unknown_authority(
        tls_site: tuple[LocalSite, TestTLS], loopback: Any, resolver: StubResolver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, _tls = tls_site
    resolver.names["other.test"] = ["127.0.0.1"]
    with pytest.raises(safefetch.BadCertificate) as wrong_name:
        safefetch.fetch(server.url("/", host="other.test", scheme="https"))
    assert not wrong_name.value.temporary
    monkeypatch.setattr(safefetch, "CA_CERTS", None)  # the system's authorities do not know this one
    with pytest.raises(safefetch.BadCertificate):
        safefetch.fetch(server.url("/", host="good.test", scheme="https"))
    assert server.requests == []


# ---------------------------------------------------------------------------------------------
# post: a message to an address someone configured (platforms' webhooks)


class _PostReceiver:
    """An HTTP server on 127.0.0.1 that reads each POST's body and answers ``status`` (with ``location``)."""

    def __init__(self, status: int = 200, location: str = "", pause: float = 0.0) -> None:
        import http.server
        import threading

        receiver = self
        self.status, self.location, self.pause = status, location, pause
        self.received: list[tuple[str, dict[str, str], bytes]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append((self.path, dict(self.headers.items()), body))
                time.sleep(receiver.pause)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[_PostReceiver]:
    server = _PostReceiver()
    yield server
    server.stop()


def test_post_sends_the_body_and_headers_to_the_vetted_address(receiver: _PostReceiver, loopback: Any,
                                                               resolver: StubResolver) -> None:
    result = safefetch.post(f"http://good.test:{receiver.port}/hook?x=1", body=b'{"a":1}',
                            headers={"Content-Type": "application/json", "Vangnet-Signature": "t=1,v1=ab"})
    assert result.status == 200 and result.body == b"ok" and result.hops[0].address == "127.0.0.1"
    [(path, headers, body)] = receiver.received
    assert path == "/hook?x=1" and body == b'{"a":1}'
    assert headers["Content-Type"] == "application/json" and headers["Vangnet-Signature"] == "t=1,v1=ab"
    assert headers["Host"] == f"good.test:{receiver.port}" and headers["Content-Length"] == "7"
    assert "Cookie" not in headers and resolver.lookups["good.test"] == 1


@pytest.mark.parametrize("host", ["evil.test", "meta.test", "mapped.test", "127.0.0.1", "[::ffff:127.0.0.1]",
                                  "[fe80::1]", "169.254.169.254", "[::ffff:10.0.0.1]", "mixed.test"])
def test_post_to_an_address_inside_is_refused_without_a_packet(host: str, receiver: _PostReceiver) -> None:
    with pytest.raises(safefetch.PrivateAddress):
        safefetch.post(f"http://{host}:{receiver.port}/hook", body=b"{}", headers={})
    assert receiver.received == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://user:pw@good.test/", "ftp://good.test/"])
def test_post_refuses_other_schemes_and_credentials_before_any_lookup(url: str, resolver: StubResolver,
                                                                      loopback: Any) -> None:
    with pytest.raises(safefetch.Refused):
        safefetch.post(url, body=b"{}", headers={})
    assert not resolver.lookups


def test_post_never_follows_a_redirect(loopback: Any) -> None:
    target = _PostReceiver()
    bouncer = _PostReceiver(status=307, location=f"http://good.test:{target.port}/inside")
    try:
        result = safefetch.post(f"http://good.test:{bouncer.port}/hook", body=b"{}", headers={})
        assert result.status == 307 and len(result.hops) == 1
        assert len(bouncer.received) == 1 and target.received == []
    finally:
        bouncer.stop()
        target.stop()


@pytest.mark.parametrize("headers", [{"Host": "other.test"}, {"Content-Length": "1"}, {"X-A": "1\r\nX-B: 2"},
                                     {"Bad Name": "1"}, {"Transfer-Encoding": "chunked"}])
def test_post_refuses_headers_that_bend_the_request(headers: dict[str, str], receiver: _PostReceiver,
                                                    loopback: Any) -> None:
    with pytest.raises(safefetch.Refused):
        safefetch.post(f"http://good.test:{receiver.port}/hook", body=b"{}", headers=headers)
    assert receiver.received == []


def test_post_is_cut_off_at_the_total_time(loopback: Any) -> None:
    slow = _PostReceiver(pause=3.0)
    try:
        start = time.monotonic()
        with pytest.raises(safefetch.TooSlow):
            safefetch.post(f"http://good.test:{slow.port}/hook", body=b"{}", headers={},
                           limits=Limits(total_timeout=0.5))
        assert time.monotonic() - start < 1.5
    finally:
        slow.stop()
