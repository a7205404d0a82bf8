import re

import pytest

from vangnet.audit.models import Event
from vangnet.cases.models import Message
from vangnet.intake.choices import ReportEvent
from vangnet.intake.models import Report

pytestmark = pytest.mark.django_db

PREFIX = "report_wizard"
STEPS = [
    ("danger", {"immediate_danger": "no"}),
    ("who", {"reporter_role": "victim"}),
    ("what", {"forms": ["cyberstalking"], "description": "He keeps making new accounts."}),
    ("where", {"urls": "https://social.example/u/1\nhttps://social.example/u/2", "platform": "Social"}),
    ("age", {"age_band": "18_plus"}),
    ("perpetrator", {"relationship": "ex_partner", "perpetrator_count": "one", "duration": "months"}),
    ("contact", {"contact_preference": "none"}),
    ("consent", {"consent_processing": "on", "share_with": "veilig-thuis"}),
]


def post_step(client, step, data, lang="nl"):
    """Send one step as the browser does: the POST always redirects, and the browser fetches the page."""
    payload = {f"{PREFIX}-current_step": step}
    payload.update({f"{step}-{k}": v for k, v in data.items()})
    response = client.post(f"/{lang}/report/", payload)
    assert response.status_code == 302, "every step is Post/Redirect/Get"
    if response.url == f"/{lang}/report/":
        return client.get(response.url)
    return response


def complete_flow(client, lang="nl", overrides=None):
    response = None
    for step, data in STEPS:
        response = post_step(client, step, {**data, **(overrides or {}).get(step, {})}, lang)
    return response


def test_the_whole_flow_stores_one_report_and_shows_the_receipt_once(client) -> None:
    response = complete_flow(client)
    assert response.status_code == 302 and response.url == "/nl/report/evidence/", "the optional evidence step"
    report = Report.objects.get()
    assert report.urls.count() == 2 and report.consent_share_with.slug == "veilig-thuis"
    step = client.get(response.url).content.decode()
    assert 'href="/nl/report/received/"' in step and report.receipt_code not in step, "skipped with one link"
    receipt = client.get("/nl/report/received/")
    assert report.receipt_code in receipt.content.decode()
    again = client.get("/nl/report/received/").content.decode()
    assert report.receipt_code not in again
    assert client.get(response.url).url == "/nl/report/received/", "after the receipt no more files here"


def test_an_invalid_step_shows_the_error_and_stores_nothing(client) -> None:
    post_step(client, "danger", {"immediate_danger": "no"})
    response = post_step(client, "who", {"reporter_role": "robot"})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Report.objects.exists() and not Event.objects.exists()


def test_danger_shows_112_before_anything_else(client) -> None:
    first = client.get("/en/report/").content.decode()
    assert "immediate danger" in first
    response = post_step(client, "danger", {"immediate_danger": "yes"}, lang="en")
    assert "Call 112 now" in response.content.decode()


def test_an_urgent_report_is_still_accepted(client) -> None:
    complete_flow(client, overrides={"danger": {"immediate_danger": "yes"}})
    assert Report.objects.get().immediate_danger is True


def test_flooding_is_throttled_without_losing_the_answers(client, settings) -> None:
    settings.VANGNET_REPORT_RATE = "2/h"
    complete_flow(client)
    complete_flow(client)
    response = complete_flow(client)
    assert response.status_code == 200
    assert Report.objects.count() == 2
    assert 'name="consent-consent_processing"' in response.content.decode()
    from django.core.cache import cache

    cache.clear()  # the limit passes; the answers were kept in her session
    retry = post_step(client, "consent", {"consent_processing": "on", "share_with": ""})
    assert retry.status_code == 302 and Report.objects.count() == 3


def _login(client, code, secret):
    return client.post("/nl/followup/", {"receipt_code": code, "secret": secret})


def test_followup_shows_only_her_own_report_and_messages(client, submit, supervisor) -> None:
    mine = submit()
    theirs = submit(description="Another victim's story.")
    assert mine.report.case_id == theirs.report.case_id
    Message.objects.create(case=mine.report.case, report=mine.report, author=supervisor, text="For you")
    Message.objects.create(case=mine.report.case, report=theirs.report, author=supervisor, text="Not for you")
    response = _login(client, mine.report.receipt_code.lower(), mine.secret.upper())
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "For you" in page and "Not for you" not in page and "Another victim" not in page


