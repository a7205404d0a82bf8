"""The partner API: ``POST /api/v1/reports`` with the same validation as the web flow.

Built on django-ninja so the OpenAPI document at ``/api/v1/openapi.json`` is generated
from the same schema the endpoint uses. The document says what the server enforces, and
the server enforces what the document says (``tests/test_api_schema.py`` runs schemathesis
with every check over it): pydantic checks types and raw lengths, ``ReportForm`` checks
the values, and ``PartnerAPI.get_openapi_schema`` adds what is data (the valid slugs) or
spans fields (the contact rules) to the document.

Answers, all JSON:

- 201 ``ReportCreated``; a retry with the same ``Idempotency-Key`` gets the same 201 again.
- 400 ``FieldErrors`` (``{"errors": {field: [message, ...]}}``) for invalid fields, or
  ``Problem`` (``{"detail": message, "code": code}``) when the body is not a JSON object.
- 401, 413, 422 and 429: ``Problem``.

Messages follow the report's ``language`` field, else the ``Accept-Language`` header,
else Dutch.
"""

from __future__ import annotations

import json
import typing
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Header, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import ConfigDict

from vangnet.audit.services import Actor
from vangnet.common.forms import INVALID_UNICODE_MESSAGE
from vangnet.directory.selectors import shareable_catalogue
from vangnet.taxonomy.selectors import form_catalogue

from . import idempotency, selectors, services
from .choices import AgeBand, Channel, ContactPreference, Duration, PerpetratorCount, Relationship, ReporterRole
from .forms import EMAIL_PATTERN, PHONE_PATTERN, ReportForm

LANGUAGES = ("nl", "en")
NO_NUL = "^[^\\u0000]*$"  # JSON Schema (ECMA-262) spelling; text fields refuse NUL characters
URL_FORMAT = "http-url"
IDEMPOTENCY_KEY_PATTERN = "^[!-~]+$"  # visible ASCII, no spaces


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return selectors.api_token_with_recent_reports(token=token)


class PartnerAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document also states the rules that live in data or span fields."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _declare_reference_data(schema)
        _declare_answers(schema)
        return schema


api = PartnerAPI(
    title="vangnet partner API", version="1", urls_namespace="api", auth=TokenAuth(),
    openapi_url="/openapi.json", docs_url=None,
    description=(
        "Submit reports of online violence from a partner organisation's own form.\n\n"
        "Errors are JSON: `{\"errors\": {field: [message]}}` for invalid fields, "
        "`{\"detail\": message, \"code\": code}` otherwise. Messages are in the report's `language`, "
        "else the `Accept-Language` header (nl or en), else Dutch."))


def _choices(choices: Any, *extra: str) -> Any:
    return Literal[tuple(choices.values) + extra]


def _text(default: str, max_length: int, description: str) -> Any:
    return Field(default, max_length=max_length, description=description, json_schema_extra={"pattern": NO_NUL})


