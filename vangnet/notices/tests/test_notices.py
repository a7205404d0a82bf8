"""Notices: drafted per provider with every Art. 16(2) element, queued, sent once over real SMTP, followed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import Actor, chain_all_pending
from vangnet.directory.models import Provider
from vangnet.directory.services import add_provider_domain, save_provider
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.notices import outbox, services
from vangnet.notices.choices import DeliveryState, NoticeStatus
from vangnet.notices.compose import GOOD_FAITH
from vangnet.notices.models import Delivery, Notice
from vangnet.taxonomy.models import LegalGround

pytestmark = pytest.mark.django_db

EXPLANATION = "The post shows her home address and says he will come tonight: a threat and doxing."


def _provider(slug: str, domain: str, **fields: Any) -> Provider:
    provider = save_provider(provider=Provider(slug=slug, name=f"{slug.title()} Ltd (example)", **fields),
                             actor=Actor.system("test"))
    add_provider_domain(provider=provider, domain=domain, actor=Actor.system("test"))
    return provider


@pytest.fixture
def providers(db: Any) -> dict[str, Provider]:
    return {"social": _provider("social", "social.example", contact_email="dsa@social.example.org", language="nl"),
            "video": _provider("video", "video.example", contact_email="notices@video.example.org", language="en"),
            "form": _provider("form", "form.example", webform_url="https://form.example/dsa", language="en")}


@pytest.fixture
def case(submit: Any, helpline: Any) -> Any:
    helpline.notice_email = "meldingen@helpline.example.org"
    helpline.save(update_fields=["notice_email"])
    report = submit(urls="https://social.example/p/1\nhttps://www.video.example/v/2", forms=["doxing"]).report
    return report.case


def _grounds() -> list[LegalGround]:
    return list(LegalGround.objects.filter(provision__contains="285d"))


def test_one_draft_per_provider_in_its_language_with_every_article_16_element(case, providers, handler) -> None:
    report = case.reports.get()
    shot = add_evidence(case=case, report=report, data=b"screenshot text of the post", actor=Actor.reporter(),
                        source=Source.REPORTER)
    notices = services.draft_notices(case=case, urls=["https://social.example/p/1", "https://www.video.example/v/2"],
                                     explanation=EXPLANATION, grounds=_grounds(), actor=Actor.staff(handler))
    by_provider = {n.provider.slug: n for n in notices}
    assert set(by_provider) == {"social", "video"}
    dutch, english = by_provider["social"], by_provider["video"]
    assert (dutch.language, english.language) == ("nl", "en")
    assert dutch.reference in dutch.subject and "artikel 16 DSA" in dutch.subject
    for notice, url in ((dutch, "https://social.example/p/1"), (english, "https://www.video.example/v/2")):
        assert url in notice.body and EXPLANATION in notice.body
        assert "meldingen@helpline.example.org" in notice.body and case.organisation.name in notice.body
        assert GOOD_FAITH[notice.language] in " ".join(notice.body.split())
        assert shot.sha256 in notice.body, "the evidence that shows the URL is named by its fingerprint"
        assert "285d" in notice.body
        assert report.contact_email not in notice.body if report.contact_email else True
    assert "https://www.video.example/v/2" not in dutch.body, "each provider sees only its own URLs"
    assert Event.objects.filter(event_type="notice.drafted", case_id=case.pk).count() == 2


def test_a_trusted_flagger_says_so_and_gets_a_shorter_deadline(case, providers, handler, helpline, settings) -> None:
    helpline.is_trusted_flagger = True
    helpline.save(update_fields=["is_trusted_flagger"])
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    assert "betrouwbare flagger" in notice.subject and "artikel 22 DSA" in notice.body
    sent = timezone.now()
    trusted_hours = settings.VANGNET_NOTICE_TRUSTED_DEADLINE_HOURS
    assert trusted_hours < settings.VANGNET_NOTICE_DEADLINE_HOURS
    assert services.deadline_after(notice, sent) == sent + timedelta(hours=trusted_hours)


def test_an_unknown_website_is_refused_and_flagged(case, providers, handler) -> None:
    from vangnet.directory.models import UnknownHost

    with pytest.raises(ValidationError, match="unknown.example"):
        services.draft_notices(case=case, urls=["https://unknown.example/x"], explanation=EXPLANATION, grounds=[],
                               actor=Actor.staff(handler))
    assert not Notice.objects.exists() and UnknownHost.objects.filter(domain="unknown.example").exists()


def test_a_short_explanation_is_refused_and_nothing_is_drafted(case, providers, handler) -> None:
    with pytest.raises(ValidationError):
        services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation="illegal",
                               grounds=[], actor=Actor.staff(handler))
    assert not Notice.objects.exists()


def test_an_edit_that_drops_an_article_16_element_cannot_be_sent(case, providers, handler) -> None:
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    services.edit_draft(notice=notice, body=notice.body.replace(GOOD_FAITH["nl"], "").replace(
        "https://social.example/p/1", "(the post)"), actor=Actor.staff(handler))
    with pytest.raises(ValidationError) as refused:
        services.send_notice(notice=notice, actor=Actor.staff(handler))
    text = " ".join(refused.value.messages)
    assert "https://social.example/p/1" in text and "goeder trouw" in text
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT and not Delivery.objects.exists()


def test_sending_goes_through_the_outbox_to_a_real_smtp_server_once(case, providers, handler, smtp_inbox,
                                                                   django_capture_on_commit_callbacks) -> None:
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=_grounds(), actor=Actor.staff(handler))
    services.send_notice(notice=notice, actor=Actor.staff(handler))
    assert outbox.process_outbox() == {"sent": 1, "pending": 0, "uncertain": 0}
    assert outbox.process_outbox() == {"sent": 0, "pending": 0, "uncertain": 0}, "never twice"
    [message] = smtp_inbox.messages
    assert message["to"] == ["dsa@social.example.org"] and notice.reference in message["subject"]
    assert "https://social.example/p/1" in message["body"] and EXPLANATION in message["body"]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.deadline_at == services.deadline_after(notice, notice.sent_at)
    delivery = notice.deliveries.get()
    assert notice.reference in delivery.message_id and delivery.state == DeliveryState.SENT
    chain_all_pending()
    assert list(verify_chain()) == []


def test_an_unreachable_mail_server_leaves_it_queued_with_its_error_and_backs_off(case, providers, handler,
                                                                                settings) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2}}}
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    services.send_notice(notice=notice, actor=Actor.staff(handler))
    assert outbox.process_outbox() == {"sent": 0, "pending": 1, "uncertain": 0}
    delivery = notice.deliveries.get()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.QUEUED and delivery.state == DeliveryState.PENDING
    assert "could not be reached" in delivery.last_error and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert outbox.process_outbox() == {"sent": 0, "pending": 0, "uncertain": 0}, "not before its back-off"
    assert outbox.retry_delay(1) < outbox.retry_delay(2) < outbox.retry_delay(3) <= outbox.MAX_RETRY
    assert outbox.retry_delay(30) == outbox.MAX_RETRY


def test_a_sender_that_died_mid_send_leaves_it_uncertain_never_resent(case, providers, handler, smtp_inbox) -> None:
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    services.send_notice(notice=notice, actor=Actor.staff(handler))
    delivery = outbox._claim(timezone.now())  # claimed, then the worker "dies"
    assert delivery is not None
    assert outbox.recover_stalled() == 0, "a fresh claim is left alone"
    assert outbox.recover_stalled(now=timezone.now() + outbox.STALLED_AFTER + timedelta(seconds=1)) == 1
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.UNCERTAIN
    assert outbox.process_outbox() == {"sent": 0, "pending": 0, "uncertain": 0} and smtp_inbox.messages == []
    services.resolve_uncertain(notice=notice, arrived=False, actor=Actor.staff(handler))
    assert outbox.process_outbox()["sent"] == 1 and len(smtp_inbox.messages) == 1


def test_a_web_form_provider_gets_the_text_to_paste_and_a_confirmation(case, providers, handler, submit) -> None:
    report = submit(urls="https://form.example/item/9").report
    [notice] = services.draft_notices(case=report.case, urls=["https://form.example/item/9"],
                                      explanation=EXPLANATION, grounds=[], actor=Actor.staff(handler))
    assert notice.channel == "webform"
    with pytest.raises(ValidationError, match="webformulier"):
        services.send_notice(notice=notice, actor=Actor.staff(handler))
    services.confirm_sent_by_hand(notice=notice, actor=Actor.staff(handler))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.deadline_at is not None and not Delivery.objects.exists()


def test_outcomes_and_a_refusal_needs_the_reason(case, providers, handler) -> None:
    [notice] = services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    with pytest.raises(ValidationError):
        services.record_outcome(notice=notice, outcome="removed", note="", actor=Actor.staff(handler))
    Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.SENT, sent_at=timezone.now())
    with pytest.raises(ValidationError):
        services.record_outcome(notice=notice, outcome="refused", note=" ", actor=Actor.staff(handler))
    services.record_outcome(notice=notice, outcome="refused", note="Not against our terms.", actor=Actor.staff(handler))
    notice.refresh_from_db()
    assert (notice.outcome, notice.outcome_note, notice.status) == ("refused", "Not against our terms.", "closed")


def test_staff_who_may_not_work_the_case_cannot_draft_or_send(case, providers, make_staff, helpline, outsider) -> None:
    analyst = make_staff("ana", helpline, Role.ANALYST)
    for user in (analyst, outsider):
        with pytest.raises(PermissionDenied):
            services.draft_notices(case=case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                   grounds=[], actor=Actor.staff(user))
    assert not Notice.objects.exists()
