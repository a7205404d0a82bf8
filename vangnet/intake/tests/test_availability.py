"""Availability checks of reported URLs: fetched through the guard, judged conservatively, scheduled, shown.

Nothing here reaches beyond loopback: names go through a stub resolver and a connection to
any other address fails the test before a packet is sent (``common.testing_network``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.cases.choices import CaseStatus
from vangnet.common import safefetch
from vangnet.common.seed import seed_reference_data
from vangnet.common.testing import at_the_same_moment
from vangnet.common.testing_network import Answer, LocalSite, StubResolver, forbid_outside_connections
from vangnet.intake import availability
from vangnet.intake.choices import Availability, AvailabilityEvent, CheckOutcome
from vangnet.intake.models import AvailabilityCheck, ReportedUrl

pytestmark = pytest.mark.django_db

NAMES = {"good.test": ["127.0.0.1"], "other.test": ["127.0.0.1"], "evil.test": ["10.0.0.1"]}
# The checks' own clock; an hour ago, so what staff see "now" (checks going on or stopped) matches it.
T0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
DEC_3 = dt.datetime(2025, 12, 3, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[StubResolver]:
    settings.VANGNET_FETCH_ALLOW_LOOPBACK = True
    guard = forbid_outside_connections(monkeypatch)
    stub = StubResolver(NAMES).install(monkeypatch)
    yield stub
    guard.assert_clean()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    server = LocalSite().start()
    yield server
    server.stop()


def page(body: bytes = b"<p>the post</p>", status: int = 200) -> Answer:
    return Answer(status=status, body=[body])


def reported(submit: Any, url: str, **overrides: Any) -> ReportedUrl:
    """A report of ``url`` filed in a case, and its ReportedUrl (submitted at T0 - 1 hour)."""
    report = submit(urls=url, **overrides).report
    type(report).objects.filter(pk=report.pk).update(submitted_at=T0 - dt.timedelta(hours=1))
    return report.urls.get()


def check(url: ReportedUrl, at: dt.datetime) -> AvailabilityCheck:
    """Claim as the scheduler would at ``at`` (the URL must be due), then check as the worker would."""
    token, ids = availability.claim_due_urls(now=at)
    assert url.pk in ids, "the URL should be due"
    result = availability.check_url(url_id=url.pk, claim_token=token, now=at)
    assert result is not None
    url.refresh_from_db()
    return result


def events(url: ReportedUrl) -> list[Event]:
    return list(Event.objects.filter(subject_type="intake.reportedurl", subject_id=str(url.pk)).order_by("pk"))


# ---------------------------------------------------------------------------------------------
# What an answer means


@pytest.mark.parametrize(("status", "outcome"), [
    (200, CheckOutcome.ONLINE), (204, CheckOutcome.ONLINE), (404, CheckOutcome.REMOVED),
    (410, CheckOutcome.REMOVED), (451, CheckOutcome.REMOVED), (401, CheckOutcome.RESTRICTED),
    (403, CheckOutcome.RESTRICTED), (500, CheckOutcome.UNREACHABLE), (503, CheckOutcome.UNREACHABLE),
    (429, CheckOutcome.UNREACHABLE), (400, CheckOutcome.UNREACHABLE), (304, CheckOutcome.UNREACHABLE),
])
def test_statuses_are_judged_conservatively(status: int, outcome: str) -> None:
    assert availability.classify(status) == outcome


def test_online_then_two_404s_is_offline_since_the_first(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    first = check(url, T0)
    assert (first.outcome, first.http_status, url.availability) == (CheckOutcome.ONLINE, 200, Availability.ONLINE)
    assert url.next_check_at == T0 + availability.INTERVAL_FIRST_WEEK
    site.routes["/post"] = page(b"gone", status=404)
    t1 = T0 + dt.timedelta(hours=6)
    check(url, t1)
    assert url.availability == Availability.ONLINE and url.offline_since is None, "one 404 is not enough"
    assert url.removed_since == t1 and url.next_check_at == t1 + availability.CONFIRM_AFTER
    assert not events(url)
    t2 = t1 + dt.timedelta(hours=1)
    check(url, t2)
    assert url.availability == Availability.OFFLINE and url.offline_since == t1 and url.last_checked_at == t2
    [event] = events(url)
    assert event.event_type == AvailabilityEvent.WENT_OFFLINE
    assert event.case_id == url.report.case_id and event.organisation_id == url.report.organisation_id
    assert event.data["offline_since"] == t1.isoformat() and event.data["http_status"] == 404
    check(url, t2 + dt.timedelta(hours=6))
    assert url.offline_since == t1 and len(events(url)) == 1, "staying offline is no new event"
    assert [r.path for r in site.requests] == ["/post"] * 4


def test_flapping_never_reports_offline(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    at = T0
    for status in (200, 404, 200, 404, 200, 404):
        site.routes["/post"] = page(status=status)
        check(url, at)
        at = url.next_check_at
        assert url.offline_since is None
    assert url.removed_since is not None and url.availability == Availability.ONLINE
    assert not events(url)


def test_content_that_comes_back_is_online_again_and_logged(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page(status=410)
    check(url, T0)
    assert url.availability == Availability.UNKNOWN, "a first removal of content never seen is not yet known"
    check(url, T0 + dt.timedelta(hours=1))
    assert url.availability == Availability.OFFLINE and url.offline_since == T0
    site.routes["/post"] = page()
    check(url, T0 + dt.timedelta(hours=7))
    assert url.availability == Availability.ONLINE and url.offline_since is None and url.removed_since is None
    assert [e.event_type for e in events(url)] == [AvailabilityEvent.WENT_OFFLINE, AvailabilityEvent.BACK_ONLINE]
    assert events(url)[1].data["offline_since"] == T0.isoformat()


def test_server_errors_and_timeouts_never_mark_offline(submit: Any, site: LocalSite,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(availability, "LIMITS", safefetch.Limits(max_bytes=1000, connect_timeout=1.0,
                                                                 total_timeout=0.5))
    url = reported(submit, site.url("/post", host="good.test"))
    at = T0
    for answer in (page(status=503), page(status=500), Answer(drip_headers=True, pause=0.1, body=[b"x"])):
        site.routes["/post"] = answer
        result = check(url, at)
        at = url.next_check_at
        assert result.outcome == CheckOutcome.UNREACHABLE
    assert AvailabilityCheck.objects.filter(reported_url=url).order_by("pk").values_list(
        "http_status", "error_code")[::1] == [(503, "http_status"), (500, "http_status"), (None, "too_slow")]
    assert url.availability == Availability.UNKNOWN and url.offline_since is None and url.removed_since is None
    assert not events(url)


def test_a_site_that_does_not_answer_is_unreachable_not_removed(submit: Any) -> None:
    url = reported(submit, "http://127.0.0.1:1/post")  # nothing listens on port 1
    result = check(url, T0)
    assert (result.outcome, result.error_code, result.http_status) == (CheckOutcome.UNREACHABLE, "unreachable", None)
    assert url.availability == Availability.UNKNOWN


def test_unreachable_checks_neither_confirm_nor_break_a_removal(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    check(url, T0)
    at = T0 + dt.timedelta(hours=6)
    for status in (404, 503, 404):
        site.routes["/post"] = page(status=status)
        check(url, at)
        at = url.next_check_at
        if status == 503:
            assert url.offline_since is None, "a server error confirms nothing"
    assert url.offline_since == T0 + dt.timedelta(hours=6)


def test_restricted_counts_as_online(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    at = T0
    for status in (404, 403, 404):
        site.routes["/post"] = page(status=status)
        check(url, at)
        at = url.next_check_at
    assert url.offline_since is None and url.availability == Availability.ONLINE
    assert url.checks.order_by("pk")[1].outcome == CheckOutcome.RESTRICTED


def test_the_guard_refuses_private_addresses_and_the_refusal_is_recorded(submit: Any, site: LocalSite,
                                                                         resolver: StubResolver) -> None:
    url = reported(submit, "http://evil.test/admin")
    result = check(url, T0)
    assert (result.outcome, result.error_code, result.http_status) == (CheckOutcome.REFUSED, "private_address", None)
    assert url.availability == Availability.UNKNOWN and resolver.lookups["evil.test"] == 1
    # A redirect into a private network is refused at that hop, before any connection to it.
    site.routes["/post"] = Answer(status=302, headers=[("Location", "http://evil.test/admin")])
    hop = reported(submit, site.url("/post", host="good.test"), description="Another report.")
    assert check(hop, T0).error_code == "private_address"
    assert url.next_check_at == T0 + availability.INTERVAL_FIRST_WEEK, "refused URLs are tried again later"


def test_a_redirect_to_another_sites_front_page_is_online_with_changed_content(submit: Any, site: LocalSite) -> None:
    address = site.url("/post", host="good.test")
    url = reported(submit, address)
    site.routes["/post"] = page(b"<p>the post</p>")
    first = check(url, T0)
    assert not first.redirected and not first.content_changed
    site.routes["/post"] = Answer(status=301, headers=[("Location", site.url("/", host="other.test"))])
    site.routes["/"] = page(b"<h1>Welcome to other.test</h1>")
    second = check(url, T0 + dt.timedelta(hours=6))
    assert second.outcome == CheckOutcome.ONLINE and second.redirected and second.content_changed
    assert second.final_url_hash and second.final_url_hash != first.final_url_hash
    assert url.availability == Availability.ONLINE
    third = check(url, T0 + dt.timedelta(hours=12))
    assert not third.content_changed, "the same content as last time"
    # The URL is never stored in clear with a check or an event.
    for row in AvailabilityCheck.objects.filter(reported_url=url).values():
        assert not any("test" in str(value) for value in row.values()), row


def test_a_page_over_the_size_limit_is_judged_by_its_status_without_a_hash(submit: Any, site: LocalSite,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(availability, "LIMITS", safefetch.Limits(max_bytes=1000, total_timeout=5.0))
    url = reported(submit, site.url("/big", host="good.test"))
    site.routes["/big"] = page(b"x" * 5000)
    result = check(url, T0)
    assert (result.outcome, result.http_status, result.content_sha256, result.error_code) == (
        CheckOutcome.ONLINE, 200, "", "too_large")
    assert [r.method for r in site.requests] == ["GET", "HEAD"]


# ---------------------------------------------------------------------------------------------
# Scheduling and claiming


def test_only_due_urls_of_open_cases_are_claimed(submit: Any) -> None:
    def make(text: str, **state: Any) -> ReportedUrl:
        url = reported(submit, f"https://example.com/{text}", description=text)
        ReportedUrl.objects.filter(pk=url.pk).update(**state)
        return url

    never_checked = make("never")
    due = make("due", next_check_at=T0 - dt.timedelta(minutes=1), last_checked_at=T0 - dt.timedelta(hours=6))
    make("later", next_check_at=T0 + dt.timedelta(minutes=1))
    make("claimed", claimed_until=T0 + dt.timedelta(minutes=5), claim_token="someone")
    expired_claim = make("expired", claimed_until=T0 - dt.timedelta(minutes=5), claim_token="dead-worker")
    make("offline-a-week", offline_since=T0 - dt.timedelta(days=7), availability=Availability.OFFLINE)
    offline_days = make("offline-days", offline_since=T0 - dt.timedelta(days=6), availability=Availability.OFFLINE)
    closed = make("closed")
    closed.report.case.status = CaseStatus.CLOSED
    closed.report.case.save(update_fields=["status"])
    token, ids = availability.claim_due_urls(now=T0)
    assert ids == sorted([never_checked.pk, due.pk, expired_claim.pk, offline_days.pk])
    assert set(ReportedUrl.objects.filter(claim_token=token).values_list("pk", flat=True)) == set(ids)
    assert ReportedUrl.objects.get(pk=ids[0]).claimed_until == T0 + availability.CLAIM_LEASE
    assert availability.claim_due_urls(now=T0)[1] == [], "a second scheduler finds nothing left to claim"


def test_a_closed_case_is_not_checked_even_when_it_closed_after_the_claim(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    token, ids = availability.claim_due_urls(now=T0)
    assert ids == [url.pk]
    url.report.case.status = CaseStatus.CLOSED
    url.report.case.save(update_fields=["status"])
    assert availability.check_url(url_id=url.pk, claim_token=token, now=T0) is None
    url.refresh_from_db()
    assert site.requests == [] and url.claim_token == "" and url.claimed_until is None
    assert not AvailabilityCheck.objects.exists()


def test_a_stale_claim_never_records_a_second_check(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    old_token, _ids = availability.claim_due_urls(now=T0)
    later = T0 + availability.CLAIM_LEASE + dt.timedelta(minutes=1)
    new_token, ids = availability.claim_due_urls(now=later)  # the first worker died; the lease ran out
    assert ids == [url.pk] and new_token != old_token
    assert availability.check_url(url_id=url.pk, claim_token=old_token, now=later) is None
    assert site.requests == [], "the stale claim does not even fetch"
    observation = availability.observe(url.url)
    assert availability.record_check(url_id=url.pk, claim_token=new_token, observation=observation, now=later)
    assert availability.record_check(url_id=url.pk, claim_token=new_token, observation=observation, now=later) is None
    assert AvailabilityCheck.objects.count() == 1


def test_checks_back_off_after_the_first_week(submit: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    check(url, T0)
    assert url.next_check_at == T0 + dt.timedelta(hours=6)
    week_later = T0 + dt.timedelta(days=7)
    check(url, week_later)
    assert url.next_check_at == week_later + dt.timedelta(days=1)


def test_the_scheduler_enqueues_batches_that_the_worker_checks(submit: Any, site: LocalSite, run_worker: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.intake import tasks

    monkeypatch.setattr(availability, "BATCH_SIZE", 2)
    site.routes["/a"] = page()
    site.routes["/b"] = page(status=404)
    urls = [reported(submit, site.url(path, host="good.test"), description=path) for path in ("/a", "/b", "/c")]
    assert tasks.schedule_availability_checks.call() == 3
    batches = DBTaskResult.objects.filter(task_path="vangnet.intake.tasks.check_availability")
    assert sorted(b.args_kwargs["kwargs"]["url_ids"] for b in batches) == [[urls[0].pk, urls[1].pk], [urls[2].pk]]
    assert tasks.schedule_availability_checks.call() == 0, "claimed URLs are not enqueued twice"
    run_worker()
    outcomes = dict(AvailabilityCheck.objects.values_list("reported_url_id", "outcome"))
    assert outcomes == {urls[0].pk: CheckOutcome.ONLINE, urls[1].pk: CheckOutcome.REMOVED,
                        urls[2].pk: CheckOutcome.REMOVED}
    assert not ReportedUrl.objects.exclude(claim_token="").exists(), "every claim released"


def test_one_broken_check_does_not_hold_up_its_batch(submit: Any, site: LocalSite,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    site.routes["/ok"] = page()
    broken = reported(submit, site.url("/broken", host="good.test"), description="broken")
    fine = reported(submit, site.url("/ok", host="good.test"), description="fine")
    real_observe = availability.observe

    def observe(url: str) -> availability.Observation:
        if url.endswith("/broken"):
            raise RuntimeError("a bug")
        return real_observe(url)

    monkeypatch.setattr(availability, "observe", observe)
    token, ids = availability.claim_due_urls()
    counts = availability.perform_checks(url_ids=ids, claim_token=token)
    assert counts == {"failed": 1, CheckOutcome.ONLINE: 1}
    assert AvailabilityCheck.objects.get().reported_url_id == fine.pk
    held = ReportedUrl.objects.get(pk=broken.pk)
    assert held.claim_token and held.claimed_until, "its claim runs out, then it is tried again"


# ---------------------------------------------------------------------------------------------
# What people see


def _offline(url: ReportedUrl) -> None:
    ReportedUrl.objects.filter(pk=url.pk).update(availability=Availability.OFFLINE, offline_since=DEC_3,
                                                 removed_since=DEC_3, last_checked_at=DEC_3)


def _login(client: Any, submitted: Any, lang: str) -> str:
    client.post(f"/{lang}/followup/", {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret})
    response = client.get(f"/{lang}/followup/report/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("lang", "offline", "online"), [
    ("en", "Good news: the content at this address is no longer online (we checked on 3 December 2025).",
     "It is still online. We keep checking."),
    ("nl", "Goed nieuws: wat op dit adres stond, is niet meer online (we hebben het gecontroleerd op 3 december 2025).",
     "Het staat nog online. We blijven het controleren."),
])
def test_the_reporter_reads_in_plain_words_whether_her_content_is_online(client: Any, submit: Any, lang: str,
                                                                         offline: str, online: str) -> None:
    submitted = submit(urls="https://example.com/photo/1\nhttps://example.com/photo/2", language=lang)
    first, second = submitted.report.urls.order_by("pk")
    _offline(first)
    ReportedUrl.objects.filter(pk=second.pk).update(availability=Availability.ONLINE, last_checked_at=T0)
    text = _login(client, submitted, lang)
    assert offline in text and online in text
    for word in ("HTTP", "404", "status"):
        assert word not in text.split('id="availability-heading"')[1].split("</section>")[0]


def test_the_reporter_never_sees_another_reports_urls(client: Any, submit: Any) -> None:
    mine = submit(urls="https://example.com/photo/1")
    theirs = submit(urls="https://example.com/photo/1\nhttps://example.com/their-secret-page")
    assert theirs.report.case_id == mine.report.case_id, "the same content: one case"
    text = _login(client, mine, "en")
    assert "their-secret-page" not in text
    assert text.count("data-availability=") == 1


def test_the_reporter_is_told_when_checks_have_stopped(client: Any, submit: Any) -> None:
    submitted = submit(urls="https://example.com/photo/1")
    ReportedUrl.objects.filter(report=submitted.report).update(availability=Availability.ONLINE,
                                                               last_checked_at=DEC_3 - dt.timedelta(days=2))
    submitted.report.case.status = CaseStatus.CLOSED
    submitted.report.case.save(update_fields=["status"])
    text = _login(client, submitted, "en")
    assert "It was still online when we last checked, on 1 December 2025." in text
    assert "We keep checking" not in text


def test_the_staff_partial_shows_each_url_only_to_staff_who_may_see_the_case(
        submit: Any, handler: Any, outsider: Any, make_staff: Any, helpline: Any, site: LocalSite) -> None:
    analyst = make_staff("ana", helpline, Role.ANALYST)
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page(status=404)
    check(url, T0)
    check(url, T0 + dt.timedelta(hours=1))
    case = url.report.case
    for user in (outsider, analyst):
        assert availability.availability_context(user=user, case=case) == {"availability_urls": []}
    context = availability.availability_context(user=handler, case=case)
    [row] = context["availability_urls"]
    assert (row.url.pk, row.availability, row.offline_since, row.last_check.http_status, row.checking) == (
        url.pk, Availability.OFFLINE, T0, 404, True)
    from django.utils import translation

    with translation.override("en"):
        html = render_to_string("intake/_availability_staff.html", context)
    assert f'data-reported-url="{url.pk}"' in html and 'data-availability="offline"' in html
    assert f'datetime="{timezone.localtime(T0).isoformat()}"' in html and url.url in html
    assert '<td data-label="HTTP status">404</td>' in html
    with translation.override("en"):
        empty = render_to_string("intake/_availability_staff.html",
                                 availability.availability_context(user=outsider, case=case))
    assert url.url not in empty and "This case has no reported addresses." in empty


def test_a_url_under_confirmation_is_marked_for_staff(submit: Any, handler: Any, site: LocalSite) -> None:
    url = reported(submit, site.url("/post", host="good.test"))
    site.routes["/post"] = page()
    check(url, T0)
    site.routes["/post"] = page(status=404)
    check(url, T0 + dt.timedelta(hours=6))
    [row] = availability.availability_for_case(user=handler, case=url.report.case)
    assert row.confirming_removal and row.availability == Availability.ONLINE and row.offline_since is None
    assert timezone.is_aware(row.next_check_at)


# ---------------------------------------------------------------------------------------------
# Two schedulers or workers at once (PostgreSQL: the in-memory SQLite test database refuses concurrent writers)

on_postgresql = pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent writers need PostgreSQL (CI)")


def _submit_seeded(**overrides: Any) -> Any:
    """``submit`` for transactional tests, whose database the tests before emptied: seeds it first."""
    from conftest import report_payload
    from vangnet.accounts.models import Organisation
    from vangnet.audit.services import Actor
    from vangnet.intake.choices import Channel
    from vangnet.intake.forms import ReportForm
    from vangnet.intake.services import submit_report

    if not Organisation.objects.filter(slug="vangnet-helpline").exists():
        seed_reference_data()
    form = ReportForm(data=report_payload(**overrides))
    assert form.is_valid(), form.errors
    return submit_report(data=form.cleaned_data, organisation=Organisation.objects.get(slug="vangnet-helpline"),
                         channel=Channel.WEB, actor=Actor.reporter())


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_simultaneous_schedulers_claim_each_url_once_and_skip_locked_rows() -> None:
    urls = [reported(_submit_seeded, f"https://example.com/post/{i}", description=str(i)) for i in range(24)]
    held = [u.pk for u in urls[:4]]
    locked, release = threading.Event(), threading.Event()

    def hold_rows() -> None:  # another scheduler in the middle of its claim
        try:
            with transaction.atomic():
                list(ReportedUrl.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_rows)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    _token, ids = availability.claim_due_urls(now=T0)
    assert time.monotonic() - started < 5, "locked rows are skipped, not waited for"
    release.set()
    holder.join()
    assert sorted(ids) == sorted(u.pk for u in urls[4:])
    ReportedUrl.objects.update(claimed_until=None, claim_token="")
    runs = at_the_same_moment(4, lambda _i: availability.claim_due_urls(now=T0)[1])
    claimed = [pk for run in runs for pk in run]
    assert sorted(claimed) == sorted(u.pk for u in urls), "every URL claimed by exactly one scheduler"


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_two_workers_with_one_claim_fetch_and_record_once(site: LocalSite) -> None:
    site.routes["/post"] = page()
    url = reported(_submit_seeded, site.url("/post", host="good.test"))
    token, _ids = availability.claim_due_urls(now=T0)
    results = at_the_same_moment(2, lambda _i: availability.check_url(url_id=url.pk, claim_token=token, now=T0))
    assert sum(result is not None for result in results) == 1
    assert len(site.requests) == 1 and AvailabilityCheck.objects.count() == 1