class ReportIn(Schema):
    """A report as the web flow's ``ReportForm`` takes it; types are strict (``"true"`` is not a boolean)."""

    model_config = ConfigDict(strict=True, json_schema_extra={"allOf": [
        {"if": {"properties": {"contact_preference": {"const": ContactPreference.EMAIL.value}},
                "required": ["contact_preference"]},
         "then": {"properties": {"contact_email": {"pattern": EMAIL_PATTERN}}, "required": ["contact_email"]}},
        {"if": {"properties": {"contact_preference": {"const": ContactPreference.PHONE.value}},
                "required": ["contact_preference"]},
         "then": {"properties": {"contact_phone": {"pattern": PHONE_PATTERN}}, "required": ["contact_phone"]}},
    ]})

    immediate_danger: bool = Field(..., description="Is anyone in immediate danger? Reports with true are P0.")
    reporter_role: _choices(ReporterRole)  # type: ignore[valid-type]
    forms: list[str] = Field(
        ..., max_length=30, json_schema_extra={"minItems": 1},
        description="Slugs of forms of violence, at least one. `GET /api/v1/forms` lists the valid slugs "
                    "with their Dutch and English names; `other` fits when nothing else does.")
    description: str = _text("", settings.VANGNET_MAX_DESCRIPTION_CHARS,
                             f"Free text, at most {settings.VANGNET_MAX_DESCRIPTION_CHARS} characters.")
    urls: list[typing.Annotated[str, Field(max_length=settings.VANGNET_MAX_URL_CHARS,
                                           json_schema_extra={"format": URL_FORMAT})]] = Field(
        default_factory=list, max_length=settings.VANGNET_MAX_URLS,
        description=f"At most {settings.VANGNET_MAX_URLS} web addresses of {settings.VANGNET_MAX_URL_CHARS} "
                    f"characters or fewer (format `{URL_FORMAT}`): http or https, or a bare host such as "
                    "`example.com/post/1` (read as https); no user name or password, no spaces, a valid host "
                    "name. Empty items are ignored; each invalid one is named in the error.")
    platform: str = _text("", 200, "Platform, website or app, at most 200 characters.")
    age_band: _choices(AgeBand)  # type: ignore[valid-type]
    relationship: _choices(Relationship, "") = ""  # type: ignore[valid-type]
    perpetrator_count: _choices(PerpetratorCount, "") = ""  # type: ignore[valid-type]
    duration: _choices(Duration, "") = ""  # type: ignore[valid-type]
    contact_preference: _choices(ContactPreference) = ContactPreference.NONE.value  # type: ignore[valid-type]
    contact_email: str = _text("", 254, "Required, and a valid e-mail address, when contact_preference is email; "
                                        "ignored otherwise.")
    contact_phone: str = _text("", 32, "Required, and 8 to 15 digits with optional +, spaces, brackets and "
                                       "hyphens, when contact_preference is phone; ignored otherwise.")
    email_secret: bool = Field(False, description="Only with contact_preference email: also put the secret in the "
                                                  "receipt e-mail. Whoever reads her e-mail could then open the "
                                                  "report; without it the e-mail holds only the receipt code.")
    consent_processing: bool = Field(..., json_schema_extra={"const": True},
                                     description="Must be true: the reporter agreed to processing.")
    share_with: str = Field("", description="Slug of an organisation the reporter agreed to share her report "
                                            "with, or empty. `GET /api/v1/organisations` lists the valid slugs.")
    language: Literal["nl", "en"] | None = Field(
        None, description="The reporter's language, for her e-mails and for this answer's messages. "
                          "When absent: the Accept-Language header (nl or en), else nl.")


class ReportCreated(Schema):
    receipt_code: str
    secret: str = Field(..., description="Shown to the reporter once; not stored in readable form.")
    urgent: bool


class FieldErrors(Schema):
    errors: dict[str, list[str]] = Field(..., description="Messages per field of the request.")


class Problem(Schema):
    """An error that is not about one field."""

    detail: str = Field(..., description="What went wrong, for a person.")
    code: str = Field(..., description="What went wrong, for a program; stable: `invalid_body`, `unauthorized`, "
                                       "`body_too_large`, `idempotency_key_reused` or `throttled`.")


class ChoiceOut(Schema):
    slug: str
    name_nl: str
    name_en: str = Field(..., description="The English name; the Dutch one where no English name is set.")


def _answer(request: HttpRequest, status: int, body: dict[str, Any], *, language: str | None = None,
            headers: dict[str, str] | None = None) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    response["Content-Language"] = language or _active_language()
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _problem(request: HttpRequest, status: int, code: str, detail: str, **kwargs: Any) -> HttpResponse:
    return _answer(request, status, {"detail": detail, "code": code}, **kwargs)


