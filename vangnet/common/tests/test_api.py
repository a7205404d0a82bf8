"""One API object, a router per app: one document with every router's paths, the same error shapes everywhere."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja import Router as NinjaRouter
from ninja import Schema
from ninja.errors import ConfigError
from ninja.security import HttpBearer
from ninja.testing import TestClient

from vangnet.common.api import API, INVALID, UNAUTHORIZED, Answer, Router, answer
from vangnet.config.api import api
from vangnet.directory.api import router as directory_router
from vangnet.intake.api import TokenAuth
from vangnet.intake.api import router as intake_router
from vangnet.moderation.api import PlatformKeyAuth
from vangnet.moderation.api import router as moderation_router
from vangnet.taxonomy.api import router as taxonomy_router

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"


def document(client: Any) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_every_app_router_is_mounted_on_the_one_api() -> None:
    assert api.app_routers == [intake_router, taxonomy_router, directory_router, moderation_router]
    assert (api.title, api.version, api.urls_namespace, api.docs_url) == ("vangnet API", "1", "api", None)


def test_the_document_lists_every_routers_paths_and_nothing_else(client: Any) -> None:
    paths = document(client)["paths"]
    expected = {f"{PREFIX}{path}": {method.lower() for op in view.operations for method in op.methods}
                for router in api.app_routers for path, view in router.path_operations.items()}
    assert {path: set(methods) for path, methods in paths.items()} == expected
    assert set(expected) == {f"{PREFIX}/reports", f"{PREFIX}/reports/{{receipt_code}}/evidence", f"{PREFIX}/forms",
                             f"{PREFIX}/organisations", f"{PREFIX}/moderation/check", f"{PREFIX}/moderation/notices",
                             f"{PREFIX}/moderation/appeals"}


def test_each_router_has_its_own_authentication(client: Any) -> None:
    assert isinstance(intake_router.auth, TokenAuth)
    assert taxonomy_router.auth is None and directory_router.auth is None
    assert isinstance(moderation_router.auth, PlatformKeyAuth)
    paths = document(client)["paths"]
    assert paths[f"{PREFIX}/reports"]["post"]["security"] == [{"TokenAuth": []}]
    assert "security" not in paths[f"{PREFIX}/forms"]["get"]
    assert "security" not in paths[f"{PREFIX}/organisations"]["get"]
    assert client.get(f"{PREFIX}/forms").status_code == 200
    assert client.get(f"{PREFIX}/organisations").status_code == 200
    assert client.post(f"{PREFIX}/reports", data="{}", content_type="application/json").status_code == 401


def test_a_401_has_the_problem_shape_the_document_declares(client: Any) -> None:
    doc = document(client)
    problem = doc["components"]["schemas"]["Problem"]
    declared = doc["paths"][f"{PREFIX}/reports"]["post"]["responses"]["401"]
    assert declared["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert declared["headers"]["WWW-Authenticate"]["required"] is True
    response = client.post(f"{PREFIX}/reports", data="{}", content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert set(body) == set(problem["required"]) == set(problem["properties"]) == {"detail", "code"}
    assert all(problem["properties"][key]["type"] == "string" and isinstance(body[key], str) for key in body)
    assert body["code"] == "unauthorized"


# A second app's router, with an authentication of its own, as moderation's will be: it must fail exactly as
# intake's does, because the error handlers belong to the API, not to an app.
class KeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return token if token == "platform-key" else None


class ThingIn(Schema):
    kind: Literal["a", "b"]
    note: str = ""


def probe_api() -> API:
    router = Router(auth=KeyAuth())

    @router.post("/things", **router.responses("create_thing", {
        201: Answer(dict[str, str], "Stored."), 400: INVALID, 401: UNAUTHORIZED}))
    def create_thing(request: HttpRequest, payload: ThingIn) -> HttpResponse:
        return answer(request, 201, {"kind": payload.kind})

    @router.get("/things", **router.responses("list_things", {200: Answer(list[str], "The things."), 400: INVALID}))
    def list_things(request: HttpRequest, kind: Literal["a", "b"]) -> list[str]:
        return [kind]

    probe = API(title="probe", urls_namespace="probe-api")
    probe.add_router("/probe", router)
    return probe


def test_another_routers_401_is_the_same_as_the_reports_routers(client: Any) -> None:
    reports = client.post(f"{PREFIX}/reports", data="{}", content_type="application/json",
                          HTTP_AUTHORIZATION="Bearer wrong")
    things = TestClient(probe_api()).post("/probe/things", json={"kind": "a"},
                                          headers={"Authorization": "Bearer wrong"})
    assert things.status_code == reports.status_code == 401
    assert things.content == reports.content
    assert things["WWW-Authenticate"] == reports["WWW-Authenticate"] == "Bearer"
    assert things["Content-Type"] == reports["Content-Type"] == "application/json; charset=utf-8"


def test_another_routers_field_errors_name_its_own_fields_and_choices() -> None:
    probe = TestClient(probe_api())
    key = {"Authorization": "Bearer platform-key"}
    assert probe.post("/probe/things", json={"kind": "a"}, headers=key).status_code == 201
    refused = probe.post("/probe/things", json={"kind": "c", "note": 5, "language": "en"}, headers=key)
    assert refused.status_code == 400 and refused["Content-Language"] == "en"
    assert refused.json() == {"errors": {"kind": ['Choose one of: "a", "b".'], "note": ["Give a text."]}}
    not_an_object = probe.post("/probe/things", json=[1], headers=key)
    assert not_an_object.json()["code"] == "invalid_body"
    # A wrong query parameter is a field error, not a complaint about a body the request need not have.
    with translation.override("nl"):
        query = probe.get("/probe/things?kind=c", headers=key)
    assert query.status_code == 400
    assert json.loads(query.content) == {"errors": {"kind": ['Kies een van: "a", "b".']}}


def test_answers_are_declared_in_the_document_of_any_router() -> None:
    doc = json.loads(json.dumps(probe_api().get_openapi_schema(path_prefix="")))
    responses = doc["paths"]["/probe/things"]["post"]["responses"]
    assert responses["201"]["description"] == "Stored."
    assert responses["400"]["description"] == INVALID.description
    assert responses["401"]["headers"] == dict(UNAUTHORIZED.headers)
    assert doc["paths"]["/probe/things"]["post"]["operationId"] == "create_thing"


def test_a_router_that_does_not_name_its_authentication_is_refused() -> None:
    with pytest.raises(ConfigError):
        API(title="refused", urls_namespace="refused-api").add_router("/x", NinjaRouter())
    with pytest.raises(TypeError):
        Router()  # type: ignore[call-arg]
