"""Capturing "this URL at this moment": the page's bytes, a record of the exchange, a screenshot.

The worker fetches the page with the guarded fetcher (``vangnet.common.safefetch``), then
shows those same bytes to a headless Chromium (Debian's package, through Playwright's sync
API) for a full-page screenshot. The browser never reaches the network itself:

- every request it makes passes ``page.route("**/*")``: the page itself is answered with
  the bytes already fetched (so the screenshot shows what the body holds), and each
  image, style sheet or frame is fetched by the guarded fetcher, vetted like the page, and
  answered from it; a refused one is aborted and listed in the record;
- as a second wall, the browser's proxy is a loopback port that is bound but never
  listens, for every host including loopback, and its own name resolution finds nothing:
  a request that slipped past the route would fail instead of leaving the machine. So do
  Chromium's own background requests (its updater still calls home despite the flags that
  should stop it; a test sees them arrive at a recording proxy), which no route sees;
- JavaScript is off. A hostile page then runs no code in our worker's browser (most
  browser exploits need script), opens no WebSocket or beacon that routing would not see,
  cannot register a service worker, cannot loop forever or tell that it is being
  captured. The price: pages that draw themselves with script show less in the
  screenshot; the body and the record still hold exactly what the server sent;
- a fresh context without cookies or storage, no downloads, service workers blocked,
  navigation away from the page (a meta refresh) aborted, and one time limit for the
  whole screenshot. Chromium's sandbox stays on unless the worker runs as root, where
  Chromium cannot start with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from vangnet.common import safefetch
from vangnet.common.safefetch import FetchError, FetchResult, Limits

CHROMIUM = "/usr/bin/chromium"
# The page itself: what the handler asked for.
PAGE_LIMITS = Limits(max_bytes=20 * 1024 * 1024, connect_timeout=10.0, total_timeout=30.0, max_redirects=5)
# Each image, style sheet or frame the page needs, and all of them together.
RESOURCE_LIMITS = Limits(max_bytes=10 * 1024 * 1024, connect_timeout=5.0, total_timeout=15.0, max_redirects=5)
MAX_RESOURCES = 150
MAX_RESOURCE_BYTES = 50 * 1024 * 1024
SCREENSHOT_SECONDS = 60.0
VIEWPORT = {"width": 1280, "height": 800}
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium's own limit on one image is near 16384 pixels
BROWSER_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
# What the browser gets of a fetched answer: its type, never cookies, caching or redirects.
FORWARDED_HEADERS = frozenset({"content-type", "content-language"})


class ScreenshotFailed(Exception):
    """No screenshot could be made; the capture keeps its body and record all the same."""

    def __init__(self, message: Any, **params: Any) -> None:
        self.message_template = message
        self.params = params
        super().__init__(str(message) % params if params else str(message))

    @property
    def msgid(self) -> str:
        """The English text before its values are filled in (stored, translated when shown)."""
        with translation.override(None):
            return str(self.message_template)

    @property
    def english(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


@dataclass
class Screenshot:
    """A PNG of the whole page, and what the browser asked for while drawing it."""

    png: bytes
    complete: bool
    requests: int
    blocked: list[dict[str, str]] = field(default_factory=list)
    browser: str = ""


@contextmanager
def dead_end_proxy() -> Iterator[str]:
    """A loopback port that is bound but never listens: any connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _forwarded(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() in FORWARDED_HEADERS}


class _Router:
    """Answers every request of the browser: the page from the fetched bytes, the rest via the guard."""

    def __init__(self, page: FetchResult, deadline: float) -> None:
        self.page = page
        self.deadline = deadline
        self.page_served = False
        self.requests = 0
        self.resource_bytes = 0
        self.blocked: list[dict[str, str]] = []

    def _block(self, route: Any, url: str, reason: str) -> None:
        self.blocked.append({"url": url, "reason": reason})
        route.abort("blockedbyclient")

    def __call__(self, route: Any) -> None:
        request = route.request
        self.requests += 1
        if request.is_navigation_request() and request.frame.parent_frame is None:
            if self.page_served:  # a meta refresh or link away from the page: the capture is of the page
                self._block(route, request.url, "navigation")
                return
            self.page_served = True
            route.fulfill(status=self.page.status, headers=_forwarded(self.page.headers), body=self.page.body)
            return
        if request.method not in {"GET", "HEAD"}:
            self._block(route, request.url, "method")
            return
        remaining = self.deadline - time.monotonic()
        budget = MAX_RESOURCE_BYTES - self.resource_bytes
        if self.requests > MAX_RESOURCES or remaining < 1 or budget <= 0:
            self._block(route, request.url, "limit")
            return
        limits = Limits(max_bytes=min(RESOURCE_LIMITS.max_bytes, budget),
                        connect_timeout=RESOURCE_LIMITS.connect_timeout,
                        total_timeout=min(RESOURCE_LIMITS.total_timeout, remaining),
                        max_redirects=RESOURCE_LIMITS.max_redirects)
        try:
            result = safefetch.fetch(request.url, method=request.method, limits=limits)
        except FetchError as exc:
            self._block(route, request.url, exc.code)
            return
        self.resource_bytes += len(result.body)
        route.fulfill(status=result.status, headers=_forwarded(result.headers), body=result.body)


