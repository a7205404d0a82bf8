"""Asking for a capture from the case page, and the partial that lists a case's captures."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from vangnet.audit.services import Actor
from vangnet.evidence import services
from vangnet.evidence.choices import CaptureStatus, Source
from vangnet.evidence.models import UrlCapture
from vangnet.evidence.views import captures_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def vault_folder(settings: Any, tmp_path: Any) -> Any:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def test_a_handler_asks_for_a_capture_and_returns_to_the_case(client: Any, submit: Any, handler: Any) -> None:
    case = submit().report.case
    client.force_login(handler)
    response = client.post(reverse("evidence:request_capture", args=[case.pk]),
                           {"capture-url": "https://host.example/post/1"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk]) + "#captures"
    capture = UrlCapture.objects.get(case=case)
    assert (capture.url, capture.status, capture.requested_by) == ("https://host.example/post/1", "queued", "hans")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Capture requested. Its status shows under “Captured web pages”."]


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "Only web addresses starting with http:// or https:// can be captured."),
    ("http://169.254.169.254/latest/meta-data/", "The address points to a private network."),
    ("https://me:secret@host.example/", "The address holds a user name or password; these are never sent."),
    ("", "This field is required."),
])
def test_a_url_that_can_never_be_captured_gets_the_form_again_with_the_reason(
        client: Any, submit: Any, handler: Any, url: str, message: str) -> None:
    case = submit().report.case
    client.force_login(handler)
    response = client.post(reverse("evidence:request_capture", args=[case.pk]), {"capture-url": url},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and case.reference in body and 'name="capture-url"' in body
    assert not UrlCapture.objects.exists()


def _capture(case: Any, status: str, *, code: str = "", msgid: str = "", params: dict[str, Any] | None = None,
             **fields: Any) -> UrlCapture:
    return UrlCapture.objects.create(case=case, url=f"https://host.example/{status}/{code}", status=status,
                                     requested_by="hans", error_code=code, error_message=msgid,
                                     error_params=params or {}, **fields)


def _render(case: Any, user: Any, language: str = "en") -> str:
    request = RequestFactory().get("/")
    request.user = user
    with translation.override(language):
        return render_to_string("evidence/_captures.html", {"case": case, **captures_context(user=user, case=case)},
                                request=request)


def test_the_partial_shows_each_capture_with_its_status_and_reason(submit: Any, handler: Any, make_staff: Any,
                                                                   helpline: Any) -> None:
    case = submit().report.case
    actor = Actor.staff(handler)
    record = services.add_evidence(case=case, data=b'{"status": 200}', actor=actor, source=Source.CAPTURE)
    _capture(case, CaptureStatus.QUEUED)
    _capture(case, CaptureStatus.QUEUED, code="too_slow", msgid="The page took longer than %(seconds)d seconds.",
             params={"seconds": 30}, attempts=1)
    _capture(case, CaptureStatus.FAILED, code="private_address", msgid="The address points to a private network.",
             attempts=1, finished_at=timezone.now())
    _capture(case, CaptureStatus.DONE, code="no_screenshot", msgid="The browser could not show the page.",
             http_status=404, record=record, attempts=2, finished_at=timezone.now())
    html = _render(case, handler)
    assert html.count("data-capture=") == 4
    assert "Not reached yet, trying again later: The page took longer than 30 seconds." in html
    assert 'class="error" data-capture-error>The address points to a private network.' in html
    assert "Captured without a screenshot: The browser could not show the page." in html
    assert record.sha256 in html and reverse("cases:download_evidence", args=[case.pk, record.pk]) in html
    assert "attempts: 2" in html and "Refresh to see the status" in html
    assert 'action="' + reverse("evidence:request_capture", args=[case.pk]) + '"' in html
    dutch = _render(case, handler, "nl")
    assert "Het adres wijst naar een privénetwerk." in dutch
    assert "De pagina deed er langer over dan 30 seconden." in dutch and "Vastgelegde webpagina's" in dutch
    analyst = make_staff("ana", helpline, "analyst")
    assert 'data-action="capture"' not in _render(case, analyst)


def test_the_partial_without_captures_offers_the_form_only_to_who_may_ask(submit: Any, handler: Any) -> None:
    case = submit().report.case
    html = _render(case, handler)
    assert "No web pages captured yet." in html and 'name="capture-url"' in html
