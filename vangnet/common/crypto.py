"""Encryption at rest for personal text fields (Fernet from ``cryptography``), and keyed hashes.

Keys come from ``VANGNET_FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first
encrypts and all decrypt, so a key can be rotated by putting a new one in front. Without
it (development and tests) a key is derived from ``SECRET_KEY``; production settings
require the variable, so changing the secret key never makes stored reports unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


MIN_HASH_KEY_CHARS = 32


@lru_cache(maxsize=4)
def _url_hash_keys(keys: tuple[str, ...], secret_key: str) -> tuple[bytes, ...]:
    if not keys:
        return (HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vangnet url hash").derive(
            secret_key.encode()),)
    if any(len(key) < MIN_HASH_KEY_CHARS for key in keys):
        raise ImproperlyConfigured(
            f"Every key in VANGNET_URL_HASH_KEYS needs at least {MIN_HASH_KEY_CHARS} characters.")
    return tuple(key.encode() for key in keys)


def url_hash_keys() -> tuple[bytes, ...]:
    """Keys for the hash of a normalised URL, the current one first.

    From ``VANGNET_URL_HASH_KEYS`` (comma-separated; put a new key in front to rotate, keep
    the old ones until ``vangnet rehash_urls`` has run); without it (development and tests)
    one is derived from ``SECRET_KEY``. Production requires the variable.
    """
    return _url_hash_keys(tuple(settings.VANGNET_URL_HASH_KEYS), settings.SECRET_KEY)


def keyed_hash(text: str, key: bytes) -> str:
    """HMAC-SHA256 of the text as 64 hex digits: without the key nobody can test a guess."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
