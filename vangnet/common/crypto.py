"""Encryption at rest for personal text fields (Fernet from ``cryptography``).

Keys come from ``VANGNET_FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first
encrypts and all decrypt, so a key can be rotated by putting a new one in front. Without
it (development and tests) a key is derived from ``SECRET_KEY``; production settings
require the variable, so changing the secret key never makes stored reports unreadable.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vangnet field encryption").derive(
            secret_key.encode())
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.VANGNET_FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(text: str) -> str:
    return PREFIX + fernet().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption was switched on
    try:
        return fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("A stored value cannot be decrypted: check VANGNET_FIELD_ENCRYPTION_KEYS.") from exc


def seal(text: str) -> str:
    """Encrypt a value that must pass through the task queue's table (e.g. a receipt secret)."""
    return fernet().encrypt(text.encode()).decode()


def unseal(token: str, *, max_age_seconds: int = 24 * 3600) -> str:
    """Decrypt what ``seal`` made; refuses tokens older than ``max_age_seconds``."""
    return fernet().decrypt(token.encode(), ttl=max_age_seconds).decode()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; empty text stays empty so emptiness can be queried.

    Encrypted fields cannot be searched or compared in SQL: use them only for what is
    read, never for what is looked up.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
