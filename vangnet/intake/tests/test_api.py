import json

import pytest

from vangnet.accounts.models import ApiToken
from vangnet.intake.models import Report

pytestmark = pytest.mark.django_db

VALID = {
    "immediate_danger": False, "reporter_role": "professional", "forms": ["doxing"],
    "description": "Her address was posted.", "urls": ["https://forum.example/t/1"], "age_band": "18_plus",
    "consent_processing": True, "language": "en",
}


def post(client, body, token=None, raw=None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = raw.encode("utf-8", "surrogateescape") if raw is not None else json.dumps(body)
    return client.post("/api/v1/reports", data=data, content_type="application/json", **headers)


def test_a_valid_report_answers_201_with_a_receipt_code(client, api_token, helpline) -> None:
    response = post(client, VALID, api_token)
    assert response.status_code == 201, response.content
    body = response.json()
    report = Report.objects.get(receipt_code=body["receipt_code"])
    assert report.organisation == helpline and report.channel == "api" and report.language == "en"
    assert report.case is not None and body["urgent"] is False and len(body["secret"]) == 19


@pytest.mark.parametrize(("change", "field"), [
    ({"forms": ["unknown"]}, "forms"),
    ({"urls": ["javascript:alert(1)"]}, "urls"),
    ({"urls": [f"https://e.example/{i}" for i in range(21)]}, "urls"),
    ({"consent_processing": False}, "consent_processing"),
    ({"contact_preference": "email"}, "contact_email"),
    ({"age_band": "ancient"}, "age_band"),
    ({"immediate_danger": "perhaps"}, "immediate_danger"),
    ({"description": "x" * 8001}, "description"),
    ({"urls": "https://not-a-list.example"}, "urls"),
])
def test_invalid_input_answers_400_with_field_errors_and_stores_nothing(client, api_token, change, field) -> None:
    response = post(client, {**VALID, **change}, api_token)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Report.objects.exists()


def test_missing_fields_are_listed(client, api_token) -> None:
    response = post(client, {}, api_token)
    assert response.status_code == 400
    assert {"reporter_role", "forms", "age_band", "consent_processing"} <= set(response.json()["errors"])


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "null", '"a report"', "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_a_problem_answer(client, api_token, raw) -> None:
    response = post(client, None, api_token, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"detail": "Stuur de melding als JSON-object.", "code": "invalid_body"}
    assert not Report.objects.exists()


@pytest.mark.parametrize("size", [300_000, 1_000_000, 1_500_000])
def test_an_oversized_body_answers_413_in_json(client, api_token, size) -> None:
    response = post(client, {**VALID, "description": "x" * size}, api_token)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "body_too_large" and "256 KiB" in response.json()["detail"]
    assert not Report.objects.exists()


@pytest.mark.parametrize("token", [None, "wrong-token", "x" * 500])
def test_a_bad_token_answers_401(client, api_token, token) -> None:
    response = post(client, VALID, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "Er is een geldig API-token nodig.", "code": "unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Report.objects.exists()


def test_a_revoked_token_answers_401(client, api_token) -> None:
    from django.utils import timezone

    ApiToken.objects.update(revoked_at=timezone.now())
    assert post(client, VALID, api_token).status_code == 401


def _report_schema(doc: dict) -> dict:
    operation = doc["paths"]["/api/v1/reports"]["post"]
    return doc["components"]["schemas"][
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]


def test_the_openapi_document_describes_the_endpoint(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    operation = doc["paths"]["/api/v1/reports"]["post"]
    assert set(operation["responses"]) == {"201", "400", "401", "413", "422", "429"}
    assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert "consent_processing" in _report_schema(doc)["required"]


def test_the_openapi_document_states_what_the_server_enforces(client) -> None:
    from vangnet.taxonomy.models import FormOfViolence

    FormOfViolence.objects.filter(slug="cyberflashing").update(is_active=False)
    properties = _report_schema(client.get("/api/v1/openapi.json").json())["properties"]
    assert properties["consent_processing"]["const"] is True
    assert properties["forms"]["minItems"] == 1 and properties["forms"]["maxItems"] == 30
    assert "doxing" in properties["forms"]["items"]["enum"]
    assert "cyberflashing" not in properties["forms"]["items"]["enum"], "valid slugs are read from the data"
    assert "GET /api/v1/forms" in properties["forms"]["description"]
    assert "GET /api/v1/organisations" in properties["share_with"]["description"]
    assert "" in properties["share_with"]["enum"] and "112" not in properties["share_with"]["enum"]
    assert properties["description"]["maxLength"] == 8000
    assert properties["urls"]["maxItems"] == 20 and properties["urls"]["items"]["maxLength"] == 2000
    assert (properties["platform"]["maxLength"], properties["contact_email"]["maxLength"],
            properties["contact_phone"]["maxLength"]) == (200, 254, 32)


def test_the_openapi_document_declares_the_idempotency_key(client) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/reports"]["post"]
    [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and header["required"] is False
    assert header["schema"]["type"] == "string" and header["schema"]["maxLength"] == 255
    assert "24 hours" in header["description"]


@pytest.mark.parametrize("field", ["description", "platform", "contact_email", "contact_phone", "share_with"])
def test_a_lone_surrogate_in_any_text_answers_400_not_500(client, api_token, field) -> None:
    body = {**VALID, "language": "nl", "contact_preference": "email", "contact_email": "me@example.org",
            field: "ab\ud800"}
    response = post(client, body, api_token)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field] == [
        "Deze tekst bevat tekens die we niet kunnen lezen. Haal ze weg of typ de tekst opnieuw."]
    assert not Report.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"urls": ["https://example.org/\udc00"]}, "urls"),
    ({"forms": ["doxing", "\ud83d"]}, "forms"),
    ({"language": "\ud800"}, "language"),
])
def test_a_lone_surrogate_in_a_list_or_choice_answers_400(client, api_token, change, field) -> None:
    response = post(client, {**VALID, **change}, api_token)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Report.objects.exists()


