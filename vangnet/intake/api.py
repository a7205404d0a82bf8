"""The intake app's API router: ``POST /api/v1/reports``, with the same validation as the web flow, and
``POST /api/v1/reports/{receipt_code}/evidence`` for the files of a report the partner sent.

Mounted on the one API object (``vangnet.config.api``), authenticated with partner tokens
(``TokenAuth``). The OpenAPI document at ``/api/v1/openapi.json`` is generated from the same
schema the endpoint uses. The document says what the server enforces, and the server enforces
what the document says (``tests/test_api_schema.py`` runs schemathesis with every check over
it): pydantic checks types and raw lengths, ``ReportForm`` checks the values, and this
router's document hooks add what is data (the valid slugs) or spans fields (the contact rules).

Answers, all JSON (the error shapes are ``vangnet.common.api``'s, the same on every router):

- 201 ``ReportCreated``; a retry with the same ``Idempotency-Key`` gets the same 201 again.
- 400 ``FieldErrors`` (``{"errors": {field: [message, ...]}}``) for invalid fields, or
  ``Problem`` (``{"detail": message, "code": code}``) when the body is not a JSON object.
- 401, 413, 422 and 429: ``Problem``.

Messages follow the report's ``language`` field, else the ``Accept-Language`` header,
else Dutch.

Evidence is multipart (one ``file`` part, its filename kept as the original name) and answers 201 ``EvidenceAdded``,
400 ``FieldErrors`` (``file``: empty, too large, a type the vault does not take), 404
``not_found`` for any report this partner did not send (or that was withdrawn: the answer is
the same, so it tells nothing about other partners' reports), 401, 413 and 429; messages
follow ``Accept-Language``, else Dutch.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from ninja import Field, File, Header, Path, Schema, UploadedFile
from ninja.security import HttpBearer
from pydantic import ConfigDict

from vangnet.audit.services import Actor
from vangnet.common.api import (INVALID, TOO_LARGE, UNAUTHORIZED, Answer, FieldErrors, Problem, Router,
                                active_language, answer, find_operation, problem)
from vangnet.common.uploads import upload_limit_mb
from vangnet.directory.selectors import shareable_catalogue
from vangnet.evidence import media
from vangnet.evidence.choices import Kind
from vangnet.evidence.choices import Source as EvidenceSource
from vangnet.evidence.services import MAX_FILE_BYTES
from vangnet.taxonomy.selectors import form_catalogue

from . import idempotency, selectors, services
from .choices import AgeBand, Channel, ContactPreference, Duration, PerpetratorCount, Relationship, ReporterRole
from .forms import EMAIL_PATTERN, PHONE_PATTERN, ReportForm

NO_NUL = "^[^\\u0000]*$"  # JSON Schema (ECMA-262) spelling; text fields refuse NUL characters
URL_FORMAT = "http-url"
IDEMPOTENCY_KEY_PATTERN = "^[!-~]+$"  # visible ASCII, no spaces


class TokenAuth(HttpBearer):
    """A partner organisation's API token (``Authorization: Bearer …``), with its reports of the last minute."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return selectors.api_token_with_recent_reports(token=token)


router = Router(auth=TokenAuth())


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


ANSWERS = {
    201: Answer(ReportCreated, "The report is stored. A retry with the same Idempotency-Key gets this same answer "
                               "again."),
    400: INVALID,
    401: UNAUTHORIZED,
    413: TOO_LARGE,
    422: Answer(Problem, "The Idempotency-Key was used for a different request (`Problem`, code "
                         "`idempotency_key_reused`)."),
    429: Answer(Problem, "Too many reports with this token in the last minute (`Problem`, code `throttled`); "
                         "see Retry-After.",
                {"Retry-After": {"description": "Seconds to wait.", "required": True,
                                 "schema": {"type": "string", "pattern": "^[0-9]+$"}}}),
}
CREATE_REPORT = "vangnet_intake_api_create_report"  # the published operationId


