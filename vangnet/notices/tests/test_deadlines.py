"""Deadlines with a controlled clock: reminder, one automatic follow-up, and the escalation ladder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases.services import assign_owner
from vangnet.directory.models import DigitalServicesCoordinator
from vangnet.notices import outbox, services
from vangnet.notices.choices import NoticeStatus
from vangnet.notices.models import Notice

from .test_notices import EXPLANATION, _provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(submit: Any, handler: Any, case_owner: Any, supervisor: Any, smtp_inbox: Any) -> Notice:
    host = _provider("host", "host.example", contact_email="abuse@host.example.org", language="en")
    social = _provider("social", "social.example", contact_email="dsa@social.example.org", language="nl")
    social.upstream = host
    social.coordinator = DigitalServicesCoordinator.objects.get(country="NL")
    social.save()
    case = submit(urls="https://social.example/p/1").report.case
    case_owner.email = "carla@helpline.example.org"
    case_owner.save(update_fields=["email"])
    assign_owner(case=case, owner=case_owner, actor=Actor.staff(supervisor))
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    services.send_notice(notice=notice, actor=Actor.staff(handler))
    outbox.process_outbox()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    smtp_inbox.messages.clear()
    return notice


def test_before_the_deadline_nothing_happens(sent: Notice) -> None:
    assert services.handle_deadlines(now=sent.deadline_at - timedelta(minutes=1)) == {
        "overdue": 0, "reminded": 0, "follow_ups": 0}


def test_after_the_deadline_a_reminder_and_one_follow_up_once(sent: Notice, smtp_inbox: Any,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    later = sent.deadline_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.handle_deadlines(now=later) == {"overdue": 1, "reminded": 1, "follow_ups": 1}
        assert services.handle_deadlines(now=later + timedelta(days=1)) == {
            "overdue": 0, "reminded": 0, "follow_ups": 0}, "each notice once"
    [reminder] = smtp_inbox.messages
    assert reminder["to"] == ["carla@helpline.example.org"] and sent.reference in reminder["subject"]
    follow_up = Notice.objects.get(follows=sent)
    assert follow_up.status == NoticeStatus.QUEUED and sent.reference in follow_up.body
    assert "vervolg op onze melding" in follow_up.body
    outbox.process_outbox()
    assert [m["to"] for m in smtp_inbox.messages[1:]] == [["dsa@social.example.org"]]
    assert Event.objects.filter(event_type="notice.overdue", subject_id=str(sent.pk)).exists()


def test_an_outcome_before_the_deadline_stops_the_follow_up(sent: Notice, handler: Any) -> None:
    services.record_outcome(notice=sent, outcome="removed", note="", actor=Actor.staff(handler))
    assert services.handle_deadlines(now=timezone.now() + timedelta(days=30))["overdue"] == 0
    assert not Notice.objects.filter(follows=sent).exists()


def test_the_escalation_ladder(sent: Notice, handler: Any) -> None:
    upstream = services.prepare_escalation(notice=sent, step="upstream", actor=Actor.staff(handler))
    assert upstream.upstream_notice.provider.slug == "host" and upstream.upstream_notice.status == NoticeStatus.DRAFT
    assert upstream.upstream_notice.language == "en" and "https://social.example/p/1" in upstream.upstream_notice.body
    coordinator = services.prepare_escalation(notice=sent, step="coordinator", actor=Actor.staff(handler))
    assert "artikel 53 DSA" in coordinator.text and sent.reference in coordinator.text
    police = services.prepare_escalation(notice=sent, step="police", actor=Actor.staff(handler))
    assert "https://social.example/p/1" in police.text and police.where.startswith("https://")
    dpa = services.prepare_escalation(notice=sent, step="dpa", actor=Actor.staff(handler))
    assert "Autoriteit Persoonsgegevens" in dpa.text
    assert Event.objects.filter(event_type="notice.escalated", case_id=sent.case_id).count() == 4


def test_no_upstream_or_coordinator_is_a_clear_refusal(sent: Notice, handler: Any) -> None:
    sent.provider.upstream = None
    sent.provider.coordinator = None
    sent.provider.save()
    for step in ("upstream", "coordinator"):
        with pytest.raises(ValidationError):
            services.prepare_escalation(notice=sent, step=step, actor=Actor.staff(handler))
    assert not sent.escalations.exists()


def test_a_removed_item_is_not_escalated(sent: Notice, handler: Any) -> None:
    services.record_outcome(notice=sent, outcome="removed", note="", actor=Actor.staff(handler))
    with pytest.raises(ValidationError):
        services.prepare_escalation(notice=sent, step="police", actor=Actor.staff(handler))


def test_the_queue_marks_a_case_whose_notice_passed_its_deadline(sent: Notice, client: Any, handler: Any) -> None:
    client.force_login(handler)
    assert "data-notice-overdue" not in client.get("/staff/cases/").content.decode()
    Notice.objects.filter(pk=sent.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))
    page = client.get("/staff/cases/").content.decode()
    assert page.count("data-notice-overdue") == 1
    case_page = client.get(f"/staff/cases/{sent.case_id}/").content.decode()
    assert "data-overdue" in case_page and 'data-availability="' in case_page, "availability shows on the case page"


def test_a_provider_without_contact_gets_no_follow_up_but_the_deadline_is_still_handled(sent: Notice,
                                                                                       submit: Any, handler: Any
                                                                                       ) -> None:
    other = submit(urls="https://social.example/p/2").report.case
    [second] = services.draft_notices(case=other, urls=["https://social.example/p/2"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    Notice.objects.filter(pk=second.pk).update(status=NoticeStatus.SENT, sent_at=sent.sent_at,
                                               deadline_at=sent.deadline_at)
    provider = sent.provider
    provider.contact_email = ""
    provider.save(update_fields=["contact_email"])
    counts = services.handle_deadlines(now=sent.deadline_at + timedelta(minutes=1))
    assert counts["overdue"] == 2 and counts["follow_ups"] == 0, "one failure does not stop the others"
    assert not Notice.objects.filter(follows__in=[sent, second]).exists()
    assert Notice.objects.filter(overdue_handled_at__isnull=False).count() == 2
