"""Administrators change the vocabularies in the admin, without a release."""

import json

import pytest

from vangnet.cases.models import TriageRule
from vangnet.intake.forms import ReportForm
from vangnet.taxonomy.models import FormOfViolence

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="root", password="pw-0123456789-abc")
    client.force_login(admin)
    return client


def _offered() -> set[str]:
    return set(dict(ReportForm().fields["forms"].choices))


def test_adding_and_retiring_a_form_in_the_admin_changes_the_report_flow(admin_client) -> None:
    assert "ai-voice-cloning" not in _offered()
    response = admin_client.post("/admin/taxonomy/formofviolence/add/", {
        "slug": "ai-voice-cloning", "name_nl": "Stem nagemaakt met AI", "name_en": "AI voice cloning",
        "description_nl": "Iemand maakt je stem na.", "is_active": "on", "sort_order": "150"})
    assert response.status_code == 302, response.content[:2000]
    assert "ai-voice-cloning" in _offered()
    form = FormOfViolence.objects.get(slug="ai-voice-cloning")
    admin_client.post(f"/admin/taxonomy/formofviolence/{form.pk}/change/", {
        "slug": "ai-voice-cloning", "name_nl": "Stem nagemaakt met AI", "name_en": "AI voice cloning",
        "description_nl": "Iemand maakt je stem na.", "sort_order": "150"})
    assert "ai-voice-cloning" not in _offered()


def test_a_broken_triage_rule_is_refused_in_the_admin(admin_client) -> None:
    response = admin_client.post("/admin/cases/triagerule/add/", {
        "name": "Broken", "explanation": "x", "conditions": json.dumps({"colour": ["red"]}),
        "required_steps": "[]", "is_active": "on", "order": "5"})
    assert response.status_code == 200 and "Unknown condition" in response.content.decode()
    assert not TriageRule.objects.filter(name="Broken").exists()


def test_the_audit_log_cannot_be_edited_in_the_admin(admin_client, submit) -> None:
    submit()
    assert admin_client.get("/admin/audit/event/").status_code == 200
    assert admin_client.get("/admin/audit/event/add/").status_code == 403
