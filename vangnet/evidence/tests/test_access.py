"""The evidence vault's own staff pages, declared once for the shared access tests (``common.testing``)."""

from __future__ import annotations

from typing import Any

import pytest

from vangnet.accounts.choices import Permission
from vangnet.common.testing import Scene, StaffView, StaffViewTests
from vangnet.evidence.models import UrlCapture

EVIDENCE_VIEWS = [
    StaffView("evidence:request_capture", method="post", permission=Permission.WORK_CASES, success=302,
              data=lambda scene: {"capture-url": "https://host.example/post/1"},
              done=lambda scene: UrlCapture.objects.filter(case=scene.case).exists()),
]


class TestEvidencePages(StaffViewTests):
    views = EVIDENCE_VIEWS

    @pytest.fixture
    def scene(self, submit: Any, helpline: Any, other_org: Any) -> Scene:
        return Scene(organisation=helpline, other_organisation=other_org, case=submit().report.case)
