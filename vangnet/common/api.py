"""What every app's API router shares: one API class, the stable error shapes and the language of answers.

vangnet has one API object (``vangnet.config.api.api``, at ``/api/v1/``) with one OpenAPI
document; each app adds its endpoints on its own ``Router`` (``<app>/api.py``) with its own
authentication. Whatever router answers, errors have the same two shapes:

- ``FieldErrors``: ``{"errors": {field: [message, ...]}}``, for fields that do not validate;
- ``Problem``: ``{"detail": message, "code": code}``, for everything else, with a stable
  ``code`` a program can rely on.

The handlers here give the answers no endpoint gives itself: 400 ``FieldErrors`` when a
parameter or field has the wrong type (or ``Problem`` ``invalid_body`` when the body is not
a JSON object, or not JSON at all), 401 ``unauthorized`` with ``WWW-Authenticate: Bearer``
when a router's authentication refuses the request, 413 ``body_too_large``. Endpoints answer
their own errors with ``answer()`` and ``problem()``. Messages follow the body's ``language``
field, else the ``Accept-Language`` header, else Dutch; ``Content-Language`` says which.

Routers declare what each answer means with ``Router.responses()`` and add what the schema
generator cannot know (values that are data, rules across fields) with ``Router.document``;
the API applies both to the one document.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja import Router as NinjaRouter
from ninja.errors import AuthenticationError, ConfigError, HttpError, ValidationError, ValidationErrorContext
from ninja.renderers import JSONRenderer

from vangnet.common.forms import INVALID_UNICODE_MESSAGE

LANGUAGES = ("nl", "en")
RENDERER = JSONRenderer()  # the API's renderer, and the one answer() renders with: one JSON for every answer

SchemaHook = Callable[[dict[str, Any]], None]


class Throttled(Exception):
    """Raised by a router's authentication when the caller's allowance is spent: 429 ``throttled``."""

    def __init__(self, retry_after: int = 60) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class FieldErrors(Schema):
    errors: dict[str, list[str]] = Field(..., description="Messages per field of the request.")


class Problem(Schema):
    """An error that is not about one field."""

    detail: str = Field(..., description="What went wrong, for a person.")
    code: str = Field(..., description="What went wrong, for a program; stable: `invalid_body`, `unauthorized`, "
                                       "`not_found`, `body_too_large`, `idempotency_key_reused` or `throttled`.")


# One entry of a bilingual reference catalogue (forms of violence, organisations, …). No docstring: it would
# become the schema's description in the published document.
class ChoiceOut(Schema):
    slug: str
    name_nl: str
    name_en: str = Field(..., description="The English name; the Dutch one where no English name is set.")


@dataclass(frozen=True)
class Answer:
    """One status an endpoint can answer: its body's schema, what it means, the headers it always has."""

    schema: Any
    description: str
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)


# The answers the shared handlers give, described the same way on every endpoint that can get them.
INVALID = Answer(FieldErrors | Problem,
                 "Invalid fields (`FieldErrors`), or a body that is not a JSON object (`Problem`, code "
                 "`invalid_body`).")
UNAUTHORIZED = Answer(Problem, "No valid API token (`Problem`, code `unauthorized`).",
                      {"WWW-Authenticate": {"description": "Always `Bearer`.", "required": True,
                                            "schema": {"type": "string"}}})
TOO_LARGE = Answer(Problem, f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024} KiB "
                            "(`Problem`, code `body_too_large`).")


