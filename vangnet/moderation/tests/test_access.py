"""Every page of the review dashboard, declared once: who gets in, who gets 403, 404 or the log-in page.

The dashboard's rule (``moderation.views``): whoever holds the page's permission in no active
organisation gets 403 (an analyst on a moderator's page, a helpline's handler); staff who hold it
elsewhere get 404 for one platform's task, appeal or alert. The scene's "case" stands for one
platform's item: its ``reference`` is the item's id, which a refused answer never shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from vangnet.accounts.choices import ROLE_PERMISSIONS, Permission, Role
from vangnet.audit.models import Event
from vangnet.common.testing import Scene, StaffView, StaffViewTests, make_user
from vangnet.audit.services import Actor
from vangnet.moderation import keys as platform_keys
from vangnet.moderation.choices import AlertStatus, AppealStatus
from vangnet.moderation.models import (Appeal, Decision, PlatformKey, Policy, ReviewTask, StatementOfReasons,
                                       ThreatAlert, WebhookEndpoint)

from .dashboard import alert_for, appeal_task, decided, fixed_default_rules, flagged_item, flagged_task, png
from .test_views_platform_settings import policy_post_data

REFERENCE = "post-MARK-5519"


@dataclass(frozen=True)
class ModerationView(StaffView):
    """A dashboard page: ``takes_case`` here means "about one platform's row" (404 to other platforms)."""

    permission: str | None = Permission.MODERATE
    takes_case: bool = False

    def url(self, scene: Scene) -> str:
        return reverse(self.url_name, kwargs=dict(self.kwargs(scene)) or None)

    def expected_status(self, permissions: frozenset[str]) -> int:
        return self.success if self.permission is None or self.permission in permissions else self.refused


def _task_id(scene: Scene) -> dict[str, Any]:
    return {"task_id": scene.objects["task"].pk}


def _alert_id(scene: Scene) -> dict[str, Any]:
    return {"alert_id": scene.objects["alert"].pk}


def _key_id(scene: Scene) -> dict[str, Any]:
    return {"key_id": scene.objects["key"].pk}


def _webhook_id(scene: Scene) -> dict[str, Any]:
    return {"endpoint_id": scene.objects["webhook"].pk}


def _held(scene: Scene) -> bool:
    return ReviewTask.objects.filter(pk=scene.objects["task"].pk, assigned_to__isnull=False).exists()


def _alert_status(scene: Scene) -> str:
    return ThreatAlert.objects.get(pk=scene.objects["alert"].pk).status


MODERATION_VIEWS = [
    ModerationView("moderation:dashboard", shows_case=True),
    ModerationView("moderation:take_next", method="post", success=302, data=lambda s: {"kind": "flagged"},
                   done=_held),
    ModerationView("moderation:task", takes_case=True, kwargs=_task_id, shows_case=True, done=_held),
    ModerationView("moderation:task_image", takes_case=True, kwargs=_task_id),
    ModerationView("moderation:release", method="post", takes_case=True, kwargs=_task_id, success=302),
    ModerationView("moderation:decide", method="post", takes_case=True, kwargs=_task_id, success=302,
                   data=lambda s: {"preset": "no_action"},
                   done=lambda s: Decision.objects.filter(item=s.objects["task"].item).exists()),
    ModerationView("moderation:decide_appeal", method="post", takes_case=True, success=302,
                   kwargs=lambda s: {"task_id": s.objects["appeal_task"].pk},
                   data=lambda s: {"outcome": "uphold", "explanation": "A threat remains a threat."},
                   done=lambda s: Appeal.objects.get(pk=s.objects["appeal_task"].appeal_id).status
                   == AppealStatus.UPHELD),
    ModerationView("moderation:appeal_file", method="post", takes_case=True,
                   kwargs=lambda s: {"appeal_id": s.objects["appeal_task"].appeal_id},
                   done=lambda s: Event.objects.filter(event_type="moderation.appeal_file_exported").exists()),
    ModerationView("moderation:export_statements", method="post", permission=Permission.MANAGE_MODERATION,
                   data=lambda s: {"organisation": str(s.organisation.pk)},
                   done=lambda s: StatementOfReasons.objects.filter(exported_at__isnull=False).exists()),
    ModerationView("moderation:alerts", permission=Permission.MANAGE_MODERATION, shows_case=True),
    ModerationView("moderation:alert", permission=Permission.MANAGE_MODERATION, takes_case=True, kwargs=_alert_id,
                   shows_case=True),
    ModerationView("moderation:alert_notified", method="post", permission=Permission.MANAGE_MODERATION,
                   takes_case=True, kwargs=_alert_id, success=302, data=lambda s: {"notified-note": "Phoned 112."},
                   done=lambda s: _alert_status(s) == AlertStatus.NOTIFIED),
    ModerationView("moderation:alert_dismiss", method="post", permission=Permission.MANAGE_MODERATION,
                   takes_case=True, kwargs=_alert_id, success=302, data=lambda s: {"dismiss-note": "Song lyrics."},
                   done=lambda s: _alert_status(s) == AlertStatus.DISMISSED),
    ModerationView("moderation:metrics", permission=Permission.VIEW_STATISTICS),
    # The platform's own settings: policy managers only. The pages without an id name the platform in a
    # parameter (another platform's answers 404); those with one are about one platform's key or webhook.
    ModerationView("moderation:policy", permission=Permission.MANAGE_MODERATION),
    ModerationView("moderation:policy_save", method="post", permission=Permission.MANAGE_MODERATION, success=302,
                   data=lambda s: policy_post_data(s.organisation, rules={"hate": {"review_threshold": "0.3"}}),
                   done=lambda s: Policy.objects.filter(organisation=s.organisation).exists()),
    ModerationView("moderation:keys", permission=Permission.MANAGE_MODERATION),
    ModerationView("moderation:key_create", method="post", permission=Permission.MANAGE_MODERATION,
                   data=lambda s: {"platform": str(s.organisation.pk), "name": "made-in-test", "scopes": "check",
                                   "rate_per_minute": "60"},
                   done=lambda s: PlatformKey.objects.filter(name="made-in-test").exists()),
    ModerationView("moderation:key", permission=Permission.MANAGE_MODERATION, takes_case=True, kwargs=_key_id),
    ModerationView("moderation:key_revoke", method="post", permission=Permission.MANAGE_MODERATION,
                   takes_case=True, kwargs=_key_id, success=302,
                   done=lambda s: PlatformKey.objects.filter(pk=s.objects["key"].pk,
                                                             revoked_at__isnull=False).exists()),
    ModerationView("moderation:webhooks", permission=Permission.MANAGE_MODERATION),
    ModerationView("moderation:webhook_add", method="post", permission=Permission.MANAGE_MODERATION,
                   data=lambda s: {"platform": str(s.organisation.pk), "url": "https://hooks.made-in-test.example/"},
                   done=lambda s: WebhookEndpoint.objects.filter(url__contains="made-in-test").exists()),
    ModerationView("moderation:webhook", permission=Permission.MANAGE_MODERATION, takes_case=True,
                   kwargs=_webhook_id),
    ModerationView("moderation:webhook_off", method="post", permission=Permission.MANAGE_MODERATION,
                   takes_case=True, kwargs=_webhook_id, success=302,
                   done=lambda s: not WebhookEndpoint.objects.get(pk=s.objects["webhook"].pk).is_active),
]


class TestModerationPages(StaffViewTests):
    views = MODERATION_VIEWS

    @pytest.fixture(autouse=True)
    def _default_rules(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from vangnet.moderation import policy

        monkeypatch.setattr(policy, "default_rules", fixed_default_rules)

    @pytest.fixture
    def scene(self, platform: Any, other_platform: Any) -> Scene:
        """A flagged item with an image and its task, an appeal against another moderator's decision, an open
        threat alert, a statement of reasons waiting for export, an API key and a webhook."""
        decider = make_user("first-decider", organisation=platform, role=Role.MODERATOR)
        task = flagged_task(platform, external_id=REFERENCE, image=png())
        appeal = appeal_task(platform, decider=decider)
        alert = alert_for(flagged_item(platform, external_id="threat-item"))
        # The alert's item id is not the reference, so the alert pages show the reference through the item text.
        ThreatAlert.objects.filter(pk=alert.pk).update(item=task.item)
        decision = decided(flagged_item(platform, external_id="exported-item"), decider)
        StatementOfReasons.objects.create(organisation=platform, decision=decision, puid="puid-1", payload={})
        return Scene(organisation=platform, other_organisation=other_platform,
                     case=SimpleNamespace(pk=task.pk, reference=REFERENCE),
                     objects={"task": task, "appeal_task": appeal, "alert": ThreatAlert.objects.get(pk=alert.pk),
                              "key": platform_keys.create_key(organisation=platform, name="in use", scopes=["check"],
                                                              actor=Actor.system("test"))[0],
                              "webhook": WebhookEndpoint.objects.create(organisation=platform, secret="s",
                                                                        url="https://hooks.praatplein.example/")})

    @pytest.mark.django_db
    def test_an_analyst_never_sees_a_case(self, client: Client, view: StaffView, scene: Scene) -> None:
        """Overrides the shared test: an analyst gets 403 on every page but the metrics, which show no item."""
        client.force_login(make_user("ana", organisation=scene.organisation, role=Role.ANALYST))
        response = view.call(client, scene)
        assert response.status_code == view.expected_status(ROLE_PERMISSIONS[Role.ANALYST]), view
        if view.done is not None:
            assert not view.done(scene)
        assert REFERENCE not in bytes(response.content).decode(errors="replace")
