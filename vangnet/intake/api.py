"""The partner API: ``POST /api/v1/reports`` with the same validation as the web flow.

Built on django-ninja so the OpenAPI document at ``/api/v1/openapi.json`` is generated
from the same schema the endpoint uses.
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer

from vangnet.accounts.selectors import organisation_for_token
from vangnet.audit.services import Actor

from . import selectors, services
from .choices import AgeBand, Channel, ContactPreference, Duration, PerpetratorCount, Relationship, ReporterRole
from .forms import ReportForm


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return organisation_for_token(token=token)


api = NinjaAPI(title="vangnet partner API", version="1", urls_namespace="api", auth=TokenAuth(),
               openapi_url="/openapi.json", docs_url=None,
               description="Submit reports of online violence from a partner organisation's own form.")


def _enum(choices: Any) -> Any:
    return Literal[tuple(choices.values)]


class ReportIn(Schema):
    immediate_danger: bool = Field(..., description="Is anyone in immediate danger? Reports with true are P0.")
    reporter_role: _enum(ReporterRole)  # type: ignore[valid-type]
    forms: list[str] = Field(..., description="Slugs of forms of violence (see the taxonomy).", max_length=30)
    description: str = Field("", description="Free text, at most 8000 characters.")
    urls: list[str] = Field(default_factory=list, description="http(s) URLs, at most 20.")
    platform: str = ""
    age_band: _enum(AgeBand)  # type: ignore[valid-type]
    relationship: _enum(Relationship) | Literal[""] = ""  # type: ignore[valid-type]
    perpetrator_count: _enum(PerpetratorCount) | Literal[""] = ""  # type: ignore[valid-type]
    duration: _enum(Duration) | Literal[""] = ""  # type: ignore[valid-type]
    contact_preference: _enum(ContactPreference) = ContactPreference.NONE.value  # type: ignore[valid-type]
    contact_email: str = ""
    contact_phone: str = ""
    consent_processing: bool = Field(..., description="Must be true: the reporter agreed to processing.")
    share_with: str = Field("", description="Slug of a directory organisation the reporter consented to share with.")
    language: Literal["nl", "en"] = "nl"


class ReportCreated(Schema):
    receipt_code: str
    secret: str = Field(..., description="Shown to the reporter once; not stored in readable form.")
    urgent: bool


class FieldErrors(Schema):
    errors: dict[str, list[str]]


@api.exception_handler(ValidationError)
def schema_errors(request: HttpRequest, exc: ValidationError) -> Any:
    """Type errors answer 400 with field errors, in the same shape as rule errors."""
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", []) if part not in ("body", "payload")]
        errors.setdefault(loc[0] if loc else "__all__", []).append(str(item.get("msg", "invalid")))
    return api.create_response(request, {"errors": errors}, status=400)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> Any:
    return api.create_response(request, {"detail": "A valid API token is required."}, status=401)


class Throttled(Schema):
    detail: str


@api.post("/reports", response={201: ReportCreated, 400: FieldErrors, 429: Throttled}, summary="Submit a report")
def create_report(request: HttpRequest, payload: ReportIn) -> Any:
    token = request.auth  # type: ignore[attr-defined]  # set by TokenAuth
    if selectors.reports_by_token_in_last_minute(token=token) >= settings.VANGNET_API_REPORTS_PER_MINUTE:
        # A leaked token must not flood the helpline; real partners stay far below this.
        return Status(429, {"detail": "Too many reports with this token; try again in a minute."})
    data = payload.dict()
    language = data.pop("language")
    data["immediate_danger"] = "yes" if data["immediate_danger"] else "no"
    form = ReportForm(data=data)
    if not form.is_valid():
        return Status(400, {"errors": {field: [str(e) for e in errs] for field, errs in form.errors.items()}})
    submitted = services.submit_report(data=form.cleaned_data, organisation=token.organisation, channel=Channel.API,
                                       actor=Actor.partner(f"api:{token.organisation.slug}:{token.name}"),
                                       language=language, api_token=token)
    return Status(201, {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret,
                        "urgent": submitted.report.immediate_danger})
