"""Staff pages at 320 px with long input: the case page with evidence, captures and notices never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from vangnet.audit.services import Actor
from vangnet.directory.models import Provider
from vangnet.directory.services import add_provider_domain, save_provider
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence, request_capture
from vangnet.notices import services

from .conftest import _new_page
from .test_handler_flow import login

pytestmark = pytest.mark.django_db(transaction=True)

LONG_URL = "https://social.example/" + "p/" + "x" * 380
LONG_WORD = "Onvoorstelbaarlangwoord" * 15


@pytest.fixture
def narrow(browser: Browser) -> Page:
    page = _new_page(browser, viewport={"width": 320, "height": 700}, locale="nl-NL")
    yield page
    page.context.close()


def _fits(page: Page, where: str) -> None:
    page.wait_for_load_state("load")
    scroll, width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= width, f"{where}: the page scrolls sideways ({scroll} > {width} px)"


def test_the_case_page_fits_320_px_with_long_urls_words_and_notices(narrow: Page, site: str, submit, case_owner,
                                                                   supervisor) -> None:
    provider = save_provider(provider=Provider(slug="social", name="Social " + "Platform" * 8,
                                               contact_email="dsa@social.example.org"), actor=Actor.system("t"))
    add_provider_domain(provider=provider, domain="social.example", actor=Actor.system("t"))
    report = submit(urls=LONG_URL, description=LONG_WORD).report
    add_evidence(case=report.case, report=report, data=(LONG_WORD + "\n").encode(), actor=Actor.reporter(),
                 source=Source.REPORTER, original_name=LONG_WORD + ".txt")
    request_capture(case=report.case, url=LONG_URL, actor=Actor.staff(supervisor))
    services.draft_notices(case=report.case, urls=[LONG_URL], explanation=LONG_WORD + " is illegal content here.",
                           grounds=[], actor=Actor.staff(supervisor))
    login(narrow, site, "carla")
    _fits(narrow, "queue")
    narrow.goto(f"{site}/staff/cases/{report.case_id}/")
    _fits(narrow, "case page")
    for panel in narrow.locator("details > summary").all():
        if panel.is_visible():
            panel.click()
    _fits(narrow, "case page with every panel open")
    narrow.goto(f"{site}/staff/providers/performance/")
    _fits(narrow, "provider performance")