def _active_language() -> str:
    """The language LocaleMiddleware chose from Accept-Language (Dutch by default)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return language if language in LANGUAGES else settings.LANGUAGE_CODE


def _json_body(request: HttpRequest) -> Any:
    """The body as parsed JSON, or None where it is empty, too large or not JSON."""
    try:
        return json.loads(request.body) if request.body else None
    except (ValueError, RequestDataTooBig):
        return None


def _request_language(request: HttpRequest) -> str:
    """The body's ``language`` when it names one, else the Accept-Language header's, else Dutch."""
    body = _json_body(request)
    language = body.get("language") if isinstance(body, dict) else None
    return language if language in LANGUAGES else _active_language()


def _allowed_values(field: str) -> list[str]:
    info = ReportIn.model_fields.get(field)
    if info is None:
        return []
    values: list[str] = []
    for arg in typing.get_args(info.annotation) or ():
        values += [str(v) for v in (typing.get_args(arg) or ()) if v is not None]
        if isinstance(arg, str):
            values.append(arg)
    return values


def _schema_message(field: str, error: dict[str, Any]) -> str:
    """A translated message for a pydantic error (pydantic's own are English only)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "string_unicode":  # a lone surrogate, as the forms refuse it too
        return str(INVALID_UNICODE_MESSAGE)
    if kind == "missing":
        return _("This field is required.")
    if kind == "bool_type":
        return _("Give true or false.")
    if kind == "string_type":
        return _("Give a text.")
    if kind == "list_type":
        return _("Give a list.")
    if kind == "literal_error":
        values = ", ".join(f'"{v}"' for v in _allowed_values(field))
        return _("Choose one of: %(values)s.") % {"values": values}
    if kind == "string_too_long":
        limit = int(ctx.get("max_length", 0))
        return _("Give at most %(limit)d characters.") % {"limit": limit}  # every limit here is well above 1
    if kind == "too_long":
        limit = int(ctx.get("max_length", 0))
        return _("Give at most %(limit)d items.") % {"limit": limit}
    if kind == "string_pattern_mismatch":
        return _("This value is not in the expected form.")
    return _("This value is not valid.")


@api.exception_handler(ValidationError)
def schema_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Type errors answer 400 with field errors, in the same shape and language as the form's errors."""
    language = _request_language(request)
    errors: dict[str, list[str]] = {}
    with translation.override(language):
        if not isinstance(_json_body(request), dict):
            return _problem(request, 400, "invalid_body", _("Send the report as a JSON object."), language=language)
        for item in exc.errors:
            source, *path = [str(part) for part in item.get("loc", [])]
            path = [part for part in path if part != "payload"] if source == "body" else path
            field = path[0] if path else source
            message = _schema_message(field, item)
            if message not in errors.setdefault(field, []):
                errors[field].append(message)
    return _answer(request, 400, {"errors": errors}, language=language)


@api.exception_handler(HttpError)
def unreadable_body(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """django-ninja raises ``HttpError(400)`` when the body is not JSON at all (and for nothing else here)."""
    return _problem(request, exc.status_code, "invalid_body", _("Send the report as a JSON object."))


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return _problem(request, 413, "body_too_large",
                    _("The request is too large: send at most %(limit)d KiB.") % {"limit": limit})


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _problem(request, 401, "unauthorized", _("A valid API token is required."),
                    headers={"WWW-Authenticate": "Bearer"})


RESPONSES: dict[int, Any] = {201: ReportCreated, 400: FieldErrors | Problem, 401: Problem, 413: Problem,
                             422: Problem, 429: Problem}


@api.post("/reports", response=RESPONSES, summary="Submit a report")
def create_report(request: HttpRequest, payload: ReportIn,
                  idempotency_key: str | None = Header(
                      None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN,
                      description="A key you choose per report (for example a UUID). If the answer is lost, "
                                  "send the same request again with the same key: you get the first answer "
                                  "again and no second report is made. Keys are kept for 24 hours per token; "
                                  "the same key with a different body answers 422.")) -> HttpResponse:
    token = request.auth  # type: ignore[attr-defined]  # set by TokenAuth
    data = payload.dict()
    language = data.pop("language") or _active_language()
    with translation.override(language):
        if idempotency_key is None:
            return _submit(request, token, data, language)
        request_fingerprint = idempotency.fingerprint(payload.dict())
        try:
            first = idempotency.stored_answer(token=token, key=idempotency_key,
                                              request_fingerprint=request_fingerprint)
            if first is None:
                response = _submit(request, token, data, language, idempotency_key=idempotency_key,
                                   request_fingerprint=request_fingerprint)
                return response
        except idempotency.KeyReused:
            return _problem(request, 422, "idempotency_key_reused",
                            _("This Idempotency-Key was used for a different report. Use a new key for a new "
                              "report."), language=language)
        return _answer(request, first.status, first.body, language=language)


def _submit(request: HttpRequest, token: Any, data: dict[str, Any], language: str, *,
            idempotency_key: str | None = None, request_fingerprint: str = "") -> HttpResponse:
    if token.reports_last_minute >= settings.VANGNET_API_REPORTS_PER_MINUTE:
        # A leaked token must not flood the helpline; real partners stay far below this.
        return _problem(request, 429, "throttled", _("Too many reports with this token; try again in a minute."),
                        language=language, headers={"Retry-After": "60"})
    data["immediate_danger"] = "yes" if data["immediate_danger"] else "no"
    form = ReportForm(data=data)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return _answer(request, 400, {"errors": errors}, language=language)

    def submit() -> idempotency.Answer:
        submitted = services.submit_report(
            data=form.cleaned_data, organisation=token.organisation, channel=Channel.API,
            actor=Actor.partner(f"api:{token.organisation.slug}:{token.name}"), language=language, api_token=token)
        return idempotency.Answer(201, {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret,
                                        "urgent": submitted.report.immediate_danger})

    if idempotency_key is None:
        answer = submit()
    else:
        answer = idempotency.answer_once(token=token, key=idempotency_key, request_fingerprint=request_fingerprint,
                                         respond=submit)
    return _answer(request, answer.status, answer.body, language=language)


@api.get("/forms", auth=None, response=list[ChoiceOut], summary="Forms of violence")
def list_forms(request: HttpRequest) -> list[dict[str, str]]:
    """The forms of violence a report's ``forms`` may name: active ones only, in display order.

    Public, like the report form that shows the same list to anyone: it holds no personal
    data, and a partner's developer can read it before having a token.
    """
    return [{"slug": f.slug, "name_nl": f.name_nl, "name_en": f.name_en or f.name_nl}
            for f in form_catalogue().values()]


@api.get("/organisations", auth=None, response=list[ChoiceOut], summary="Organisations to share with")
def list_organisations(request: HttpRequest) -> list[dict[str, str]]:
    """The organisations a report's ``share_with`` may name (active, not emergency lines).

    Public for the same reason as ``/forms``: the report form shows this list to anyone.
    """
    return [{"slug": o.slug, "name_nl": o.name_nl, "name_en": o.name_en or o.name_nl}
            for o in shareable_catalogue().values()]


def _declare_reference_data(schema: dict[str, Any]) -> None:
    """Name the slugs valid right now: they are data that an administrator changes without a release."""
    properties = schema["components"]["schemas"]["ReportIn"]["properties"]
    slugs = list(form_catalogue())
    if slugs:
        properties["forms"]["items"]["enum"] = slugs
    properties["share_with"]["enum"] = ["", *shareable_catalogue()]


ANSWER_DESCRIPTIONS = {
    "201": "The report is stored. A retry with the same Idempotency-Key gets this same answer again.",
    "400": "Invalid fields (`FieldErrors`), or a body that is not a JSON object (`Problem`, code `invalid_body`).",
    "401": "No valid API token (`Problem`, code `unauthorized`).",
    "413": f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB "
           "(`Problem`, code `body_too_large`).",
    "422": "The Idempotency-Key was used for a different request (`Problem`, code `idempotency_key_reused`).",
    "429": "Too many reports with this token in the last minute (`Problem`, code `throttled`); "
           "see Retry-After.",
}
ANSWER_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "Always `Bearer`.", "required": True, "schema": {"type": "string"}}},
    "429": {"Retry-After": {"description": "Seconds to wait.", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}


def _declare_answers(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/api/v1/reports"]["post"]
    for status, answer in operation["responses"].items():
        answer["description"] = ANSWER_DESCRIPTIONS.get(str(status), answer["description"])
        if str(status) in ANSWER_HEADERS:
            answer["headers"] = ANSWER_HEADERS[str(status)]
    for parameter in operation["parameters"]:
        if parameter["name"] == "Idempotency-Key":  # optional, but never null: drop pydantic's null branch
            parameter["schema"] = {k: v for k, v in parameter["schema"]["anyOf"][0].items()}
