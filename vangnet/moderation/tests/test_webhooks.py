"""Signed webhooks: the signature format, the outbox, delivery to a real receiver on loopback, the SSRF guard."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.common.retry import Backoff
from vangnet.common.testing_network import StubResolver, forbid_outside_connections
from vangnet.moderation import webhooks
from vangnet.moderation.choices import DeliveryState, ModerationEvent, WebhookEvent
from vangnet.moderation.models import WebhookDelivery, WebhookEndpoint

SECRET = "whsec_test"
NAMES = {"hooks.test": ["127.0.0.1"], "evil.test": ["10.0.0.1"], "meta.test": ["169.254.169.254"],
         "mapped.test": ["::ffff:10.0.0.1"]}


# ---------------------------------------------------------------------------------------------
# Signatures


def test_signature_format_is_pinned_by_a_known_answer() -> None:
    assert webhooks.sign(secret=SECRET, timestamp=1700000000, body=b'{"id":"1"}') == (
        "t=1700000000,v1=11bf4466ea17c3df3fd743af0b435368e16b7a05eb8eced85e8c4670767bdec5")


def test_verify_accepts_a_fresh_signature_and_refuses_anything_else() -> None:
    body = b'{"a":1}'
    header = webhooks.sign(secret=SECRET, timestamp=1000, body=body)
    assert webhooks.verify(secret=SECRET, header=header, body=body, now=1000)
    assert webhooks.verify(secret=SECRET, header=header, body=body, now=1300)
    assert webhooks.verify(secret=SECRET, header=f"{header},v1={'0' * 64}", body=body, now=1000), "rotation"
    assert not webhooks.verify(secret=SECRET, header=header, body=body, now=1301), "too old"
    assert not webhooks.verify(secret=SECRET, header=header, body=body, now=699), "from the future"
    assert not webhooks.verify(secret="other", header=header, body=body, now=1000)
    assert not webhooks.verify(secret=SECRET, header=header, body=b'{"a":2}', now=1000)
    for broken in ["", "t=1000", f"v1={header.split('v1=')[1]}", "t=x,v1=00", "garbage"]:
        assert not webhooks.verify(secret=SECRET, header=broken, body=body, now=1000), broken


# ---------------------------------------------------------------------------------------------
# A receiver on loopback


class Receiver:
    """A platform's receiver on 127.0.0.1: checks each signature, answers the next of ``statuses``."""

    def __init__(self, secret: str = SECRET) -> None:
        receiver = self
        self.secret = secret
        self.statuses: list[int] = []
        self.location = ""
        self.pause = 0.0
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append({
                        "path": self.path, "headers": dict(self.headers.items()), "body": body,
                        "valid": webhooks.verify(secret=receiver.secret, body=body, now=time.time(),
                                                 header=self.headers.get("Vangnet-Signature", ""))})
                time.sleep(receiver.pause)
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook", host: str = "hooks.test", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubResolver]:
    guard = forbid_outside_connections(monkeypatch)
    stub = StubResolver(NAMES).install(monkeypatch)
    yield stub
    guard.assert_clean()


@pytest.fixture
def loopback(settings: Any) -> Any:
    settings.VANGNET_FETCH_ALLOW_LOOPBACK = True
    return settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def platform(db: Any) -> Organisation:
    return Organisation.objects.create(slug="chatplaats", name="Chatplaats", is_platform=True, handles_reports=False,
                                       notice_email="policy@chatplaats.test")


@pytest.fixture
def manager(make_staff: Any, platform: Organisation) -> Any:
    return make_staff("pim", platform, Role.POLICY_MANAGER)


def endpoint_for(platform: Organisation, url: str, events: list[str] | None = None, **kwargs: Any) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organisation=platform, url=url, secret=SECRET, events=events or [], **kwargs)


def queue(platform: Organisation, event: str = WebhookEvent.DECISION_MADE,
          payload: dict[str, Any] | None = None) -> int:
    with transaction.atomic():
        return webhooks.notify(organisation=platform, event_type=event, payload=payload or {"item": "post-1"})