class Router(NinjaRouter):
    """An app's part of the API: its endpoints, its authentication, its additions to the document.

    ``auth`` has no default, so every router says who may call it: an authentication class
    (``intake.api.TokenAuth`` for partner tokens) or ``None`` for public endpoints. The API
    refuses to mount a plain ``ninja.Router``, which would silently be public.
    """

    def __init__(self, *, auth: Any, **kwargs: Any) -> None:
        super().__init__(auth=auth, **kwargs)
        self.answers: dict[str, dict[int, Answer]] = {}
        self.schema_hooks: list[SchemaHook] = []

    def responses(self, operation_id: str, answers: Mapping[int, Answer]) -> dict[str, Any]:
        """The ``operation_id`` and ``response`` arguments of an endpoint, and its answers' meanings for the document.

        ``@router.post("/things", **router.responses("create_thing", {201: ..., 400: INVALID}))``.
        The operation id is stated, not derived from the module, so moving an endpoint
        between apps does not rename it for clients generated from the document.
        """
        self.answers[operation_id] = dict(answers)
        return {"operation_id": operation_id, "response": {status: a.schema for status, a in answers.items()}}

    def document(self, hook: SchemaHook) -> SchemaHook:
        """Register a function that adds to the OpenAPI document what its generator cannot know."""
        self.schema_hooks.append(hook)
        return hook


