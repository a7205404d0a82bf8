"""Every partner API operation, declared once: without a token, with a bad, revoked or
closed organisation's token, and with a valid one. See ``vangnet.common.testing``."""

from __future__ import annotations

from typing import Any

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.common.testing import ApiEndpoint, ApiEndpointTests
from vangnet.evidence.models import EvidenceItem
from vangnet.intake.models import Report

REPORT = {
    "immediate_danger": False, "reporter_role": "professional", "forms": ["doxing"],
    "description": "Her address was posted.", "urls": ["https://forum.example/t/1"], "age_band": "18_plus",
    "consent_processing": True, "language": "en",
}



def _report_sent_by_the_helpline() -> str:
    """A report the helpline sent through the API (with a token of its own): its evidence address."""
    from vangnet.audit.services import Actor
    from vangnet.intake.choices import Channel
    from vangnet.intake.forms import ReportForm
    from vangnet.intake.services import submit_report

    helpline = Organisation.objects.get(slug="vangnet-helpline")
    token, _plain = create_api_token(organisation=helpline, name="sender", actor=Actor.system("test"))
    form = ReportForm(data={**REPORT, "immediate_danger": "no", "contact_preference": "none"})
    assert form.is_valid(), form.errors
    submitted = submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.API, actor=Actor.system(),
                              api_token=token)
    return f"/api/v1/reports/{submitted.report.receipt_code}/evidence"


API_ENDPOINTS = [
    ApiEndpoint("post", "/api/v1/reports", success=201, body=lambda: REPORT, done=Report.objects.exists),
    ApiEndpoint("post", "/api/v1/reports/{receipt_code}/evidence", success=201, url=_report_sent_by_the_helpline,
                files=lambda: {"file": SimpleUploadedFile("chat.txt", b"[21:14] Hij: ik weet waar je woont")},
                done=EvidenceItem.objects.exists),
    ApiEndpoint("get", "/api/v1/forms", public=True),
    ApiEndpoint("get", "/api/v1/organisations", public=True),
]


class TestPartnerApi(ApiEndpointTests):
    endpoints = API_ENDPOINTS

    @pytest.fixture
    def organisation(self, helpline: Any) -> Organisation:
        return helpline
