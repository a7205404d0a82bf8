import pytest

from conftest import report_payload
from vangnet.intake.forms import STEP_FORMS, AddInformationForm, FollowupLoginForm, ReportForm
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


@pytest.mark.parametrize("preference", ["none", "phone"])
@pytest.mark.parametrize("stale_email", ["not-an-address", "me@", "a@b.c"])
def test_a_stale_email_does_not_block_choosing_another_contact(preference: str, stale_email: str) -> None:
    form = ReportForm(data=report_payload(contact_preference=preference, contact_email=stale_email,
                                          contact_phone="06 1234 5678"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_email"] == "", "the address she did not choose is dropped"


@pytest.mark.parametrize("email", ["", "   ", "not-an-address", "me@example", "me@@example.com", " me@example.com"])
def test_the_email_field_shows_one_error_at_most(email: str) -> None:
    form = ReportForm(data=report_payload(contact_preference="email", contact_email=email))
    assert not form.is_valid()
    assert len(form.errors["contact_email"]) == 1


def test_the_email_step_alone_shows_one_error_too() -> None:
    contact_step = dict(STEP_FORMS)["contact"]
    form = contact_step(data={"contact_preference": "email", "contact_email": "x" * 300})
    assert not form.is_valid()
    assert len(form.errors["contact_email"]) == 1


@pytest.mark.parametrize(("phone", "valid"), [
    ("06 1234 5678", True), ("+31 (0)6-12345678", True), (" 0612345678 ", True), ("+316123456789012", True),
    ("        ", False), ("--------", False), ("1234567", False), ("+31 6 1234 5678 90123", False),
    ("06 1234 5678\n", False), ("call me", False),
])
def test_a_phone_number_has_8_to_15_digits(phone: str, valid: bool) -> None:
    form = ReportForm(data=report_payload(contact_preference="phone", contact_phone=phone))
    assert form.is_valid() is valid, form.errors
    if valid:
        assert form.cleaned_data["contact_phone"] == phone.strip()


@pytest.mark.parametrize(("email", "valid"), [
    ("her@example.org", True), ("Her.Name+vangnet@Mail.Example.NL", True), ("me@bücher.de", True),
    ("a@b.c", False), ("a..b@example.org", False), ("a@-example.org", False), ("a@example", False),
    ("me@example.org\n", False), ('"quoted"@example.org', False), ("me@[127.0.0.1]", False),
])
def test_email_addresses(email: str, valid: bool) -> None:
    assert ReportForm(data=report_payload(contact_preference="email", contact_email=email)).is_valid() is valid


SAMPLES = ["her@example.org", "a@b.cc", "me@bücher.de", "a@b.c", "x@-a.com", "a.@b.cc", "me@example.org\n",
           "06 1234 5678", "+31 (0)6-12345678", "        ", "1234567", "0612345678\n", " +31612345678", ""]


@pytest.mark.parametrize("pattern_name", ["EMAIL_PATTERN", "PHONE_PATTERN"])
def test_the_contact_patterns_mean_the_same_in_python_and_in_json_schema(pattern_name: str) -> None:
    import re

    import jsonschema_rs

    from vangnet.intake import forms as intake_forms

    pattern = getattr(intake_forms, pattern_name)
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    for sample in SAMPLES:
        assert validator.is_valid(sample) == bool(re.fullmatch(pattern, sample)), sample


@pytest.mark.parametrize("field", ["description", "platform", "urls", "contact_phone"])
def test_a_lone_surrogate_is_a_field_error_not_a_crash(field: str) -> None:
    form = ReportForm(data=report_payload(**{"contact_preference": "phone", "contact_phone": "0612345678",
                                             field: "text \ud800"}))
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()[field]] == ["invalid_unicode"]


@pytest.mark.parametrize(("form_class", "data", "field"), [
    (AddInformationForm, {"text": "more \udfff"}, "text"),
    (FollowupLoginForm, {"receipt_code": "VN-\ud800", "secret": "x"}, "receipt_code"),
])
def test_follow_up_forms_refuse_invalid_unicode(form_class: type, data: dict, field: str) -> None:
    form = form_class(data=data)
    assert not form.is_valid()
    assert "invalid_unicode" in [e.code for e in form.errors.as_data()[field]]


def test_a_form_named_twice_counts_once() -> None:
    form = ReportForm(data=report_payload(forms=["doxing", "threats", "doxing"]))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["forms"] == ["doxing", "threats"]


def test_the_relationship_question_reads_naturally() -> None:
    from django.utils import translation

    label = ReportForm().fields["relationship"].label
    with translation.override("en"):
        assert str(label) == "Who did it? How do they know the person it happened to? (optional)"
    with translation.override("nl"):
        assert str(label) == "Wie deed het? Hoe kent die persoon degene die het overkwam? (niet verplicht)"
