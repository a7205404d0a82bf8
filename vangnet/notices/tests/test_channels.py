"""The contract every notice channel keeps: a stable name, and a send that says exactly what happened.

Each channel has a harness here (a real server on loopback where it talks to one); a new
channel without a harness fails ``test_every_channel_has_a_harness``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from vangnet.audit.services import Actor
from vangnet.notices import services
from vangnet.notices.channels import CHANNELS, MaybeDelivered, NotDelivered, Sent
from vangnet.notices.models import Delivery, Notice

from .test_notices import EXPLANATION, _provider

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Api(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 201

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"body": body, "key": self.headers["Idempotency-Key"]})
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.received, _Api.status = [], 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dsa/notices"
    server.shutdown()
    server.server_close()


def _notice(submit: Any, handler: Any, **provider: Any) -> tuple[Notice, Delivery]:
    _provider("target", "target.example", **provider)
    case = submit(urls="https://target.example/p/1").report.case
    [notice] = services.draft_notices(case=case, urls=["https://target.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    delivery = Delivery.objects.create(notice=notice, channel=notice.channel, next_attempt_at=timezone.now(),
                                       message_id=f"<{notice.reference}.1@vangnet.notices>")
    return notice, delivery


def _email_up(submit: Any, handler: Any, smtp_inbox: Any, api: str, settings: Any) -> Any:
    notice, delivery = _notice(submit, handler, contact_email="dsa@target.example.org")
    return notice, delivery, lambda: [m for m in smtp_inbox.messages if notice.reference in m["subject"]]


def _email_down(settings: Any, notice: Notice) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2}}}


def _api_up(submit: Any, handler: Any, smtp_inbox: Any, api: str, settings: Any) -> Any:
    notice, delivery = _notice(submit, handler, api_channel="json_api", api_endpoint=api)
    return notice, delivery, lambda: [r for r in _Api.received if r["body"]["reference"] == notice.reference]


def _api_down(settings: Any, notice: Notice) -> None:
    notice.provider.api_endpoint = f"http://127.0.0.1:{_closed_port()}/dsa"  # nothing listens there


HARNESSES = {"email": (_email_up, _email_down), "json_api": (_api_up, _api_down), "webform": None}


def test_every_channel_has_a_harness_and_a_stable_name() -> None:
    assert set(CHANNELS) == set(HARNESSES)
    for name, channel in CHANNELS.items():
        assert channel.name == name and re.fullmatch(r"[a-z0-9_]+", name) and isinstance(channel.automatic, bool)


@pytest.mark.parametrize("name", sorted(n for n, h in HARNESSES.items() if h))
def test_an_automatic_channel_delivers_once_and_says_so(name: str, submit: Any, handler: Any, smtp_inbox: Any,
                                                       api: str, settings: Any) -> None:
    up, _down = HARNESSES[name]
    notice, delivery, received = up(submit, handler, smtp_inbox, api, settings)
    assert notice.channel == name
    result = CHANNELS[name].send(notice, delivery)
    assert isinstance(result, Sent) and result.message_id == delivery.message_id
    assert len(received()) == 1, "the provider has it, once"


@pytest.mark.parametrize("name", sorted(n for n, h in HARNESSES.items() if h))
def test_an_automatic_channel_that_reaches_nobody_says_not_delivered(name: str, submit: Any, handler: Any,
                                                                    smtp_inbox: Any, api: str,
                                                                    settings: Any) -> None:
    up, down = HARNESSES[name]
    notice, delivery, received = up(submit, handler, smtp_inbox, api, settings)
    down(settings, notice)
    with pytest.raises(NotDelivered):
        CHANNELS[name].send(notice, delivery)
    assert received() == []


def test_the_json_api_says_what_the_provider_answered(submit: Any, handler: Any, smtp_inbox: Any, api: str,
                                                      settings: Any) -> None:
    notice, delivery, received = _api_up(submit, handler, smtp_inbox, api, settings)
    _Api.status = 503
    with pytest.raises(NotDelivered, match="503"):
        CHANNELS["json_api"].send(notice, delivery)
    [sent] = received()
    assert sent["key"] == delivery.message_id and sent["body"]["urls"] == ["https://target.example/p/1"]
    assert sent["body"]["good_faith"] is True and sent["body"]["notifier"]["name"] == notice.notifier_name


def test_a_manual_channel_never_sends_by_itself(submit: Any, handler: Any) -> None:
    notice, delivery = _notice(submit, handler, webform_url="https://target.example/dsa")
    assert CHANNELS["webform"].automatic is False
    with pytest.raises(NotDelivered):
        CHANNELS["webform"].send(notice, delivery)


def test_maybe_delivered_is_what_a_broken_hand_over_raises() -> None:
    assert not issubclass(MaybeDelivered, NotDelivered), "the outbox must be able to tell them apart"
