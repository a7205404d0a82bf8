"""Statements of reasons (DSA Art. 17) in the EU DSA Transparency Database's own fields, and their export.

``build_statement`` turns a restricting decision into the exact JSON object the database's API
takes (``POST /api/v1/statements``, or up to 100 at once in ``{"statements": [...]}``): the
field names and codes of ``shared/design/dsa-sor-code-lists.md`` (``moderation.dsa``), optional
fields left out when empty, dates as ``YYYY-MM-DD``. A statement holds no personal data (Art.
24(5)): never the author's id, the text, the address, a notifier, or a moderator; its ``puid``
is vangnet's number for the decision, not the platform's id of the content.

``validate_statement`` checks a payload against the code lists and the database's required and
conditional fields, so that nothing is stored (``record_statement``) or exported
(``export_batches``) that the database would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import user_has_permission
from vangnet.audit.services import Actor, record_event

from . import dsa
from .choices import ModerationEvent
from .models import Decision, StatementOfReasons

MAX_BATCH = 100  # the database's API takes at most 100 statements per request
PUID = re.compile(r"[A-Za-z0-9_-]{1,500}")
LANGUAGE = re.compile(r"[A-Z]{2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# ``territorial_scope``: the EU and EEA member states, in the database's ISO 3166-1 alpha-2 codes.
EEA_COUNTRIES: tuple[str, ...] = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI",
    "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)

# Every field a statement may carry, in the order they are written; anything else is refused.
FIELDS: tuple[str, ...] = (
    "decision_visibility", "decision_visibility_other", "decision_monetary", "decision_monetary_other",
    "decision_provision", "decision_account", "end_date_visibility_restriction", "end_date_monetary_restriction",
    "end_date_service_restriction", "end_date_account_restriction", "decision_ground",
    "illegal_content_legal_ground", "illegal_content_explanation", "incompatible_content_ground",
    "incompatible_content_explanation", "incompatible_content_illegal", "decision_ground_reference_url",
    "decision_facts", "content_type", "content_type_other", "category", "category_addition",
    "category_specification", "category_specification_other", "territorial_scope", "content_language",
    "content_date", "application_date", "account_type", "source_type", "source_identity", "automated_detection",
    "automated_decision", "puid",
)
# The longest text the database takes in each free-text field.
MAX_LENGTH: dict[str, int] = {
    "decision_visibility_other": 500, "decision_monetary_other": 500, "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000, "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000, "decision_ground_reference_url": 500, "decision_facts": 5000,
    "content_type_other": 500, "category_specification_other": 500, "source_identity": 500,
}
YES_NO = ("Yes", "No")


def puid_for(decision: Decision) -> str:
    """The statement's platform unique identifier: vangnet's number for the decision (no personal data)."""
    return f"vangnet-decision-{decision.pk}"


def _date(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def content_types_for(item: Any) -> list[str]:
    """The DSA content types of an item: text, image, or both."""
    types = []
    if item.text_chars or item.text:
        types.append(dsa.ContentType.TEXT.value)
    if item.has_image:
        types.append(dsa.ContentType.IMAGE.value)
    return types or [dsa.ContentType.TEXT.value]


def _content_types(decision: Decision) -> list[str]:
    return [str(code) for code in decision.content_types] or content_types_for(decision.item)


def build_statement(decision: Decision) -> dict[str, Any]:
    """The statement of reasons for a restricting decision, as the Transparency Database's API takes it."""
    item = decision.item
    end = _date(decision.restriction_end) if decision.restriction_end else ""
    visibility = [str(code) for code in decision.visibility]
    fields: dict[str, Any] = {
        "decision_visibility": visibility,
        "decision_visibility_other": (decision.visibility_other
                                      if dsa.DecisionVisibility.OTHER in visibility else ""),
        "decision_monetary": decision.monetary,
        "decision_monetary_other": decision.monetary_other if decision.monetary == dsa.DecisionMonetary.OTHER else "",
        "decision_provision": decision.provision,
        "decision_account": decision.account,
        "end_date_visibility_restriction": end if visibility else "",
        "end_date_monetary_restriction": end if decision.monetary else "",
        "end_date_service_restriction": end if decision.provision else "",
        "end_date_account_restriction": end if decision.account else "",
        "decision_ground": decision.ground,
    }
    if decision.ground == dsa.DecisionGround.ILLEGAL_CONTENT:
        fields["illegal_content_legal_ground"] = decision.legal_ground
        fields["illegal_content_explanation"] = decision.illegal_explanation
    elif decision.ground == dsa.DecisionGround.INCOMPATIBLE_CONTENT:
        fields["incompatible_content_ground"] = decision.incompatible_ground
        fields["incompatible_content_explanation"] = decision.incompatible_explanation
        fields["incompatible_content_illegal"] = "Yes" if decision.incompatible_illegal else "No"
    keywords = [str(code) for code in decision.keywords]
    language = (item.language or "").split("-")[0].upper()
    fields.update({
        "decision_ground_reference_url": decision.ground_reference_url,
        "decision_facts": decision.facts,
        "content_type": _content_types(decision),
        "category": decision.category,
        "category_addition": [str(code) for code in decision.category_addition],
        "category_specification": keywords,
        "category_specification_other": decision.keyword_other if dsa.Keyword.OTHER in keywords else "",
        "territorial_scope": sorted(str(code) for code in decision.territorial_scope),
        "content_language": language if LANGUAGE.fullmatch(language) else "",
        "content_date": _date(item.content_date or item.received_at),
        "application_date": _date(decision.decided_at),
        "account_type": decision.account_type,
        "source_type": decision.source_type,
        # source_identity is never sent: for a voluntary decision the database ignores it, and for a
        # notice it would name the notifier (personal data, Art. 24(5)).
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": decision.automated_decision,
        "puid": puid_for(decision),
    })
    return {key: fields[key] for key in FIELDS if key in fields and fields[key] not in ("", [], None)}


