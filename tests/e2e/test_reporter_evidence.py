"""A reporter on a phone adds evidence: in the optional step after her report is stored, and later on the
follow-up page. Accessible (axe), nothing scrolls sideways, the quick exit stays in view, with and without
JavaScript (axe needs it, so it checks the pages with it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.tests.corpus import elf_executable, screenshot_png
from vangnet.intake.models import Report

from .conftest import _new_page, assert_accessible
from .test_reporter_flow import report_through_the_flow
from .test_reporter_safety import assert_fits

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_360 = {"width": 360, "height": 740}
PHONE_320 = {"width": 320, "height": 640}


@pytest.fixture
def vault(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


@pytest.fixture
def phone_360(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport=PHONE_360)
    yield page
    page.context.close()


@pytest.fixture
def phone_320(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport=PHONE_320, locale="nl-NL")
    yield page
    page.context.close()


def _file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_a_reporter_adds_a_screenshot_in_the_evidence_step(phone_360: Page, site: str, vault: Path) -> None:
    page = phone_360

    def add_a_screenshot(page: Page) -> None:
        expect(page.get_by_role("heading", name="Add evidence (optional)")).to_be_visible()
        expect(page.locator("[data-quick-exit]")).to_be_in_viewport()
        assert_fits(page, "evidence step")
        screenshot = _file("Screenshot_2025-03-12.png", screenshot_png(), "image/png")
        page.get_by_label("Files", exact=True).set_input_files(screenshot)
        page.get_by_role("button", name="Add these files").click()
        expect(page.get_by_role("status")).to_contain_text("We have added this to your report")
        expect(page.locator("[data-evidence-item]")).to_have_count(1)
        expect(page.locator("[data-evidence-item]")).to_contain_text("Screenshot_2025-03-12.png")
        expect(page.locator("[data-evidence-item]")).to_contain_text("Image or screenshot")
        assert_accessible(page)
        assert_fits(page, "evidence step with a file listed")
        expect(page.locator("[data-quick-exit]")).to_be_in_viewport()
        page.get_by_role("link", name="Done: show my receipt code").click()

    code, _secret = report_through_the_flow(page, site, "en", evidence_step=add_a_screenshot)
    expect(page.locator("[data-receipt-code]")).to_have_text(code)
    assert_fits(page, "receipt")
    item = EvidenceItem.objects.get()
    report = Report.objects.get(receipt_code=code)
    assert (item.report_id, item.case_id, item.kind, item.source) == (report.pk, report.case_id, "image", "reporter")
    assert len([p for p in vault.rglob("*") if p.is_file()]) == 1


def test_at_320_px_a_refused_file_is_named_and_more_can_follow(phone_320: Page, site: str, vault: Path) -> None:
    page = phone_320

    def try_a_program_then_a_chat(page: Page) -> None:
        page.get_by_label("Bestanden", exact=True).set_input_files([
            _file("vakantie.jpg", elf_executable(), "image/jpeg"),
            _file("WhatsApp Chat met Hem.txt", "[21:14] Hij: ik weet waar je woont".encode(), "text/plain")])
        page.get_by_role("button", name="Deze bestanden toevoegen").click()
        refused = page.get_by_role("alert")
        expect(refused).to_contain_text("vakantie.jpg")
        expect(refused).to_contain_text("Dit soort bestand kan niet worden toegevoegd")
        expect(page.locator("[data-evidence-item]")).to_have_count(1)
        expect(page.locator("[data-evidence-item]")).to_contain_text("WhatsApp Chat met Hem.txt")
        assert_accessible(page)
        assert_fits(page, "evidence step with a refused file at 320 px")
        page.get_by_role("link", name="Klaar: toon mijn ontvangstcode").click()

    code, secret = report_through_the_flow(page, site, "nl", check_a11y=False, evidence_step=try_a_program_then_a_chat)
    assert_accessible(page)
    assert [i.kind for i in EvidenceItem.objects.all()] == ["text"]
    page.goto(f"{site}/nl/followup/")
    page.get_by_label("Ontvangstcode").fill(code)
    page.get_by_label("Geheime code").fill(secret)
    page.get_by_role("button", name="Mijn melding openen").click()
    expect(page.locator("[data-evidence-item]")).to_contain_text("WhatsApp Chat met Hem.txt")
    page.get_by_label("Bestanden", exact=True).set_input_files(_file("screenshot.png", screenshot_png(), "image/png"))
    page.get_by_role("button", name="Deze bestanden toevoegen").click()
    expect(page.locator("[data-evidence-item]")).to_have_count(2)
    assert_accessible(page)
    assert_fits(page, "follow-up page with two files at 320 px")
    assert EvidenceItem.objects.count() == 2


def test_adding_files_works_without_javascript(phone_without_js: Page, site: str, vault: Path) -> None:
    def add_a_screenshot(page: Page) -> None:
        page.get_by_label("Files", exact=True).set_input_files(_file("screenshot.png", screenshot_png(), "image/png"))
        page.get_by_role("button", name="Add these files").click()
        expect(page.locator("[data-evidence-item]")).to_contain_text("screenshot.png")
        page.get_by_role("link", name="Done: show my receipt code").click()

    report_through_the_flow(phone_without_js, site, "en", check_a11y=False, evidence_step=add_a_screenshot)
    assert EvidenceItem.objects.get().kind == "image"
