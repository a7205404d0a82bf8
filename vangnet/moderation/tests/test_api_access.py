"""Every moderation API operation, declared once for the shared access tests, with platform keys.

No key, an unknown one, a revoked one and one of a deactivated platform all answer the same
401 and change nothing; a valid key succeeds. See ``vangnet.common.testing``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor
from vangnet.common.testing import ApiEndpoint, ApiEndpointTests
from vangnet.moderation import keys
from vangnet.moderation.models import Appeal, Decision, Item, PlatformKey, UserNotice


def _decision_address() -> dict[str, Any]:
    platform, _made = Organisation.objects.get_or_create(slug="praatplein", defaults={
        "name": "Praatplein", "is_platform": True, "handles_reports": False})
    item = Item.objects.create(organisation=platform, external_id="decided", text="x", text_chars=1)
    decision = Decision.objects.create(organisation=platform, item=item,
                                       visibility=["DECISION_VISIBILITY_CONTENT_REMOVED"])
    return {"id": "appeal-1", "decision": decision.pk, "reason": "This was a joke between friends."}


MODERATION_API_ENDPOINTS = [
    ApiEndpoint("post", "/api/v1/moderation/check", body=lambda: {"items": [{"id": "c1", "text": "Hallo allemaal"}]},
                done=Item.objects.exists),
    ApiEndpoint("post", "/api/v1/moderation/notices", success=201,
                body=lambda: {"id": "n1", "item": {"id": "i1", "text": "Zij woont op de Dorpsstraat 12"},
                              "explanation": "Her address."}, done=UserNotice.objects.exists),
    ApiEndpoint("post", "/api/v1/moderation/appeals", success=201, body=_decision_address,
                done=Appeal.objects.exists),
]


class TestModerationApi(ApiEndpointTests):
    endpoints = MODERATION_API_ENDPOINTS

    @pytest.fixture
    def organisation(self, platform: Any) -> Organisation:
        return platform

    def make_token(self, organisation: Organisation, name: str) -> str:
        return keys.create_key(organisation=organisation, name=name, scopes=["check", "notices", "appeals"],
                               actor=Actor.system("test"))[1]

    def revoke_tokens(self, organisation: Organisation) -> None:
        PlatformKey.objects.filter(organisation=organisation).update(revoked_at=timezone.now())
