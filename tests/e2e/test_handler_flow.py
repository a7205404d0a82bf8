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
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


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

    assign = desktop.locator('form[data-action="assign"]')
    assign.get_by_label("Regiehouder").select_option(label="carla")
    assign.get_by_role("button", name="Toewijzen").click()
    expect(desktop.locator("[data-owner]")).to_have_text("carla")

    status = desktop.locator('form[data-action="status"]')
    status.get_by_label("Nieuwe status").select_option("in_progress")
    status.get_by_label("Reden").fill("Called the reporter back")
    status.get_by_role("button", name="Status wijzigen").click()
    expect(desktop.locator("[data-status]")).to_have_text("In behandeling")

    note = desktop.locator('form[data-action="note"]')
    note.get_by_label("Interne notitie").fill("Police informed.")
    note.get_by_role("button", name="Notitie toevoegen").click()
    expect(desktop.get_by_text("Police informed.")).to_be_visible()

    message = desktop.locator('form[data-action="message"]')
    message.get_by_label("Bericht").fill("We are working on it.")
    message.get_by_role("button", name="Bericht versturen").click()
    expect(desktop.get_by_role("status")).to_contain_text("Bericht verstuurd")

    refer = desktop.locator('form[data-action="refer"]')
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