def test_wrong_secret_is_refused_and_the_code_locks(client, submit) -> None:
    submitted = submit()
    for _ in range(5):
        response = _login(client, submitted.report.receipt_code, "wrong-wrong-wrong-wrong")
        assert response.status_code == 400
    locked = _login(client, submitted.report.receipt_code, submitted.secret)
    assert locked.status_code == 400
    assert "15 minutes" in locked.content.decode() or "15 minuten" in locked.content.decode()
    assert client.get("/nl/followup/report/").status_code == 302, "a locked code opens nothing"


def test_guessing_from_one_address_is_rate_limited(client, settings) -> None:
    settings.VANGNET_FOLLOWUP_IP_RATE = "3/h"
    statuses = [_login(client, f"VN-AAAA-AAA{i}", "guess").status_code for i in range(2, 6)]
    assert statuses == [400, 400, 400, 429]


def test_adding_information_is_stored_and_logged(client, submit) -> None:
    submitted = submit()
    _login(client, submitted.report.receipt_code, submitted.secret)
    response = client.post("/nl/followup/report/", {"text": "He made a new account today."})
    assert response.status_code == 302
    assert submitted.report.additions.get().text == "He made a new account today."
    assert Event.objects.filter(event_type=ReportEvent.INFO_ADDED).count() == 1
    empty = client.post("/nl/followup/report/", {"text": ""})
    assert empty.status_code == 400 and submitted.report.additions.count() == 1


