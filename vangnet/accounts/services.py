"""Writes for organisations, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from vangnet.audit.services import Actor, record_event

from .choices import AccountEvent
from .models import ApiToken, Organisation


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, organisation: Organisation, name: str, actor: Actor,
                     token: str | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain value, which is shown once and never stored."""
    plain = token or secrets.token_urlsafe(32)
    if not plain.strip() or len(plain) > 200:
        raise ValueError("An API token must be 1 to 200 characters long.")
    api_token = ApiToken.objects.create(organisation=organisation, name=name, token_hash=hash_token(plain))
    record_event(actor=actor, event_type=AccountEvent.API_TOKEN_CREATED, subject=api_token,
                 organisation_id=organisation.pk, data={"organisation": organisation.slug, "name": name})
    return api_token, plain