def _check_codes(errors: list[str], payload: dict[str, Any], key: str, allowed: Iterable[str], *,
                 many: bool = False) -> None:
    if key not in payload:
        return
    value = payload[key]
    allowed = set(allowed)
    if many:
        if not isinstance(value, list) or not value:
            errors.append(f"{key}: must be a non-empty list")
            return
        if len(set(value)) != len(value):
            errors.append(f"{key}: repeats a value")
        for code in value:
            if code not in allowed:
                errors.append(f"{key}: unknown code {code!r}")
    elif not isinstance(value, str) or value not in allowed:
        errors.append(f"{key}: unknown code {value!r}")


def _needs(errors: list[str], payload: dict[str, Any], key: str, because: str) -> None:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{key}: required when {because}")


def validate_statement(payload: dict[str, Any]) -> list[str]:
    """What the Transparency Database would refuse in ``payload``; ``[]`` when it is valid.

    Messages are for developers and logs (they name fields and codes, never content), so they
    are not translated.
    """
    errors: list[str] = [f"{key}: not a field of a statement of reasons" for key in payload if key not in FIELDS]
    restrictions = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if not any(payload.get(key) for key in restrictions):
        errors.append("decision_visibility, decision_monetary, decision_provision or decision_account: "
                      "at least one restriction is required")
    _check_codes(errors, payload, "decision_visibility", dsa.DecisionVisibility.values, many=True)
    if dsa.DecisionVisibility.OTHER in (payload.get("decision_visibility") or []):
        _needs(errors, payload, "decision_visibility_other", "decision_visibility is DECISION_VISIBILITY_OTHER")
    _check_codes(errors, payload, "decision_monetary", dsa.DecisionMonetary.values)
    if payload.get("decision_monetary") == dsa.DecisionMonetary.OTHER:
        _needs(errors, payload, "decision_monetary_other", "decision_monetary is DECISION_MONETARY_OTHER")
    _check_codes(errors, payload, "decision_provision", dsa.DecisionProvision.values)
    _check_codes(errors, payload, "decision_account", dsa.DecisionAccount.values)
    for restriction, end in (("decision_visibility", "end_date_visibility_restriction"),
                             ("decision_monetary", "end_date_monetary_restriction"),
                             ("decision_provision", "end_date_service_restriction"),
                             ("decision_account", "end_date_account_restriction")):
        if end in payload and not payload.get(restriction):
            errors.append(f"{end}: given without {restriction}")

    if "decision_ground" not in payload:
        errors.append("decision_ground: required")
    _check_codes(errors, payload, "decision_ground", dsa.DecisionGround.values)
    if payload.get("decision_ground") == dsa.DecisionGround.ILLEGAL_CONTENT:
        _needs(errors, payload, "illegal_content_legal_ground", "the ground is illegal content")
        _needs(errors, payload, "illegal_content_explanation", "the ground is illegal content")
    if payload.get("decision_ground") == dsa.DecisionGround.INCOMPATIBLE_CONTENT:
        _needs(errors, payload, "incompatible_content_ground", "the ground is incompatibility with the terms")
        _needs(errors, payload, "incompatible_content_explanation", "the ground is incompatibility with the terms")
    for key in ("incompatible_content_illegal", "automated_detection"):
        if key in payload and payload[key] not in YES_NO:
            errors.append(f"{key}: must be 'Yes' or 'No'")

    _needs(errors, payload, "decision_facts", "restricting")
    if "content_type" not in payload:
        errors.append("content_type: required")
    _check_codes(errors, payload, "content_type", dsa.ContentType.values, many=True)
    if dsa.ContentType.OTHER in (payload.get("content_type") or []):
        _needs(errors, payload, "content_type_other", "content_type is CONTENT_TYPE_OTHER")
    if "category" not in payload:
        errors.append("category: required")
    _check_codes(errors, payload, "category", dsa.StatementCategory.values)
    _check_codes(errors, payload, "category_addition", dsa.StatementCategory.values, many=True)
    if payload.get("category") in (payload.get("category_addition") or []):
        errors.append("category_addition: repeats the category")
    _check_codes(errors, payload, "category_specification", dsa.Keyword.values, many=True)
    if dsa.Keyword.OTHER in (payload.get("category_specification") or []):
        _needs(errors, payload, "category_specification_other", "category_specification has KEYWORD_OTHER")
    _check_codes(errors, payload, "territorial_scope", EEA_COUNTRIES, many=True)
    if "content_language" in payload and not (isinstance(payload["content_language"], str)
                                              and LANGUAGE.fullmatch(payload["content_language"])):
        errors.append("content_language: must be an upper-case ISO 639-1 code")
    for key in ("content_date", "application_date"):
        if key not in payload:
            errors.append(f"{key}: required")
    for key in ("content_date", "application_date", "end_date_visibility_restriction",
                "end_date_monetary_restriction", "end_date_service_restriction", "end_date_account_restriction"):
        if key in payload and not _is_date(payload[key]):
            errors.append(f"{key}: must be a date as YYYY-MM-DD")
    if (_is_date(payload.get("content_date")) and _is_date(payload.get("application_date"))
            and payload["content_date"] > payload["application_date"]):
        errors.append("content_date: after the application_date")
    _check_codes(errors, payload, "account_type", dsa.AccountType.values)

    if "source_type" not in payload:
        errors.append("source_type: required")
    _check_codes(errors, payload, "source_type", dsa.SourceType.values)
    if "source_identity" in payload and payload.get("source_type") == dsa.SourceType.VOLUNTARY:
        errors.append("source_identity: not given for a decision on the provider's own initiative")
    if "automated_detection" not in payload:
        errors.append("automated_detection: required")
    if "automated_decision" not in payload:
        errors.append("automated_decision: required")
    _check_codes(errors, payload, "automated_decision", dsa.AutomatedDecision.values)
    puid = payload.get("puid")
    if not isinstance(puid, str) or not PUID.fullmatch(puid):
        errors.append("puid: required, at most 500 characters of A-Z, a-z, 0-9, '_' and '-'")

    for key, limit in MAX_LENGTH.items():
        value = payload.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors.append(f"{key}: must be a text of at most {limit} characters")
    return errors


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