def make_due() -> None:
    WebhookDelivery.objects.filter(state=DeliveryState.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


# ---------------------------------------------------------------------------------------------
# The outbox


def test_notify_queues_one_row_per_subscribed_active_endpoint(platform: Organisation, other_org: Organisation,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    every = endpoint_for(platform, "https://a.test/")
    decisions = endpoint_for(platform, "https://b.test/", [WebhookEvent.DECISION_MADE])
    endpoint_for(platform, "https://c.test/", [WebhookEvent.APPEAL_DECIDED])
    endpoint_for(platform, "https://d.test/", is_active=False)
    endpoint_for(other_org, "https://e.test/")
    with django_capture_on_commit_callbacks() as callbacks:
        assert queue(platform) == 2
    assert len(callbacks) == 1, "the worker is kicked once, after commit"
    rows = list(WebhookDelivery.objects.order_by("endpoint_id"))
    assert [r.endpoint_id for r in rows] == [every.pk, decisions.pk]
    assert {r.event_type for r in rows} == {"decision.made"} and len({r.event_id for r in rows}) == 2
    assert all(r.state == DeliveryState.PENDING and r.organisation_id == platform.pk for r in rows)
    with django_capture_on_commit_callbacks() as callbacks:
        assert queue(platform, WebhookEvent.SANCTION_APPLIED) == 1
    assert WebhookDelivery.objects.count() == 3


def test_notify_rolls_back_with_its_caller(platform: Organisation, django_capture_on_commit_callbacks: Any) -> None:
    endpoint_for(platform, "https://a.test/")
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            webhooks.notify(organisation=platform, event_type=WebhookEvent.DECISION_MADE, payload={})
            raise RuntimeError("the decision failed")
    assert callbacks == [] and not WebhookDelivery.objects.exists()
    with pytest.raises(ValueError):
        queue(platform, "no.such.event")


def test_a_delivery_reaches_the_receiver_signed_with_its_event_headers(
        platform: Organisation, receiver: Receiver, loopback: Any) -> None:
    endpoint_for(platform, receiver.url())
    queue(platform, payload={"item": "post-1", "action": "remove"})
    assert webhooks.deliver_due() == {"pending": 0, "delivered": 1, "failed": 0}
    row = WebhookDelivery.objects.get()
    [seen] = receiver.received
    assert seen["valid"], "the receiver verified the signature with the shared secret"
    headers = seen["headers"]
    assert headers["Content-Type"] == "application/json" and headers["Vangnet-Event"] == "decision.made"
    assert headers["Vangnet-Event-Id"] == str(row.event_id)
    envelope = json.loads(seen["body"])
    assert envelope == {"id": str(row.event_id), "type": "decision.made", "created": row.created_at.isoformat(),
                        "data": {"item": "post-1", "action": "remove"}}
    assert row.state == DeliveryState.DELIVERED and row.attempts == 1 and row.last_status == 200
    assert row.delivered_at is not None and row.next_attempt_at is None
    assert webhooks.deliver_due()["delivered"] == 0, "never sent twice"


def test_a_500_is_retried_after_back_off_with_the_same_event_id(platform: Organisation, receiver: Receiver,
                                                                loopback: Any) -> None:
    endpoint_for(platform, receiver.url())
    queue(platform)
    receiver.statuses = [500]
    before = timezone.now()
    assert webhooks.deliver_due()["pending"] == 1
    row = WebhookDelivery.objects.get()
    assert row.attempts == 1 and row.last_status == 500 and row.last_error == "HTTP 500"
    first_delay = webhooks.BACKOFF.first_delay
    assert row.next_attempt_at is not None
    assert before + timedelta(seconds=first_delay * 0.79) <= row.next_attempt_at
    assert row.next_attempt_at <= timezone.now() + timedelta(seconds=first_delay * 1.21)
    assert webhooks.deliver_due() == {"pending": 0, "delivered": 0, "failed": 0}, "not due yet"
    make_due()
    assert webhooks.deliver_due()["delivered"] == 1
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED and row.attempts == 2 and row.last_error == ""
    assert [seen["headers"]["Vangnet-Event-Id"] for seen in receiver.received] == [str(row.event_id)] * 2
    assert receiver.received[0]["body"] == receiver.received[1]["body"], "the same bytes every time"
    assert all(seen["valid"] for seen in receiver.received)


def test_back_off_grows_exponentially_with_jitter(platform: Organisation, loopback: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "BACKOFF", Backoff(first_delay=10, factor=2, max_delay=35, jitter=0.0,
                                                     max_attempts=10))
    endpoint_for(platform, "http://hooks.test:9/")  # nothing listens on the discard port
    queue(platform)
    delays = []
    for _attempt in range(4):
        make_due()
        start = timezone.now()
        assert webhooks.deliver_due()["pending"] == 1
        row = WebhookDelivery.objects.get()
        assert row.next_attempt_at is not None
        delays.append(round((row.next_attempt_at - start).total_seconds()))
    assert delays == [10, 20, 35, 35]
    assert row.last_status is None and row.last_error.startswith("unreachable")


def test_it_gives_up_after_the_last_attempt_with_an_audit_event(platform: Organisation, receiver: Receiver,
                                                                loopback: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "BACKOFF", Backoff(first_delay=1, max_attempts=3))
    endpoint_for(platform, receiver.url())
    queue(platform)
    receiver.statuses = [500, 502, 503, 200]
    results = []
    for _attempt in range(4):
        make_due()
        results.append(webhooks.deliver_due())
    assert [r["pending"] for r in results] == [1, 1, 0, 0] and results[2]["failed"] == 1
    row = WebhookDelivery.objects.get()
    assert row.state == DeliveryState.FAILED and row.attempts == 3 and row.last_status == 503
    assert len(receiver.received) == 3
    event = Event.objects.get(event_type=ModerationEvent.WEBHOOK_GAVE_UP)
    assert event.subject_id == str(row.pk) and event.organisation_id == platform.pk
    assert event.data["attempts"] == 3 and event.data["event_id"] == str(row.event_id)
    assert event.actor_type == "system"


def test_a_redirect_is_a_failure_and_never_followed(platform: Organisation, receiver: Receiver,
                                                    loopback: Any) -> None:
    inside = Receiver()
    try:
        receiver.statuses, receiver.location = [302], inside.url("/steal")
        endpoint_for(platform, receiver.url())
        queue(platform)
        assert webhooks.deliver_due()["pending"] == 1
        row = WebhookDelivery.objects.get()
        assert row.last_status == 302 and "not followed" in row.last_error
        assert inside.received == []
    finally:
        inside.stop()


def test_a_slow_receiver_is_cut_off_in_bounded_time(platform: Organisation, receiver: Receiver, loopback: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.common import safefetch

    monkeypatch.setattr(webhooks, "LIMITS", safefetch.Limits(total_timeout=0.5, connect_timeout=0.5))
    receiver.pause = 3.0
    endpoint_for(platform, receiver.url())
    queue(platform)
    start = time.monotonic()
    assert webhooks.deliver_due()["pending"] == 1
    assert time.monotonic() - start < 2.0
    assert WebhookDelivery.objects.get().last_error.startswith("too_slow")


@pytest.mark.parametrize("host", ["evil.test", "meta.test", "mapped.test", "10.0.0.1", "[fe80::1]",
                                  "[::ffff:127.0.0.1]"])
def test_an_address_inside_is_refused_without_a_packet(host: str, platform: Organisation,
                                                       receiver: Receiver) -> None:
    endpoint_for(platform, receiver.url(host=host, scheme="https"))
    queue(platform)
    assert webhooks.deliver_due()["pending"] == 1
    assert WebhookDelivery.objects.get().last_error == "private_address: The address points to a private network."
    assert receiver.received == []


def test_loopback_is_refused_unless_tests_allow_it(platform: Organisation, receiver: Receiver) -> None:
    endpoint_for(platform, receiver.url(host="127.0.0.1"))
    queue(platform)
    webhooks.deliver_due()
    assert receiver.received == [] and WebhookDelivery.objects.get().last_error.startswith("https_required")
    WebhookEndpoint.objects.update(url=receiver.url(host="127.0.0.1", scheme="https"))
    make_due()
    webhooks.deliver_due()
    assert receiver.received == [] and WebhookDelivery.objects.get().last_error.startswith("private_address")


def test_a_claimed_row_is_leased_and_a_stale_worker_s_answer_is_ignored(platform: Organisation,
                                                                        loopback: Any) -> None:
    endpoint_for(platform, "http://hooks.test:9/")
    queue(platform)
    first = webhooks._claim(timezone.now())
    assert first is not None and first.attempts == 1
    assert webhooks._claim(timezone.now()) is None, "another worker does not take a leased row"
    assert webhooks._claim(timezone.now() + webhooks.LEASE + timedelta(seconds=1)) is not None, "lease ran out"
    assert webhooks._finish(first, status=200, error="") == "pending", "the first worker no longer holds it"
    assert WebhookDelivery.objects.get().attempts == 2


# ---------------------------------------------------------------------------------------------
# Two workers at once (PostgreSQL: SQLite takes no row locks)

on_postgresql = pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent workers need PostgreSQL (CI)")


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_two_workers_sweeping_at_once_deliver_each_row_once(receiver: Receiver, loopback: Any) -> None:
    from vangnet.common.testing import at_the_same_moment

    platform = Organisation.objects.create(slug="chatplaats", name="Chatplaats", is_platform=True)
    endpoint_for(platform, receiver.url())
    for i in range(12):
        queue(platform, payload={"item": f"post-{i}"})
    receiver.pause = 0.05
    runs = at_the_same_moment(3, lambda _i: webhooks.deliver_due())
    assert sum(run["delivered"] for run in runs) == 12
    ids = [seen["headers"]["Vangnet-Event-Id"] for seen in receiver.received]
    assert len(ids) == 12 and len(set(ids)) == 12, "no row was sent twice"
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


# ---------------------------------------------------------------------------------------------
# Endpoints


def test_a_policy_manager_adds_a_webhook_and_sees_its_secret_once(platform: Organisation, manager: Any) -> None:
    endpoint, secret = webhooks.save_endpoint(organisation=platform, url=" https://hooks.chatplaats.test/vangnet ",
                                              events=[WebhookEvent.DECISION_MADE, WebhookEvent.DECISION_MADE],
                                              user=manager)
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.chatplaats.test/vangnet" and endpoint.is_active
    assert endpoint.events == ["decision.made"] and endpoint.secret == secret and len(secret) >= 43
    event = Event.objects.get(event_type=ModerationEvent.WEBHOOK_CHANGED)
    assert event.data == {"change": "created", "url": "https://hooks.chatplaats.test", "events": ["decision.made"]}
    assert event.actor_user_id == manager.pk and event.organisation_id == platform.pk
    assert secret not in json.dumps(event.data)
    _other, second = webhooks.save_endpoint(organisation=platform, url="https://x.test/", events=[], user=manager)
    assert second != secret


def test_the_event_log_keeps_only_the_scheme_and_host_of_a_webhooks_address(platform: Organisation,
                                                                            manager: Any) -> None:
    """The log is never erased: a token in the address's path or query never reaches it."""
    url = "https://hooks.chatplaats.test:8443/in/tok_path_secret?token=sk_live_query_secret&x=1"
    endpoint, _secret = webhooks.save_endpoint(organisation=platform, url=url, events=[], user=manager)
    webhooks.deactivate_endpoint(endpoint=endpoint, user=manager)
    events = list(Event.objects.filter(event_type=ModerationEvent.WEBHOOK_CHANGED).order_by("id"))
    assert [e.data["url"] for e in events] == ["https://hooks.chatplaats.test:8443"] * 2
    for event in events:
        logged = json.dumps(event.data)
        assert "sk_live_query_secret" not in logged and "tok_path_secret" not in logged and "token" not in logged
    assert webhooks.logged_address("https://[2001:db8::1]/x?y=z") == "https://[2001:db8::1]"


@pytest.mark.parametrize("url", ["http://hooks.chatplaats.test/", "ftp://x.test/", "https://user:pw@x.test/",
                                 "https://10.0.0.1/", "https://[::ffff:10.0.0.1]/", "https://127.0.0.1/",
                                 "https://169.254.169.254/", "not a url"])
def test_a_webhook_needs_a_public_https_address(url: str, platform: Organisation, manager: Any) -> None:
    with pytest.raises(ValidationError):
        webhooks.save_endpoint(organisation=platform, url=url, events=[], user=manager)
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_allowed_only_in_development_or_tests(platform: Organisation, manager: Any,
                                                            settings: Any) -> None:
    settings.DEBUG = True
    endpoint, _secret = webhooks.save_endpoint(organisation=platform, url="http://hooks.test/", events=[],
                                               user=manager)
    assert endpoint.url == "http://hooks.test/"


def test_only_a_policy_manager_of_a_platform_changes_webhooks(platform: Organisation, manager: Any,
                                                              make_staff: Any, outsider: Any,
                                                              helpline: Organisation) -> None:
    moderator = make_staff("mo", platform, Role.MODERATOR)
    for user in (moderator, outsider):
        with pytest.raises(PermissionDenied):
            webhooks.save_endpoint(organisation=platform, url="https://x.test/", events=[], user=user)
    admin = make_staff("ad", helpline, Role.ADMIN)
    with pytest.raises(ValidationError):
        webhooks.save_endpoint(organisation=helpline, url="https://x.test/", events=[], user=admin)
    with pytest.raises(ValidationError):
        webhooks.save_endpoint(organisation=platform, url="https://x.test/", events=["nope"], user=manager)
    endpoint, _secret = webhooks.save_endpoint(organisation=platform, url="https://x.test/", events=[],
                                               user=manager)
    with pytest.raises(PermissionDenied):
        webhooks.deactivate_endpoint(endpoint=endpoint, user=moderator)
    assert not Event.objects.filter(event_type=ModerationEvent.WEBHOOK_CHANGED).exclude(
        actor_user_id=manager.pk).exists()


def test_switching_a_webhook_off_gives_up_what_waits_for_it(platform: Organisation, manager: Any) -> None:
    endpoint, _secret = webhooks.save_endpoint(organisation=platform, url="https://x.test/", events=[],
                                               user=manager)
    queue(platform)
    webhooks.deactivate_endpoint(endpoint=endpoint, user=manager)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    row = WebhookDelivery.objects.get()
    assert row.state == DeliveryState.FAILED and row.last_error == "the webhook was switched off"
    event = Event.objects.filter(event_type=ModerationEvent.WEBHOOK_CHANGED).latest("id")
    assert event.data == {"change": "deactivated", "url": "https://x.test", "pending_dropped": 1}
    assert queue(platform) == 0
    assert webhooks.deliver_due() == {"pending": 0, "delivered": 0, "failed": 0}


def test_the_sweep_is_on_the_schedule_and_the_task_delivers(platform: Organisation, receiver: Receiver,
                                                            loopback: Any, run_worker: Any) -> None:
    from vangnet.common.scheduling import scheduled_jobs
    from vangnet.moderation import tasks

    assert scheduled_jobs()["deliver_webhooks_every_minute"].endswith("hour='*', minute='*']")
    endpoint_for(platform, receiver.url())
    queue(platform)
    tasks.deliver_webhooks.enqueue()
    run_worker()
    assert WebhookDelivery.objects.get().state == DeliveryState.DELIVERED
    assert uuid.UUID(receiver.received[0]["headers"]["Vangnet-Event-Id"])