@router.post("/reports", summary="Submit a report", **router.responses(CREATE_REPORT, ANSWERS))
def create_report(request: HttpRequest, payload: ReportIn,
                  idempotency_key: str | None = Header(
                      None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN,
                      description="A key you choose per report (for example a UUID). If the answer is lost, "
                                  "send the same request again with the same key: you get the first answer "
                                  "again and no second report is made. Keys are kept for 24 hours per token; "
                                  "the same key with a different body answers 422.")) -> HttpResponse:
    token = request.auth  # type: ignore[attr-defined]  # set by TokenAuth
    data = payload.dict()
    language = data.pop("language") or active_language()
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
            return problem(request, 422, "idempotency_key_reused",
                           _("This Idempotency-Key was used for a different report. Use a new key for a new "
                             "report."), language=language)
        return answer(request, first.status, first.body, language=language)


def _submit(request: HttpRequest, token: Any, data: dict[str, Any], language: str, *,
            idempotency_key: str | None = None, request_fingerprint: str = "") -> HttpResponse:
    if token.reports_last_minute >= settings.VANGNET_API_REPORTS_PER_MINUTE:
        # A leaked token must not flood the helpline; real partners stay far below this.
        return problem(request, 429, "throttled", _("Too many reports with this token; try again in a minute."),
                       language=language, headers={"Retry-After": "60"})
    data["immediate_danger"] = "yes" if data["immediate_danger"] else "no"
    form = ReportForm(data=data)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return answer(request, 400, {"errors": errors}, language=language)

    def submit() -> idempotency.Answer:
        submitted = services.submit_report(
            data=form.cleaned_data, organisation=token.organisation, channel=Channel.API,
            actor=Actor.partner(f"api:{token.organisation.slug}:{token.name}"), language=language, api_token=token)
        return idempotency.Answer(201, {"receipt_code": submitted.report.receipt_code, "secret": submitted.secret,
                                        "urgent": submitted.report.immediate_danger})

    if idempotency_key is None:
        result = submit()
    else:
        result = idempotency.answer_once(token=token, key=idempotency_key, request_fingerprint=request_fingerprint,
                                         respond=submit)
    return answer(request, result.status, result.body, language=language)


RECEIPT_CODE_PATTERN = "^VN-[A-Z0-9]{4}-[A-Z0-9]{4}$"
SHA256_PATTERN = "^[0-9a-f]{64}$"
ADD_EVIDENCE = "vangnet_intake_api_add_evidence"  # the published operationId


def _names(mimes: Any) -> str:
    return ", ".join(sorted(mime.split("/")[1] for mime in mimes))


FILE_DESCRIPTION = (
    f"The file, 1 byte to {MAX_FILE_BYTES // 2**20} MiB ({MAX_FILE_BYTES} bytes). Its type is read from its content, "
    f"never from its name or Content-Type: an image or screenshot ({_names(media.IMAGES)}), a short video "
    f"({_names(media.VIDEOS)}), a PDF, UTF-8 text without control characters (a chat export; HTML and SVG are "
    "kept as text and only ever downloaded), or a zip (a WhatsApp chat export, kept unopened and never unpacked). "
    "Anything else (an empty file, a program, an unknown binary) answers 400 with a message under `file`. "
    "The part's filename is kept, encrypted, as the file's original name (at most 255 characters, control "
    "characters removed). "
    "Where the report concerns a minor and sexual imagery, images and videos are hashed and their bytes are "
    "not kept (`discarded` in the answer).")


EVIDENCE_FILE = File(..., description=FILE_DESCRIPTION)


class EvidenceAdded(Schema):
    id: int = Field(..., description="The evidence item's number at the receiving organisation.")
    sha256: str = Field(..., pattern=SHA256_PATTERN, description="SHA-256 of the exact bytes received.")
    pdq: str | None = Field(..., pattern=SHA256_PATTERN,
                            description="PDQ perceptual hash (256 bits as hex) of an image; null for other kinds "
                                        "and for images that cannot be decoded or exceed 60 megapixels.")
    quality: int | None = Field(..., ge=0, le=100, description="PDQ quality, 0-100; null when pdq is null.")
    media_type: str = Field(..., description="The media type read from the content (HTML and SVG: text/plain).")
    size: int = Field(..., ge=1, le=MAX_FILE_BYTES, description="Bytes received.")
    kind: Literal[tuple(Kind.values)] = Field(..., description="What the vault files it as.")  # type: ignore[valid-type]
    discarded: bool = Field(..., description="True when only the hashes were kept: the report concerns a minor and "
                                             "sexual imagery, so the bytes of images and videos are never stored.")


