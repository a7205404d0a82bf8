"""The outbox and the e-mail channel at the edges: nothing counts as sent that did not go out."""

from __future__ import annotations

from typing import Any

import pytest

from vangnet.audit.services import Actor
from vangnet.directory.models import Provider
from vangnet.notices import outbox, services
from vangnet.notices.choices import DeliveryState, NoticeStatus

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
