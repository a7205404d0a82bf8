"""A handler's notice work in the browser: two URLs on two providers, sent over real SMTP, a reply, an outcome."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from vangnet.audit.services import Actor
from vangnet.directory.models import Provider
from vangnet.directory.services import add_provider_domain, save_provider
from vangnet.notices import outbox
from vangnet.notices.compose import GOOD_FAITH
from vangnet.notices.models import Notice

from .conftest import assert_accessible
from .test_handler_flow import login

pytestmark = pytest.mark.django_db(transaction=True)

EXPLANATION = "The post shows her home address and says he will come tonight: a threat and doxing."


def _provider(slug: str, domain: str, email: str, language: str) -> None:
    provider = save_provider(provider=Provider(slug=slug, name=f"{slug.title()} (example)", contact_email=email,
                                               language=language), actor=Actor.system("test"))
    add_provider_domain(provider=provider, domain=domain, actor=Actor.system("test"))


def test_two_urls_on_two_providers_from_draft_to_outcome(desktop: Page, site: str, submit, helpline, case_owner,
                                                         smtp_inbox, tmp_path) -> None:
    helpline.notice_email = "meldingen@helpline.example.org"
    helpline.save(update_fields=["notice_email"])
    _provider("social", "social.example", "dsa@social.example.org", "nl")
    _provider("video", "video.example", "notices@video.example.org", "en")
    case = submit(urls="https://social.example/p/1\nhttps://video.example/v/2", forms=["doxing"]).report.case
    login(desktop, site, "carla")
    desktop.goto(f"{site}/staff/cases/{case.pk}/")

    desktop.locator('details[data-action-panel="notices"] > summary').click()
    compose = desktop.locator('form[data-action="notice-draft"]')
    expect(compose.get_by_label("https://social.example/p/1")).to_be_checked()
    expect(compose.get_by_label("https://video.example/v/2")).to_be_checked()
    compose.get_by_label("Waarom is deze inhoud illegaal?").fill(EXPLANATION)
    compose.get_by_role("button", name="Opstellen").click()
    drafts = desktop.locator('[data-notice-status="draft"]')
    expect(drafts).to_have_count(2)
    assert_accessible(desktop)

    for _ in range(2):
        desktop.locator('[data-notice-status="draft"] form[data-action="notice-send"] button').first.click()
        expect(desktop.get_by_role("status")).to_contain_text("wordt verzonden")
    assert outbox.process_outbox()["sent"] == 2
    received = {tuple(m["to"]): m for m in smtp_inbox.messages}
    assert set(received) == {("dsa@social.example.org",), ("notices@video.example.org",)}
    for to, url, language in ((("dsa@social.example.org",), "https://social.example/p/1", "nl"),
                              (("notices@video.example.org",), "https://video.example/v/2", "en")):
        body = received[to]["body"]
        assert url in body and EXPLANATION in body and "meldingen@helpline.example.org" in body
        assert GOOD_FAITH[language] in " ".join(body.split())
        assert re.search(r"N-[A-Z0-9]{10}", received[to]["subject"])
    assert "https://video.example/v/2" not in received[("dsa@social.example.org",)]["body"]

    social = Notice.objects.get(case=case, provider__slug="social")
    reply = tmp_path / "reply.eml"
    reply.write_bytes(f"From: dsa@social.example.org\nSubject: Re: [{social.reference}]\n\n"
                      "We removed the post.\n".encode())
    desktop.reload()
    desktop.locator('details[data-action-panel="reply"] > summary').click()
    desktop.locator('form[data-action="notice-reply"] input[type=file]').set_input_files(str(reply))
    desktop.locator('form[data-action="notice-reply"] button').click()
    notice = desktop.locator(f'[data-notice="{social.reference}"]')
    expect(notice).to_have_attribute("data-notice-status", "answered")
    notice.locator("[data-reply] > summary").click()
    expect(notice.locator("[data-reply] pre")).to_contain_text("We removed the post.")

    notice.locator(f'details[data-action-panel="outcome-{social.pk}"] > summary').click()
    notice.get_by_label("Wat heeft de aanbieder gedaan?").select_option("removed")
    notice.get_by_role("button", name="Uitkomst opslaan").click()
    expect(desktop.locator(f'[data-notice="{social.reference}"] [data-outcome="removed"]')).to_be_visible()
    assert_accessible(desktop)

    desktop.goto(f"{site}/staff/providers/performance/")
    row = desktop.locator(f'[data-provider="{social.provider_id}"]')
    expect(row.locator("td").nth(0)).to_have_text("1")  # sent
    expect(row.locator("td").nth(1)).to_have_text("1")  # acted on
    video = desktop.locator(f'[data-provider="{Notice.objects.get(case=case, provider__slug="video").provider_id}"]')
    expect(video.locator("td").nth(1)).to_have_text("0")
    expect(desktop.locator("[data-chart] img")).to_be_visible()
