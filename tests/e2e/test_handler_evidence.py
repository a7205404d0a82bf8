"""A handler looks at evidence: hidden until chosen, blurred until chosen again; every look is logged."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence

from .conftest import assert_accessible
from .test_handler_flow import login

pytestmark = pytest.mark.django_db(transaction=True)


def _photo_with_location() -> bytes:
    image = Image.radial_gradient("L").resize((240, 160)).convert("RGB")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _looks() -> int:
    return Event.objects.filter(event_type="evidence.viewed").count()


def test_a_handler_chooses_to_see_an_image_then_downloads_a_pdf(desktop: Page, site: str, submit, case_owner,
                                                                tmp_path) -> None:
    report = submit(urls="https://social.example/p/9").report
    image = add_evidence(case=report.case, report=report, data=_photo_with_location(), actor=Actor.reporter(),
                         source=Source.REPORTER)
    pdf = add_evidence(case=report.case, report=report, data=b"%PDF-1.4\n%%EOF\n", actor=Actor.reporter(),
                       source=Source.REPORTER)
    login(desktop, site, "carla")
    desktop.goto(f"{site}/staff/cases/{report.case_id}/")
    item = desktop.locator(f'[data-evidence="{image.pk}"]')
    expect(item.locator("[data-location-warning]")).to_be_visible()
    assert_accessible(desktop)
    desktop.wait_for_timeout(300)
    assert _looks() == 0, "the image is not fetched until the handler opens it"

    item.locator("[data-evidence-image] > summary").click()
    picture = item.locator("[data-evidence-image] img")
    expect(picture).to_be_visible()
    desktop.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert "blur" in picture.evaluate("img => getComputedStyle(img).filter"), "first seen blurred"
    assert _looks() == 1
    item.get_by_text("Toon scherp").click()
    expect(picture).to_have_css("filter", "none")
    assert_accessible(desktop)

    other = desktop.locator(f'[data-evidence="{pdf.pk}"]')
    assert other.locator("img").count() == 0 and other.get_by_role("link", name="Lees de tekst").count() == 0
    with desktop.expect_download() as download:
        other.locator("[data-download]").click()
    saved = tmp_path / "saved.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == b"%PDF-1.4\n%%EOF\n"
    assert Event.objects.filter(event_type="evidence.downloaded", subject_id=str(pdf.pk)).count() == 1

    desktop.reload()
    custody = desktop.locator(f'[data-evidence="{image.pk}"] [data-custody]')
    custody.locator("summary").click()
    expect(custody.locator('[data-custody-event="evidence.viewed"]')).to_contain_text("carla")
