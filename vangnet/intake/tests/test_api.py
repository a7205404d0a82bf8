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


def post(client, body, token=None, raw=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/reports", data=raw if raw is not None else json.dumps(body),
                       content_type="application/json", **headers)


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


def test_malformed_json_is_refused(client, api_token) -> None:
    assert post(client, None, api_token, raw="{not json").status_code == 400
    assert not Report.objects.exists()


def test_oversized_body_is_refused(client, api_token) -> None:
    response = post(client, {**VALID, "description": "x" * 300_000}, api_token)
    assert response.status_code in (400, 413)
    assert not Report.objects.exists()


@pytest.mark.parametrize("token", [None, "wrong-token", "x" * 500])
def test_a_bad_token_answers_401(client, api_token, token) -> None:
    assert post(client, VALID, token).status_code == 401
    assert not Report.objects.exists()


def test_a_revoked_token_answers_401(client, api_token) -> None:
    from django.utils import timezone

    ApiToken.objects.update(revoked_at=timezone.now())
    assert post(client, VALID, api_token).status_code == 401


def test_the_openapi_document_describes_the_endpoint(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    operation = doc["paths"]["/api/v1/reports"]["post"]
    assert set(operation["responses"]) >= {"201", "400"}
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "consent_processing" in doc["components"]["schemas"][schema_ref]["required"]


def test_a_flooding_token_is_throttled(client, api_token, settings) -> None:
    settings.VANGNET_API_REPORTS_PER_MINUTE = 2
    statuses = [post(client, VALID, api_token).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert Report.objects.count() == 2
