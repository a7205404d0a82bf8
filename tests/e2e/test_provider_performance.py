"""Provider performance on a 320 px phone: the chart loads under the CSP and fits; no script is needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from vangnet.notices.choices import Outcome
from vangnet.notices.tests.test_performance import _notice, _provider

from .conftest import _new_page, assert_accessible
from .test_handler_flow import login

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_320 = {"width": 320, "height": 640}


@pytest.fixture
def phone_320(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport=PHONE_320, locale="nl-NL")
    yield page
    page.context.close()


@pytest.fixture
def phone_320_without_js(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport=PHONE_320, javascript=False, locale="nl-NL")
    yield page
    page.context.close()


@pytest.fixture
def notices(submit, case_owner) -> None:  # type: ignore[no-untyped-def]
    case = submit().report.case
    now = timezone.now()
    fast = _provider("fast", "A provider with quite a long name (example)")
    slow = _provider("slow", "Slow (example)")
    for hours in (1, 2, 5):
        _notice(case, fast, sent=now - timedelta(days=3), outcome=Outcome.REMOVED, took=timedelta(hours=hours))
    _notice(case, slow, sent=now - timedelta(days=10), outcome=Outcome.DISABLED, took=timedelta(days=6))
    _notice(case, slow, sent=now - timedelta(days=8), deadline=now - timedelta(days=1))
    _notice(case, slow, sent=now - timedelta(days=200), outcome=Outcome.REMOVED, took=timedelta(days=2))


def test_at_320_px_the_chart_loads_and_nothing_scrolls_sideways(phone_320: Page, site: str, notices: None) -> None:
    page = phone_320
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    login(page, site, "carla")
    page.get_by_role("navigation", name="Pagina's voor medewerkers").get_by_role(
        "link", name="Prestaties van aanbieders").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prestaties van aanbieders")
    chart = page.locator("[data-chart] img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    assert "Staafdiagram" in (chart.get_attribute("alt") or "")
    box = page.evaluate("""() => ({scroll: document.documentElement.scrollWidth, width: window.innerWidth,
        chart: document.querySelector('[data-chart] img').getBoundingClientRect().right})""")
    assert box["scroll"] <= box["width"], f"the page scrolls sideways ({box['scroll']} > {box['width']} px)"
    assert box["chart"] <= box["width"]
    expect(page.locator("tr[data-provider]")).to_have_count(2)
    assert_accessible(page)
    assert blocked == []


def test_the_period_filter_works_without_javascript(phone_320_without_js: Page, site: str, notices: None) -> None:
    page = phone_320_without_js
    login(page, site, "carla")
    page.goto(f"{site}/staff/providers/performance/")
    slow = page.locator("tr[data-provider]", has_text="Slow (example)")
    expect(slow.locator("td").first).to_have_text("2")
    page.get_by_label("Meldingen verzonden in").select_option("all")
    page.get_by_role("button", name="Tonen").click()
    expect(slow.locator("td").first).to_have_text("3")
    assert "period=all" in page.url