def find_operation(schema: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """The operation of the document with this id, whatever path the router is mounted at."""
    for methods in schema["paths"].values():
        for operation in methods.values():
            if operation.get("operationId") == operation_id:
                return typing.cast(dict[str, Any], operation)
    raise KeyError(operation_id)


class API(NinjaAPI):
    """The API class of vangnet's one API object: the shared error handlers, and one document from all routers."""

    def __init__(self, **kwargs: Any) -> None:
        self.app_routers: list[Router] = []
        super().__init__(renderer=RENDERER, **kwargs)

    def add_router(self, prefix: str, router: NinjaRouter | str, **kwargs: Any) -> None:
        if isinstance(router, str):
            router = import_string(router)
        if kwargs.get("parent_router") is None and router is not getattr(self, "default_router", None):
            # An app's router (not one nested in it, nor ninja's own for endpoints on the API, which vangnet leaves
            # empty): it must name its authentication.
            if not isinstance(router, Router):
                raise ConfigError(f"Mount a vangnet.common.api.Router, which names its authentication: {router!r}")
            self.app_routers.append(router)
        super().add_router(prefix, router, **kwargs)

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        self.exception_handler(ValidationError)(schema_errors)
        self.exception_handler(HttpError)(unreadable_body)
        self.exception_handler(RequestDataTooBig)(too_large)
        self.exception_handler(AuthenticationError)(unauthorized)
        self.exception_handler(Throttled)(throttled)

    def validation_error_from_error_contexts(
            self, error_contexts: list[ValidationErrorContext[Any]]) -> ValidationError:
        """ninja's errors, each with the request's ``field`` it is about and, for a choice, the valid ``choices``."""
        errors: list[dict[str, Any]] = []
        for context in error_contexts:
            for error in super().validation_error_from_error_contexts([context]).errors:
                source, *path = [str(part) for part in error["loc"]]
                # A single schema parameter in the body is the whole body: its name is no field of the request.
                depth = 2 if source == "body" and _is_one_schema(context.model) else 1
                error["field"] = path[depth - 1] if len(path) >= depth else source
                outer = _annotation(context.model, path[:depth])
                if len(path) > depth and (_model_items(outer) is not None or _is_model(outer)):
                    # Inside an object or a list of them (a batch's items): the whole path, "items.3.text".
                    depth = len(path)
                    error["field"] = ".".join(path[1 if source == "body" and _is_one_schema(context.model)
                                                   else 0:])
                error["choices"] = _literal_values(_annotation(context.model, path[:depth]))
                errors.append(error)
        return ValidationError(errors)

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for router in self.app_routers:
            for operation_id, answers in router.answers.items():
                _describe_answers(find_operation(schema, operation_id), answers)
            for hook in router.schema_hooks:
                hook(schema)
        return schema


def _describe_answers(operation: dict[str, Any], answers: Mapping[int, Answer]) -> None:
    for status, response in operation["responses"].items():
        answer = answers.get(int(status))
        if answer is not None:
            response["description"] = answer.description
            if answer.headers:
                response["headers"] = dict(answer.headers)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


def _is_one_schema(model: type[pydantic.BaseModel]) -> bool:
    fields = list(model.model_fields.values())
    return len(fields) == 1 and _is_model(fields[0].annotation)


def _model_items(annotation: Any) -> Any:
    """The model of a ``list[Model]`` annotation, else None."""
    if typing.get_origin(annotation) is list:
        (inner,) = typing.get_args(annotation) or (None,)
        return inner if _is_model(inner) else None
    return None


def _annotation(model: Any, path: list[str]) -> Any:
    """The type annotation of the field at ``path`` inside a pydantic model (through lists of models), or None."""
    annotation = model
    for part in path:
        if part.isdigit() and _model_items(annotation) is not None:
            annotation = _model_items(annotation)
            continue
        if not _is_model(annotation) or part not in annotation.model_fields:
            return None
        annotation = annotation.model_fields[part].annotation
    return annotation


def _literal_values(annotation: Any) -> list[str]:
    """The values a ``Literal`` (or an optional one) allows, as text."""
    values: list[str] = []
    for arg in typing.get_args(annotation) or ():
        values += [str(v) for v in (typing.get_args(arg) or ()) if v is not None]
        if isinstance(arg, str):
            values.append(arg)
    return values


def active_language() -> str:
    """The language LocaleMiddleware chose from Accept-Language (Dutch by default)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return language if language in LANGUAGES else settings.LANGUAGE_CODE


def json_body(request: HttpRequest) -> Any:
    """The body as parsed JSON, or None where it is empty, too large, not JSON, or a form already read.

    A multipart body (a file upload) is read as a stream into ``request.FILES``; Django then
    refuses to hand out the raw body (``RawPostDataException``), and it is no JSON anyway.
    """
    try:
        return json.loads(request.body) if request.body else None
    except (ValueError, RequestDataTooBig, RawPostDataException):
        return None


def request_language(request: HttpRequest) -> str:
    """The body's ``language`` when it names one, else the Accept-Language header's, else Dutch."""
    body = json_body(request)
    language = body.get("language") if isinstance(body, dict) else None
    return language if language in LANGUAGES else active_language()


def answer(request: HttpRequest, status: int, body: Any, *, language: str | None = None,
           headers: Mapping[str, str] | None = None) -> HttpResponse:
    """A JSON answer, rendered as the API renders every answer, with its ``Content-Language``."""
    response = HttpResponse(RENDERER.render(request, body, response_status=status), status=status,
                            content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}")
    response["Content-Language"] = language or active_language()
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem(request: HttpRequest, status: int, code: str, detail: str, **kwargs: Any) -> HttpResponse:
    """A ``Problem`` answer: ``{"detail": detail, "code": code}``."""
    return answer(request, status, {"detail": detail, "code": code}, **kwargs)


def schema_message(error: Mapping[str, Any]) -> str:
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
        values = ", ".join(f'"{v}"' for v in error.get("choices", ()))
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


def schema_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Type errors answer 400 with field errors, in the same shape and language as the forms' errors.

    A body that had to be a JSON object and is not answers ``invalid_body``; its message still
    names a report, the only body any router takes so far.
    """
    language = request_language(request)
    errors: dict[str, list[str]] = {}
    with translation.override(language):
        body_refused = any(item["loc"][0] == "body" for item in exc.errors)
        if body_refused and not isinstance(json_body(request), dict):
            return problem(request, 400, "invalid_body", _("Send the report as a JSON object."), language=language)
        for item in exc.errors:
            field_name = str(item.get("field") or item["loc"][0])
            message = schema_message(item)
            if message not in errors.setdefault(field_name, []):
                errors[field_name].append(message)
    return answer(request, 400, {"errors": errors}, language=language)


def unreadable_body(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """django-ninja raises ``HttpError(400)`` when the body is not JSON at all; endpoints answer with problem()."""
    return problem(request, exc.status_code, "invalid_body", _("Send the report as a JSON object."))


def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return problem(request, 413, "body_too_large",
                   _("The request is too large: send at most %(limit)d KiB.") % {"limit": limit})


def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "unauthorized", _("A valid API token is required."),
                   headers={"WWW-Authenticate": "Bearer"})


def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return problem(request, 429, "throttled", _("Too many requests with this key; try again in a minute."),
                   headers={"Retry-After": str(exc.retry_after)})
