"""Every partner API operation, declared once: without a token, with a bad, revoked or
closed organisation's token, and with a valid one. See ``vangnet.common.testing``."""

from __future__ import annotations

from typing import Any

import pytest

from vangnet.accounts.models import Organisation
from vangnet.common.testing import ApiEndpoint, ApiEndpointTests
from vangnet.intake.models import Report

REPORT = {
    "immediate_danger": False, "reporter_role": "professional", "forms": ["doxing"],
    "description": "Her address was posted.", "urls": ["https://forum.example/t/1"], "age_band": "18_plus",
    "consent_processing": True, "language": "en",
}

API_ENDPOINTS = [
    ApiEndpoint("post", "/api/v1/reports", success=201, body=lambda: REPORT, done=Report.objects.exists),
    ApiEndpoint("get", "/api/v1/forms", public=True),
    ApiEndpoint("get", "/api/v1/organisations", public=True),
]


class TestPartnerApi(ApiEndpointTests):
    endpoints = API_ENDPOINTS

    @pytest.fixture
    def organisation(self, helpline: Any) -> Organisation:
        return helpline
