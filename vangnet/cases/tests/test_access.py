"""Every staff page of cases, declared once: who gets in, who gets 403, 404 or the log-in page.

See ``vangnet.common.testing`` for the tests each declaration gets and the refusal policy.
"""

from __future__ import annotations

from typing import Any

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from vangnet.accounts.choices import Permission
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases.choices import CaseStatus
from vangnet.cases.models import Case, Message, Referral
from vangnet.common.testing import Scene, StaffView, StaffViewTests
from vangnet.evidence.choices import Source
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.services import add_evidence
from vangnet.intake.models import Report


def _case(scene: Scene) -> Case:
    return Case.objects.get(pk=scene.case.pk)


def _action(name: str, permission: str, data: Any, done: Any) -> StaffView:
    return StaffView(f"cases:{name}", method="post", permission=permission, success=302, data=data, done=done)


CASE_VIEWS = [
    StaffView("cases:queue", takes_case=False, shows_case=True),
    StaffView("cases:detail", shows_case=True),
    _action("assign", Permission.ASSIGN, lambda s: {"assign-owner": str(s.objects["owner"].pk)},
            lambda s: _case(s).owner_id == s.objects["owner"].pk),
    _action("status", Permission.WORK_CASES, lambda s: {"status-status": "triaged", "status-reason": "seen"},
            lambda s: _case(s).status == CaseStatus.TRIAGED),
    _action("note", Permission.WORK_CASES, lambda s: {"note-text": "Called the police."},
            lambda s: s.case.notes.exists()),
    _action("message", Permission.WORK_CASES,
            lambda s: {"message-report": str(s.objects["report"].pk), "message-text": "We are on it."},
            lambda s: Message.objects.filter(case=s.case).exists()),
    _action("refer", Permission.REFER,
            lambda s: {"refer-report": str(s.objects["report"].pk), "refer-summary": "Please help her."},
            lambda s: Referral.objects.filter(case=s.case).exists()),
    _action("merge", Permission.MERGE_SPLIT, lambda s: {"merge-target": s.objects["target"].reference},
            lambda s: _case(s).merged_into_id == s.objects["target"].pk),
    _action("split", Permission.MERGE_SPLIT, lambda s: {"split-report": str(s.objects["second"].pk)},
            lambda s: Report.objects.get(pk=s.objects["second"].pk).case_id != s.case.pk),
    _action("add_evidence", Permission.WORK_CASES,
            lambda s: {"evidence-attachments": SimpleUploadedFile("chat.txt", b"[21:14] he: I know where you live")},
            lambda s: EvidenceItem.objects.filter(case=s.case, source=Source.STAFF).exists()),
    # The case owner may too (test_legal_hold.py); in this scene nobody owns the case.
    _action("legal_hold", Permission.ASSIGN, lambda s: {"hold-reason": "Police request PV-2026-118"},
            lambda s: _case(s).on_legal_hold),
    _action("lift_legal_hold", Permission.ASSIGN, lambda s: _on_hold(s, {"lift-confirm": "on"}),
            lambda s: not _case(s).on_legal_hold),
    # The scene's case is about intimate images of an adult (the default report), so consent can be recorded.
    _action("ncii_consent", Permission.ASSIGN, lambda s: {"ncii-consent": "yes"},
            lambda s: _case(s).ncii_consent_at is not None),
    StaffView("cases:view_evidence", kwargs=lambda s: {"item_id": s.objects["item"].pk},
              done=lambda s: _custody(s, "evidence.viewed")),
    StaffView("cases:download_evidence", kwargs=lambda s: {"item_id": s.objects["item"].pk},
              done=lambda s: _custody(s, "evidence.downloaded")),
    StaffView("cases:export_evidence", method="post", permission=Permission.EXPORT_EVIDENCE,
              done=lambda s: _custody(s, "evidence.exported")),
]


def _on_hold(scene: Scene, data: dict[str, str]) -> dict[str, str]:
    """Put the scene's case on hold (as its data is read, just before the call), so there is a hold to lift."""
    Case.objects.filter(pk=scene.case.pk).update(legal_hold_reason="court order", legal_hold_set_at=timezone.now())
    return data


def _custody(scene: Scene, event_type: str) -> bool:
    return Event.objects.filter(event_type=event_type, subject_id=str(scene.objects["item"].pk)).exists()


class TestCasePages(StaffViewTests):
    views = CASE_VIEWS

    @pytest.fixture
    def scene(self, submit: Any, helpline: Any, other_org: Any, case_owner: Any) -> Scene:
        """A case of two reports (one shared with Helpwanted), another case to merge into, a possible owner."""
        first = submit(urls="https://a.example/1")
        second = submit(urls="https://a.example/1", share_with="")
        target = submit(urls="https://b.example/1").report.case
        case = first.report.case
        assert second.report.case_id == case.pk and first.report.consent_share_with is not None
        item = add_evidence(case=case, report=first.report, data=b"screenshot text", actor=Actor.reporter(),
                            source=Source.REPORTER)
        return Scene(organisation=helpline, other_organisation=other_org, case=case,
                     objects={"report": first.report, "second": second.report, "target": target, "owner": case_owner,
                              "item": item})
