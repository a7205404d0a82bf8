"""The notices' staff actions, declared once for the shared access tests (``common.testing``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor
from vangnet.common.testing import Scene, StaffView, StaffViewTests
from vangnet.directory.models import Provider
from vangnet.directory.services import add_provider_domain, save_provider
from vangnet.evidence import vault
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence, evidence_storage
from vangnet.notices import services
from vangnet.notices.choices import NoticeStatus
from vangnet.notices.models import Notice, Reply, ReuploadAlert

EXPLANATION = "The post shows her home address and says he will come tonight: a threat and doxing."


def _notice(scene: Scene, name: str) -> Notice:
    return Notice.objects.get(pk=scene.objects[name].pk)


def _on(name: str) -> Any:
    return lambda scene: {"notice_id": scene.objects[name].pk}


def _act(url_name: str, notice: str, done: Any, data: Any = None, success: int = 302) -> StaffView:
    return StaffView(f"notices:{url_name}", method="post", permission=Permission.WORK_CASES, success=success,
                     kwargs=_on(notice), data=data or (lambda scene: {}), done=done)


NOTICE_VIEWS = [
    StaffView("notices:draft", method="post", permission=Permission.WORK_CASES, success=302,
              data=lambda s: {"compose-urls": "https://social.example/p/1", "compose-explanation": EXPLANATION},
              done=lambda s: Notice.objects.filter(case=s.case).count() == 5),
    _act("edit", "draft", lambda s: "Edited." in _notice(s, "draft").body,
         data=lambda s: {f"edit-{s.objects['draft'].pk}-body": s.objects["draft"].body + "Edited."}),
    _act("send", "draft", lambda s: _notice(s, "draft").status == NoticeStatus.QUEUED),
    _act("cancel", "draft", lambda s: _notice(s, "draft").status == NoticeStatus.CANCELLED),
    _act("sent_by_hand", "webform", lambda s: _notice(s, "webform").status == NoticeStatus.SENT),
    _act("resolve", "uncertain", lambda s: _notice(s, "uncertain").status == NoticeStatus.SENT,
         data=lambda s: {f"resolve-{s.objects['uncertain'].pk}-arrived": "yes"}),
    _act("outcome", "sent", lambda s: _notice(s, "sent").outcome == "removed",
         data=lambda s: {f"outcome-{s.objects['sent'].pk}-outcome": "removed"}),
    StaffView("notices:upload_reply", method="post", permission=Permission.WORK_CASES, success=302,
              data=lambda s: {"reply-message": SimpleUploadedFile("reply.eml", (
                  f"From: dsa@social.example.org\nSubject: Re: [{s.objects['sent'].reference}] notice\n\n"
                  "We removed it.\n").encode())},
              done=lambda s: Reply.objects.filter(notice=s.objects["sent"]).exists()),
    StaffView("notices:pdf", kwargs=_on("sent")),
    StaffView("notices:reupload_notice", method="post", permission=Permission.WORK_CASES, success=302,
              kwargs=lambda s: {"alert_id": s.objects["alert"].pk},
              done=lambda s: ReuploadAlert.objects.get(pk=s.objects["alert"].pk).notice_id is not None),
    _act("escalate", "sent", lambda s: _notice(s, "sent").escalations.exists(),
         data=lambda s: {f"escalate-{s.objects['sent'].pk}-step": "police"}),
]


def _provider(slug: str, domain: str, **fields: Any) -> Provider:
    provider = save_provider(provider=Provider(slug=slug, name=f"{slug} (example)", **fields),
                             actor=Actor.system("test"))
    add_provider_domain(provider=provider, domain=domain, actor=Actor.system("test"))
    return provider


class TestNoticePages(StaffViewTests):
    views = NOTICE_VIEWS

    @pytest.fixture
    def scene(self, submit: Any, helpline: Any, other_org: Any, supervisor: Any) -> Scene:
        """A case with a draft, a web-form draft, an uncertain and a sent notice (with its PDF copy)."""
        _provider("social", "social.example", contact_email="dsa@social.example.org")
        _provider("formonly", "form.example", webform_url="https://form.example/dsa")
        case = submit(urls="https://social.example/p/1\nhttps://form.example/x/2").report.case
        actor = Actor.staff(supervisor)

        def one(url: str) -> Notice:
            [notice] = services.draft_notices(case=case, urls=[url], explanation=EXPLANATION, grounds=[],
                                              actor=actor)
            return notice

        draft, webform, uncertain, sent = (one("https://social.example/p/1"), one("https://form.example/x/2"),
                                           one("https://social.example/p/1"), one("https://social.example/p/1"))
        Notice.objects.filter(pk=uncertain.pk).update(status=NoticeStatus.UNCERTAIN)
        name = evidence_storage().save(f"notices/{case.pk}/test.pdf", ContentFile(vault.seal(b"%PDF-1.4 copy")))
        Notice.objects.filter(pk=sent.pk).update(status=NoticeStatus.SENT, sent_at=timezone.now(),
                                                 pdf_storage_name=name)
        item = add_evidence(case=case, data=b"copy of the post", actor=Actor.reporter(), source=Source.CAPTURE,
                            source_url="https://social.example/p/9")
        alert = ReuploadAlert.objects.create(case=case, item=item, original=sent, match_kind="sha256")
        return Scene(organisation=helpline, other_organisation=other_org, case=case,
                     objects={"draft": draft, "webform": webform, "uncertain": uncertain, "sent": sent,
                              "alert": alert})