def take_screenshot(page: FetchResult, *, seconds: float = SCREENSHOT_SECONDS, proxy: str | None = None) -> Screenshot:
    """A full-page PNG of ``page`` as fetched, drawn by Chromium without network access of its own.

    ``proxy`` is where a request that escaped routing would go; by default a dead end. Tests
    give a recording server, to show that nothing arrives there.
    """
    if proxy is None:
        with dead_end_proxy() as dead_end:
            return take_screenshot(page, seconds=seconds, proxy=dead_end)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + seconds
    router = _Router(page, deadline)
    args = [*BROWSER_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args,
                                                 proxy={"server": proxy, "bypass": "<-loopback>"},
                                                 timeout=seconds * 1000)
            try:
                context = browser.new_context(java_script_enabled=False, accept_downloads=False,
                                              service_workers="block", viewport=VIEWPORT,  # type: ignore[arg-type]
                                              bypass_csp=False, ignore_https_errors=False)
                tab = context.new_page()
                tab.route("**/*", router)
                complete = True
                try:
                    tab.goto(page.final_url, wait_until="load", timeout=max(deadline - time.monotonic(), 1) * 1000)
                except PlaywrightTimeout:
                    complete = False  # draw what arrived in time; the record says it was not all
                height = min(MAX_SCREENSHOT_HEIGHT, _page_height(tab))
                png = tab.screenshot(type="png", full_page=True, animations="disabled",
                                     clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height},
                                     timeout=max(deadline - time.monotonic(), 5) * 1000)
                return Screenshot(png=png, complete=complete, requests=router.requests, blocked=router.blocked,
                                  browser=f"Chromium {browser.version}")
            finally:
                browser.close()
    except PlaywrightTimeout as exc:
        raise ScreenshotFailed(_("The page took longer than %(seconds)d seconds to show."),
                               seconds=round(seconds)) from exc
    except PlaywrightError as exc:
        raise ScreenshotFailed(_("The browser could not show the page.")) from exc


def _page_height(tab: Any) -> int:
    """The page's height in pixels, read without script (the page's own JavaScript is off)."""
    client = tab.context.new_cdp_session(tab)
    try:
        metrics = client.send("Page.getLayoutMetrics")
    finally:
        client.detach()
    size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
    return max(int(size.get("height", VIEWPORT["height"])), 1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_record(*, capture_id: int, url: str, page: FetchResult, body_stored: bool, body_note: str,
                 screenshot: Screenshot | None, screenshot_note: str) -> bytes:
    """The JSON record of one capture: what was asked, what answered, when, and the hashes that tie it together.

    Kept as a text evidence item beside the body and the screenshot. Times are UTC (ISO 8601).
    """
    record: dict[str, Any] = {
        "format": "vangnet-capture-record/1",
        "capture": capture_id,
        "requested_url": url,
        "final_url": page.final_url,
        "status": page.status,
        "headers": [[name, value] for name, value in page.headers],
        "redirects": [{"url": hop.url, "address": hop.address, "status": hop.status} for hop in page.hops],
        "fetched_at": page.started_at.astimezone(UTC).isoformat(),
        "finished_at": page.finished_at.astimezone(UTC).isoformat(),
        "elapsed_seconds": page.elapsed_seconds,
        "user_agent": safefetch.USER_AGENT,
        "body": {"sha256": sha256(page.body), "size": len(page.body), "content_type": page.content_type,
                 "stored": body_stored, "note": body_note},
        "screenshot": None if screenshot is None else {
            "sha256": sha256(screenshot.png), "size": len(screenshot.png), "browser": screenshot.browser,
            "javascript": False, "viewport": VIEWPORT, "complete": screenshot.complete,
            "requests": screenshot.requests, "blocked_requests": screenshot.blocked},
        "screenshot_note": screenshot_note,
    }
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode()
