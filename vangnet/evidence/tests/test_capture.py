"""URL captures: asked for by a handler, made by the worker through the guard, stored as evidence, logged.

As in ``common/tests/test_safefetch.py``, nothing here can reach beyond loopback: names go
through a stub resolver and a connection to any other address fails the test before a
packet is sent. The browser (a child process) gets a recording server as its proxy in
place of the dead end it has in production, so a request that escaped routing would show.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy
from django_tasks_db.models import DBTaskResult
from PIL import Image

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.common import safefetch
from vangnet.common.retry import TryAgainLater
from vangnet.common.testing_network import (Answer, LocalSite, SeenRequest, StubResolver,
                                            forbid_outside_connections)
from vangnet.evidence import capture as capture_module
from vangnet.evidence import services
from vangnet.evidence.capture import ScreenshotFailed, take_screenshot
from vangnet.evidence.choices import CaptureStatus, EvidenceEvent, Source
from vangnet.evidence.models import EvidenceItem, UrlCapture

pytestmark = pytest.mark.django_db

NAMES = {"good.test": ["127.0.0.1"], "evil.test": ["10.0.0.1"], "meta.test": ["169.254.169.254"],
         "six.test": ["::1"], "mixed.test": ["93.184.216.34", "10.0.0.1"]}
PAGE_HOSTS = ("good.test", "evil.test", "meta.test", "127.0.0.1", "[::1]")


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubResolver]:
    guard = forbid_outside_connections(monkeypatch)
    stub = StubResolver(NAMES).install(monkeypatch)
    yield stub
    guard.assert_clean()


@pytest.fixture(autouse=True)
def vault_folder(settings: Any, tmp_path: Any) -> Any:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are read in English here (the site's default language is Dutch)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def site() -> Iterator[LocalSite]:
    server = LocalSite().start()
    yield server
    server.stop()


@pytest.fixture
def browser_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSite]:
    """A recording server in place of the browser's dead-end proxy: whatever escaped routing arrives here."""
    proxy = LocalSite().start()

    @contextmanager
    def recording() -> Iterator[str]:
        yield proxy.url("").rstrip("/")

    monkeypatch.setattr(capture_module, "dead_end_proxy", recording)
    yield proxy
    proxy.stop()


def _escaped(proxy: LocalSite) -> list[SeenRequest]:
    """Requests for the page's hosts that reached the proxy (Chromium's own updater calls are not the page's)."""
    return [r for r in proxy.requests
            if any(host in r.path or host in r.headers.get("Host", "") for host in PAGE_HOSTS)]


@pytest.fixture
def loopback(settings: Any) -> Any:
    settings.VANGNET_FETCH_ALLOW_LOOPBACK = True
    return settings


def _png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


PAGE = (b'<!doctype html><html><head><title>Post</title><link rel="stylesheet" href="http://meta.test/s.css">'
        b'</head><body><h1>The post</h1><p>Ik weet waar je woont.</p><img src="/photo.png" alt="">'
        b'<img src="http://evil.test/x.png" alt=""><iframe src="http://six.test/admin"></iframe>'
        b'<meta http-equiv="refresh" content="0;url=http://evil.test/away"></body></html>')


