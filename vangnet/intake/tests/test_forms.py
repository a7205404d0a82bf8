import pytest

from conftest import report_payload
from vangnet.intake.forms import ReportForm
from vangnet.taxonomy.models import FormOfViolence

pytestmark = pytest.mark.django_db


def test_a_complete_report_is_valid() -> None:
    form = ReportForm(data=report_payload())
    assert form.is_valid(), form.errors
    assert [u.normalized for u in form.cleaned_data["urls"]] == ["https://example.com/photo/1"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"forms": []}, "forms"),
    ({"forms": ["no-such-form"]}, "forms"),
    ({"reporter_role": "alien"}, "reporter_role"),
    ({"age_band": ""}, "age_band"),
    ({"immediate_danger": ""}, "immediate_danger"),
    ({"consent_processing": False}, "consent_processing"),
    ({"contact_preference": "email", "contact_email": ""}, "contact_email"),
    ({"contact_preference": "email", "contact_email": "not-an-address"}, "contact_email"),
    ({"contact_preference": "phone", "contact_phone": "call me"}, "contact_phone"),
    ({"description": "x" * 8001}, "description"),
    ({"urls": "\n".join(f"https://example.com/{i}" for i in range(21))}, "urls"),
    ({"urls": "https://example.com/ok\njavascript:alert(1)"}, "urls"),
    ({"share_with": "no-such-org"}, "share_with"),
    ({"share_with": "112"}, "share_with"),
])
def test_invalid_answers_get_a_field_error(overrides: dict, field: str) -> None:
    form = ReportForm(data=report_payload(**overrides))
    assert not form.is_valid()
    assert field in form.errors


def test_url_error_names_the_line() -> None:
    form = ReportForm(data=report_payload(urls="https://example.com/ok\nhttps://user:pw@example.com/"))
    assert not form.is_valid()
    assert "2" in form.errors["urls"][0]


def test_only_the_chosen_contact_detail_is_kept() -> None:
    form = ReportForm(data=report_payload(contact_preference="phone", contact_phone="+31 6 1234 5678",
                                          contact_email="me@example.com"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_email"] == ""
    assert form.cleaned_data["contact_phone"] == "+31 6 1234 5678"


def test_a_retired_form_of_violence_is_no_longer_offered() -> None:
    FormOfViolence.objects.filter(slug="cyberflashing").update(is_active=False)
    form = ReportForm(data=report_payload(forms=["cyberflashing"]))
    assert not form.is_valid()
    assert "cyberflashing" not in dict(form.fields["forms"].choices)


def test_a_form_added_by_an_administrator_is_offered_without_code_change() -> None:
    FormOfViolence.objects.create(slug="ai-voice-cloning", name_nl="Stem nagemaakt met AI",
                                  description_nl="Iemand maakt je stem na.")
    form = ReportForm(data=report_payload(forms=["ai-voice-cloning"]))
    assert form.is_valid(), form.errors
