"""The handler's path from the queue to a referral, in a desktop browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from vangnet.cases.models import Case, Referral

from .conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def login(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/staff/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("table.queue")).to_be_visible()


def action(page: Page, name: str):
    """Fold open one action on the case page and return its form."""
    page.locator(f'details[data-action-panel="{name}"] > summary').click()
    return page.locator(f'form[data-action="{name}"]')


def test_from_queue_to_referral(desktop: Page, site: str, submit, supervisor, case_owner) -> None:
    urgent = submit(immediate_danger="yes", urls="https://social.example/p/1", share_with="veilig-thuis").report
    submit(forms=["other"], relationship="", urls="https://other.example/x", share_with="")
    login(desktop, site, "sanne")
    rows = desktop.locator("tr[data-case]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-case", urgent.case.reference)
    assert_accessible(desktop)

    rows.first.get_by_role("link").click()
    expect(desktop.locator("[data-priority]")).to_contain_text("P0")
    expect(desktop.locator("[data-triage]")).to_contain_text("immediate_danger = yes")
    assert_accessible(desktop)

    assign = action(desktop, "assign")
    assign.get_by_label("Regiehouder").select_option(label="carla")
    assign.get_by_role("button", name="Toewijzen").click()
    expect(desktop.locator("[data-owner]")).to_have_text("carla")

    status = action(desktop, "status")
    status.get_by_label("Nieuwe status").select_option("in_progress")
    status.get_by_label("Reden").fill("Called the reporter back")
    status.get_by_role("button", name="Status wijzigen").click()
    expect(desktop.locator("[data-status]")).to_have_text("In behandeling")

    note = action(desktop, "note")
    note.get_by_label("Interne notitie").fill("Police informed.")
    note.get_by_role("button", name="Notitie toevoegen").click()
    expect(desktop.get_by_text("Police informed.")).to_be_visible()

    message = action(desktop, "message")
    message.get_by_label("Bericht").fill("We are working on it.")
    message.get_by_role("button", name="Bericht versturen").click()
    expect(desktop.get_by_role("status")).to_contain_text("Bericht verstuurd")

    refer = action(desktop, "refer")
    refer.get_by_label("Overdrachtssamenvatting").fill("Ex-partner threatens and posts her address.")
    refer.get_by_role("button", name="Doorverwijzen").click()
    expect(desktop.locator("[data-referral]")).to_contain_text("Veilig Thuis")
    expect(desktop.locator("[data-status]")).to_have_text("Doorverwezen")
    assert_accessible(desktop)

    timeline = desktop.locator("[data-timeline] li")
    events = [timeline.nth(i).get_attribute("data-event") for i in range(timeline.count())]
    for expected in ["case.created", "case.triaged", "case.owner_assigned", "case.status_changed",
                     "case.note_added", "case.message_sent", "case.referred"]:
        assert expected in events
    case = Case.objects.get(pk=urgent.case_id)
    assert case.owner.username == "carla" and case.status == "referred"
    assert Referral.objects.get(case=case).organisation.slug == "veilig-thuis"


def test_a_handler_of_another_organisation_sees_nothing(desktop: Page, site: str, submit, outsider) -> None:
    case = submit().report.case
    login(desktop, site, "olga")
    expect(desktop.locator("tr[data-case]")).to_have_count(0)
    response = desktop.goto(f"{site}/staff/cases/{case.pk}/")
    assert response.status == 404


def test_status_owner_next_steps_and_actions_come_before_the_reports(desktop: Page, phone: Page, site: str, submit,
                                                                     supervisor) -> None:
    long_url = "https://social.example/p/1?" + "x" * 300
    for text in ("First story. " * 80, "Second story. " * 80, "Third story. " * 80):
        submit(urls=long_url, description=text)
    case = Case.objects.get()
    assert case.reports.count() == 3
    login(desktop, site, "sanne")
    desktop.goto(f"{site}/staff/cases/{case.pk}/")
    height = desktop.viewport_size["height"]
    for selector in ("[data-status]", "[data-owner]", "[data-next-steps]", 'details[data-action-panel="status"]'):
        box = desktop.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, f"{selector} is below the fold"
    assert_accessible(desktop)

    login(phone, site, "sanne")
    for path in ("/staff/cases/", f"/staff/cases/{case.pk}/"):
        phone.goto(site + path)
        phone.wait_for_load_state("load")
        width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways on a phone: {width}"
        assert_accessible(phone)
    first_report = phone.locator("details.report").first.bounding_box()
    status = phone.locator("[data-status]").bounding_box()
    assert status["y"] < first_report["y"], "on a phone the status comes before the reports"