def test_withdrawing_erases_and_explains(client, submit) -> None:
    submitted = submit()
    _login(client, submitted.report.receipt_code, submitted.secret)
    unconfirmed = client.post("/en/followup/withdraw/", {})
    assert unconfirmed.status_code == 400
    response = client.post("/en/followup/withdraw/", {"confirm": "on"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "What we keep, and why" in page
    report = Report.objects.get()
    assert report.withdrawn_at is not None and report.description == ""
    assert client.get("/en/followup/report/").status_code == 302, "the session ends with the withdrawal"
    again = client.post("/en/followup/", {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret})
    assert again.status_code == 200, "signing in to a withdrawn report explains instead of bouncing back"
    text = again.content.decode()
    assert "was withdrawn on" in text and "What we erase" in text
    assert "sessionid" not in again.cookies or not client.session.get("vangnet_followup_report")


def test_followup_without_login_goes_to_the_login_page(client) -> None:
    response = client.get("/nl/followup/report/")
    assert response.status_code == 302 and response.url == "/nl/followup/"


@pytest.mark.parametrize("url", ["/nl/", "/en/", "/nl/report/", "/nl/followup/", "/en/help/",
                                 "/en/forms/sextortion/", "/nl/info/digital-safety/"])
def test_every_reporter_page_has_quick_exit_and_security_headers(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "data-quick-exit" in response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_information_about_a_form_shows_help_and_who_can_help(client) -> None:
    page = client.get("/en/forms/sextortion/").content.decode()
    assert "Do not pay" in page and "Helpwanted" in page and "What you can do now" in page


def test_a_retired_form_has_no_page(client) -> None:
    from vangnet.taxonomy.models import FormOfViolence

    FormOfViolence.objects.filter(slug="sextortion").update(is_active=False)
    assert client.get("/en/forms/sextortion/").status_code == 404


def test_digital_safety_page(client) -> None:
    page = client.get("/en/info/digital-safety/").content.decode()
    assert "stalkerware" in page.lower() and "<li>" in page and "<script" not in page.split("</head>")[1]


def test_pages_speak_dutch_by_default(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/nl/")
    page = client.get("/nl/").content.decode()
    assert 'lang="nl"' in page and "Meld online geweld" in page


def test_enter_in_a_field_goes_forward_not_back(client) -> None:
    page = post_step(client, "danger", {"immediate_danger": "no"}).content.decode()
    buttons = page[page.index("<form method=\"post\" novalidate"):].split("<button")[1:]
    assert "wizard_goto_step" not in buttons[0] and "wizard_goto_step" in buttons[1]


def test_reloading_the_flow_keeps_the_answers(client) -> None:
    post_step(client, "danger", {"immediate_danger": "no"})
    post_step(client, "who", {"reporter_role": "parent"})
    page = client.get("/nl/report/").content.decode()
    assert 'name="report_wizard-current_step" value="what"' in page
    complete = [post_step(client, step, data) for step, data in STEPS[2:]][-1]
    assert complete.status_code == 302
    assert Report.objects.get().reporter_role == "parent"
    post_step(client, "danger", {"immediate_danger": "no"})
    restart = client.get("/nl/report/?restart")
    assert restart.status_code == 302 and restart.url == "/nl/report/", "start over leaves no ?restart behind"
    assert 'value="danger"' in client.get(restart.url).content.decode()


def test_a_step_sent_with_mistakes_comes_back_after_a_redirect_with_her_input(client) -> None:
    post_step(client, "danger", {"immediate_danger": "no"})
    post_step(client, "who", {"reporter_role": "victim"})
    sent = client.post("/en/report/", {f"{PREFIX}-current_step": "what", "what-description": "Kept text"})
    assert sent.status_code == 302 and sent.url == "/en/report/"
    page = client.get("/en/report/").content.decode()
    assert "Choose at least one" in page and "Kept text" in page
    reloaded = client.get("/en/report/").content.decode()
    assert "Choose at least one" not in reloaded, "the error is shown once, not on every reload"
    assert 'value="what"' in reloaded


def test_the_step_and_answers_survive_a_language_switch(client) -> None:
    post_step(client, "danger", {"immediate_danger": "no"}, lang="en")
    post_step(client, "who", {"reporter_role": "parent"}, lang="en")
    post_step(client, "what", {"forms": ["cyberstalking"], "description": "Hij blijft accounts maken."}, lang="en")
    switched = client.post("/i18n/setlang/", {"language": "nl", "next": "/en/report/"})
    assert switched.status_code == 302 and switched.url == "/nl/report/"
    page = client.get(switched.url).content.decode()
    assert 'lang="nl"' in page and 'value="where"' in page
    back = client.post("/nl/report/", {f"{PREFIX}-current_step": "where", "wizard_goto_step": "what"})
    assert back.status_code == 302
    what = client.get("/nl/report/").content.decode()
    assert "Hij blijft accounts maken." in what
    assert re.search(r'value="cyberstalking"[^>]* checked', what)


def test_a_report_about_a_minor_shows_help_for_young_people(client) -> None:
    complete_flow(client, lang="en", overrides={"age": {"age_band": "12_15"}})
    page = client.get("/en/report/received/").content.decode()
    assert "Help for children and young people" in page and "Fier" in page and "Helpwanted" in page


def test_an_adult_report_does_not_show_youth_help(client) -> None:
    complete_flow(client, lang="en")
    assert "Help for children and young people" not in client.get("/en/report/received/").content.decode()


def test_quick_exit_forgets_the_open_report_and_leaves(client, submit, settings) -> None:
    submitted = submit()
    _login(client, submitted.report.receipt_code, submitted.secret)
    assert client.get("/nl/followup/report/").status_code == 200
    response = client.get("/exit/")
    assert response.status_code == 302 and response.url == settings.VANGNET_QUICK_EXIT_URL
    assert client.get("/nl/followup/report/").status_code == 302, "the report is closed on this device"


def test_quick_exit_forgets_half_finished_answers(client) -> None:
    post_step(client, "danger", {"immediate_danger": "no"})
    post_step(client, "who", {"reporter_role": "victim"})
    client.get("/exit/")
    assert 'value="danger"' in client.get("/nl/report/").content.decode()


def test_the_quick_exit_beacon_needs_no_csrf_token(submit) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    submitted = submit()
    client.get("/nl/followup/")
    token = client.cookies["csrftoken"].value
    login = client.post("/nl/followup/", {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret,
                                          "csrfmiddlewaretoken": token})
    assert login.status_code == 302
    assert client.get("/nl/followup/report/").status_code == 200
    assert client.post("/exit/").status_code == 302  # what navigator.sendBeacon sends: no token
    assert client.get("/nl/followup/report/").status_code == 302


def test_the_reporter_can_take_back_her_consent_to_share(client, submit) -> None:
    submitted = submit(share_with="helpwanted")
    _login(client, submitted.report.receipt_code, submitted.secret)
    page = client.get("/en/followup/report/").content.decode()
    assert "data-sharing" in page and "Helpwanted" in page
    response = client.post("/en/followup/sharing/revoke/")
    assert response.status_code == 302
    submitted.report.refresh_from_db()
    assert submitted.report.consent_share_with is None
    assert Event.objects.filter(event_type=ReportEvent.SHARING_REVOKED).count() == 1
    assert "data-sharing" not in client.get("/en/followup/report/").content.decode()
