"""The reporter's path on a phone: report, receipt, follow-up, withdraw, quick exit."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from vangnet.cases.models import Message
from vangnet.intake.models import Report

from .conftest import NEUTRAL_SITE, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "nl": {"start": "Melding doen", "no": "Nee", "yes": "Ja", "victim": "Het is mij overkomen",
           "form": "Doxing (persoonsgegevens verspreiden)", "adult": "18 of ouder", "email": "Per e-mail",
           "consent": "Ik ga ermee akkoord", "next": "Volgende", "send": "Melding versturen",
           "received": "We hebben je melding ontvangen", "open": "Mijn melding openen",
           "add": "Toevoegen aan mijn melding", "added": "We hebben dit aan je melding toegevoegd",
           "skip": "Deze stap overslaan"},
    "en": {"start": "Make a report", "no": "No", "yes": "Yes", "victim": "It happened to me",
           "form": "Doxing", "adult": "18 or older", "email": "By e-mail",
           "consent": "I agree that vangnet", "next": "Next", "send": "Send report",
           "received": "We have received your report", "open": "Open my report",
           "add": "Add to my report", "added": "We have added this to your report", "skip": "Skip this step"},
}


def report_through_the_flow(page: Page, site: str, lang: str, *, danger: bool = False, check_a11y: bool = True,
                            email: str = "", evidence_step: Callable[[Page], None] | None = None) -> tuple[str, str]:
    """Report as a reporter would; ``evidence_step`` acts on the optional evidence step (else it is skipped)
    and ends by going on to the receipt."""
    t = TEXT[lang]
    page.goto(f"{site}/{lang}/")
    if check_a11y:
        assert_accessible(page)
    page.get_by_role("link", name=t["start"], exact=True).first.click()

    def next_step() -> None:
        if check_a11y:
            assert_accessible(page)
        page.get_by_role("button", name=t["next"]).click()

    page.get_by_label(t["yes"] if danger else t["no"], exact=True).check()
    next_step()
    if danger:
        expect(page.get_by_role("alert")).to_contain_text("112")
    page.get_by_label(t["victim"]).check()
    next_step()
    page.get_by_label(t["form"], exact=True).check()
    page.locator("textarea").fill("Someone posted my address and phone number.")
    next_step()
    page.locator("textarea").fill("https://forum.example/thread/42?utm_source=share")
    next_step()
    page.get_by_label(t["adult"]).check()
    next_step()
    next_step()  # the optional questions stay unanswered
    if email:
        page.get_by_label(t["email"]).check()
        page.locator("input[type=email]").fill(email)
    next_step()
    page.get_by_label(t["consent"]).check()
    page.locator("select").select_option("helpwanted")
    if check_a11y:
        assert_accessible(page)
    page.get_by_role("button", name=t["send"]).click()
    expect(page.locator("[data-report-sent]")).to_be_visible()  # stored; the optional evidence step
    if check_a11y:
        assert_accessible(page)
    if evidence_step is not None:
        evidence_step(page)
    else:
        page.get_by_role("link", name=t["skip"]).click()
    expect(page.locator("h1")).to_contain_text(t["received"])
    if check_a11y:
        assert_accessible(page)
    return page.locator("[data-receipt-code]").inner_text(), page.locator("[data-receipt-secret]").inner_text()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_report_on_a_phone_with_accessibility_checks(phone: Page, site: str, lang: str) -> None:
    code, secret = report_through_the_flow(phone, site, lang)
    report = Report.objects.get(receipt_code=code)
    assert report.language == lang
    assert list(report.urls.values_list("normalized", flat=True)) == ["https://forum.example/thread/42"]
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", secret)
    phone.reload()
    expect(phone.locator("[data-receipt-secret]")).to_have_count(0)


def test_danger_shows_112_and_the_report_is_urgent(phone: Page, site: str) -> None:
    code, _secret = report_through_the_flow(phone, site, "en", danger=True, check_a11y=False)
    expect(phone.get_by_role("alert")).to_contain_text("112")
    report = Report.objects.get(receipt_code=code)
    assert report.immediate_danger and report.case.priority == 0


def test_report_works_without_javascript(phone_without_js: Page, site: str) -> None:
    code, _secret = report_through_the_flow(phone_without_js, site, "nl", check_a11y=False)
    assert Report.objects.filter(receipt_code=code).exists()


def test_quick_exit_leaves_and_the_report_page_is_not_in_history(phone: Page, site: str) -> None:
    phone.goto(f"{site}/nl/")
    phone.goto(f"{site}/nl/report/")
    phone.locator("[data-quick-exit]").click()
    phone.wait_for_url(NEUTRAL_SITE)
    phone.go_back()
    assert "/report/" not in phone.url


def test_escape_twice_leaves_and_closes_the_open_report(phone: Page, site: str, submit) -> None:
    submitted = submit()
    phone.goto(f"{site}/en/followup/")
    phone.get_by_label("Receipt code").fill(submitted.report.receipt_code)
    phone.get_by_label("Secret").fill(submitted.secret)
    phone.get_by_role("button", name="Open my report").click()
    expect(phone.locator("[data-report-status]")).to_be_visible()
    phone.wait_for_load_state("load")  # the quick-exit script runs once the page has loaded
    session_key = next(c["value"] for c in phone.context.cookies() if c["name"] == "sessionid")
    phone.keyboard.press("Escape")
    phone.keyboard.press("Escape")
    phone.wait_for_url(NEUTRAL_SITE)
    # The session is forgotten by a request that finishes in the background: wait for it.
    deadline = time.monotonic() + 10
    while Session.objects.filter(session_key=session_key).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Session.objects.filter(session_key=session_key).exists()
    phone.goto(f"{site}/en/followup/report/")
    assert phone.url.endswith("/en/followup/"), "whoever picks up the phone next finds no open report"


def test_follow_up_messages_additions_and_withdrawal(phone: Page, site: str, supervisor) -> None:
    code, secret = report_through_the_flow(phone, site, "en", check_a11y=False)
    report = Report.objects.get(receipt_code=code)
    Message.objects.create(case=report.case, report=report, author=supervisor, text="We asked the forum to remove it.")
    t = TEXT["en"]
    phone.goto(f"{site}/en/followup/")
    assert_accessible(phone)
    phone.get_by_label("Receipt code").fill(code.lower().replace("-", " "))
    phone.get_by_label("Secret").fill(secret)
    phone.get_by_role("button", name=t["open"]).click()
    expect(phone.locator("[data-message]")).to_contain_text("We asked the forum to remove it.")
    expect(phone.locator("[data-report-status]")).to_contain_text("received your report")
    expect(phone.locator("[data-sharing]")).to_contain_text("Helpwanted")
    assert_accessible(phone)
    phone.get_by_label("What would you like to add?").fill("He posted it again on another forum.")
    phone.get_by_role("button", name=t["add"]).click()
    expect(phone.get_by_role("status")).to_contain_text(t["added"])
    assert report.additions.get().text == "He posted it again on another forum."
    phone.get_by_role("link", name="Withdraw my report and erase my personal data").click()
    assert_accessible(phone)
    phone.get_by_label("Yes, withdraw my report").check()
    phone.get_by_role("button", name="Withdraw my report").click()
    expect(phone.locator("[data-withdrawn]")).to_be_visible()
    assert_accessible(phone)
    report.refresh_from_db()
    assert report.withdrawn_at is not None and report.description == ""


def test_wrong_secret_gets_a_clear_message(phone: Page, site: str, submit) -> None:
    submitted = submit()
    phone.goto(f"{site}/nl/followup/")
    phone.get_by_label("Ontvangstcode").fill(submitted.report.receipt_code)
    phone.get_by_label("Geheime code").fill("aaaa-bbbb-cccc-dddd")
    phone.get_by_role("button", name="Mijn melding openen").click()
    expect(phone.get_by_role("alert")).to_contain_text("horen niet bij elkaar")
    assert_accessible(phone)


@pytest.mark.parametrize("path", ["/nl/help/", "/en/help/", "/nl/forms/sextortion/", "/en/forms/stalkerware/",
                                  "/nl/info/digital-safety/", "/en/info/saving-evidence/", "/en/report/received/"])
def test_information_pages_are_accessible(phone: Page, site: str, path: str) -> None:
    phone.goto(site + path)
    expect(phone.locator("[data-quick-exit]")).to_be_visible()
    assert_accessible(phone)
