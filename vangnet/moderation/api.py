"""The moderation API for platforms: ``POST /api/v1/moderation/check``, ``/notices`` and ``/appeals``.

Authenticated with a platform key (``Authorization: Bearer vnm_…``; ``keys``): an unknown,
revoked or foreign key answers the same 401, so nothing tells whether a platform exists. A key
without the operation's scope answers 403 ``forbidden``; more requests in a minute than the
key allows answer 429 ``throttled``. A batch is judged whole: one wrong item refuses the batch
(400, the errors named ``items.<position>.<field>``) and nothing is stored. Messages follow the
``Accept-Language`` header (nl or en), else Dutch.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.security import HttpBearer
from pydantic import ConfigDict, field_validator

from vangnet.audit.services import Actor
from vangnet.common.api import (INVALID, UNAUTHORIZED, Answer, FieldErrors, Problem, Router, Throttled,
                                active_language, answer, problem)

from . import checking, keys, user_notices
from .choices import Action, KeyScope, Label
from .classifier import LABELS
from .models import PlatformKey

NO_NUL = "^[^\\u0000]*$"
ID_PATTERN = "^[A-Za-z0-9_-]{1,200}$"
BASE64_PATTERN = "^[A-Za-z0-9+/]*={0,2}$"
MAX_IMAGE_BASE64 = (checking.MAX_IMAGE_BYTES + 2) // 3 * 4
# The languages the language identifier knows (py3langid's model); a hint outside them is refused.
KNOWN_LANGUAGES = tuple(sorted(set(
    "af am an ar as az be bg bn br bs ca cs cy da de dz el en eo es et eu fa fi fo fr fy ga gd gl gu he hi hr ht "
    "hu hy id ig is it ja jv ka kk km kn ko ku ky la lb lg ln lo lt lv mg mk ml mn mr ms mt my ne nl nn no oc om "
    "or pa pl ps pt qu ro ru rw sa se si sk sl sn so sq sr st sv sw ta te tg th tk tl tr tt ug uk ur uz vi vo wa "
    "xh yo zh zu".split())))


class PlatformKeyAuth(HttpBearer):
    """A platform's key (``Authorization: Bearer vnm_…``); every request with a valid key counts against its rate.

    The count is taken here, before the body is parsed, so invalid requests spend the
    allowance too and a key cannot make the server parse without limit.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key = keys.authenticate(token)
        if key is not None and not keys.take_request(key):
            with translation.override(active_language()):
                raise Throttled()
        return key


router = Router(auth=PlatformKeyAuth())


def _text(default: str, max_length: int, description: str, **kwargs: Any) -> Any:
    return Field(default, max_length=max_length, description=description, json_schema_extra={"pattern": NO_NUL},
                 **kwargs)


class ContentIn(Schema):
    model_config = ConfigDict(strict=True)

    id: str = Field(..., pattern=ID_PATTERN, description="Your id for the item (1-200 of A-Z a-z 0-9 _ -), unique "
                                                         "on your platform. The same id with the same content gets "
                                                         "its first answer again; with other content, 409.")
    text: str = _text("", checking.MAX_TEXT_CHARS,
                      f"The text, at most {checking.MAX_TEXT_CHARS} characters. An item needs a text that is not "
                      "only white space, an image, or both.")
    image: str | None = Field(
        None, max_length=MAX_IMAGE_BASE64, pattern=BASE64_PATTERN,
        description=f"An image as base64: JPEG, PNG, GIF or WebP (read from its content), at most "
                    f"{checking.MAX_IMAGE_BYTES // 2**20} MiB. It is hashed (SHA-256, PDQ) and matched against the "
                    "hash banks your policy names; it is kept, encrypted, only while a moderator needs it.")
    language: Literal[KNOWN_LANGUAGES] | None = Field(  # type: ignore[valid-type]
        None, description="The text's language (ISO 639-1) when you know it; otherwise it is detected. Scores are "
                          "validated for nl and en only.")
    author_id: str = _text("", 200, "A pseudonymous id of the author on your platform (never a name or e-mail): "
                                    "strikes and the author's history follow it.")
    parent_id: str = _text("", 200, "Your id of the item this one answers, if any.")
    url: str = _text("", 2000, "Where the item is shown, if public.")
    posted_at: str | None = Field(
        None, max_length=64, json_schema_extra={"format": "date-time"},
        description="When it was posted (RFC 3339, e.g. `2026-12-01T21:15:00+01:00`), for the statement of "
                    "reasons; not later than a day from now. Absent: when it was checked.")

    @field_validator("text", "author_id", "parent_id", "url")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("NUL character")
        return value


