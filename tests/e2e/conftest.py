"""Browser tests: Debian's Chromium driven by Playwright against Django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("VANGNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
NEUTRAL_SITE = "https://neutral.example/weather"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server: Any, settings: Any) -> Iterator[str]:
    # Live-server tests run on a database that is emptied after each test: seed it again.
    from vangnet.common.seed import seed_reference_data

    seed_reference_data()
    settings.VANGNET_QUICK_EXIT_URL = NEUTRAL_SITE
    settings.VANGNET_SITE_URL = live_server.url
    yield live_server.url
    # The test database is flushed after a live-server test; the append-only log allows
    # that only once its chain head is gone.
    from vangnet.audit.models import ChainHead

    ChainHead.objects.all().delete()


def _new_page(browser: Browser, *, javascript: bool = True, viewport: dict[str, int] | None = None,
              locale: str = "en-GB") -> Page:
    context = browser.new_context(viewport=viewport or PHONE, java_script_enabled=javascript, bypass_csp=False,
                                  is_mobile=viewport is None, has_touch=viewport is None, locale=locale)
    # The closed network has no neutral site: answer it locally so the quick exit can land.
    context.route("https://neutral.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<html><body><h1>Weather</h1></body></html>"))
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def phone_without_js(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, javascript=False)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport={"width": 1280, "height": 900}, locale="nl-NL")
    yield page
    page.context.close()


_AXE = Axe()


def assert_accessible(page: Page) -> None:
    """axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds no violation on the current page."""
    page.wait_for_load_state("load")  # a click returns once navigation starts; check the finished page
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
    violations = results.response["violations"]
    assert violations == [], f"{page.url}: " + "; ".join(
        f"{v['id']}: {v['help']} ({[(n['target'], n.get('failureSummary', '')) for n in v['nodes']][:3]})"
        for v in violations)
