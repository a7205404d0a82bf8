"""A moderator at 320 px: takes the next flagged item, opens the blurred image, shows it clearly, decides by key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.common.testing import make_user
from vangnet.moderation.models import Decision, ReviewTask
from vangnet.moderation.tests.dashboard import (LONG_URL, alert_for, appeal_task, fixed_default_rules, flagged_task,
                                               notice_for, png)

from conftest import PASSWORD

from .conftest import _new_page, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

LONG_TEXT = ("Ik weet waar je woont en ik kom je halen. " * 48 + "Onvoorstelbaarlangwoord" * 8)[:2000]


@pytest.fixture(autouse=True)
def _default_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.moderation import policy

    monkeypatch.setattr(policy, "default_rules", fixed_default_rules)


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport={"width": 320, "height": 700}, locale="en-GB")
    yield page
    page.context.close()


@pytest.fixture
def narrow_without_js(browser: Browser) -> Iterator[Page]:
    page = _new_page(browser, viewport={"width": 320, "height": 700}, javascript=False, locale="en-GB")
    yield page
    page.context.close()


@pytest.fixture
def platform(site: str) -> Organisation:
    return Organisation.objects.create(slug="praatplein", name="Praatplein", is_platform=True, handles_reports=False)


def _login(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/staff/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{site}/staff/moderation/")


def _fits(page: Page, where: str) -> None:
    page.wait_for_load_state("load")
    scroll, width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= width, f"{where}: the page scrolls sideways ({scroll} > {width} px)"


def test_a_moderator_takes_the_next_item_looks_at_it_and_decides_by_key(narrow: Page, site: str,
                                                                       platform: Organisation) -> None:
    page = narrow
    make_user("mod1", organisation=platform, role=Role.MODERATOR)
    first = flagged_task(platform, external_id="post-" + "9" * 150, text=LONG_TEXT, url=LONG_URL, image=png(),
                         severity=0.95, language="pl", language_validated=False)
    notice_for(first.item)
    following = flagged_task(platform, external_id="post-2", severity=0.7)
    image_requests: list[str] = []
    page.on("request", lambda request: image_requests.append(request.url) if "/image/" in request.url else None)

    _login(page, site, "mod1")
    expect(page.locator(f'[data-task="{first.pk}"]')).to_be_visible()
    _fits(page, "the queues")
    assert_accessible(page)

    page.locator('[data-take-next="flagged"]').click()
    page.wait_for_url(f"**/staff/moderation/tasks/{first.pk}/")
    expect(page.locator("[data-held-by-me]")).to_be_visible()
    expect(page.locator("[data-item-url]")).to_have_text(LONG_URL)
    _fits(page, "the review page")
    assert_accessible(page)
    page.wait_for_timeout(300)
    assert image_requests == [], "the image is not fetched until the moderator opens it"

    page.locator("[data-item-image] > summary").click()
    picture = page.locator("[data-item-image] img")
    expect(picture).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    shown = picture.evaluate("img => getComputedStyle(img).filter")
    assert "blur" in shown and "grayscale" in shown, "first seen blurred and grey"
    page.keyboard.press("s")
    expect(picture).to_have_css("filter", "none")
    expect(page.locator("#shortcut-announcer")).to_have_text("Image shown clearly")
    _fits(page, "the review page with the image")
    assert_accessible(page)

    # Keys typed into a field stay in the field.
    page.locator("#decision-full > summary").click()
    page.locator("input[name=legal_ground]").type("n r j")
    assert page.url.endswith(f"/tasks/{first.pk}/") and not Decision.objects.exists()
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_focused()

    page.keyboard.press("n")
    page.wait_for_url(f"**/staff/moderation/tasks/{following.pk}/")
    decision = Decision.objects.get(item=first.item)
    assert decision.no_action and decision.decided_by is not None and decision.decided_by.get_username() == "mod1"
    assert ReviewTask.objects.get(pk=first.pk).done_at is not None
    expect(page.locator("[data-held-by-me]")).to_be_visible()
    expect(page.locator(".notices")).to_contain_text("Decision recorded.")
    _fits(page, "the next task")
    assert_accessible(page)


def test_without_javascript_the_image_still_opens_blurred_and_shows_clearly(narrow_without_js: Page, site: str,
                                                                           platform: Organisation) -> None:
    page = narrow_without_js
    make_user("mod1", organisation=platform, role=Role.MODERATOR)
    task = flagged_task(platform, image=png())
    _login(page, site, "mod1")
    page.goto(f"{site}/staff/moderation/tasks/{task.pk}/")
    page.locator("[data-item-image] > summary").click()
    picture = page.locator("[data-item-image] img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert "blur" in picture.evaluate("img => getComputedStyle(img).filter")
    page.get_by_text("Show clearly").click()
    expect(picture).to_have_css("filter", "none")
    page.get_by_role("button", name="No action").click()
    page.wait_for_url("**/staff/moderation/")
    assert Decision.objects.filter(item=task.item, no_action=True).exists()
    _fits(page, "the queues after the last task")



def test_the_other_pages_fit_320_px_and_pass_axe(narrow: Page, site: str, platform: Organisation) -> None:
    """The appeal page, the threat alerts, one alert with a long text and the metrics, as a policy manager."""
    page = narrow
    decider = make_user("mod1", organisation=platform, role=Role.MODERATOR)
    make_user("pm", organisation=platform, role=Role.POLICY_MANAGER)
    appeal = appeal_task(platform, decider=decider)
    alert = alert_for(flagged_task(platform, external_id="threat-" + "7" * 180, text=LONG_TEXT, url=LONG_URL).item)
    _login(page, site, "pm")
    for path in ["/staff/moderation/", f"/staff/moderation/tasks/{appeal.pk}/", "/staff/moderation/alerts/",
                 f"/staff/moderation/alerts/{alert.pk}/", "/staff/moderation/metrics/"]:
        page.goto(site + path)
        _fits(page, path)
        assert_accessible(page)
    page.goto(f"{site}/staff/moderation/alerts/{alert.pk}/")
    page.locator("[data-action=dismiss] textarea").fill("Lyrics of a song, quoted.")
    page.locator("[data-action=dismiss] button").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "dismissed")
    assert_accessible(page)


def test_a_policy_manager_changes_a_threshold_and_makes_a_key_at_320_px(narrow: Page, site: str,
                                                                          platform: Organisation) -> None:
    from vangnet.hashing.models import Bank
    from vangnet.moderation.keys import authenticate
    from vangnet.moderation.models import PlatformKey
    from vangnet.moderation.policy import policy_for

    page = narrow
    make_user("pm", organisation=platform, role=Role.POLICY_MANAGER)
    Bank.objects.create(slug="praatplein-" + "b" * 39, name="Praatplein's own bank of removed images " + "X" * 60,
                        organisation=platform)
    _login(page, site, "pm")
    page.locator("[data-nav=policy]").click()
    page.wait_for_url("**/staff/moderation/policy/")
    _fits(page, "the policy")
    assert_accessible(page)

    # An automatic restriction below the review score is refused, with the reason at the field.
    hate = page.locator("[data-rule=hate]")
    hate.get_by_label("Review from score").fill("0.4")
    hate.get_by_label("Restrict automatically from score").fill("0.3")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator("[data-errors]")).to_be_visible()
    expect(page.locator("[data-rule=hate] .error")).to_contain_text("at least the score for review")
    _fits(page, "the policy with errors")
    assert_accessible(page)
    assert policy_for(platform).organisation_id is None

    hate = page.locator("[data-rule=hate]")
    hate.get_by_label("Restrict automatically from score").fill("0.95")
    hate.get_by_label("Automatic action").select_option("demote")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator(".notices")).to_contain_text("Policy saved as version 1.")
    rule = policy_for(platform).rules["hate"]
    assert (rule.review_threshold, rule.action_threshold, rule.action) == (0.4, 0.95, "demote")
    expect(page.locator("[data-rule=hate] [data-rule-source]")).to_contain_text("Your own rule.")
    assert_accessible(page)

    page.locator("[data-nav=keys]").click()
    page.wait_for_url("**/staff/moderation/keys/")
    page.get_by_label("Name").fill("Praatplein forum back end, production servers in Amsterdam")
    page.get_by_label("Check content").check()
    page.get_by_label("Requests per minute").fill("120")
    page.get_by_role("button", name="Make the key").click()
    key = page.locator("[data-new-key]").input_value()
    row = PlatformKey.objects.get()
    assert authenticate(key) == row and row.rate_per_minute == 120 and row.scopes == ["check"]
    _fits(page, "the new key")
    assert_accessible(page)

    page.get_by_role("link", name="Back to the keys").click()
    expect(page.locator(f'[data-key="{row.pk}"]')).to_be_visible()
    assert key not in page.content()
    _fits(page, "the keys")
    assert_accessible(page)

    # The other settings pages, with a long webhook address and a failed delivery, fit too.
    import uuid

    from vangnet.moderation.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.praatplein.test/" + "h" * 300,
                                              secret="s", events=["decision.made"])
    WebhookDelivery.objects.create(organisation=platform, endpoint=endpoint, event_id=uuid.uuid4(),
                                   event_type="decision.made", payload={}, state="pending", attempts=2,
                                   last_status=502, last_error="the platform answered 502 " + "e" * 120)
    for path in [f"/staff/moderation/keys/{row.pk}/", "/staff/moderation/webhooks/",
                 f"/staff/moderation/webhooks/{endpoint.pk}/"]:
        page.goto(site + path)
        _fits(page, path)
        assert_accessible(page)
