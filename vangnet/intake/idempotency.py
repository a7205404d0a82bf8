"""Idempotent report submission for the partner API (the ``Idempotency-Key`` header).

A partner whose connection broke after we answered cannot know whether the report was
stored. Sending it again with the same ``Idempotency-Key`` returns the first answer, with
the same receipt code and secret, and never files a second report. The behaviour follows
the IETF draft "The Idempotency-Key HTTP Header Field": the same key with another request
body is refused (422), and a key is remembered for ``KEY_LIFETIME``.

How it holds under concurrency: the key's row is inserted *before* the report, in the same
transaction. A second request with the same key blocks on the unique constraint until the
first commits, then fails to insert and reads the first answer; if the first rolls back,
the second proceeds as if it were first. Only successful answers are stored: a refused
request stored nothing, so sending it again simply runs it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import IntegrityError, transaction
from django.utils import timezone

from vangnet.accounts.models import ApiToken
from vangnet.common.crypto import seal, unseal

from .models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as the API gives it: a status and a JSON body."""

    status: int
    body: dict[str, Any]


class KeyReused(Exception):
    """The key was already used by this token for a different request."""


def fingerprint(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the request in a canonical form, so key order or spacing do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_answer(*, token: ApiToken, key: str, request_fingerprint: str,
                  now: datetime | None = None) -> Answer | None:
    """The first answer given for ``key``, or None; raises ``KeyReused`` for another request."""
    now = now or timezone.now()
    row = IdempotencyKey.objects.filter(token=token, key=key, created_at__gt=now - KEY_LIFETIME).first()
    if row is None or not row.sealed_answer:
        return None
    if row.fingerprint != request_fingerprint:
        raise KeyReused(key)
    try:
        body = json.loads(unseal(row.sealed_answer, max_age_seconds=int(KEY_LIFETIME.total_seconds())))
    except InvalidToken:  # expired between the query and now, or sealed with a retired key
        return None
    return Answer(status=row.status, body=body)


def answer_once(*, token: ApiToken, key: str, request_fingerprint: str, respond: Callable[[], Answer]) -> Answer:
    """Call ``respond`` (which stores a report) at most once per token and key; replay its answer after.

    ``respond`` runs inside this function's transaction, so the report and the stored answer
    are committed together or not at all. Raises ``KeyReused`` if the key belongs to another
    request.
    """
    first = stored_answer(token=token, key=key, request_fingerprint=request_fingerprint)
    if first is not None:
        return first
    try:
        with transaction.atomic():
            # A row past its lifetime that the daily prune has not removed yet frees its key.
            IdempotencyKey.objects.filter(token=token, key=key,
                                          created_at__lte=timezone.now() - KEY_LIFETIME).delete()
            row = IdempotencyKey.objects.create(token=token, key=key, fingerprint=request_fingerprint)
            answer = respond()
            row.status = answer.status
            row.sealed_answer = seal(json.dumps(answer.body))
            row.save(update_fields=["status", "sealed_answer"])
            return answer
    except IntegrityError:
        # Another request with this key committed first: give its answer.
        first = stored_answer(token=token, key=key, request_fingerprint=request_fingerprint)
        if first is None:
            raise
        return first


def prune_expired_keys(*, now: datetime | None = None) -> int:
    """Delete stored answers older than ``KEY_LIFETIME``; return how many. Run daily (``apply_retention``)."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
