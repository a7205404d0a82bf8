"""The reporter's safety on a small phone: nothing scrolls sideways, Back after a quick exit
shows and sends nothing, the language switch keeps her place, phone-only hints."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from vangnet.intake.models import Report

from .conftest import NEUTRAL_SITE, _new_page

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_PHONE = {"width": 320, "height": 640}
LONG_URL = "https://forum.example/" + "a" * 250 + "?thread=" + "b" * 150
LONG_WORD = "Ontzettendlangwoordzonderspaties" * 12


def assert_fits(page: Page, where: str) -> None:
    """No sideways scrolling, and the whole quick-exit button is on screen."""
    page.wait_for_load_state("load")
    box = page.evaluate("""() => {
        const exit = document.querySelector('[data-quick-exit]').getBoundingClientRect();
        return {scroll: document.documentElement.scrollWidth, width: window.innerWidth,
                left: exit.left, right: exit.right, top: exit.top, bottom: exit.bottom,
                brand: document.querySelector('.brand').getBoundingClientRect().right};
    }""")
    assert box["scroll"] <= box["width"], f"{where}: the page scrolls sideways ({box['scroll']} > {box['width']} px)"
    assert 0 <= box["left"] and box["right"] <= box["width"] and box["top"] >= 0, f"{where}: quick exit off screen"
    assert box["brand"] <= box["left"], f"{where}: the quick exit covers the site's name"


@pytest.fixture
def small_phone(browser: Browser) -> Page:
    page = _new_page(browser, viewport=SMALL_PHONE)
    yield page
    page.context.close()


def test_no_reporter_page_scrolls_sideways_at_320_px_whatever_she_types(small_phone: Page, site: str) -> None:
    page = small_phone
    for path in ("/en/", "/nl/", "/en/help/", "/en/followup/", "/en/info/digital-safety/", "/en/no-such-page/"):
        page.goto(site + path)
        assert_fits(page, path)
    page.goto(f"{site}/en/report/")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("It happened to me").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Doxing", exact=True).check()
    page.locator("textarea").fill(LONG_WORD + " " + LONG_URL)
    page.get_by_role("button", name="Next").click()
    page.locator("textarea").fill(LONG_URL + "\n" + "not-a-web-address-" * 20)
    page.get_by_label("Platform, website or app (optional)").fill(LONG_WORD)
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".error").first).to_be_visible()
    assert_fits(page, "a step with errors about long input")
    page.locator("textarea").fill(LONG_URL)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("18 or older").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("By e-mail").check()
    page.locator("input[type=email]").fill("a" * 60 + "@" + "b" * 60 + ".example")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("I agree that vangnet").check()
    assert_fits(page, "consent step")
    page.get_by_role("button", name="Send report").click()
    assert_fits(page, "evidence step")
    page.get_by_role("link", name="Skip this step").click()
    assert_fits(page, "receipt")
    code = page.locator("[data-receipt-code]").inner_text()
    secret = page.locator("[data-receipt-secret]").inner_text()
    page.goto(f"{site}/en/followup/")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_label("Secret").fill(secret)
    page.get_by_role("button", name="Open my report").click()
    page.get_by_label("What would you like to add?").fill(LONG_WORD + LONG_URL)
    page.get_by_role("button", name="Add to my report").click()
    expect(page.locator("li code").first).to_contain_text("forum.example")
    expect(page.locator(".addition")).to_contain_text(LONG_WORD[:40])
    assert_fits(page, "follow-up page with a long URL, word and addition")
    page.get_by_role("link", name="Withdraw my report and erase my personal data").click()
    assert_fits(page, "withdraw page")


def test_back_after_quick_exit_shows_nothing_of_her_report_and_sends_nothing(phone: Page, site: str) -> None:
    posts: list[str] = []
    phone.goto(f"{site}/en/")
    phone.get_by_role("link", name="Make a report", exact=True).first.click()
    phone.get_by_label("No", exact=True).check()
    phone.get_by_role("button", name="Next").click()
    phone.get_by_label("I am a parent or guardian").check()
    phone.get_by_role("button", name="Next").click()
    phone.get_by_label("Doxing", exact=True).check()
    phone.locator("textarea").fill("Secret story about my daughter")
    phone.get_by_role("button", name="Next").click()
    expect(phone.get_by_role("heading", name="Where it happened")).to_be_visible()
    phone.wait_for_load_state("load")
    phone.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    phone.locator("[data-quick-exit]").click()
    phone.wait_for_url(NEUTRAL_SITE)
    phone.wait_for_timeout(300)  # the background request that forgets the session
    posts.clear()
    for _ in range(4):
        phone.go_back()
        phone.wait_for_load_state("load")
        if phone.url.startswith(site):
            content = phone.content()
            assert "Secret story" not in content
            checked = phone.locator("input:checked").evaluate_all("els => els.map(e => e.name + '=' + e.value)")
            assert checked == [], f"an old answer shows on {phone.url}: {checked}"
    assert posts == [], f"going back sent a form again: {posts}"
    assert not Report.objects.exists()


def test_the_language_switch_keeps_the_step_and_her_answers(phone_without_js: Page, site: str) -> None:
    page = phone_without_js
    page.goto(f"{site}/en/report/")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("link", name="Start over and erase my answers").click()
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("I saw it happen to someone else").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Nederlands").click()
    expect(page.get_by_role("heading", name="Wat er gebeurde")).to_be_visible()
    assert "/nl/report/" in page.url
    page.get_by_role("button", name="Terug").click()
    expect(page.get_by_label("Ik zag het bij iemand anders gebeuren")).to_be_checked()
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Yes", exact=True)).to_be_checked()


def _emulate_touch_phone(page: Page) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setEmulatedMedia", {"features": [{"name": "pointer", "value": "coarse"},
                                                             {"name": "hover", "value": "none"}]})


def test_the_escape_tip_shows_only_where_there_is_a_keyboard(phone: Page, desktop: Page, site: str) -> None:
    _emulate_touch_phone(phone)
    phone.goto(f"{site}/en/")
    expect(phone.get_by_text("press Esc twice")).to_be_hidden()
    desktop.goto(f"{site}/nl/")
    expect(desktop.get_by_text("druk twee keer op Esc")).to_be_visible()


def test_a_checkbox_keeps_its_size_and_sits_beside_its_label(small_phone: Page, site: str) -> None:
    page = small_phone
    page.goto(f"{site}/en/report/")
    for step in ("No", "It happened to me"):
        page.get_by_label(step, exact=True).check()
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    page.wait_for_load_state("load")
    boxes = page.evaluate("""() => [...document.querySelectorAll('.option')].map(o => {
        const input = o.querySelector('input').getBoundingClientRect();
        const label = o.querySelector('label').getBoundingClientRect();
        return {w: input.width, h: input.height, gap: label.left - input.right, top: label.top - input.top};
    })""")
    assert boxes and all(b["w"] == boxes[0]["w"] == b["h"] for b in boxes), boxes
    assert all(0 < b["gap"] < 20 and abs(b["top"]) < 8 for b in boxes), boxes