EVIDENCE_ANSWERS = {
    201: Answer(EvidenceAdded, "The file's hashes are computed and the file is stored, encrypted and durably, "
                               "before this answer (or, under the hard rule, discarded: see `discarded`)."),
    400: Answer(FieldErrors, "The file is missing or was refused: empty, larger than the limit, a type the vault "
                             "does not take (`FieldErrors`, under `file`). Nothing was stored."),
    401: UNAUTHORIZED,
    404: Answer(Problem, "No report with this receipt code that your organisation sent, or it was withdrawn "
                         "(`Problem`, code `not_found`)."),
    413: Answer(Problem, f"The request is larger than {upload_limit_mb()} MiB (`Problem`, code `body_too_large`); "
                         "it is refused before it is read."),
    429: Answer(Problem, "Too many files with this token in the last minute (`Problem`, code `throttled`); "
                         "see Retry-After.",
                {"Retry-After": {"description": "Seconds to wait.", "required": True,
                                 "schema": {"type": "string", "pattern": "^[0-9]+$"}}}),
}


@router.post("/reports/{receipt_code}/evidence", summary="Add evidence to a report",
             **router.responses(ADD_EVIDENCE, EVIDENCE_ANSWERS))
def add_evidence(request: HttpRequest,
                 receipt_code: str = Path(..., pattern=RECEIPT_CODE_PATTERN,
                                          description="The receipt code the report's 201 answer gave."),
                 file: UploadedFile = EVIDENCE_FILE) -> HttpResponse:
    """Add one file to a report this partner organisation sent (any of its tokens); one file per request."""
    token = request.auth  # type: ignore[attr-defined]  # set by TokenAuth
    language = active_language()
    with translation.override(language):
        if is_ratelimited(request, group="api-evidence", key=lambda _group, _request: str(token.pk),
                          rate=f"{settings.VANGNET_API_EVIDENCE_PER_MINUTE}/m", increment=True):
            return problem(request, 429, "throttled", _("Too many files with this token; try again in a minute."),
                           language=language, headers={"Retry-After": "60"})
        report = selectors.report_for_partner(token=token, receipt_code=receipt_code)
        if report is None:
            return problem(request, 404, "not_found", _("Your organisation sent no report with this receipt code."),
                           language=language)
        try:
            item = services.add_report_evidence(
                report=report, data=file.read(), original_name=file.name or "",
                actor=Actor.partner(f"api:{token.organisation.slug}:{token.name}"), source=EvidenceSource.PARTNER)
        except ValidationError as error:
            return answer(request, 400, {"errors": {"file": error.messages}}, language=language)
        return answer(request, 201, {
            "id": item.pk, "sha256": item.sha256, "pdq": item.pdq or None, "quality": item.pdq_quality,
            "media_type": item.media_type, "size": item.size, "kind": item.kind,
            "discarded": bool(item.discarded_reason)}, language=language)


@router.document
def _declare_reference_data(schema: dict[str, Any]) -> None:
    """Name the slugs valid right now: they are data that an administrator changes without a release."""
    properties = schema["components"]["schemas"]["ReportIn"]["properties"]
    slugs = list(form_catalogue())
    if slugs:
        properties["forms"]["items"]["enum"] = slugs
    properties["share_with"]["enum"] = ["", *shareable_catalogue()]


@router.document
def _declare_idempotency_key(schema: dict[str, Any]) -> None:
    operation = find_operation(schema, CREATE_REPORT)
    for parameter in operation["parameters"]:
        if parameter["name"] == "Idempotency-Key":  # optional, but never null: drop pydantic's null branch
            parameter["schema"] = {k: v for k, v in parameter["schema"]["anyOf"][0].items()}


@router.document
def _declare_evidence(schema: dict[str, Any]) -> None:
    """A report's receipt code leads to its evidence; a file has at least one byte."""
    responses = find_operation(schema, CREATE_REPORT)["responses"]
    created = responses[next(status for status in responses if str(status) == "201")]
    created["links"] = {"AddEvidence": {
        "operationId": ADD_EVIDENCE, "parameters": {"receipt_code": "$response.body#/receipt_code"},
        "description": "Add files to the report just sent."}}
    body = find_operation(schema, ADD_EVIDENCE)["requestBody"]["content"]["multipart/form-data"]["schema"]
    body["properties"]["file"]["minLength"] = 1