class CheckIn(Schema):
    model_config = ConfigDict(strict=True)

    items: list[ContentIn] = Field(..., min_length=1, max_length=checking.MAX_BATCH,
                                   description=f"1 to {checking.MAX_BATCH} items, judged and stored all or none.")


class MatchOut(Schema):
    bank: str = Field(..., description="The hash bank's slug.")
    kind: Literal["sha256", "pdq"]
    distance: int = Field(..., ge=0, le=256, description="PDQ bits that differ (0 for SHA-256).")


class CheckOut(Schema):
    id: str
    scores: dict[str, float] = Field(..., description=f"A score from 0 to 1 per label: {', '.join(LABELS)}.")
    matches: list[MatchOut]
    language: str = Field(..., description="The language the scores were made for (ISO 639-1, or `und`).")
    language_validated: bool = Field(..., description="False: the classifiers are not validated for this language; "
                                                      "read the scores with care.")
    flagged: list[Literal[tuple(Label.values)]] = Field(  # type: ignore[valid-type]
        ..., description="The labels at or over your policy's review threshold, most severe first.")
    action: Literal[tuple(Action.values)] = Field(  # type: ignore[valid-type]
        ..., description="What your policy recommends: `allow`, `review` (it went to your moderators) or a "
                         "restriction that was applied at once (its decision comes by webhook).")
    review: bool = Field(..., description="Whether the item went to the review queue.")


class CheckAnswer(Schema):
    results: list[CheckOut]


class NoticeIn(Schema):
    model_config = ConfigDict(strict=True)

    id: str = Field(..., pattern=ID_PATTERN, description="Your id for the notice, unique on your platform.")
    item: ContentIn = Field(..., description="The item noticed, as for a check.")
    label: Literal[tuple(Label.values)] | None = Field(  # type: ignore[valid-type]
        None, description="What the notifier says it is, if she said.")
    explanation: str = Field(..., min_length=1, max_length=5000, pattern="^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
                             description="Why the notifier thinks it is illegal or against your terms (DSA Art. "
                                         "16(2)(a)); not only white space.")
    notifier_name: str = _text("", 200, "Optional (never needed for child sexual abuse material). Checked, not "
                                        "kept: your platform tells the notifier the decision (DSA Art. 16(5)).")
    notifier_email: str = _text("", 254, "Optional; empty or an e-mail address. Checked, not kept.")

    @field_validator("notifier_name", "notifier_email")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("NUL character")
        return value
    trusted_flagger: bool = Field(False, description="The notice comes from a trusted flagger (DSA Art. 22): it goes "
                                                     "ahead in the queue.")


class NoticeOut(Schema):
    id: str
    item: str
    status: Literal["queued"]


class AppealIn(Schema):
    model_config = ConfigDict(strict=True)

    id: str = Field(..., pattern=ID_PATTERN, description="Your id for the appeal, unique on your platform.")
    decision: int = Field(..., ge=1, le=2**63 - 1, strict=False,
                          description="The decision's number, as its webhook gave it.")

    @field_validator("decision", mode="before")
    @classmethod
    def _a_json_integer(cls, value: Any) -> Any:
        """JSON Schema's integer: 7 and 7.0, never "7", true or 7.5 (lax pydantic would take "7")."""
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            raise ValueError("not an integer")
        return value
    reason: str = Field(..., min_length=1, max_length=5000, pattern="^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$",
                        description="Why the user disagrees; not only white space.")


class AppealOut(Schema):
    id: str
    decision: int
    status: Literal["open"]


