"""Admin edits of organisations, roles, API tokens and triage rules go through audited services."""

import json

import pytest

from vangnet.accounts.models import ApiToken, Membership, Organisation
from vangnet.accounts.selectors import organisation_for_token
from vangnet.audit.models import Event
from vangnet.cases.models import TriageRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw-0123456789-abc")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def _events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(event_type=event_type).order_by("id"))


def _inline(prefix: str = "memberships", rows: list[dict] | None = None, initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows or [])), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for n, row in enumerate(rows or []):
        data.update({f"{prefix}-{n}-{k}": v for k, v in row.items()})
    return data


def test_an_organisation_and_its_staff_are_changed_through_audited_services(admin_client, root, make_staff,
                                                                            django_user_model) -> None:
    hans = django_user_model.objects.create_user(username="hans2", password="x")
    response = admin_client.post("/admin/accounts/organisation/add/", {
        "slug": "offlimits", "name": "Offlimits", "is_active": "on", "handles_reports": "on",
        "is_trusted_flagger": "on", **_inline(rows=[{"user": hans.pk, "role": "handler"}])})
    assert response.status_code == 302, response.content[:3000]
    org = Organisation.objects.get(slug="offlimits")
    [created] = _events("organisation.created")
    assert (created.actor_user, created.organisation_id, created.data["is_trusted_flagger"]) == (root, org.pk, True)
    [added] = _events("membership.added")
    assert (added.organisation_id, added.data) == (org.pk, {"user": "hans2", "role": "handler"})

    membership = Membership.objects.get(organisation=org)
    response = admin_client.post(f"/admin/accounts/organisation/{org.pk}/change/", {
        "slug": "offlimits", "name": "Offlimits", "is_active": "on", "handles_reports": "on",
        **_inline(rows=[{"id": membership.pk, "organisation": org.pk, "user": hans.pk, "role": "supervisor"}],
                  initial=1)})
    assert response.status_code == 302, response.content[:3000]
    [changed] = _events("organisation.changed")
    assert changed.data == {"is_trusted_flagger": False}, "only what changed, with its new value"
    [role] = _events("membership.role_changed")
    assert role.data == {"user": "hans2", "from": "handler", "to": "supervisor"}

    response = admin_client.post(f"/admin/accounts/organisation/{org.pk}/change/", {
        "slug": "offlimits", "name": "Offlimits", "is_active": "on", "handles_reports": "on",
        **_inline(rows=[{"id": membership.pk, "organisation": org.pk, "user": hans.pk, "role": "supervisor",
                         "DELETE": "on"}], initial=1)})
    assert response.status_code == 302
    assert not Membership.objects.filter(organisation=org).exists()
    [removed] = _events("membership.removed")
    assert (removed.organisation_id, removed.data) == (org.pk, {"user": "hans2", "role": "supervisor"})
    assert admin_client.post(f"/admin/accounts/organisation/{org.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_token_is_revoked_by_an_audited_admin_action(admin_client, api_token, root) -> None:
    token = ApiToken.objects.get()
    response = admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert organisation_for_token(token=api_token) is None
    admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    [revoked] = _events("api_token.revoked")
    assert (revoked.actor_user, revoked.subject_id, revoked.organisation_id) == (root, str(token.pk),
                                                                                token.organisation_id)


def test_a_triage_rule_edited_in_the_admin_is_logged_and_cannot_be_deleted(admin_client, root) -> None:
    response = admin_client.post("/admin/cases/triagerule/add/", {
        "name": "Doxing of a minor", "explanation": "x", "conditions": json.dumps({"forms_any": ["doxing"]}),
        "priority": "1", "required_steps": "[]", "is_active": "on", "order": "5"})
    assert response.status_code == 302, response.content[:2000]
    rule = TriageRule.objects.get(name="Doxing of a minor")
    [created] = _events("triage_rule.created")
    assert (created.actor_user, created.subject_type, created.data["conditions"]) == (
        root, "cases.triagerule", {"forms_any": ["doxing"]})
    admin_client.post(f"/admin/cases/triagerule/{rule.pk}/change/", {
        "name": "Doxing of a minor", "explanation": "x", "conditions": json.dumps({"forms_any": ["doxing"]}),
        "priority": "0", "required_steps": "[]", "order": "5"})
    [changed] = _events("triage_rule.changed")
    assert changed.data == {"changed": ["priority", "is_active"], "priority": 0, "is_active": False}
    assert admin_client.post(f"/admin/cases/triagerule/{rule.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_demo_command_writes_its_staff_and_token_through_audited_services(monkeypatch) -> None:
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setenv("VANGNET_DEMO_API_TOKEN", "first-demo-token-0123456789abcdef")
    call_command("demo", stdout=StringIO())
    monkeypatch.setenv("VANGNET_DEMO_API_TOKEN", "second-demo-token-0123456789abcdef")
    call_command("demo", stdout=StringIO())
    assert organisation_for_token(token="first-demo-token-0123456789abcdef") is None, "the replaced token is revoked"
    assert organisation_for_token(token="second-demo-token-0123456789abcdef").organisation.slug == "partner-org"
    assert len(_events("membership.added")) == 8 and len(_events("api_token.revoked")) == 1  # 4 helpline, 4 platform
    assert {e.actor_label for e in _events("membership.added")} == {"system: vangnet demo"}
