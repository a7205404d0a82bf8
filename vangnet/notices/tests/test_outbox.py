"""The outbox and the e-mail channel: nothing counts as sent that did not go out; one connection per run."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.directory.models import Provider
from vangnet.notices import outbox, services
from vangnet.notices.channels import CHANNELS
from vangnet.notices.choices import DeliveryState, NoticeStatus
from vangnet.notices.models import Delivery, Notice

from .test_notices import EXPLANATION, _provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(db: Any) -> Any:
    return {"social": _provider("social", "social.example", contact_email="dsa@social.example.org", language="nl")}


@pytest.fixture
def case(submit: Any, helpline: Any) -> Any:
    return submit(urls="https://social.example/p/1", forms=["doxing"]).report.case


def test_a_provider_whose_address_was_removed_after_queuing_is_not_marked_sent(case, providers, handler,
                                                                               smtp_inbox) -> None:
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    services.send_notice(notice=notice, actor=Actor.staff(handler))
    Provider.objects.filter(pk=notice.provider_id).update(contact_email="", webform_url="https://social.example/dsa")
    assert outbox.process_outbox() == {"sent": 0, "pending": 1, "uncertain": 0}
    assert smtp_inbox.messages == []
    notice.refresh_from_db()
    delivery = notice.deliveries.get()
    assert notice.status == NoticeStatus.QUEUED and delivery.state == DeliveryState.PENDING
    assert "no e-mail address" in delivery.last_error


class _Server:
    """An SMTP handler that notes which connection (peer) carried each notice and refuses one address."""

    def __init__(self) -> None:
        self.received: list[tuple[Any, str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd API
                          rcpt_options: list[str]) -> str:
        if address.startswith("refused@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.received.append((session.peer, email.message_from_bytes(envelope.content)["X-Vangnet-Notice"]))
        return "250 OK"


@pytest.fixture
def server(settings: Any) -> Iterator[_Server]:
    handler = _Server()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10}}}
    yield handler
    controller.stop()


def _queue(case: Any, handler: Any, count: int) -> list[str]:
    references = []
    for _ in range(count):
        [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                          grounds=[], actor=Actor.staff(handler))
        services.send_notice(notice=notice, actor=Actor.staff(handler))
        references.append(notice.reference)
    return references


def test_one_run_of_the_outbox_sends_over_one_connection_and_marks_each_notice(case, providers, handler,
                                                                              server) -> None:
    references = _queue(case, handler, 3)
    assert outbox.process_outbox() == {"sent": 3, "pending": 0, "uncertain": 0}
    assert [ref for _peer, ref in server.received] == references
    assert len({peer for peer, _ref in server.received}) == 1, "one SMTP connection for the run"
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert Event.objects.filter(event_type="notice.sent").count() == 3, "each notice marked on its own"


def test_a_connection_that_died_between_notices_is_replaced_not_made_uncertain(case, providers, handler,
                                                                              server) -> None:
    first, second = _queue(case, handler, 2)
    channel = CHANNELS["email"]
    with channel.batch():
        outbox.send_one(outbox._claim(timezone.now()))  # type: ignore[arg-type]
        channel._batch.connection.connection.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
        assert outbox.send_one(outbox._claim(timezone.now())) == DeliveryState.SENT  # type: ignore[arg-type]
    assert [ref for _peer, ref in server.received] == [first, second]
    assert len({peer for peer, _ref in server.received}) == 2


def test_a_refusal_in_the_run_touches_one_notice_and_the_next_goes_out_on_a_new_connection(case, providers, handler,
                                                                                          server) -> None:
    before, refused, after = _queue(case, handler, 3)
    refusing = _provider("refusing", "refusing.example", contact_email="refused@refusing.example.org")
    Notice.objects.filter(reference=refused).update(provider=refusing)
    assert outbox.process_outbox() == {"sent": 2, "pending": 1, "uncertain": 0}
    assert [ref for _peer, ref in server.received] == [before, after]
    assert len({peer for peer, _ref in server.received}) == 2, "the failed connection was not used again"
    delivery = Delivery.objects.get(notice__reference=refused)
    assert delivery.state == DeliveryState.PENDING and "refused" in delivery.last_error