FORBIDDEN = Answer(Problem, "The key lacks this operation's scope (`Problem`, code `forbidden`).")
THROTTLED = Answer(Problem, "Too many requests with this key in this minute (`Problem`, code `throttled`); see "
                            "Retry-After.",
                   {"Retry-After": {"description": "Seconds to wait.", "required": True,
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"}}})
TOO_LARGE = Answer(Problem, "The body is too large (`Problem`, code `body_too_large`).")
CONFLICT = Answer(Problem, "An id was used before for other content (`Problem`, code `item_exists`, "
                           "`notice_exists` or `appeal_exists`); the same appeal sent again gets its first answer.")
CHECK = "vangnet_moderation_check"
NOTICE = "vangnet_moderation_notice"
APPEAL = "vangnet_moderation_appeal"


def _gate(request: HttpRequest, scope: str, images: int = 0) -> tuple[PlatformKey, HttpResponse | None]:
    """The key, or the answer refusing it: no scope for this (403), or no allowance left for its images (429)."""
    key: PlatformKey = request.auth  # type: ignore[attr-defined]  # set by PlatformKeyAuth
    if scope not in key.scopes:
        return key, problem(request, 403, "forbidden", _("This key may not do this."))
    if images and not keys.take_request(key, cost=images):
        return key, problem(request, 429, "throttled", _("Too many requests with this key; try again in a minute."),
                            headers={"Retry-After": "60"})
    return key, None


def _decode(image: str | None) -> bytes | None:
    if image is None:
        return None
    try:
        return base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        return b""  # refused by checking.validate as an empty image


def _posted_at(value: str | None) -> datetime | None:
    """An RFC 3339 date-time, or a ValueError naming why not."""
    if value is None:
        return None
    moment = parse_datetime(value.upper().replace(" ", "T", 1)) if "T" in value.upper() else None
    if moment is None or timezone.is_naive(moment):
        raise ValueError("not an RFC 3339 date-time with its offset")
    if moment > timezone.now() + timedelta(days=1):
        raise ValueError("in the future")
    return moment


def _item_in(content: ContentIn) -> checking.ItemIn:
    return checking.ItemIn(external_id=content.id, text=content.text, image=_decode(content.image),
                           language=content.language, author_id=content.author_id, parent_id=content.parent_id,
                           url=content.url, posted_at=_posted_at(content.posted_at))


def _bad_dates(contents: list[ContentIn], prefix: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for position, content in enumerate(contents):
        try:
            _posted_at(content.posted_at)
        except (ValueError, OverflowError):
            name = f"items.{position}.posted_at" if prefix == "items." else f"{prefix}posted_at"
            errors[name] = [_("Give a date and time with its offset (RFC 3339), not later than tomorrow.")]
    return errors


def _refused(request: HttpRequest, error: checking.BatchRefused, prefix: str) -> HttpResponse:
    if error.code == "item_exists":
        detail = "; ".join(message for fields in error.errors_by_item.values() for messages in fields.values()
                           for message in messages)
        return problem(request, 409, "item_exists", detail)
    errors: dict[str, list[str]] = {}
    for position, fields in error.errors_by_item.items():
        for field, messages in fields.items():
            name = field if position < 0 else f"{prefix}{position}.{field}" if prefix else field
            errors.setdefault(name, []).extend(messages)
    return answer(request, 400, {"errors": errors})


def _result(result: checking.CheckResult) -> dict[str, Any]:
    assessment = result.assessment
    return {"id": result.item.external_id, "scores": assessment.scores, "matches": assessment.matches,
            "language": assessment.language, "language_validated": assessment.language_validated,
            "flagged": list(assessment.verdict.flagged), "action": assessment.verdict.action,
            "review": assessment.verdict.review}


@router.post("/moderation/check", summary="Check content",
             **router.responses(CHECK, {200: Answer(CheckAnswer, "One result per item, in the order sent; stored "
                                                                 "before this answer."),
                                        400: INVALID, 401: UNAUTHORIZED, 403: FORBIDDEN, 409: CONFLICT,
                                        413: TOO_LARGE, 429: THROTTLED}))
def check(request: HttpRequest, payload: CheckIn) -> HttpResponse:
    """Score texts per label, match images against hash banks, and apply your policy."""
    with translation.override(active_language()):
        key, refused = _gate(request, KeyScope.CHECK, images=sum(item.image is not None for item in payload.items))
        if refused:
            return refused
        if bad_dates := _bad_dates(payload.items, "items."):
            return answer(request, 400, {"errors": bad_dates})
        try:
            results = checking.check_items(organisation=key.organisation, items=[_item_in(i) for i in payload.items],
                                           actor=_actor(key))
        except checking.BatchRefused as error:
            return _refused(request, error, "items.")
        return answer(request, 200, {"results": [_result(r) for r in results]})


def _actor(key: PlatformKey) -> Actor:
    return Actor.platform(f"moderation:{key.organisation.slug}:{key.prefix}")


@router.post("/moderation/notices", summary="Pass on a user's notice (DSA Art. 16)",
             **router.responses(NOTICE, {201: Answer(NoticeOut, "The notice is stored and the item is in the "
                                                                "notices queue."),
                                         400: INVALID, 401: UNAUTHORIZED, 403: FORBIDDEN, 409: CONFLICT,
                                         413: TOO_LARGE, 429: THROTTLED}))
def notice(request: HttpRequest, payload: NoticeIn) -> HttpResponse:
    with translation.override(active_language()):
        key, refused = _gate(request, KeyScope.NOTICES, images=int(payload.item.image is not None))
        if refused:
            return refused
        if bad_dates := _bad_dates([payload.item], "item."):
            return answer(request, 400, {"errors": bad_dates})
        if payload.notifier_email:
            try:
                validate_email(payload.notifier_email)
            except ValidationError:
                return answer(request, 400, {"errors": {"notifier_email": [_("Enter a valid e-mail address.")]}})
        try:
            stored = user_notices.receive_notice(
                organisation=key.organisation, external_id=payload.id, item=_item_in(payload.item),
                label=payload.label or "", explanation=payload.explanation, trusted_flagger=payload.trusted_flagger,
                actor=_actor(key))
        except checking.BatchRefused as error:
            return _refused(request, error, "item.") if error.code != "item_exists" else problem(
                request, 409, "item_exists", _("An item with this id was checked before with other content."))
        except user_notices.NoticeExists:
            return problem(request, 409, "notice_exists", _("A notice with this id was received before."))
        return answer(request, 201, {"id": stored.external_id, "item": stored.item.external_id, "status": "queued"})


@router.post("/moderation/appeals", summary="Pass on a user's appeal against a decision (DSA Art. 20)",
             **router.responses(APPEAL, {201: Answer(AppealOut, "The appeal is stored and in the appeals queue; "
                                                                "its outcome comes by webhook."),
                                         400: INVALID, 401: UNAUTHORIZED, 403: FORBIDDEN,
                                         404: Answer(Problem, "No decision with this number on your platform "
                                                              "(`Problem`, code `not_found`)."),
                                         409: CONFLICT, 413: TOO_LARGE, 429: THROTTLED}))
def appeal(request: HttpRequest, payload: AppealIn) -> HttpResponse:
    from . import appeals
    from .models import Decision

    with translation.override(active_language()):
        key, refused = _gate(request, KeyScope.APPEALS)
        if refused:
            return refused
        decision = Decision.objects.filter(organisation=key.organisation, pk=payload.decision).first()
        if decision is None:
            return problem(request, 404, "not_found", _("Your platform has no decision with this number."))
        try:
            stored = appeals.receive_appeal(organisation=key.organisation, decision=decision,
                                            external_id=payload.id, reason=payload.reason, actor=_actor(key))
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {"reason": error.messages}
            if "external_id" in messages:  # the id of an appeal against another decision
                return problem(request, 409, "appeal_exists", " ".join(messages["external_id"]))
            return answer(request, 400, {"errors": messages})
        return answer(request, 201, {"id": stored.external_id, "decision": decision.pk, "status": "open"})


__all__ = ["router", "FieldErrors"]
