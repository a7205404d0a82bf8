"""What a reporter types on the web pages: contact answers, and bytes that are not text."""

import re
from urllib.parse import quote

import pytest

from vangnet.intake.models import Report

from .test_views import PREFIX, STEPS, complete_flow, post_step

pytestmark = pytest.mark.django_db


def _up_to_contact(client) -> None:
    for step, data in STEPS[:6]:
        post_step(client, step, data)


def test_a_stale_email_does_not_block_choosing_phone_instead(client) -> None:
    response = complete_flow(client, overrides={"contact": {
        "contact_preference": "phone", "contact_phone": "06 1234 5678", "contact_email": "me@exam"}})
    assert response.url == "/nl/report/evidence/"
    report = Report.objects.get()
    assert (report.contact_phone, report.contact_email) == ("06 1234 5678", "")


@pytest.mark.parametrize("email", ["", "not-an-address", "x" * 300])
def test_the_email_field_shows_one_error_at_a_time(client, email) -> None:
    _up_to_contact(client)
    page = post_step(client, "contact", {"contact_preference": "email", "contact_email": email}).content.decode()
    [error] = re.findall(r'<p class="error" id="id_contact-contact_email_error">(.*?)</p>', page)
    assert error.count(".") == 1, f"one message, not two: {error!r}"
    assert not Report.objects.exists()


@pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE", "%C0%AF"])
def test_bytes_that_are_not_text_never_crash_a_step(client, raw) -> None:
    """A browser cannot send a lone surrogate: the bytes of one arrive, and are read as U+FFFD."""
    post_step(client, "danger", {"immediate_danger": "no"})
    post_step(client, "who", {"reporter_role": "victim"})
    body = (f"{quote(PREFIX)}-current_step=what&what-forms=doxing&what-description=before{raw}after").encode()
    response = client.post("/nl/report/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
