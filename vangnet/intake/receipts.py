"""Receipt codes and secrets: how a reporter reaches her report again without an account.

The code is printed and read aloud (no 0/O or 1/I); the secret is 80 random bits, so only
its SHA-256 is stored and no slow password hash is needed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from vangnet.common.codes import random_code

if TYPE_CHECKING:
    from .models import Report


def new_receipt_code() -> str:
    return f"VN-{random_code(4)}-{random_code(4)}"


def new_secret() -> str:
    return "-".join(random_code(4) for _ in range(4)).lower()


def normalize_code(text: str) -> str:
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(compact) == 10 and compact.startswith("VN"):  # the prefix, not a code's own first letters
        compact = compact[2:]
    return f"VN-{compact[:4]}-{compact[4:]}" if len(compact) == 8 else ""


def hash_secret(secret: str) -> str:
    """SHA-256 of the normalised secret: 80 random bits need no slow password hash."""
    compact = "".join(ch for ch in secret.lower() if ch.isalnum())
    return hashlib.sha256(compact.encode()).hexdigest()


def secret_matches(report: Report, secret: str) -> bool:
    return hmac.compare_digest(report.secret_hash, hash_secret(secret))