class InvalidStatement(ValueError):
    """A restricting decision whose statement the Transparency Database would refuse (a programming error)."""


def record_statement(decision: Decision) -> StatementOfReasons:
    """Build, validate and store the statement of a restricting decision (inside the deciding transaction)."""
    if decision.no_action:
        raise InvalidStatement("A decision without restriction has no statement of reasons.")
    payload = build_statement(decision)
    errors = validate_statement(payload)
    if errors:
        raise InvalidStatement("; ".join(errors))
    return StatementOfReasons.objects.create(organisation_id=decision.organisation_id, decision=decision,
                                             puid=payload["puid"], payload=payload)


@transaction.atomic
def export_batches(*, organisation: Any, user: Any, batch_size: int = MAX_BATCH,
                   only_new: bool = True) -> list[list[dict[str, Any]]]:
    """The platform's statements in batches of at most ``batch_size`` (≤ 100), marked exported.

    ``only_new``: only those not exported before; otherwise every statement again (a download
    that never arrived can be fetched once more; those exported before keep their first
    ``exported_at``); the Transparency Database refuses a statement whose ``puid`` it has already.
    ``user`` is the staff member exporting (she needs ``MANAGE_MODERATION`` in the platform, as
    the dashboard asks), or None for the ``export_statements`` command run by an operator. Each
    batch is the ``statements`` list of one request to the database's API.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}.")
    if user is None:
        actor = Actor.system("export_statements")
    else:
        if not user_has_permission(user=user, organisation_id=organisation.pk,
                                   permission=Permission.MANAGE_MODERATION):
            raise PermissionDenied(_("You may not export this platform's statements of reasons."))
        actor = Actor.staff(user)
    rows = StatementOfReasons.objects.select_for_update().filter(organisation=organisation)
    if only_new:
        rows = rows.filter(exported_at__isnull=True)
    statements = list(rows.order_by("id"))
    if not statements:
        return []
    payloads = [statement.payload for statement in statements]
    (StatementOfReasons.objects.filter(pk__in=[s.pk for s in statements], exported_at__isnull=True)
     .update(exported_at=timezone.now()))
    batches = [payloads[start:start + batch_size] for start in range(0, len(payloads), batch_size)]
    record_event(actor=actor, event_type=ModerationEvent.STATEMENT_EXPORTED, subject=organisation,
                 organisation_id=organisation.pk,
                 data={"statements": len(payloads), "batches": len(batches), "only_new": only_new,
                       "first": statements[0].puid, "last": statements[-1].puid})
    return batches