def _page_site(site: LocalSite) -> str:
    site.routes["/start"] = Answer(status=302, headers=[("Location", "/post"), ("Set-Cookie", "session=abc")])
    site.routes["/post"] = Answer(headers=[("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "t=1")],
                                  body=[PAGE])
    site.routes["/photo.png"] = Answer(headers=[("Content-Type", "image/png")], body=[_png()])
    return site.url("/start", host="good.test")


def _events(capture: UrlCapture) -> list[str]:
    return list(Event.objects.filter(case_id=capture.case_id, event_type__startswith="evidence.")
                .order_by("pk").values_list("event_type", flat=True))


def test_a_handler_requests_a_capture_and_the_worker_makes_it(
        submit: Any, handler: Any, site: LocalSite, loopback: Any, browser_proxy: LocalSite, run_worker: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    case = submit().report.case
    url = _page_site(site)
    with django_capture_on_commit_callbacks(execute=True):
        capture = services.request_capture(case=case, url=url, actor=Actor.staff(handler))
    assert capture.status == CaptureStatus.QUEUED and capture.requested_by == "hans"
    assert DBTaskResult.objects.filter(task_path="vangnet.evidence.tasks.capture_url").count() == 1
    run_worker()
    capture.refresh_from_db()
    assert (capture.status, capture.http_status, capture.error_text, capture.attempts) == (
        CaptureStatus.DONE, 200, "", 1)
    assert capture.body and capture.record and capture.screenshot
    items = EvidenceItem.objects.filter(case=case).order_by("pk")
    assert [(i.source, i.media_type) for i in items] == [
        (Source.CAPTURE, "text/plain"), (Source.CAPTURE, "image/png"), (Source.CAPTURE, "text/plain")]
    assert services.read_original(item=capture.body) == PAGE
    assert capture.body.sha256 == hashlib.sha256(PAGE).hexdigest()
    png = services.read_original(item=capture.screenshot)
    assert png.startswith(b"\x89PNG") and capture.screenshot.sha256 == hashlib.sha256(png).hexdigest()
    assert Image.open(io.BytesIO(png)).size[0] == 1280
    record = json.loads(services.read_original(item=capture.record))
    assert capture.record.sha256 == hashlib.sha256(services.read_original(item=capture.record)).hexdigest()
    assert record["requested_url"] == url and record["final_url"] == site.url("/post", host="good.test")
    assert [(hop["status"], hop["address"]) for hop in record["redirects"]] == [(302, "127.0.0.1"), (200, "127.0.0.1")]
    assert record["body"] == {"sha256": capture.body.sha256, "size": len(PAGE), "stored": True, "note": "",
                              "content_type": "text/html; charset=utf-8"}
    assert record["screenshot"]["sha256"] == capture.screenshot.sha256 and record["screenshot"]["javascript"] is False
    assert ["Set-Cookie", "t=1"] in record["headers"] and record["status"] == 200
    assert record["fetched_at"].endswith("+00:00")
    blocked = {(b["url"], b["reason"]) for b in record["screenshot"]["blocked_requests"]}
    assert {("http://evil.test/x.png", "private_address"), ("http://meta.test/s.css", "private_address"),
            ("http://six.test/admin", "unreachable")} <= blocked
    assert ("http://evil.test/away", "navigation") in blocked, "a meta refresh leaves the captured page alone"
    assert [r.path for r in site.requests] == ["/start", "/post", "/photo.png"]
    assert all("Cookie" not in r.headers for r in site.requests), "cookies the site set are never sent back"
    assert _escaped(browser_proxy) == [], "the browser reached nothing by itself"
    assert capture.body.source_url == record["final_url"] and capture.record.source_url == url
    assert _events(capture) == [EvidenceEvent.CAPTURE_REQUESTED, EvidenceEvent.ADDED, EvidenceEvent.ADDED,
                                EvidenceEvent.ADDED, EvidenceEvent.CAPTURED]
    done = Event.objects.get(event_type=EvidenceEvent.CAPTURED)
    assert (done.subject_type, done.subject_id, done.actor_label) == (
        "evidence.urlcapture", str(capture.pk), "system: URL capture for hans")
    assert done.data["screenshot"] == capture.screenshot.sha256 and done.data["record"] == capture.record.sha256
    assert url not in json.dumps(list(Event.objects.values_list("data", flat=True))), "no URLs in the log"
    requested = Event.objects.get(event_type=EvidenceEvent.CAPTURE_REQUESTED)
    assert (requested.actor_label, requested.case_id) == ("hans", case.pk)


@pytest.fixture
def allow_loopback_for_the_first_request(loopback: Any) -> Any:
    """Our loopback site answers the first request; from then on loopback is forbidden, as in production."""

    def answer_then_forbid(answer: Answer) -> Any:
        def respond(_request: SeenRequest) -> Answer:
            loopback.VANGNET_FETCH_ALLOW_LOOPBACK = False
            return answer

        return respond

    return answer_then_forbid


@pytest.mark.parametrize("location", ["http://evil.test/", "http://meta.test/latest/meta-data/", "http://[::1]:{port}/",
                                      "http://127.0.0.1:{port}/", "http://six.test/", "http://mixed.test/",
                                      "file:///etc/passwd"])
def test_a_capture_redirected_inside_fails_without_retry_and_stores_nothing(
        location: str, submit: Any, handler: Any, site: LocalSite, allow_loopback_for_the_first_request: Any,
        vault_folder: Any) -> None:
    site.routes["/r"] = allow_loopback_for_the_first_request(
        Answer(status=302, headers=[("Location", location.format(port=site.port))]))
    capture = services.request_capture(case=submit().report.case, url=site.url("/r", host="good.test"),
                                       actor=Actor.staff(handler))
    result = services.perform_capture(capture_id=capture.pk, max_attempts=4)
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.FAILED and result["status"] == "failed"
    expected = ("Only web addresses starting with http:// or https:// can be captured." if location.startswith("file")
                else "The address points to a private network.")
    assert capture.error_text == expected and capture.finished_at is not None
    assert [r.path for r in site.requests] == ["/r"]
    assert not EvidenceItem.objects.exists() and not list(vault_folder.rglob("*.*"))
    assert _events(capture) == [EvidenceEvent.CAPTURE_REQUESTED, EvidenceEvent.CAPTURE_FAILED]
    assert DBTaskResult.objects.count() == 0, "a refused address is never tried again"


def test_a_page_too_large_fails_with_its_reason(submit: Any, handler: Any, site: LocalSite, loopback: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_module, "PAGE_LIMITS", safefetch.Limits(max_bytes=2 * 1024 * 1024))
    site.routes["/big"] = Answer(body=[b"x" * 65536] * 48)
    capture = services.request_capture(case=submit().report.case, url=site.url("/big", host="good.test"),
                                       actor=Actor.staff(handler))
    services.perform_capture(capture_id=capture.pk, max_attempts=4)
    capture.refresh_from_db()
    assert (capture.status, capture.error_code, capture.error_text) == (
        CaptureStatus.FAILED, "too_large", "The page is larger than 2 MB.")


def test_a_slow_page_is_tried_again_with_back_off_then_fails(
        submit: Any, handler: Any, site: LocalSite, loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.utils import translation

    from vangnet.evidence.tasks import capture_url

    monkeypatch.setattr(capture_module, "PAGE_LIMITS", safefetch.Limits(total_timeout=1.0))
    site.routes["/slow"] = Answer(body=[b"x"] * 50, pause=0.1)
    capture = services.request_capture(case=submit().report.case, url=site.url("/slow", host="good.test"),
                                       actor=Actor.staff(handler))
    answer = capture_url.call(capture_id=capture.pk)  # the task itself, with its back-off
    capture.refresh_from_db()
    assert answer["attempt"] == 1 and answer["retry_in_seconds"] >= 40
    assert (capture.status, capture.attempts, capture.error_text) == (
        CaptureStatus.QUEUED, 1, "The page took longer than 1 seconds.")
    with translation.override("nl"):
        assert capture.error_text == "De pagina deed er langer over dan 1 seconden."
    again = DBTaskResult.objects.get(task_path="vangnet.evidence.tasks.capture_url")
    assert again.args_kwargs["kwargs"] == {"capture_id": capture.pk, "attempt": 2} and again.run_after is not None
    with pytest.raises(TryAgainLater):
        services.perform_capture(capture_id=capture.pk, max_attempts=3)
    services.perform_capture(capture_id=capture.pk, max_attempts=3)
    capture.refresh_from_db()
    assert (capture.status, capture.attempts, capture.error_code) == (CaptureStatus.FAILED, 3, "too_slow")
    assert _events(capture) == [EvidenceEvent.CAPTURE_REQUESTED, EvidenceEvent.CAPTURE_POSTPONED,
                                EvidenceEvent.CAPTURE_POSTPONED, EvidenceEvent.CAPTURE_FAILED]
    assert services.perform_capture(capture_id=capture.pk, max_attempts=3)["status"] == "skipped"


def test_without_a_screenshot_the_body_and_record_are_still_kept(
        submit: Any, handler: Any, site: LocalSite, loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(page: Any, **kwargs: Any) -> Any:
        raise ScreenshotFailed(gettext_lazy("The browser could not show the page."))

    monkeypatch.setattr(capture_module, "take_screenshot", broken)
    site.routes["/p"] = Answer(body=[b"<p>hello</p>"])
    capture = services.request_capture(case=submit().report.case, url=site.url("/p", host="good.test"),
                                       actor=Actor.staff(handler))
    services.perform_capture(capture_id=capture.pk, max_attempts=4)
    capture.refresh_from_db()
    assert (capture.status, capture.error_code, capture.screenshot) == (CaptureStatus.DONE, "no_screenshot", None)
    assert capture.error_text == "The browser could not show the page."
    record = json.loads(services.read_original(item=capture.record))
    assert record["screenshot"] is None and record["screenshot_note"] == "The browser could not show the page."


def test_an_empty_body_is_noted_in_the_record(submit: Any, handler: Any, site: LocalSite, loopback: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_module, "take_screenshot", lambda page, **kw: capture_module.Screenshot(
        png=_png(), complete=True, requests=1))
    site.routes["/gone"] = Answer(status=410, headers=[])
    capture = services.request_capture(case=submit().report.case, url=site.url("/gone", host="good.test"),
                                       actor=Actor.staff(handler))
    services.perform_capture(capture_id=capture.pk, max_attempts=4)
    capture.refresh_from_db()
    assert (capture.status, capture.http_status, capture.body) == (CaptureStatus.DONE, 410, None)
    record = json.loads(services.read_original(item=capture.record))
    assert record["status"] == 410 and record["body"]["stored"] is False and record["body"]["note"] == (
        "The file is empty.")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://good.test/x", "gopher://good.test:70/_x",
                                 "data:text/html,<b>hi</b>", "javascript:alert(1)", "http://user:pw@good.test/",
                                 "http://10.0.0.1/", "http://[::1]/", "http://[::ffff:169.254.169.254]/",
                                 "http://169.254.169.254/latest/", "", "not a url"])
def test_a_request_for_a_url_that_can_never_be_fetched_is_refused_at_once(
        url: str, submit: Any, handler: Any, resolver: StubResolver) -> None:
    case = submit().report.case
    with pytest.raises(ValidationError) as refused:
        services.request_capture(case=case, url=url, actor=Actor.staff(handler))
    assert "url" in refused.value.message_dict
    assert not UrlCapture.objects.exists() and not resolver.lookups


def test_asking_twice_while_waiting_makes_one_capture(submit: Any, handler: Any) -> None:
    case = submit().report.case
    first = services.request_capture(case=case, url="https://host.example/p/1", actor=Actor.staff(handler))
    second = services.request_capture(case=case, url=" https://host.example/p/1 ", actor=Actor.staff(handler))
    third = services.request_capture(case=case, url="https://host.example/p/2", actor=Actor.staff(handler))
    assert first.pk == second.pk != third.pk
    assert Event.objects.filter(event_type=EvidenceEvent.CAPTURE_REQUESTED).count() == 2


def test_only_staff_who_work_on_the_case_may_request(submit: Any, make_staff: Any, helpline: Any,
                                                     outsider: Any) -> None:
    case = submit().report.case
    for user in [make_staff("ana", helpline, Role.ANALYST), outsider]:
        with pytest.raises(PermissionDenied):
            services.request_capture(case=case, url="https://host.example/p", actor=Actor.staff(user))
    with pytest.raises(PermissionDenied):
        services.request_capture(case=case, url="https://host.example/p", actor=Actor.system("x"))
    assert not UrlCapture.objects.exists()


def test_the_browser_fetches_every_sub_request_through_the_guard(site: LocalSite, loopback: Any,
                                                                 browser_proxy: LocalSite) -> None:
    site.routes["/photo.png"] = Answer(headers=[("Content-Type", "image/png")], body=[_png()])
    site.routes["/page"] = Answer(body=[
        b'<img src="/photo.png"><img src="http://evil.test/x.png"><img src="http://meta.test/m.png">'
        b'<img src="http://[::ffff:10.0.0.1]/y.png"><img src="http://mixed.test/z.png">'
        b'<img src="ftp://good.test/f.png"><iframe src="http://evil.test/frame"></iframe>'])
    page = safefetch.fetch(site.url("/page", host="good.test"))
    shot = take_screenshot(page, seconds=30)
    assert shot.png.startswith(b"\x89PNG") and shot.complete
    reasons = {b["url"]: b["reason"] for b in shot.blocked}
    for url in ["http://evil.test/x.png", "http://meta.test/m.png", "http://mixed.test/z.png", "http://evil.test/frame",
                "http://[::ffff:a00:1]/y.png"]:  # as Chromium writes [::ffff:10.0.0.1]
        assert reasons.get(url) == "private_address", (url, reasons)
    assert reasons.get("ftp://good.test/f.png") in {None, "refused"}, "never fetched"
    assert [r.path for r in site.requests] == ["/page", "/photo.png"]
    assert _escaped(browser_proxy) == []


def test_with_loopback_forbidden_the_browser_cannot_reach_loopback_either(site: LocalSite, loopback: Any,
                                                                           browser_proxy: LocalSite) -> None:
    site.routes["/page"] = Answer(body=[f'<img src="/photo.png"><img src="http://127.0.0.1:{site.port}/direct.png">'
                                        f'<iframe src="http://[::1]:{site.port}/frame"></iframe>'.encode()])
    page = safefetch.fetch(site.url("/page", host="good.test"))
    loopback.VANGNET_FETCH_ALLOW_LOOPBACK = False  # as in production, from here on
    shot = take_screenshot(page, seconds=30)
    assert {b["reason"] for b in shot.blocked} == {"private_address"} and len(shot.blocked) == 3
    assert [r.path for r in site.requests] == ["/page"], "nothing the page needs was fetched from loopback"
    assert _escaped(browser_proxy) == []


def test_a_capture_a_dead_worker_left_running_is_queued_again_then_fails_after_its_last_attempt(
        submit: Any, handler: Any, django_capture_on_commit_callbacks: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    case = submit().report.case
    stalled = services.request_capture(case=case, url="https://host.example/p/1", actor=Actor.staff(handler))
    fresh = services.request_capture(case=case, url="https://host.example/p/2", actor=Actor.staff(handler))
    long_ago = timezone.now() - services.STALLED_AFTER - timedelta(minutes=1)
    UrlCapture.objects.filter(pk=stalled.pk).update(status=CaptureStatus.RUNNING, attempts=1, started_at=long_ago)
    UrlCapture.objects.filter(pk=fresh.pk).update(status=CaptureStatus.RUNNING, attempts=1, started_at=timezone.now())
    queued_before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stalled_captures(max_attempts=4) == 1
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    assert stalled.status == CaptureStatus.QUEUED and stalled.error_code == "interrupted"
    assert fresh.status == CaptureStatus.RUNNING, "a capture still within its time is left alone"
    assert DBTaskResult.objects.count() == queued_before + 1, "a new task picks it up"
    UrlCapture.objects.filter(pk=stalled.pk).update(status=CaptureStatus.RUNNING, attempts=4, started_at=long_ago)
    assert services.recover_stalled_captures(max_attempts=4) == 1
    stalled.refresh_from_db()
    assert stalled.status == CaptureStatus.FAILED and stalled.finished_at is not None
    assert [e for e in _events(stalled) if e.endswith(("postponed", "failed"))] == [
        EvidenceEvent.CAPTURE_POSTPONED, EvidenceEvent.CAPTURE_FAILED]