def test_a_form_named_twice_counts_once(client, api_token) -> None:
    response = post(client, {**VALID, "forms": ["doxing", "threats", "doxing"]}, api_token)
    assert response.status_code == 201, response.content
    assert sorted(Report.objects.get().forms.values_list("slug", flat=True)) == ["doxing", "threats"]


def test_a_stale_email_does_not_block_phone_contact(client, api_token) -> None:
    body = {**VALID, "contact_preference": "phone", "contact_phone": "+31 6 1234 5678", "contact_email": "me@"}
    response = post(client, body, api_token)
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert (report.contact_phone, report.contact_email) == ("+31 6 1234 5678", "")


ENGLISH_BODY = {**VALID, "immediate_danger": "perhaps", "forms": ["no-such-form"], "consent_processing": False}


def test_errors_follow_the_language_of_the_report(client, api_token) -> None:
    english = post(client, {**ENGLISH_BODY, "language": "en"}, api_token)
    dutch = post(client, {**ENGLISH_BODY, "language": "nl"}, api_token)
    assert english["Content-Language"] == "en" and dutch["Content-Language"] == "nl"
    # Type errors come from the schema; value errors from the form: each in the report's language.
    assert english.json()["errors"] == {"immediate_danger": ["Give true or false."]}
    assert dutch.json()["errors"] == {"immediate_danger": ["Geef true of false."]}
    body = {**ENGLISH_BODY, "immediate_danger": False}
    assert post(client, {**body, "language": "en"}, api_token).json()["errors"] == {
        "forms": ["Select a valid choice. no-such-form is not one of the available choices."],
        "consent_processing": ["We can only take your report if you agree to this."]}
    assert post(client, {**body, "language": "nl"}, api_token).json()["errors"] == {
        "forms": ["Selecteer een geldige keuze. no-such-form is geen beschikbare keuze."],
        "consent_processing": ["We kunnen je melding alleen aannemen als je hiermee akkoord gaat."]}


def test_the_body_language_wins_over_accept_language(client, api_token) -> None:
    response = post(client, {**ENGLISH_BODY, "language": "nl"}, api_token, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["errors"] == {"immediate_danger": ["Geef true of false."]}


def test_without_a_language_errors_follow_accept_language_then_dutch(client, api_token) -> None:
    body = {k: v for k, v in ENGLISH_BODY.items() if k != "language"}
    assert post(client, body, api_token, HTTP_ACCEPT_LANGUAGE="en").json()["errors"] == {
        "immediate_danger": ["Give true or false."]}
    assert post(client, body, api_token).json()["errors"] == {"immediate_danger": ["Geef true of false."]}
    assert post(client, None, None, raw="{", HTTP_ACCEPT_LANGUAGE="en").json()["detail"] == (
        "A valid API token is required.")


def test_a_report_without_a_language_takes_the_accept_language(client, api_token) -> None:
    body = {k: v for k, v in VALID.items() if k != "language"}
    assert post(client, body, api_token, HTTP_ACCEPT_LANGUAGE="en").status_code == 201
    assert post(client, body, api_token).status_code == 201
    assert list(Report.objects.order_by("pk").values_list("language", flat=True)) == ["en", "nl"]


def test_forms_of_violence_are_listed_with_both_names(client) -> None:
    from vangnet.taxonomy.models import FormOfViolence

    FormOfViolence.objects.filter(slug="cyberflashing").update(is_active=False)
    FormOfViolence.objects.create(slug="ai-voice-cloning", name_nl="Stem nagemaakt met AI", description_nl="-")
    response = client.get("/api/v1/forms")
    assert response.status_code == 200
    by_slug = {f["slug"]: f for f in response.json()}
    assert "cyberflashing" not in by_slug, "only active forms"
    assert by_slug["doxing"]["name_nl"] and by_slug["doxing"]["name_en"]
    assert by_slug["ai-voice-cloning"] == {"slug": "ai-voice-cloning", "name_nl": "Stem nagemaakt met AI",
                                           "name_en": "Stem nagemaakt met AI"}, "English falls back to Dutch"


def test_organisations_to_share_with_are_listed(client) -> None:
    response = client.get("/api/v1/organisations")
    assert response.status_code == 200
    slugs = {o["slug"] for o in response.json()}
    assert "helpwanted" in slugs and "112" not in slugs, "emergency lines are not shared with"
    assert all(o["name_nl"] and o["name_en"] for o in response.json())


def test_a_flooding_token_is_throttled(client, api_token, settings) -> None:
    settings.VANGNET_API_REPORTS_PER_MINUTE = 2
    responses = [post(client, VALID, api_token) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 429]
    assert responses[2].json()["code"] == "throttled" and responses[2]["Retry-After"] == "60"
    assert Report.objects.count() == 2


def test_length_limits_are_stated_in_the_reports_language(client, api_token) -> None:
    body = {**VALID, "description": "x" * 8001, "urls": ["https://e.example/"] * 21}
    assert post(client, {**body, "language": "nl"}, api_token).json()["errors"] == {
        "description": ["Geef hoogstens 8000 tekens."], "urls": ["Geef hoogstens 20 onderdelen."]}
    assert post(client, {**body, "language": "en"}, api_token).json()["errors"] == {
        "description": ["Give at most 8000 characters."], "urls": ["Give at most 20 items."]}
